-- scribseg annotator database. Every stroke is a row written as it is
-- drawn; `ops` records what each user action did so it can be undone.
PRAGMA foreign_keys = ON;

CREATE TABLE IF NOT EXISTS projects (
    id      INTEGER PRIMARY KEY,
    name    TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- The original file bytes are kept, so the database alone holds the work.
CREATE TABLE IF NOT EXISTS images (
    id         INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    width      INTEGER NOT NULL,
    height     INTEGER NOT NULL,
    data       BLOB NOT NULL,
    created    TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    status     TEXT NOT NULL DEFAULT 'todo' CHECK (status IN ('todo', 'done', 'review')),
    thumb      BLOB, -- the list's PNG thumbnail, made on its first request
    UNIQUE (project_id, name)
);

CREATE TABLE IF NOT EXISTS labels (
    id         INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    color      TEXT NOT NULL,
    position   INTEGER NOT NULL,
    hidden     INTEGER NOT NULL DEFAULT 0,
    UNIQUE (project_id, name)
);

-- points: JSON [[x, y], ...] in image pixel coordinates.
CREATE TABLE IF NOT EXISTS strokes (
    id       INTEGER PRIMARY KEY,
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    label_id INTEGER NOT NULL REFERENCES labels(id) ON DELETE CASCADE,
    kind     TEXT NOT NULL CHECK (kind IN ('positive', 'negative', 'pin', 'unpin')),
    radius   REAL NOT NULL,
    points   TEXT NOT NULL,
    visible  INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS strokes_by_image ON strokes (image_id, visible);

-- One row per user action: 'add' shows its strokes, 'remove' hides them
-- (eraser, clear label). Each author (the client that acted, '' when it
-- did not say) has its own history on an image: undo inverts the author's
-- newest live op, redo re-applies its oldest undone one, and a new op
-- drops the author's undone ops.
CREATE TABLE IF NOT EXISTS ops (
    id       INTEGER PRIMARY KEY,
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    kind     TEXT NOT NULL CHECK (kind IN ('add', 'remove')),
    undone   INTEGER NOT NULL DEFAULT 0,
    author   TEXT NOT NULL DEFAULT ''
);

CREATE TABLE IF NOT EXISTS op_strokes (
    op_id     INTEGER NOT NULL REFERENCES ops(id) ON DELETE CASCADE,
    stroke_id INTEGER NOT NULL REFERENCES strokes(id) ON DELETE CASCADE,
    PRIMARY KEY (op_id, stroke_id)
);

-- NIfTI volumes, with their file bytes. meta: JSON {"dims", "spacing",
-- "axes", "modality"}, derived from the file at upload; window: JSON
-- {"level", "width"}, the display window chosen, NULL for the default.
CREATE TABLE IF NOT EXISTS volumes (
    id         INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    meta       TEXT NOT NULL,
    data       BLOB NOT NULL,
    window     TEXT,
    created    TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (project_id, name)
);

-- A visited slice of a volume is an image row (with empty data: its pixels
-- are rendered from the volume), so strokes, undo and exports work as for
-- any image. Deleting the volume deletes these images (see the store).
CREATE TABLE IF NOT EXISTS volume_slices (
    image_id  INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
    volume_id INTEGER NOT NULL REFERENCES volumes(id) ON DELETE CASCADE,
    axis      INTEGER NOT NULL CHECK (axis IN (0, 1, 2)),
    slice     INTEGER NOT NULL CHECK (slice >= 0),
    UNIQUE (volume_id, axis, slice)
);

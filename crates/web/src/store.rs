//! The SQLite store: projects, images (with their file bytes), labels,
//! strokes and the undo history. The schema is in `schema.sql`.
//!
//! Every method takes the one connection's lock for the duration of a
//! transaction; async callers run them through `spawn_blocking`.

mod history;
mod types;
mod volumes;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{params, Connection, OptionalExtension, Transaction};

pub use types::{
    AnnotatedSlice, History, ImageInfo, ImagePatch, ImageStatus, Label, LabelPatch, NewLabel,
    NewStroke, Point, Project, SavedStroke, SliceRef, StrokeKind, VolumeInfo, VolumeMeta,
    Windowing,
};

use crate::error::{Error, Result};

const SCHEMA: &str = include_str!("schema.sql");

/// The most labels a project may have: label maps are one byte per pixel.
pub const MAX_LABELS: usize = 255;

/// Colours given to new labels that come without one, in turn.
const PALETTE: [&str; 10] = [
    "#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45",
    "#fabed4", "#469990",
];

/// A SQLite database of annotation work.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
}

impl Store {
    /// Opens (creating if needed) the database file at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| Error::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        Self::init(Connection::open(path)?)
    }

    /// A private database in memory (tests).
    pub fn in_memory() -> Result<Self> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Self> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.execute_batch(SCHEMA)?;
        // Databases made before histories had authors (one shared history)
        // before labels could be hidden (all shown), before volumes kept a
        // display window (the default one) and before images had a status
        // (to do).
        add_missing_column(&conn, "ops", "author", "TEXT NOT NULL DEFAULT ''")?;
        add_missing_column(&conn, "labels", "hidden", "INTEGER NOT NULL DEFAULT 0")?;
        add_missing_column(&conn, "volumes", "window", "TEXT")?;
        add_missing_column(&conn, "images", "status", IMAGE_STATUS_COLUMN)?;
        add_missing_column(&conn, "images", "thumb", "BLOB")?;
        allow_unpins(&conn)?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (each
        // change is a transaction), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn transaction<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    // ---- projects ----

    /// Creates a project.
    pub fn create_project(&self, name: &str) -> Result<Project> {
        let name = non_empty(name, "project name")?;
        self.transaction(|tx| {
            tx.execute("INSERT INTO projects (name) VALUES (?1)", [name])?;
            Ok(Project {
                id: tx.last_insert_rowid(),
                name: name.to_string(),
            })
        })
    }

    /// Every project, oldest first.
    pub fn projects(&self) -> Result<Vec<Project>> {
        let conn = self.lock();
        let mut stmt = conn.prepare("SELECT id, name FROM projects ORDER BY id")?;
        let rows = stmt.query_map([], |r| {
            Ok(Project {
                id: r.get(0)?,
                name: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The project called `name`, created if missing.
    pub fn project_named(&self, name: &str) -> Result<Project> {
        let found = self
            .lock()
            .query_row("SELECT id FROM projects WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()?;
        match found {
            Some(id) => Ok(Project {
                id,
                name: name.to_string(),
            }),
            None => self.create_project(name),
        }
    }

    fn check_project(tx: &Connection, id: i64) -> Result<()> {
        exists(tx, "SELECT 1 FROM projects WHERE id = ?1", id, "project")
    }

    // ---- images ----

    /// Adds an image whose file bytes are `data` and whose decoded size is `width × height`.
    pub fn add_image(
        &self,
        project_id: i64,
        name: &str,
        width: u32,
        height: u32,
        data: &[u8],
    ) -> Result<ImageInfo> {
        let name = non_empty(name, "image name")?;
        self.transaction(|tx| {
            Self::check_project(tx, project_id)?;
            tx.execute(
                "INSERT INTO images (project_id, name, width, height, data) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![project_id, name, width, height, data],
            )
            .map_err(|e| name_taken(e, "an image", name))?;
            image_info(tx, tx.last_insert_rowid())
        })
    }

    /// The project's images (not the slices of its volumes) with their
    /// progress, in the order they were added.
    pub fn images(&self, project_id: i64) -> Result<Vec<ImageInfo>> {
        let conn = self.lock();
        Self::check_project(&conn, project_id)?;
        let mut stmt = conn.prepare(&format!(
            "{IMAGE_INFO} WHERE i.project_id = ?1 AND vs.image_id IS NULL ORDER BY i.id"
        ))?;
        let rows = stmt.query_map([project_id], types::image_info_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One image's record.
    pub fn image(&self, id: i64) -> Result<ImageInfo> {
        image_info(&self.lock(), id)
    }

    /// Sets an image's review status.
    pub fn set_image_status(&self, id: i64, status: ImageStatus) -> Result<ImageInfo> {
        self.transaction(|tx| {
            let n = tx.execute(
                "UPDATE images SET status = ?1 WHERE id = ?2",
                params![status.as_str(), id],
            )?;
            found(n, "image", id)?;
            image_info(tx, id)
        })
    }

    /// The image's stored thumbnail (PNG), if one was made.
    pub fn thumbnail(&self, id: i64) -> Result<Option<Vec<u8>>> {
        self.lock()
            .query_row("SELECT thumb FROM images WHERE id = ?1", [id], |r| r.get(0))
            .optional()?
            .ok_or(Error::NotFound { what: "image", id })
    }

    /// Keeps `png` as the image's thumbnail.
    pub fn set_thumbnail(&self, id: i64, png: &[u8]) -> Result<()> {
        let n = self.lock().execute(
            "UPDATE images SET thumb = ?1 WHERE id = ?2",
            params![png, id],
        )?;
        found(n, "image", id)
    }

    /// Whether the project has an image called `name`.
    pub fn has_image(&self, project_id: i64, name: &str) -> Result<bool> {
        Ok(self
            .lock()
            .query_row(
                "SELECT 1 FROM images WHERE project_id = ?1 AND name = ?2",
                params![project_id, name],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// The image's original file bytes.
    pub fn image_data(&self, id: i64) -> Result<Vec<u8>> {
        self.lock()
            .query_row("SELECT data FROM images WHERE id = ?1", [id], |r| r.get(0))
            .optional()?
            .ok_or(Error::NotFound { what: "image", id })
    }

    /// Deletes an image with its strokes.
    pub fn delete_image(&self, id: i64) -> Result<()> {
        let n = self
            .lock()
            .execute("DELETE FROM images WHERE id = ?1", [id])?;
        found(n, "image", id)
    }

    // ---- labels ----

    /// The project's labels in their display order.
    pub fn labels(&self, project_id: i64) -> Result<Vec<Label>> {
        let conn = self.lock();
        Self::check_project(&conn, project_id)?;
        labels(&conn, project_id)
    }

    /// Adds a label at the end of the list.
    pub fn add_label(&self, project_id: i64, new: &NewLabel) -> Result<Label> {
        let name = non_empty(&new.name, "label name")?;
        let color = new.color.as_deref().map(types::parse_color).transpose()?;
        self.transaction(|tx| {
            Self::check_project(tx, project_id)?;
            let count: i64 = tx.query_row(
                "SELECT COUNT(*) FROM labels WHERE project_id = ?1",
                [project_id],
                |r| r.get(0),
            )?;
            if count as usize >= MAX_LABELS {
                return Err(Error::Conflict(format!(
                    "a project holds at most {MAX_LABELS} labels"
                )));
            }
            let color =
                color.unwrap_or_else(|| PALETTE[count as usize % PALETTE.len()].to_string());
            let position: i64 = tx.query_row(
                "SELECT COALESCE(MAX(position), -1) + 1 FROM labels WHERE project_id = ?1",
                [project_id],
                |r| r.get(0),
            )?;
            tx.execute(
                "INSERT INTO labels (project_id, name, color, position) VALUES (?1, ?2, ?3, ?4)",
                params![project_id, name, color, position],
            )?;
            label(tx, tx.last_insert_rowid())
        })
    }

    /// Adds each of `names` the project does not have yet, in order, at the
    /// end of its list (a label list given at start).
    pub fn ensure_labels(&self, project_id: i64, names: &[String]) -> Result<()> {
        let mut have: Vec<String> = self
            .labels(project_id)?
            .into_iter()
            .map(|l| l.name)
            .collect();
        for name in names.iter().map(|n| n.trim()) {
            if !have.iter().any(|h| h == name) {
                let new = NewLabel {
                    name: name.to_string(),
                    color: None,
                };
                have.push(self.add_label(project_id, &new)?.name);
            }
        }
        Ok(())
    }

    /// Renames, recolours, hides and/or shows a label.
    pub fn update_label(&self, id: i64, patch: &LabelPatch) -> Result<Label> {
        let name = patch
            .name
            .as_deref()
            .map(|n| non_empty(n, "label name"))
            .transpose()?;
        let color = patch.color.as_deref().map(types::parse_color).transpose()?;
        self.transaction(|tx| {
            let current = label(tx, id)?;
            tx.execute(
                "UPDATE labels SET name = ?1, color = ?2, hidden = ?3 WHERE id = ?4",
                params![
                    name.unwrap_or(&current.name),
                    color.unwrap_or(current.color),
                    patch.hidden.unwrap_or(current.hidden),
                    id
                ],
            )?;
            label(tx, id)
        })
    }

    /// Deletes a label and every stroke drawn for it.
    pub fn delete_label(&self, id: i64) -> Result<()> {
        self.transaction(|tx| {
            let n = tx.execute("DELETE FROM labels WHERE id = ?1", [id])?;
            found(n, "label", id)?;
            history::drop_empty_ops(tx)
        })
    }

    // ---- strokes ----

    /// The image's visible strokes, in drawing order, and its undo state.
    pub fn strokes(&self, image_id: i64, author: &str) -> Result<(Vec<SavedStroke>, History)> {
        let conn = self.lock();
        image_info(&conn, image_id)?;
        Ok((
            visible_strokes(&conn, image_id)?,
            history::state(&conn, image_id, author)?,
        ))
    }

    /// Stores a stroke as drawn (one undoable step).
    pub fn add_stroke(
        &self,
        image_id: i64,
        new: &NewStroke,
        author: &str,
    ) -> Result<(SavedStroke, History)> {
        new.validate()?;
        self.transaction(|tx| {
            let image = image_info(tx, image_id)?;
            let label = label(tx, new.label_id)?;
            if label.project_id != image.project_id {
                return Err(Error::bad_request(format!(
                    "label {} belongs to another project",
                    new.label_id
                )));
            }
            // A point may lie off the image (the brush crossed its edge),
            // but not further than the image's own size.
            let (w, h) = (image.width as f32, image.height as f32);
            if let Some([x, y]) = new
                .points
                .iter()
                .find(|[x, y]| !(-w..=2.0 * w).contains(x) || !(-h..=2.0 * h).contains(y))
            {
                return Err(Error::bad_request(format!(
                    "stroke point ({x}, {y}) lies far outside the {}×{} image",
                    image.width, image.height
                )));
            }
            let points = serde_json::to_string(&new.points)
                .map_err(|e| Error::Internal(format!("points: {e}")))?;
            tx.execute(
                "INSERT INTO strokes (image_id, label_id, kind, radius, points) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![image_id, new.label_id, new.kind.as_str(), new.radius, points],
            )?;
            let id = tx.last_insert_rowid();
            history::record(tx, image_id, author, history::OpKind::Add, &[id])?;
            // The stroke as stored, without reading the image's strokes back.
            let stroke = SavedStroke {
                id,
                label_id: new.label_id,
                kind: new.kind,
                radius: new.radius,
                points: new.points.clone(),
            };
            Ok((stroke, history::state(tx, image_id, author)?))
        })
    }

    /// Hides the given strokes (the eraser; one undoable step).
    pub fn erase_strokes(&self, image_id: i64, ids: &[i64], author: &str) -> Result<History> {
        // An id given twice is erased once.
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let ids = ids.as_slice();
        self.transaction(|tx| {
            image_info(tx, image_id)?;
            let visible: Vec<i64> = visible_strokes(tx, image_id)?
                .iter()
                .map(|s| s.id)
                .collect();
            if let Some(&id) = ids.iter().find(|id| !visible.contains(id)) {
                return Err(Error::NotFound { what: "stroke", id });
            }
            history::record(tx, image_id, author, history::OpKind::Remove, ids)?;
            history::state(tx, image_id, author)
        })
    }

    /// Hides every stroke of one label on the image (one undoable step).
    pub fn clear_label(&self, image_id: i64, label_id: i64, author: &str) -> Result<History> {
        self.transaction(|tx| {
            image_info(tx, image_id)?;
            label(tx, label_id)?;
            let ids: Vec<i64> = visible_strokes(tx, image_id)?
                .iter()
                .filter(|s| s.label_id == label_id)
                .map(|s| s.id)
                .collect();
            history::record(tx, image_id, author, history::OpKind::Remove, &ids)?;
            history::state(tx, image_id, author)
        })
    }

    /// Undoes the newest step; `Conflict` when there is nothing to undo.
    pub fn undo(&self, image_id: i64, author: &str) -> Result<History> {
        self.transaction(|tx| {
            image_info(tx, image_id)?;
            history::undo(tx, image_id, author)
        })
    }

    /// Redoes the oldest undone step; `Conflict` when there is nothing to redo.
    pub fn redo(&self, image_id: i64, author: &str) -> Result<History> {
        self.transaction(|tx| {
            image_info(tx, image_id)?;
            history::redo(tx, image_id, author)
        })
    }
}

const IMAGE_INFO: &str = "SELECT i.id, i.project_id, i.name, i.width, i.height,
    (SELECT COUNT(*) FROM strokes s WHERE s.image_id = i.id AND s.visible = 1),
    (SELECT COUNT(DISTINCT s.label_id) FROM strokes s WHERE s.image_id = i.id AND s.visible = 1),
    vs.volume_id, vs.axis, vs.slice, i.status
    FROM images i LEFT JOIN volume_slices vs ON vs.image_id = i.id";

/// The declaration of `images.status`, as in `schema.sql`.
const IMAGE_STATUS_COLUMN: &str =
    "TEXT NOT NULL DEFAULT 'todo' CHECK (status IN ('todo', 'done', 'review'))";

fn image_info(conn: &Connection, id: i64) -> Result<ImageInfo> {
    conn.query_row(
        &format!("{IMAGE_INFO} WHERE i.id = ?1"),
        [id],
        types::image_info_row,
    )
    .optional()?
    .ok_or(Error::NotFound { what: "image", id })
}

/// Rebuilds the strokes table of a database made before unpins, whose
/// `kind` check SQLite cannot alter, the way SQLite's documentation
/// prescribes: foreign keys off (so that dropping the old table takes no
/// history with it), copy every row, drop, rename, all in one transaction.
fn allow_unpins(conn: &Connection) -> Result<()> {
    let table: String = conn.query_row(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'strokes'",
        [],
        |r| r.get(0),
    )?;
    if table.contains("'unpin'") {
        return Ok(());
    }
    let start = SCHEMA
        .find("CREATE TABLE IF NOT EXISTS strokes (")
        .ok_or_else(|| Error::Internal("schema.sql has no strokes table".into()))?;
    let end = start
        + SCHEMA[start..]
            .find(");")
            .ok_or_else(|| Error::Internal("schema.sql's strokes table is unclosed".into()))?
        + 2;
    let create = SCHEMA[start..end].replace("IF NOT EXISTS strokes (", "strokes_new (");
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    let rebuilt = conn.execute_batch(&format!(
        "BEGIN;
         {create}
         INSERT INTO strokes_new (id, image_id, label_id, kind, radius, points, visible)
             SELECT id, image_id, label_id, kind, radius, points, visible FROM strokes;
         DROP TABLE strokes;
         ALTER TABLE strokes_new RENAME TO strokes;
         CREATE INDEX IF NOT EXISTS strokes_by_image ON strokes (image_id, visible);
         COMMIT;"
    ));
    if rebuilt.is_err() {
        // Nothing was changed: the transaction did not commit.
        let _ = conn.execute_batch("ROLLBACK");
    }
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(rebuilt?)
}

/// Adds `column` (declared as `decl`) to `table` in a database made before it.
fn add_missing_column(conn: &Connection, table: &str, column: &str, decl: &str) -> Result<()> {
    let there = conn
        .prepare("SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2")?
        .exists([table, column])?;
    if !there {
        conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {decl}"))?;
    }
    Ok(())
}

fn labels(conn: &Connection, project_id: i64) -> Result<Vec<Label>> {
    let mut stmt = conn.prepare(
        "SELECT id, project_id, name, color, position, hidden FROM labels WHERE project_id = ?1 ORDER BY position",
    )?;
    let rows = stmt.query_map([project_id], types::label_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn label(conn: &Connection, id: i64) -> Result<Label> {
    conn.query_row(
        "SELECT id, project_id, name, color, position, hidden FROM labels WHERE id = ?1",
        [id],
        types::label_row,
    )
    .optional()?
    .ok_or(Error::NotFound { what: "label", id })
}

fn visible_strokes(conn: &Connection, image_id: i64) -> Result<Vec<SavedStroke>> {
    let mut stmt = conn.prepare(
        "SELECT id, label_id, kind, radius, points FROM strokes WHERE image_id = ?1 AND visible = 1 ORDER BY id",
    )?;
    let rows = stmt.query_map([image_id], types::stroke_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A unique-name violation as "the project already has `what` named `name`".
fn name_taken(err: rusqlite::Error, what: &str, name: &str) -> Error {
    match Error::from(err) {
        Error::Conflict(_) => {
            Error::Conflict(format!("the project already has {what} named {name:?}"))
        }
        other => other,
    }
}

fn exists(conn: &Connection, sql: &str, id: i64, what: &'static str) -> Result<()> {
    conn.query_row(sql, [id], |_| Ok(()))
        .optional()?
        .ok_or(Error::NotFound { what, id })
}

fn found(changed: usize, what: &'static str, id: i64) -> Result<()> {
    if changed == 0 {
        Err(Error::NotFound { what, id })
    } else {
        Ok(())
    }
}

fn non_empty<'a>(s: &'a str, what: &str) -> Result<&'a str> {
    let s = s.trim();
    if s.is_empty() {
        Err(Error::bad_request(format!("the {what} is empty")))
    } else if s.len() > 200 {
        Err(Error::bad_request(format!(
            "the {what} is longer than 200 bytes"
        )))
    } else {
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_from_before_unpins_keeps_its_strokes_and_history() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("old.db");
        let store = Store::open(&path).expect("a new database");
        let project = store.create_project("p").expect("project");
        let new_label = NewLabel {
            name: "cat".into(),
            color: None,
        };
        let label = store.add_label(project.id, &new_label).expect("label");
        let image = store
            .add_image(project.id, "a.png", 8, 8, b"bytes")
            .expect("image");
        let stroke = |kind| NewStroke {
            label_id: label.id,
            kind,
            radius: 2.0,
            points: vec![[3.0, 3.0]],
        };
        let (first, _) = store
            .add_stroke(image.id, &stroke(StrokeKind::Positive), "")
            .expect("add");
        drop(store);

        // The strokes table as it was before unpins, its row and history kept.
        let old_schema = SCHEMA.replace(", 'pin', 'unpin')", ", 'pin')");
        assert_ne!(old_schema, SCHEMA, "the kind check is in the schema");
        let start = old_schema
            .find("CREATE TABLE IF NOT EXISTS strokes (")
            .expect("strokes");
        let end = start + old_schema[start..].find(");").expect("its end") + 2;
        let old_table = old_schema[start..end].replace("IF NOT EXISTS strokes (", "strokes_old (");
        let conn = Connection::open(&path).expect("open");
        conn.execute_batch(&format!(
            "PRAGMA foreign_keys = OFF; {old_table};
             INSERT INTO strokes_old SELECT * FROM strokes; DROP TABLE strokes;
             ALTER TABLE strokes_old RENAME TO strokes;"
        ))
        .expect("the old table");
        let refused = conn.execute(
            "INSERT INTO strokes (image_id, label_id, kind, radius, points) VALUES (?1, ?2, 'unpin', 1, '[]')",
            params![image.id, label.id],
        );
        assert!(refused.is_err(), "the old check refuses unpins");
        drop(conn);

        let store = Store::open(&path).expect("opens and rebuilds the table");
        let (kept, history) = store.strokes(image.id, "").expect("strokes");
        assert_eq!(kept, vec![first], "the stroke survives the rebuild");
        assert!(history.can_undo, "and its history");
        let (unpin, _) = store
            .add_stroke(image.id, &stroke(StrokeKind::Unpin), "")
            .expect("an unpin is stored");
        assert_eq!(unpin.kind, StrokeKind::Unpin);
        store.undo(image.id, "").expect("undo the unpin");
        let history = store.undo(image.id, "").expect("undo the old stroke");
        assert!(!history.can_undo);
        assert!(store.strokes(image.id, "").expect("strokes").0.is_empty());
        drop(store);
        Store::open(&path).expect("opens again without rebuilding");
    }

    #[test]
    fn a_database_from_before_authors_hidden_labels_windows_and_statuses_opens() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("old.db");
        let old_schema = SCHEMA
            .replace(",\n    author   TEXT NOT NULL DEFAULT ''", "")
            .replace("\n    hidden     INTEGER NOT NULL DEFAULT 0,", "")
            .replace("\n    window     TEXT,", "")
            .replace(
                "\n    status     TEXT NOT NULL DEFAULT 'todo' CHECK (status IN ('todo', 'done', 'review')),",
                "",
            )
            .replace(
                "\n    thumb      BLOB, -- the list's PNG thumbnail, made on its first request",
                "",
            );
        assert!(
            !old_schema.contains("author   TEXT")
                && !old_schema.contains("hidden     INT")
                && !old_schema.contains("window     TEXT")
                && !old_schema.contains("status     TEXT")
                && !old_schema.contains("thumb      BLOB"),
            "the five columns are in the schema"
        );
        Connection::open(&path)
            .and_then(|conn| conn.execute_batch(&old_schema))
            .expect("an old database");

        let store = Store::open(&path).expect("opens and gains the column");
        let project = store.create_project("p").expect("project");
        let label = store
            .add_label(
                project.id,
                &NewLabel {
                    name: "cat".into(),
                    color: None,
                },
            )
            .expect("label");
        assert!(!label.hidden, "old labels are shown");
        let patch = LabelPatch {
            hidden: Some(true),
            ..LabelPatch::default()
        };
        assert!(store.update_label(label.id, &patch).expect("hide").hidden);
        let image = store
            .add_image(project.id, "a.png", 8, 8, b"bytes")
            .expect("image");
        assert_eq!(image.status, ImageStatus::Todo, "old images are to do");
        let done = store.set_image_status(image.id, ImageStatus::Done);
        assert_eq!(done.expect("status").status, ImageStatus::Done);
        assert_eq!(store.thumbnail(image.id).expect("no thumbnail yet"), None);
        let stroke = NewStroke {
            label_id: label.id,
            kind: StrokeKind::Positive,
            radius: 2.0,
            points: vec![[3.0, 3.0]],
        };
        store.add_stroke(image.id, &stroke, "").expect("stroke");
        assert!(store.undo(image.id, "tab").is_err(), "not the tab's step");
        let history = store.undo(image.id, "").expect("undo");
        assert!(!history.can_undo && history.can_redo);
        let meta = VolumeMeta {
            dims: [2, 2, 2],
            spacing: [1.0; 3],
            axes: ["sagittal", "coronal", "axial"].map(String::from),
            modality: "CT".into(),
        };
        let volume = store
            .add_volume(project.id, "v.nii", &meta, b"bytes")
            .expect("volume");
        assert_eq!(volume.window, None, "old volumes show the default window");
        let bone = Windowing {
            level: 400.0,
            width: 1800.0,
        };
        let kept = store.set_volume_window(volume.id, Some(bone));
        assert_eq!(kept.expect("window").window, Some(bone));
        drop(store);
        Store::open(&path).expect("opens again without adding the columns twice");
    }
}

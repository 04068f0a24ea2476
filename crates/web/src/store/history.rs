//! Undo and redo as operations over stroke visibility (see `schema.sql`).
//!
//! Each image has one history per author (the client that made the
//! change, `""` for clients that do not say): an undo takes back the
//! author's own newest step, never another's, so two people annotating one
//! image do not undo each other's strokes.

use rusqlite::{params, Connection, OptionalExtension};

use super::History;
use crate::error::{Error, Result};

/// What an operation did when it was applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum OpKind {
    /// Showed its strokes.
    Add,
    /// Hid its strokes.
    Remove,
}

impl OpKind {
    fn as_str(self) -> &'static str {
        match self {
            OpKind::Add => "add",
            OpKind::Remove => "remove",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        match s {
            "add" => Ok(OpKind::Add),
            "remove" => Ok(OpKind::Remove),
            other => Err(Error::Internal(format!("unknown op kind {other:?}"))),
        }
    }
}

/// Records and applies a new step of `author` over `strokes`, dropping the
/// author's redo list (and the strokes only those undone steps had drawn).
pub(super) fn record(
    conn: &Connection,
    image_id: i64,
    author: &str,
    kind: OpKind,
    strokes: &[i64],
) -> Result<()> {
    if strokes.is_empty() {
        return Ok(());
    }
    conn.execute(
        "DELETE FROM strokes WHERE visible = 0 AND id IN (
            SELECT os.stroke_id FROM op_strokes os JOIN ops o ON o.id = os.op_id
            WHERE o.image_id = ?1 AND o.author = ?2 AND o.undone = 1 AND o.kind = 'add')",
        params![image_id, author],
    )?;
    conn.execute(
        "DELETE FROM ops WHERE image_id = ?1 AND author = ?2 AND undone = 1",
        params![image_id, author],
    )?;
    conn.execute(
        "INSERT INTO ops (image_id, author, kind) VALUES (?1, ?2, ?3)",
        params![image_id, author, kind.as_str()],
    )?;
    let op = conn.last_insert_rowid();
    let mut insert = conn.prepare("INSERT INTO op_strokes (op_id, stroke_id) VALUES (?1, ?2)")?;
    for &id in strokes {
        insert.execute(params![op, id])?;
    }
    set_visible(conn, op, kind == OpKind::Add)
}

/// Inverts the author's newest live step.
pub(super) fn undo(conn: &Connection, image_id: i64, author: &str) -> Result<History> {
    let (op, kind) = find(conn, "undone = 0 ORDER BY id DESC", image_id, author)?
        .ok_or_else(|| Error::Conflict("nothing to undo".into()))?;
    set_visible(conn, op, kind == OpKind::Remove)?;
    conn.execute("UPDATE ops SET undone = 1 WHERE id = ?1", [op])?;
    state(conn, image_id, author)
}

/// Re-applies the author's oldest undone step.
pub(super) fn redo(conn: &Connection, image_id: i64, author: &str) -> Result<History> {
    let (op, kind) = find(conn, "undone = 1 ORDER BY id ASC", image_id, author)?
        .ok_or_else(|| Error::Conflict("nothing to redo".into()))?;
    set_visible(conn, op, kind == OpKind::Add)?;
    conn.execute("UPDATE ops SET undone = 0 WHERE id = ?1", [op])?;
    state(conn, image_id, author)
}

/// Whether the author's undo and redo have anything to do on the image.
pub(super) fn state(conn: &Connection, image_id: i64, author: &str) -> Result<History> {
    Ok(History {
        can_undo: find(conn, "undone = 0", image_id, author)?.is_some(),
        can_redo: find(conn, "undone = 1", image_id, author)?.is_some(),
    })
}

/// Removes steps left without strokes (after a label was deleted).
pub(super) fn drop_empty_ops(conn: &Connection) -> Result<()> {
    conn.execute(
        "DELETE FROM ops WHERE id NOT IN (SELECT op_id FROM op_strokes)",
        [],
    )?;
    Ok(())
}

fn find(
    conn: &Connection,
    condition: &str,
    image_id: i64,
    author: &str,
) -> Result<Option<(i64, OpKind)>> {
    let row: Option<(i64, String)> = conn
        .query_row(
            &format!(
                "SELECT id, kind FROM ops WHERE image_id = ?1 AND author = ?2 AND {condition} LIMIT 1"
            ),
            params![image_id, author],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    row.map(|(id, kind)| Ok((id, OpKind::parse(&kind)?)))
        .transpose()
}

fn set_visible(conn: &Connection, op: i64, visible: bool) -> Result<()> {
    conn.execute(
        "UPDATE strokes SET visible = ?1 WHERE id IN (SELECT stroke_id FROM op_strokes WHERE op_id = ?2)",
        params![visible, op],
    )?;
    Ok(())
}

//! Volumes and the image rows of their visited slices.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::types::{AnnotatedSlice, ImageInfo, SliceRef, VolumeInfo, VolumeMeta, Windowing};
use super::{found, image_info, name_taken, non_empty, Store};
use crate::error::{Error, Result};

/// Strokes of a volume's slices, for the progress counts.
const VOLUME_STROKES: &str = "FROM strokes s JOIN volume_slices vs ON vs.image_id = s.image_id
    WHERE vs.volume_id = v.id AND s.visible = 1";

fn volume_info_sql() -> String {
    format!(
        "SELECT v.id, v.project_id, v.name, v.meta,
            (SELECT COUNT(*) {VOLUME_STROKES}),
            (SELECT COUNT(DISTINCT s.label_id) {VOLUME_STROKES}),
            (SELECT COUNT(DISTINCT s.image_id) {VOLUME_STROKES}),
            v.window
         FROM volumes v"
    )
}

/// Column `i` of `r`, a JSON text, parsed.
fn json<T: serde::de::DeserializeOwned>(r: &Row<'_>, i: usize) -> rusqlite::Result<T> {
    let text: String = r.get(i)?;
    serde_json::from_str(&text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into())
    })
}

fn volume_row(r: &Row<'_>) -> rusqlite::Result<VolumeInfo> {
    let meta: VolumeMeta = json(r, 3)?;
    let window = match r.get_ref(7)? {
        rusqlite::types::ValueRef::Null => None,
        _ => Some(json(r, 7)?),
    };
    Ok(VolumeInfo {
        id: r.get(0)?,
        project_id: r.get(1)?,
        name: r.get(2)?,
        meta,
        strokes: r.get(4)?,
        labels_annotated: r.get(5)?,
        slices_annotated: r.get(6)?,
        window,
    })
}

fn volume_info(conn: &Connection, id: i64) -> Result<VolumeInfo> {
    conn.query_row(
        &format!("{} WHERE v.id = ?1", volume_info_sql()),
        [id],
        volume_row,
    )
    .optional()?
    .ok_or(Error::NotFound { what: "volume", id })
}

fn slice_image_id(conn: &Connection, slice: SliceRef) -> Result<Option<i64>> {
    Ok(conn
        .query_row(
            "SELECT image_id FROM volume_slices WHERE volume_id = ?1 AND axis = ?2 AND slice = ?3",
            params![slice.volume_id, slice.axis, slice.index],
            |r| r.get(0),
        )
        .optional()?)
}

impl Store {
    /// Adds a volume whose file bytes are `data`.
    pub fn add_volume(
        &self,
        project_id: i64,
        name: &str,
        meta: &VolumeMeta,
        data: &[u8],
    ) -> Result<VolumeInfo> {
        let name = non_empty(name, "volume name")?;
        let meta_json =
            serde_json::to_string(meta).map_err(|e| Error::Internal(format!("meta: {e}")))?;
        self.transaction(|tx| {
            Self::check_project(tx, project_id)?;
            tx.execute(
                "INSERT INTO volumes (project_id, name, meta, data) VALUES (?1, ?2, ?3, ?4)",
                params![project_id, name, meta_json, data],
            )
            .map_err(|e| name_taken(e, "a volume", name))?;
            volume_info(tx, tx.last_insert_rowid())
        })
    }

    /// The project's volumes with their progress, in the order they were added.
    pub fn volumes(&self, project_id: i64) -> Result<Vec<VolumeInfo>> {
        let conn = self.lock();
        Self::check_project(&conn, project_id)?;
        let mut stmt = conn.prepare(&format!(
            "{} WHERE v.project_id = ?1 ORDER BY v.id",
            volume_info_sql()
        ))?;
        let rows = stmt.query_map([project_id], volume_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One volume's record.
    pub fn volume(&self, id: i64) -> Result<VolumeInfo> {
        volume_info(&self.lock(), id)
    }

    /// Keeps `window` as the volume's display window (`None`: the default).
    pub fn set_volume_window(&self, id: i64, window: Option<Windowing>) -> Result<VolumeInfo> {
        let text = window
            .map(|w| {
                w.check().and_then(|w| {
                    serde_json::to_string(&w).map_err(|e| Error::Internal(format!("window: {e}")))
                })
            })
            .transpose()?;
        self.transaction(|tx| {
            let n = tx.execute(
                "UPDATE volumes SET window = ?1 WHERE id = ?2",
                params![text, id],
            )?;
            found(n, "volume", id)?;
            volume_info(tx, id)
        })
    }

    /// The volume's original file bytes.
    pub fn volume_data(&self, id: i64) -> Result<Vec<u8>> {
        self.lock()
            .query_row("SELECT data FROM volumes WHERE id = ?1", [id], |r| r.get(0))
            .optional()?
            .ok_or(Error::NotFound { what: "volume", id })
    }

    /// Deletes a volume with its slices and their strokes; returns the
    /// slice images that went.
    pub fn delete_volume(&self, id: i64) -> Result<Vec<i64>> {
        self.transaction(|tx| {
            let images: Vec<i64> = tx
                .prepare("SELECT image_id FROM volume_slices WHERE volume_id = ?1")?
                .query_map([id], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            for image in &images {
                tx.execute("DELETE FROM images WHERE id = ?1", [image])?;
            }
            let n = tx.execute("DELETE FROM volumes WHERE id = ?1", [id])?;
            found(n, "volume", id)?;
            Ok(images)
        })
    }

    /// The image record of a slice, if it has been visited.
    pub fn slice_image(&self, slice: SliceRef) -> Result<Option<ImageInfo>> {
        let conn = self.lock();
        volume_info(&conn, slice.volume_id)?;
        slice_image_id(&conn, slice)?
            .map(|id| image_info(&conn, id))
            .transpose()
    }

    /// The image record of a slice, created (as `name`, `width × height`
    /// pixels, no file bytes) on its first visit.
    pub fn add_slice_image(
        &self,
        slice: SliceRef,
        name: &str,
        width: u32,
        height: u32,
    ) -> Result<ImageInfo> {
        self.transaction(|tx| {
            let volume = volume_info(tx, slice.volume_id)?;
            if let Some(id) = slice_image_id(tx, slice)? {
                return image_info(tx, id);
            }
            tx.execute(
                "INSERT INTO images (project_id, name, width, height, data) VALUES (?1, ?2, ?3, ?4, x'')",
                params![volume.project_id, name, width, height],
            )
            .map_err(|e| name_taken(e, "an image", name))?;
            let image = tx.last_insert_rowid();
            tx.execute(
                "INSERT INTO volume_slices (image_id, volume_id, axis, slice) VALUES (?1, ?2, ?3, ?4)",
                params![image, slice.volume_id, slice.axis, slice.index],
            )?;
            image_info(tx, image)
        })
    }

    /// The volume's slices that have strokes, least recently edited first.
    pub fn annotated_slices(&self, volume_id: i64) -> Result<Vec<AnnotatedSlice>> {
        let conn = self.lock();
        volume_info(&conn, volume_id)?;
        let mut stmt = conn.prepare(
            "SELECT * FROM (SELECT vs.axis, vs.slice, vs.image_id,
                (SELECT COUNT(*) FROM strokes s WHERE s.image_id = vs.image_id AND s.visible = 1) AS n,
                COALESCE((SELECT MAX(o.id) FROM ops o WHERE o.image_id = vs.image_id), 0) AS edited
             FROM volume_slices vs WHERE vs.volume_id = ?1)
             WHERE n > 0 ORDER BY edited, image_id",
        )?;
        let rows = stmt.query_map([volume_id], |r| {
            Ok(AnnotatedSlice {
                axis: r.get(0)?,
                index: r.get(1)?,
                image_id: r.get(2)?,
                strokes: r.get(3)?,
                edited: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Which volume slice an image is, if any.
    pub fn slice_of(&self, image_id: i64) -> Result<Option<SliceRef>> {
        Ok(image_info(&self.lock(), image_id)?.slice)
    }
}

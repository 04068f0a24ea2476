//! Masks and exports, predicted from the stored strokes.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::error::Result;
use crate::export::{coco, Annotated};
use crate::extract::Path;
use crate::state::AppState;

/// `{"width", "height", "labels": [{"id", "name", "area", "rle": {"size", "counts"}}]}`.
pub(super) async fn masks(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    let annotated = state.blocking(move |s| Annotated::predict(s, id)).await?;
    let doc = coco(&annotated.labels, std::slice::from_ref(&annotated));
    Ok(Json(json!({
        "width": annotated.map.width,
        "height": annotated.map.height,
        "millis": annotated.map.millis,
        "labels": annotated.labels,
        "annotations": doc["annotations"],
    })))
}

pub(super) async fn label_map(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Response> {
    let (name, png) = state
        .blocking(move |s| {
            let a = Annotated::predict(s, id)?;
            Ok((stem(&a.image.name), a.label_map_png()?))
        })
        .await?;
    Ok(attachment("image/png", &format!("{name}.labels.png"), png))
}

pub(super) async fn label(
    State(state): State<AppState>,
    Path((id, label)): Path<(i64, String)>,
) -> Result<Response> {
    let label_id: i64 = label
        .trim_end_matches(".png")
        .parse()
        .map_err(|_| crate::error::Error::bad_request(format!("bad label id {label:?}")))?;
    // Named by image and label: `photo.liver.png`.
    let (name, png) = state
        .blocking(move |s| {
            let a = Annotated::predict(s, id)?;
            let png = a.label_png(label_id)?;
            let label = a
                .labels
                .iter()
                .find(|l| l.id == label_id)
                .map_or_else(|| format!("label{label_id}"), |l| file_safe(&l.name));
            Ok((format!("{}.{label}", stem(&a.image.name)), png))
        })
        .await?;
    Ok(attachment("image/png", &format!("{name}.png"), png))
}

pub(super) async fn image_coco(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Response> {
    let (name, doc) = state
        .blocking(move |s| {
            let a = Annotated::predict(s, id)?;
            Ok((
                stem(&a.image.name),
                coco(&a.labels, std::slice::from_ref(&a)),
            ))
        })
        .await?;
    Ok(attachment(
        "application/json",
        &format!("{name}.coco.json"),
        doc.to_string().into_bytes(),
    ))
}

pub(super) async fn project_coco(
    State(state): State<AppState>,
    Path(project): Path<i64>,
) -> Result<Response> {
    let doc = state
        .blocking(move |s| {
            let labels = s.store.labels(project)?;
            // The images, then the slices of each volume that have strokes.
            let mut ids: Vec<i64> = s.store.images(project)?.iter().map(|i| i.id).collect();
            for volume in s.store.volumes(project)? {
                ids.extend(
                    s.store
                        .annotated_slices(volume.id)?
                        .iter()
                        .map(|a| a.image_id),
                );
            }
            let images = ids
                .into_iter()
                .map(|id| Annotated::predict(s, id))
                .collect::<Result<Vec<_>>>()?;
            Ok(coco(&labels, &images))
        })
        .await?;
    Ok(attachment(
        "application/json",
        &format!("project{project}.coco.json"),
        doc.to_string().into_bytes(),
    ))
}

/// A file-name-safe stem: the last path component without its extension
/// (`.nii.gz` counts as one); a volume slice's `#axial012` is kept as `_axial012`.
pub(super) fn stem(name: &str) -> String {
    let base = name.rsplit('/').next().unwrap_or(name);
    let (file, slice) = base.split_once('#').unwrap_or((base, ""));
    let file = file.strip_suffix(".gz").unwrap_or(file);
    let stem = file.rsplit_once('.').map_or(file, |(s, _)| s);
    if slice.is_empty() {
        file_safe(stem)
    } else {
        file_safe(&format!("{stem}_{slice}"))
    }
}

/// `name` with every character but ASCII letters, digits, `-` and `_`
/// replaced by `_`.
fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

pub(super) fn attachment(content_type: &'static str, file_name: &str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

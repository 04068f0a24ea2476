//! NIfTI volumes: upload, list, slices (an image record each), the display
//! window, delete, and the label volume export.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::export::{attachment, stem};
use super::images::{file_name, upload_body, UploadQuery};
use crate::error::Result;
use crate::export::label_volume;
use crate::extract::{self, Path, Query};
use crate::state::AppState;
use crate::store::{AnnotatedSlice, ImageInfo, SliceRef, VolumeInfo, Windowing};
use crate::volume::{Intensities, Loaded};

/// A volume with the slices that have strokes and its intensities' windows.
#[derive(Serialize)]
pub(super) struct VolumeDetail {
    #[serde(flatten)]
    info: VolumeInfo,
    annotated: Vec<AnnotatedSlice>,
    intensities: Intensities,
}

/// The body of "update volume".
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct VolumePatch {
    /// The display window to keep; `null` returns to the default.
    window: Option<Windowing>,
}

/// A slice position with its image record, `null` until first visited.
#[derive(Serialize)]
pub(super) struct SliceAnswer {
    volume_id: i64,
    axis: usize,
    index: usize,
    width: u32,
    height: u32,
    image: Option<ImageInfo>,
}

pub(super) async fn list(
    State(state): State<AppState>,
    Path(project): Path<i64>,
) -> Result<Json<Vec<VolumeInfo>>> {
    Ok(Json(
        state.blocking(move |s| s.store.volumes(project)).await?,
    ))
}

/// `POST /api/projects/{id}/volumes?name=ct.nii.gz` with the file as the body.
pub(super) async fn upload(
    State(state): State<AppState>,
    Path(project): Path<i64>,
    Query(query): Query<UploadQuery>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<VolumeInfo>> {
    let body = upload_body(&state, body)?;
    let name = file_name(&query.name)?;
    Ok(Json(
        state
            .blocking(move |s| {
                // Parsed in full first: a bad file is refused before anything is stored.
                let volume = Loaded::parse(&name, &body)?;
                s.store.add_volume(project, &name, &volume.meta, &body)
            })
            .await?,
    ))
}

pub(super) async fn info(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<VolumeDetail>> {
    Ok(Json(
        state
            .blocking(move |s| {
                Ok(VolumeDetail {
                    info: s.store.volume(id)?,
                    annotated: s.store.annotated_slices(id)?,
                    intensities: s.volume(id)?.intensities,
                })
            })
            .await?,
    ))
}

/// `PATCH /api/volumes/{id}` with `{"window": {"level": 40, "width": 400}}`
/// (or `null`): the display window the page shows its slices through.
pub(super) async fn update(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    extract::Json(body): extract::Json<VolumePatch>,
) -> Result<Json<VolumeInfo>> {
    Ok(Json(
        state
            .blocking(move |s| s.store.set_volume_window(id, body.window))
            .await?,
    ))
}

pub(super) async fn remove(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<StatusCode> {
    state
        .blocking(move |s| {
            let slices = s.store.delete_volume(id)?;
            s.forget_volume(id, &slices);
            Ok(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET`: the slice and its image record if it has one.
pub(super) async fn slice(
    State(state): State<AppState>,
    Path((id, axis, index)): Path<(i64, usize, usize)>,
) -> Result<Json<SliceAnswer>> {
    Ok(Json(
        state
            .blocking(move |s| answer(s, id, axis, index, false))
            .await?,
    ))
}

/// `POST`: the slice with its image record, created on the first visit.
pub(super) async fn open_slice(
    State(state): State<AppState>,
    Path((id, axis, index)): Path<(i64, usize, usize)>,
) -> Result<Json<SliceAnswer>> {
    Ok(Json(
        state
            .blocking(move |s| answer(s, id, axis, index, true))
            .await?,
    ))
}

fn answer(
    state: &AppState,
    volume_id: i64,
    axis: usize,
    index: usize,
    create: bool,
) -> Result<SliceAnswer> {
    let volume = state.volume(volume_id)?;
    let (width, height) = volume.slice_size(axis)?;
    volume.check_slice(axis, index)?;
    let slice = SliceRef {
        volume_id,
        axis,
        index,
    };
    let image = if create {
        let name = format!(
            "{}#{}{index:03}",
            state.store.volume(volume_id)?.name,
            volume.meta.axes[axis].replace(' ', "")
        );
        Some(state.store.add_slice_image(slice, &name, width, height)?)
    } else {
        state.store.slice_image(slice)?
    };
    Ok(SliceAnswer {
        volume_id,
        axis,
        index,
        width,
        height,
        image,
    })
}

/// `GET /api/volumes/{id}/export/labels.nii.gz`.
pub(super) async fn export_labels(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Response> {
    let (name, bytes) = state
        .blocking(move |s| Ok((s.store.volume(id)?.name, label_volume(s, id)?)))
        .await?;
    Ok(attachment(
        "application/gzip",
        &format!("{}.labels.nii.gz", stem(&name)),
        bytes,
    ))
}

//! Images: list with progress, upload, add from `--dir`, show, delete.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::extract::{self, Path, Query};
use crate::folder;
use crate::imaging;
use crate::state::AppState;
use crate::store::{ImageInfo, ImagePatch, Windowing};
use crate::volume;

pub(super) async fn list(
    State(state): State<AppState>,
    Path(project): Path<i64>,
) -> Result<Json<Vec<ImageInfo>>> {
    Ok(Json(
        state.blocking(move |s| s.store.images(project)).await?,
    ))
}

#[derive(Deserialize)]
pub(super) struct UploadQuery {
    pub(super) name: String,
}

/// `POST /api/projects/{id}/images?name=photo.png` with the file as the body.
pub(super) async fn upload(
    State(state): State<AppState>,
    Path(project): Path<i64>,
    Query(query): Query<UploadQuery>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<ImageInfo>> {
    let body = upload_body(&state, body)?;
    let name = file_name(&query.name)?;
    if volume::is_nifti(&name, &body) {
        return Err(Error::bad_request(format!(
            "{name} is a NIfTI volume: upload it to /api/projects/{project}/volumes?name=…"
        )));
    }
    Ok(Json(
        state
            .blocking(move |s| folder::add_image(s, project, &name, &body))
            .await?,
    ))
}

/// The body of an upload, or a 413 naming the limit.
pub(super) fn upload_body(
    state: &AppState,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Bytes> {
    body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => Error::TooLarge(format!(
            "the upload is over the limit of {:.1} MiB",
            state.max_upload as f64 / f64::from(1 << 20)
        )),
        _ => Error::bad_request(e.body_text()),
    })
}

/// The last path component of an uploaded file's name.
pub(super) fn file_name(name: &str) -> Result<String> {
    name.rsplit(['/', '\\'])
        .next()
        .filter(|n| !n.is_empty() && *n != "." && *n != "..")
        .map(str::to_string)
        .ok_or_else(|| Error::bad_request(format!("bad file name {name:?}")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FromDir {
    path: String,
}

pub(super) async fn from_dir(
    State(state): State<AppState>,
    Path(project): Path<i64>,
    extract::Json(body): extract::Json<FromDir>,
) -> Result<Json<ImageInfo>> {
    Ok(Json(
        state
            .blocking(move |s| folder::add_from_dir(s, project, &body.path))
            .await?,
    ))
}

/// The image files in `--dir`, as relative paths.
pub(super) async fn dir_listing(State(state): State<AppState>) -> Result<Json<Vec<String>>> {
    Ok(Json(
        state
            .blocking(|s| match &s.dir {
                Some(dir) => folder::image_files(dir),
                None => Ok(Vec::new()),
            })
            .await?,
    ))
}

pub(super) async fn info(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<ImageInfo>> {
    Ok(Json(state.blocking(move |s| s.store.image(id)).await?))
}

/// `PATCH /api/images/{id}` with `{"status": "done"}` (`todo`, `done`, `review`).
pub(super) async fn update(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    extract::Json(body): extract::Json<ImagePatch>,
) -> Result<Json<ImageInfo>> {
    Ok(Json(
        state
            .blocking(move |s| s.store.set_image_status(id, body.status))
            .await?,
    ))
}

pub(super) async fn remove(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<StatusCode> {
    state
        .blocking(move |s| {
            s.store.delete_image(id)?;
            s.forget(id);
            Ok(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The image as 8-bit RGB PNG, whatever its file format.
/// `GET /api/images/{id}/thumb.png`: the picture at most
/// [`imaging::THUMBNAIL_SIDE`] pixels on its longer side, for the image
/// list; made on the first request and kept in the database, so a long
/// list decodes each photo once.
pub(super) async fn thumbnail(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<impl IntoResponse> {
    let png = state
        .blocking(move |s| {
            if let Some(png) = s.store.thumbnail(id)? {
                return Ok(png);
            }
            let png = imaging::to_png(&imaging::thumbnail(&*s.decoded(id)?))?;
            s.store.set_thumbnail(id, &png)?;
            Ok(png)
        })
        .await?;
    Ok(png_response(png))
}

/// A PNG answer the browser may keep for an hour (an image's pixels never change).
fn png_response(png: Vec<u8>) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "private, max-age=3600"),
        ],
        png,
    )
}

/// `?level=&width=` of `display.png`: a volume slice through another window.
/// Other parameters (`?token=`, which any URL may carry) are ignored.
#[derive(Deserialize)]
pub(super) struct DisplayQuery {
    level: Option<f32>,
    width: Option<f32>,
}

/// `GET /api/images/{id}/display.png[?level=40&width=400]`: the picture
/// the model sees, or a volume slice through the window asked for.
pub(super) async fn display(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(query): Query<DisplayQuery>,
) -> Result<impl IntoResponse> {
    let window = match (query.level, query.width) {
        (None, None) => None,
        (Some(level), Some(width)) => Some(Windowing { level, width }.check()?),
        _ => {
            return Err(Error::bad_request(
                "a display window needs both level and width",
            ))
        }
    };
    let png = state
        .blocking(move |s| match window {
            None => imaging::to_png(&*s.decoded(id)?),
            Some(window) => imaging::to_png(&s.windowed(id, window)?),
        })
        .await?;
    Ok(png_response(png))
}

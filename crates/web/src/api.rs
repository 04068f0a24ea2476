//! The JSON API under `/api`, which the page itself uses. See
//! `crates/web/API.md` for the list of routes with examples.

mod export;
mod images;
mod labels;
mod strokes;
mod volumes;

use axum::extract::{DefaultBodyLimit, State};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::Result;
use crate::extract;
use crate::state::AppState;
use crate::store::Project;

/// The API routes.
pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/projects", get(projects).post(create_project))
        .route(
            "/projects/{id}/images",
            get(images::list)
                .post(images::upload)
                .layer(DefaultBodyLimit::max(state.max_upload)),
        )
        .route(
            "/projects/{id}/volumes",
            get(volumes::list)
                .post(volumes::upload)
                .layer(DefaultBodyLimit::max(state.max_upload)),
        )
        .route(
            "/volumes/{id}",
            get(volumes::info)
                .patch(volumes::update)
                .delete(volumes::remove),
        )
        .route(
            "/volumes/{id}/slices/{axis}/{index}",
            get(volumes::slice).post(volumes::open_slice),
        )
        .route(
            "/volumes/{id}/export/labels.nii.gz",
            get(volumes::export_labels),
        )
        .route("/projects/{id}/images/from-dir", post(images::from_dir))
        .route("/dir", get(images::dir_listing))
        .route("/projects/{id}/labels", get(labels::list).post(labels::add))
        .route("/labels/{id}", patch(labels::update).delete(labels::remove))
        .route(
            "/images/{id}",
            get(images::info)
                .patch(images::update)
                .delete(images::remove),
        )
        .route("/images/{id}/display.png", get(images::display))
        .route("/images/{id}/thumb.png", get(images::thumbnail))
        .route("/images/{id}/ws", get(crate::ws::upgrade))
        .route(
            "/images/{id}/strokes",
            get(strokes::list).post(strokes::add),
        )
        .route("/images/{id}/strokes/erase", post(strokes::erase))
        .route("/images/{id}/undo", post(strokes::undo))
        .route("/images/{id}/redo", post(strokes::redo))
        .route("/images/{id}/clear", post(strokes::clear))
        .route("/images/{id}/masks", get(export::masks))
        .route("/images/{id}/export/labelmap.png", get(export::label_map))
        .route("/images/{id}/export/labels/{label}", get(export::label))
        .route("/images/{id}/export/coco.json", get(export::image_coco))
        .route("/projects/{id}/export/coco.json", get(export::project_coco))
}

async fn health(State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "model": state.model.info(),
    }))
}

async fn projects(State(state): State<AppState>) -> Result<Json<Vec<Project>>> {
    Ok(Json(state.blocking(|s| s.store.projects()).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewProject {
    name: String,
}

async fn create_project(
    State(state): State<AppState>,
    extract::Json(body): extract::Json<NewProject>,
) -> Result<Json<Project>> {
    Ok(Json(
        state
            .blocking(move |s| s.store.create_project(&body.name))
            .await?,
    ))
}

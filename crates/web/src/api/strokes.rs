//! Strokes of an image: list, add, erase, undo, redo, clear a label.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::extract::{self, Path};
use crate::state::AppState;
use crate::store::{History, NewStroke, Stroke};

/// The visible strokes and the undo state.
#[derive(Serialize)]
pub(super) struct Strokes {
    strokes: Vec<Stroke>,
    history: History,
}

/// A stroke just stored and the undo state after it.
#[derive(Serialize)]
pub(super) struct Added {
    stroke: Stroke,
    history: History,
}

pub(super) async fn list(
    State(state): State<AppState>,
    Path(image): Path<i64>,
) -> Result<Json<Strokes>> {
    let (strokes, history) = state.blocking(move |s| s.store.strokes(image)).await?;
    Ok(Json(Strokes { strokes, history }))
}

pub(super) async fn add(
    State(state): State<AppState>,
    Path(image): Path<i64>,
    extract::Json(body): extract::Json<NewStroke>,
) -> Result<Json<Added>> {
    let (stroke, history) = state
        .blocking(move |s| s.store.add_stroke(image, &body))
        .await?;
    Ok(Json(Added { stroke, history }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Erase {
    ids: Vec<i64>,
}

pub(super) async fn erase(
    State(state): State<AppState>,
    Path(image): Path<i64>,
    extract::Json(body): extract::Json<Erase>,
) -> Result<Json<Strokes>> {
    state
        .blocking(move |s| s.store.erase_strokes(image, &body.ids))
        .await?;
    list(State(state), Path(image)).await
}

pub(super) async fn undo(
    State(state): State<AppState>,
    Path(image): Path<i64>,
) -> Result<Json<Strokes>> {
    state.blocking(move |s| s.store.undo(image)).await?;
    list(State(state), Path(image)).await
}

pub(super) async fn redo(
    State(state): State<AppState>,
    Path(image): Path<i64>,
) -> Result<Json<Strokes>> {
    state.blocking(move |s| s.store.redo(image)).await?;
    list(State(state), Path(image)).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Clear {
    label_id: i64,
}

pub(super) async fn clear(
    State(state): State<AppState>,
    Path(image): Path<i64>,
    extract::Json(body): extract::Json<Clear>,
) -> Result<Json<Strokes>> {
    state
        .blocking(move |s| s.store.clear_label(image, body.label_id))
        .await?;
    list(State(state), Path(image)).await
}

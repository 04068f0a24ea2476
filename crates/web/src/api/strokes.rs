//! Strokes of an image: list, add, erase, undo, redo, clear a label.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::extract::{self, Author, Path};
use crate::state::AppState;
use crate::store::{History, NewStroke, SavedStroke, Store};

/// The visible strokes and the undo state.
#[derive(Serialize)]
pub(super) struct Strokes {
    strokes: Vec<SavedStroke>,
    history: History,
}

/// A stroke just stored and the undo state after it.
#[derive(Serialize)]
pub(super) struct Added {
    stroke: SavedStroke,
    history: History,
}

pub(super) async fn list(
    State(state): State<AppState>,
    Path(image): Path<i64>,
    Author(author): Author,
) -> Result<Json<Strokes>> {
    let (strokes, history) = state
        .blocking(move |s| s.store.strokes(image, &author))
        .await?;
    Ok(Json(Strokes { strokes, history }))
}

/// Applies `author`'s `change` to the store, then answers with the image's
/// strokes and the author's undo state.
async fn changed(
    state: AppState,
    image: i64,
    author: String,
    change: impl FnOnce(&Store, &str) -> Result<History> + Send + 'static,
) -> Result<Json<Strokes>> {
    let (strokes, history) = state
        .blocking(move |s| {
            change(&s.store, &author)?;
            s.store.strokes(image, &author)
        })
        .await?;
    Ok(Json(Strokes { strokes, history }))
}

pub(super) async fn add(
    State(state): State<AppState>,
    Path(image): Path<i64>,
    Author(author): Author,
    extract::Json(body): extract::Json<NewStroke>,
) -> Result<Json<Added>> {
    let (stroke, history) = state
        .blocking(move |s| s.store.add_stroke(image, &body, &author))
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
    Author(author): Author,
    extract::Json(body): extract::Json<Erase>,
) -> Result<Json<Strokes>> {
    changed(state, image, author, move |store, by| {
        store.erase_strokes(image, &body.ids, by)
    })
    .await
}

pub(super) async fn undo(
    State(state): State<AppState>,
    Path(image): Path<i64>,
    Author(author): Author,
) -> Result<Json<Strokes>> {
    changed(state, image, author, move |store, by| store.undo(image, by)).await
}

pub(super) async fn redo(
    State(state): State<AppState>,
    Path(image): Path<i64>,
    Author(author): Author,
) -> Result<Json<Strokes>> {
    changed(state, image, author, move |store, by| store.redo(image, by)).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Clear {
    label_id: i64,
}

pub(super) async fn clear(
    State(state): State<AppState>,
    Path(image): Path<i64>,
    Author(author): Author,
    extract::Json(body): extract::Json<Clear>,
) -> Result<Json<Strokes>> {
    changed(state, image, author, move |store, by| {
        store.clear_label(image, body.label_id, by)
    })
    .await
}

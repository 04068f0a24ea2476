//! Labels: list, add, rename/recolour, delete.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use crate::error::Result;
use crate::extract::{self, Path};
use crate::state::AppState;
use crate::store::{Label, LabelPatch, NewLabel};

pub(super) async fn list(
    State(state): State<AppState>,
    Path(project): Path<i64>,
) -> Result<Json<Vec<Label>>> {
    Ok(Json(
        state.blocking(move |s| s.store.labels(project)).await?,
    ))
}

pub(super) async fn add(
    State(state): State<AppState>,
    Path(project): Path<i64>,
    extract::Json(body): extract::Json<NewLabel>,
) -> Result<Json<Label>> {
    Ok(Json(
        state
            .blocking(move |s| s.store.add_label(project, &body))
            .await?,
    ))
}

pub(super) async fn update(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    extract::Json(body): extract::Json<LabelPatch>,
) -> Result<Json<Label>> {
    Ok(Json(
        state
            .blocking(move |s| s.store.update_label(id, &body))
            .await?,
    ))
}

pub(super) async fn remove(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<StatusCode> {
    state.blocking(move |s| s.store.delete_label(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

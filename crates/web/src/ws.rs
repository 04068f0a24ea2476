//! The WebSocket upgrade for `/api/images/{id}/ws`; the loop is in [`crate::annotate`].

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::response::Response;
use futures_util::StreamExt;

use crate::annotate::annotate;
use crate::error::Result;
use crate::extract::Path;
use crate::state::AppState;

pub(crate) async fn upgrade(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    Path(image_id): Path<i64>,
) -> Result<Response> {
    state.blocking(move |s| s.store.image(image_id)).await?;
    Ok(ws
        .max_message_size(16 << 20)
        .on_upgrade(move |socket| async move {
            let (outgoing, incoming) = socket.split();
            annotate(outgoing, incoming, state, image_id).await;
        }))
}

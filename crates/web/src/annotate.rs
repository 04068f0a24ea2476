//! The annotation loop behind each image's WebSocket.
//!
//! The client sends its whole stroke state as JSON text, including the
//! stroke still being drawn, as often as it likes:
//!
//! ```json
//! {"seq": 7, "labels": [3, 5], "strokes": [{"label_id": 3, "kind": "positive", "radius": 4, "points": [[10, 12], [11, 13]]}]}
//! ```
//!
//! The server answers with binary frames (see [`encode_frame`]). At most one
//! prediction runs per connection; requests that arrive meanwhile replace
//! each other, so when the model is busy only the newest state is
//! predicted next and nothing queues up. Errors come back as text:
//! `{"type": "error", "seq": 7, "message": "..."}`. On connect the server
//! sends `{"type": "ready", "width": .., "height": .., "model": {..}}`; once
//! the image is deleted, the next request gets an error and the socket closes.

use axum::extract::ws::Message;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use serde::Deserialize;
use serde_json::json;
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::predict::RegionMap;
use crate::state::AppState;
use crate::store::{NewStroke, MAX_LABELS};

/// One prediction request.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PredictRequest {
    /// Echoed in the answer so the client can match them.
    pub seq: u32,
    /// Label ids; value `k + 1` in the answer is `labels[k]`.
    pub labels: Vec<i64>,
    /// Every stroke to use, stored or in progress.
    pub strokes: Vec<NewStroke>,
}

/// Runs the loop until the client goes away: `incoming` and `outgoing`
/// are the two halves of the socket (channels in tests).
pub async fn annotate<Si, St, E>(mut outgoing: Si, mut incoming: St, state: AppState, image_id: i64)
where
    Si: Sink<Message> + Unpin,
    St: Stream<Item = Result<Message, E>> + Unpin,
{
    let image = match state.blocking(move |s| s.decoded(image_id)).await {
        Ok(image) => image,
        Err(err) => {
            let _ = outgoing.send(error_message(None, &err.to_string())).await;
            return;
        }
    };
    let ready = json!({
        "type": "ready",
        "width": image.width(),
        "height": image.height(),
        "model": state.model.info(),
    });
    if outgoing
        .send(Message::Text(ready.to_string().into()))
        .await
        .is_err()
    {
        return;
    }

    let mut pending: Option<PredictRequest> = None;
    let mut running: Option<(u32, JoinHandle<Result<RegionMap>>)> = None;
    loop {
        tokio::select! {
            message = incoming.next() => match message {
                Some(Ok(Message::Text(text))) => match parse(&text) {
                    Ok(request) => pending = Some(request),
                    Err(reply) => {
                        if outgoing.send(reply).await.is_err() {
                            break;
                        }
                    }
                },
                Some(Ok(Message::Binary(_))) => {
                    let reply = error_message(None, "bad request: send JSON text messages, not binary ones");
                    if outgoing.send(reply).await.is_err() {
                        break;
                    }
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
            (seq, result) = finished(&mut running) => {
                running = None;
                // The image was deleted while the socket was open: say so and close.
                let gone = matches!(result, Err(Error::NotFound { what: "image", .. }));
                let reply = match result {
                    Ok(map) => Message::Binary(encode_frame(seq, &map).into()),
                    Err(err) => error_message(Some(seq), &err.to_string()),
                };
                if outgoing.send(reply).await.is_err() || gone {
                    break;
                }
            }
        }
        if running.is_none() {
            if let Some(request) = pending.take() {
                let (state, image) = (state.clone(), image.clone());
                let seq = request.seq;
                let job = tokio::task::spawn_blocking(move || {
                    state.store.image(image_id)?;
                    Ok(state
                        .model
                        .predict_region(&image, &request.labels, &request.strokes))
                });
                running = Some((seq, job));
            }
        }
    }
}

/// Waits for the running prediction; never returns when there is none.
async fn finished(
    running: &mut Option<(u32, JoinHandle<Result<RegionMap>>)>,
) -> (u32, Result<RegionMap>) {
    match running {
        Some((seq, job)) => {
            let result = match job.await {
                Ok(result) => result,
                Err(err) => Err(err.into()),
            };
            (*seq, result)
        }
        None => std::future::pending().await,
    }
}

fn parse(text: &str) -> Result<PredictRequest, Message> {
    let request: PredictRequest = serde_json::from_str(text)
        .map_err(|e| error_message(None, &format!("bad request: {e}")))?;
    if request.labels.len() > MAX_LABELS {
        let message = format!("at most {MAX_LABELS} labels");
        return Err(error_message(Some(request.seq), &message));
    }
    for stroke in &request.strokes {
        stroke
            .validate()
            .map_err(|e| error_message(Some(request.seq), &e.to_string()))?;
    }
    Ok(request)
}

fn error_message(seq: Option<u32>, message: &str) -> Message {
    let body = json!({ "type": "error", "seq": seq, "message": message });
    Message::Text(body.to_string().into())
}

/// Encodes a label map for the wire, little-endian: `seq`, the prediction
/// time in ms, the image's width and height, then the region the map covers
/// (`x0`, `y0`, width, height; every pixel outside it is 0), all as u32,
/// then the region's runs in row-major order, each a u8 value followed by a
/// u32 length. The frame's size follows the labels' crops, not the image.
pub fn encode_frame(seq: u32, map: &RegionMap) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    let r = map.region;
    let header = [
        seq,
        map.millis,
        map.width as u32,
        map.height as u32,
        r.x0 as u32,
        r.y0 as u32,
        r.width() as u32,
        r.height() as u32,
    ];
    for v in header {
        out.extend_from_slice(&v.to_le_bytes());
    }
    let mut pixels = map.data.iter().copied();
    if let Some(first) = pixels.next() {
        let (mut value, mut len) = (first, 1u32);
        for v in pixels {
            if v == value {
                len += 1;
            } else {
                out.push(value);
                out.extend_from_slice(&len.to_le_bytes());
                (value, len) = (v, 1);
            }
        }
        out.push(value);
        out.extend_from_slice(&len.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use scribseg_sim::Rect;

    #[test]
    fn frames_are_run_length_encoded_over_their_region() {
        let map = RegionMap {
            width: 10,
            height: 8,
            region: Rect::new(2, 5, 5, 7),
            data: vec![0, 0, 1, 1, 1, 0],
            millis: 9,
        };
        let frame = encode_frame(4, &map);
        let header: Vec<u32> = frame[..32]
            .chunks(4)
            .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect();
        assert_eq!(header, vec![4, 9, 10, 8, 2, 5, 3, 2]);
        assert_eq!(&frame[32..], &[0, 2, 0, 0, 0, 1, 3, 0, 0, 0, 0, 1, 0, 0, 0]);
    }
}

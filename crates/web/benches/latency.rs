//! Stroke-to-mask latency over the WebSocket: a 200-point stroke drawn at
//! 60 Hz; for each point, the time from sending the state that ends with it
//! to receiving the first label map that includes it (a later state's
//! answer counts, as the server coalesces). Prints p50/p95/max.
//!
//! `cargo bench -p scribseg-web --bench latency` (random weights, burn's
//! backend), or with `SCRIBSEG_WEIGHTS=weights/default` for a checkpoint run
//! as `scribseg serve` runs it (the fast CPU path at this CPU's fastest
//! precision, the test-time flip on).

use std::sync::Arc;
use std::time::{Duration, Instant};

use burn::tensor::Device;
use futures_util::{SinkExt, StreamExt};
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use scribseg_model::fast::Precision;
use scribseg_model::{Segmenter, SegmenterConfig, UNetConfig};
use scribseg_web::{router, AppState, Model, NewLabel, Store};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

const POINTS: usize = 200;
const INTERVAL: Duration = Duration::from_micros(16_667);

fn model() -> Model {
    match std::env::var_os("SCRIBSEG_WEIGHTS") {
        Some(dir) => {
            let name = dir.to_string_lossy().into_owned();
            // As `scribseg serve` runs it: the default crop rule and flip, at
            // this CPU's fastest precision.
            let segmenter = Segmenter::load(&dir, SegmenterConfig::default())
                .expect("load the checkpoint")
                .with_precision(Precision::fastest())
                .expect("the fastest precision runs here");
            Model::new(segmenter, name)
        }
        None => {
            let device = Device::flex();
            Model::new(
                Segmenter::new(
                    UNetConfig::new().init(&device),
                    device,
                    SegmenterConfig::default(),
                ),
                "random",
            )
        }
    }
}

fn picture() -> Vec<u8> {
    let image = RgbImage::from_fn(640, 480, |x, y| {
        let (dx, dy) = (x as f32 - 300.0, y as f32 - 240.0);
        if dx * dx + dy * dy < 120.0 * 120.0 {
            Rgb([200, 60, 50])
        } else {
            Rgb([(x / 3) as u8, (y / 2) as u8, 90])
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(image)
        .write_to(&mut out, ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&dir.path().join("bench.db")).expect("database");
    let project = store.create_project("bench").expect("project");
    let labels: Vec<i64> = ["object", "other"]
        .iter()
        .map(|n| {
            store
                .add_label(
                    project.id,
                    &NewLabel {
                        name: n.to_string(),
                        color: None,
                    },
                )
                .expect("label")
                .id
        })
        .collect();
    let bytes = picture();
    let image = store
        .add_image(project.id, "bench.png", 640, 480, &bytes)
        .expect("image");
    let state = AppState::new(store, Arc::new(model()));
    let info = state.model.info().clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, router(state)).await });

    let (socket, _) =
        tokio_tungstenite::connect_async(format!("ws://{addr}/api/images/{}/ws", image.id))
            .await
            .expect("connect");
    let (mut tx, mut rx) = socket.split();
    rx.next().await.expect("ready").expect("ok");

    let sender = tokio::spawn(async move {
        let mut sent = Vec::with_capacity(POINTS);
        let mut points = Vec::new();
        let mut tick = tokio::time::interval(INTERVAL);
        // A context stroke for the other label, then the timed stroke.
        let other = json!({"label_id": labels[1], "kind": "positive", "radius": 4.0, "points": [[50.0, 50.0], [120.0, 60.0]]});
        for i in 0..POINTS {
            tick.tick().await;
            let t = i as f32 / POINTS as f32;
            points.push([220.0 + 160.0 * t, 240.0 + 40.0 * (t * 6.0).sin()]);
            let stroke =
                json!({"label_id": labels[0], "kind": "positive", "radius": 4.0, "points": points});
            let message = json!({"seq": i + 1, "labels": labels, "strokes": [other, stroke]});
            sent.push(Instant::now());
            tx.send(Message::Text(message.to_string().into()))
                .await
                .expect("send");
        }
        sent
    });
    let mut received: Vec<(u32, Instant, u32)> = Vec::new();
    while received.last().map(|r| r.0 as usize) != Some(POINTS) {
        if let Message::Binary(frame) = rx.next().await.expect("frame").expect("ok") {
            let word =
                |i: usize| u32::from_le_bytes(frame[4 * i..4 * i + 4].try_into().expect("4 bytes"));
            received.push((word(0), Instant::now(), word(1)));
        }
    }
    let sent = sender.await.expect("sender");
    let mut latencies: Vec<f64> = sent
        .iter()
        .enumerate()
        .map(|(i, at)| {
            let seq = i as u32 + 1;
            let answer = received
                .iter()
                .find(|r| r.0 >= seq)
                .expect("every point is answered");
            (answer.1 - *at).as_secs_f64() * 1000.0
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize];
    let mut model_ms: Vec<u32> = received.iter().map(|r| r.2).collect();
    model_ms.sort_unstable();
    println!(
        "model {} ({} parameters), 640x480 image, 2 labels, {POINTS} points at 60 Hz",
        info.name, info.parameters
    );
    println!(
        "stroke point -> mask: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms; {} predictions for {POINTS} states; model time p50 {} ms",
        pct(0.5),
        pct(0.95),
        pct(1.0),
        received.len(),
        model_ms[model_ms.len() / 2]
    );
}

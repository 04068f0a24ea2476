//! Stroke-to-mask latency over the WebSocket under load: each of
//! `SCRIBSEG_CLIENTS` clients (default 1), on its own image, draws a
//! 200-point stroke at 60 Hz; for each point, the time from sending the
//! state that ends with it to receiving the first label map that includes
//! it (a later state's answer counts, as the server coalesces). With
//! `SCRIBSEG_HOG=N` one more client meanwhile asks again and again for N
//! labels at once (255 at most), the request that must not stall the
//! others. Prints p50/p95/p99/max over all clients' points and stops by
//! itself.
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

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let clients = env_number("SCRIBSEG_CLIENTS", 1).max(1);
    let hog_labels = env_number("SCRIBSEG_HOG", 0).min(255);
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
    let images: Vec<i64> = (0..=clients)
        .map(|i| {
            store
                .add_image(project.id, &format!("bench{i}.png"), 640, 480, &bytes)
                .expect("image")
                .id
        })
        .collect();
    let state = AppState::new(store, Arc::new(model()));
    let info = state.model.info().clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    // The server's own connection loop, as `scribseg serve` runs it.
    tokio::spawn(scribseg_web::run(
        listener,
        router(state),
        scribseg_web::HEADER_TIMEOUT,
    ));

    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let hog = (hog_labels > 0)
        .then(|| tokio::spawn(hog(addr, images[clients], hog_labels, done.clone())));
    let drawers: Vec<_> = images[..clients]
        .iter()
        .map(|&image| tokio::spawn(draw(addr, image, labels.clone())))
        .collect();
    let mut latencies = Vec::new();
    let mut model_ms = Vec::new();
    for drawer in drawers {
        let (l, m) = drawer.await.expect("a drawing client");
        latencies.extend(l);
        model_ms.extend(m);
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let hogged = match hog {
        Some(task) => task.await.expect("the many-label client"),
        None => 0,
    };
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize];
    model_ms.sort_unstable();
    println!(
        "model {} ({} parameters), 640x480 images, {clients} client(s) x 2 labels x {POINTS} points at 60 Hz{}",
        info.name,
        info.parameters,
        if hog_labels > 0 {
            format!(", one more client asking for {hog_labels} labels at once ({hogged} answers)")
        } else {
            String::new()
        }
    );
    println!(
        "stroke point -> mask: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {} predictions; model time p50 {} ms",
        pct(0.5),
        pct(0.95),
        pct(0.99),
        pct(1.0),
        model_ms.len(),
        model_ms[model_ms.len() / 2]
    );
}

/// One client drawing its stroke on `image`: each point's latency (ms) and
/// the model time of each answer.
async fn draw(addr: std::net::SocketAddr, image: i64, labels: Vec<i64>) -> (Vec<f64>, Vec<u32>) {
    let (socket, _) =
        tokio_tungstenite::connect_async(format!("ws://{addr}/api/images/{image}/ws"))
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
    let latencies = sent
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
    (latencies, received.iter().map(|r| r.2).collect())
}

/// A client asking for `n` labels at once (a dot each, on a grid) until
/// `done`; returns how many answers it got.
async fn hog(
    addr: std::net::SocketAddr,
    image: i64,
    n: usize,
    done: Arc<std::sync::atomic::AtomicBool>,
) -> usize {
    let (mut socket, _) =
        tokio_tungstenite::connect_async(format!("ws://{addr}/api/images/{image}/ws"))
            .await
            .expect("connect");
    socket.next().await.expect("ready").expect("ok");
    let ids: Vec<i64> = (1..=n as i64).collect();
    let mut answers = 0;
    while !done.load(std::sync::atomic::Ordering::Relaxed) {
        // Moved a pixel each time, so no crop comes from the cache.
        let shift = (answers % 7) as i64;
        let strokes: Vec<_> = ids
            .iter()
            .map(|&id| {
                let (x, y) = (20 + 37 * (id % 16) + shift, 20 + 27 * (id / 16));
                json!({"label_id": id, "kind": "positive", "radius": 3.0, "points": [[x, y]]})
            })
            .collect();
        let message = json!({"seq": answers + 1, "labels": ids, "strokes": strokes});
        socket
            .send(Message::Text(message.to_string().into()))
            .await
            .expect("send");
        socket.next().await.expect("an answer").expect("ok");
        answers += 1;
    }
    answers
}

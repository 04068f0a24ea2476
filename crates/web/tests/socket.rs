//! The per-image WebSocket: predictions, coalescing, errors, dropped clients.

use futures_util::{SinkExt, StreamExt};
use image::{DynamicImage, Rgb, RgbImage};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::util::{png, shapes, Server};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(server: &Server, image: i64) -> Socket {
    connect_sized(server, image, (96, 72)).await
}

/// Connects to an image of `size` (width, height), checking the ready message.
async fn connect_sized(server: &Server, image: i64, size: (u64, u64)) -> Socket {
    let (mut socket, _) =
        tokio_tungstenite::connect_async(format!("ws://{}/api/images/{image}/ws", server.addr))
            .await
            .expect("connect");
    let ready = next_text(&mut socket).await;
    assert_eq!(ready["type"], "ready");
    assert_eq!(
        (ready["width"].as_u64(), ready["height"].as_u64()),
        (Some(size.0), Some(size.1))
    );
    socket
}

async fn next_text(socket: &mut Socket) -> Value {
    match socket.next().await.expect("a message").expect("no error") {
        Message::Text(text) => serde_json::from_str(&text).expect("JSON"),
        other => panic!("expected text, got {other:?}"),
    }
}

/// `(seq, width, height, the whole image's label-map pixels)` of a binary
/// frame, which carries only its region.
fn decode(frame: &[u8]) -> (u32, u32, u32, Vec<u8>) {
    let word = |i: usize| {
        u32::from_le_bytes(frame[4 * i..4 * i + 4].try_into().expect("4 bytes")) as usize
    };
    let (w, h, x0, y0, rw, rh) = (word(2), word(3), word(4), word(5), word(6), word(7));
    assert!(x0 + rw <= w && y0 + rh <= h, "the region lies in the image");
    let mut region = Vec::new();
    for run in frame[32..].chunks(5) {
        let len = u32::from_le_bytes(run[1..5].try_into().expect("4 bytes"));
        region.extend(std::iter::repeat_n(run[0], len as usize));
    }
    assert_eq!(region.len(), rw * rh, "the runs fill the region");
    let mut pixels = vec![0; w * h];
    for (i, &v) in region.iter().enumerate() {
        pixels[(y0 + i / rw.max(1)) * w + x0 + i % rw.max(1)] = v;
    }
    (word(0) as u32, w as u32, h as u32, pixels)
}

fn request(seq: u32, labels: [i64; 2], x: f32) -> Message {
    let strokes = json!([
        {"label_id": labels[0], "kind": "positive", "radius": 3.0, "points": [[25.0, 36.0], [x, 36.0]]},
        {"label_id": labels[1], "kind": "pin", "radius": 2.0, "points": [[70.0, 30.0]]},
    ]);
    Message::Text(
        json!({"seq": seq, "labels": labels, "strokes": strokes})
            .to_string()
            .into(),
    )
}

#[tokio::test]
async fn predictions_come_back_and_only_the_newest_state_is_predicted() {
    let server = Server::start(|_| {}).await;
    let (_, labels, info) = server
        .project_with_image(&png(DynamicImage::ImageRgb8(shapes())))
        .await;
    let mut socket = connect(&server, info["id"].as_i64().expect("id")).await;

    socket.send(request(1, labels, 30.0)).await.expect("send");
    let Message::Binary(frame) = socket.next().await.expect("frame").expect("ok") else {
        panic!("binary frame")
    };
    let (seq, w, h, pixels) = decode(&frame);
    assert_eq!((seq, w, h, pixels.len()), (1, 96, 72, 96 * 72));
    assert_eq!(pixels[30 * 96 + 70], 2, "the pin is applied");

    // 30 states sent at once, as a fast mouse would: the model is busy with
    // the first, the others replace each other, and the last one is answered.
    for seq in 2..=31 {
        socket
            .send(request(seq, labels, 26.0 + seq as f32))
            .await
            .expect("send");
    }
    let mut answered = Vec::new();
    while answered.last() != Some(&31) {
        match socket.next().await.expect("frame").expect("ok") {
            Message::Binary(frame) => answered.push(decode(&frame).0),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(
        answered.len() <= 4,
        "requests coalesced, answered {answered:?}"
    );
    assert!(answered.windows(2).all(|w| w[0] < w[1]));
}

#[tokio::test]
async fn bad_messages_get_errors_and_a_deleted_image_closes_the_socket() {
    let server = Server::start(|_| {}).await;
    let (_, labels, info) = server
        .project_with_image(&png(DynamicImage::ImageRgb8(shapes())))
        .await;
    let image = info["id"].as_i64().expect("id");
    let mut socket = connect(&server, image).await;
    socket
        .send(Message::Text("{not json".into()))
        .await
        .expect("send");
    let error = next_text(&mut socket).await;
    assert_eq!(error["type"], "error");
    assert!(error["message"]
        .as_str()
        .expect("message")
        .contains("bad request"));
    let nan = json!({"seq": 5, "labels": labels, "strokes": [{"label_id": labels[0], "kind": "positive", "radius": 0.0, "points": [[1.0, 1.0]]}]});
    socket
        .send(Message::Text(nan.to_string().into()))
        .await
        .expect("send");
    let error = next_text(&mut socket).await;
    assert_eq!(error["seq"], 5);
    socket
        .send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .expect("send");
    let error = next_text(&mut socket).await;
    assert!(
        error["message"]
            .as_str()
            .expect("message")
            .contains("not binary"),
        "{error}"
    );
    socket.send(request(6, labels, 40.0)).await.expect("send");
    assert!(matches!(socket.next().await, Some(Ok(Message::Binary(_)))));

    // A client that goes away mid-prediction loses nothing and breaks nothing.
    socket.send(request(7, labels, 45.0)).await.expect("send");
    drop(socket);
    let mut again = connect(&server, image).await;
    again.send(request(1, labels, 30.0)).await.expect("send");
    assert!(matches!(again.next().await, Some(Ok(Message::Binary(_)))));

    let missing =
        tokio_tungstenite::connect_async(format!("ws://{}/api/images/999/ws", server.addr)).await;
    assert!(missing.is_err(), "no socket for a missing image");

    // The image is deleted under an open socket: the next request gets an
    // error, and the socket closes.
    let deleted = server
        .send("DELETE", &format!("/api/images/{image}"), &[], b"")
        .await;
    assert_eq!(deleted.status, 204, "{deleted:?}");
    again.send(request(2, labels, 35.0)).await.expect("send");
    let error = next_text(&mut again).await;
    assert!(
        error["message"]
            .as_str()
            .expect("message")
            .contains(&format!("image {image} not found")),
        "{error}"
    );
    let after = again.next().await;
    assert!(
        matches!(after, None | Some(Ok(Message::Close(_))) | Some(Err(_))),
        "the socket stays open: {after:?}"
    );
}

#[tokio::test]
async fn on_a_large_image_a_frame_carries_only_the_region_of_the_crops() {
    let server = Server::start(|_| {}).await;
    let (w, h) = (3000u32, 2000u32);
    let big = RgbImage::from_fn(w, h, |x, y| {
        if (x / 100 + y / 100) % 2 == 0 {
            Rgb([200, 80, 40])
        } else {
            Rgb([30, 30, 30])
        }
    });
    let (_, labels, info) = server
        .project_with_image(&png(DynamicImage::ImageRgb8(big)))
        .await;
    let image_id = info["id"].as_i64().expect("id");
    let mut socket = connect_sized(&server, image_id, (w.into(), h.into())).await;
    let strokes = json!([
        {"label_id": labels[0], "kind": "positive", "radius": 3.0, "points": [[1000.0, 1000.0], [1040.0, 1000.0]]},
    ]);
    let message = json!({"seq": 1, "labels": labels, "strokes": strokes});
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .expect("send");
    let Message::Binary(frame) = socket.next().await.expect("frame").expect("ok") else {
        panic!("binary frame")
    };
    let word = |i: usize| u32::from_le_bytes(frame[4 * i..4 * i + 4].try_into().expect("4 bytes"));
    assert_eq!((word(2), word(3)), (w, h));
    // The stroke's crop: 41 px × 1.8 ≈ 74 px around (1020.5, 1000.5), from
    // (983, 963); growing crops may widen it where the mask reaches its edge
    // (each pass about 1.8 times, at most four), never to the whole image.
    let (x0, y0, rw, rh) = (word(4), word(5), word(6), word(7));
    assert!(x0 <= 986 && y0 <= 966, "{x0}, {y0}");
    assert!(
        x0 + rw >= 1054 && y0 + rh >= 1034,
        "{x0}, {y0}, {rw} × {rh}"
    );
    assert!(rw <= 600 && rh <= 600, "{rw} × {rh}");
    assert!(frame.len() <= 32 + 5 * (rw * rh) as usize);
    let (_, _, _, pixels) = decode(&frame);
    assert_eq!(pixels.len(), (w * h) as usize);
    assert!(
        pixels.iter().enumerate().all(|(i, &v)| {
            let (x, y) = (i as u32 % w, i as u32 / w);
            v == 0 || ((x0..x0 + rw).contains(&x) && (y0..y0 + rh).contains(&y))
        }),
        "nothing is labelled outside the region"
    );
}

/// The network is shared label by label: one client's request with many
/// labels does not hold it while another client waits for its one label.
#[tokio::test]
async fn a_request_with_many_labels_does_not_make_another_client_wait_for_all_of_them() {
    let server = Server::start(|_| {}).await;
    let (project, labels, first) = server
        .project_with_image(&png(DynamicImage::ImageRgb8(shapes())))
        .await;
    let second = server
        .send(
            "POST",
            &format!("/api/projects/{project}/images?name=second.png"),
            &[],
            &png(DynamicImage::ImageRgb8(shapes())),
        )
        .await
        .ok_json();
    let mut many = connect(&server, first["id"].as_i64().expect("id")).await;
    let mut one = connect(&server, second["id"].as_i64().expect("id")).await;

    // 12 labels, a dot each, on a grid over the 96×72 image.
    let ids: Vec<i64> = (1..=12).collect();
    let strokes: Vec<Value> = ids
        .iter()
        .map(|&id| {
            let (x, y) = (10.0 + 12.0 * (id % 6) as f32, 12.0 + 20.0 * (id / 6) as f32);
            json!({"label_id": id, "kind": "positive", "radius": 2.0, "points": [[x, y]]})
        })
        .collect();
    let message = json!({"seq": 1, "labels": ids, "strokes": strokes});
    many.send(Message::Text(message.to_string().into()))
        .await
        .expect("send");
    // Sent once the many-label prediction has surely begun.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    one.send(request(1, labels, 40.0)).await.expect("send");

    let both = tokio::join!(
        async {
            many.next().await;
            std::time::Instant::now()
        },
        async {
            one.next().await;
            std::time::Instant::now()
        }
    );
    assert!(
        both.1 < both.0,
        "the one-label answer waited for all 12 labels of the other client"
    );
}

//! The JSON API against a real server on a loopback port.

use image::{DynamicImage, ImageBuffer, Luma};
use serde_json::json;

use crate::util::{decode_gray, png, shapes, write, Server};

#[tokio::test]
async fn health_names_the_model() {
    let server = Server::start(|_| {}).await;
    let health = server.get("/api/health").await.ok_json();
    assert_eq!(health["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(health["model"]["name"], "random (tests)");
    assert!(health["model"]["parameters"].as_u64().expect("a count") > 100_000);
}

#[tokio::test]
async fn the_page_and_its_modules_are_served() {
    let server = Server::start(|_| {}).await;
    let page = server.get("/").await;
    assert_eq!(page.status, 200);
    assert!(String::from_utf8_lossy(&page.body).contains("/assets/main.js"));
    let js = server.get("/assets/main.js").await;
    assert_eq!(
        js.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(server.get("/assets/nope.js").await.status, 404);
    assert!(server
        .get("/api/nope")
        .await
        .error(404)
        .contains("no such route"));
}

#[tokio::test]
async fn projects_and_labels() {
    let server = Server::start(|_| {}).await;
    let project = server
        .post_json("/api/projects", json!({"name": "birds"}))
        .await
        .ok_json();
    let pid = project["id"].as_i64().expect("id");
    let again = server
        .post_json("/api/projects", json!({"name": "birds"}))
        .await;
    assert!(again.error(409).contains("taken"));

    let labels = format!("/api/projects/{pid}/labels");
    let a = server
        .post_json(&labels, json!({"name": "wing"}))
        .await
        .ok_json();
    let b = server
        .post_json(&labels, json!({"name": "beak", "color": "#00FF00"}))
        .await
        .ok_json();
    assert_eq!(b["color"], "#00ff00");
    assert_ne!(a["color"], b["color"], "palette colours differ");
    let bad = server
        .post_json(&labels, json!({"name": "eye", "color": "green"}))
        .await;
    assert!(bad.error(400).contains("#1a2b3c"));
    assert!(server
        .post_json(&labels, json!({"name": "  "}))
        .await
        .error(400)
        .contains("empty"));

    let id = a["id"].as_i64().expect("id");
    let renamed = server
        .send(
            "PATCH",
            &format!("/api/labels/{id}"),
            &[("Content-Type", "application/json")],
            br##"{"name":"left wing","color":"#123abc"}"##,
        )
        .await
        .ok_json();
    assert_eq!(
        (renamed["name"].as_str(), renamed["color"].as_str()),
        (Some("left wing"), Some("#123abc"))
    );
    assert_eq!(renamed["hidden"], json!(false), "labels start shown");
    let label = format!("/api/labels/{id}");
    let hide = |hidden: &'static [u8]| {
        server.send(
            "PATCH",
            &label,
            &[("Content-Type", "application/json")],
            hidden,
        )
    };
    let hidden = hide(br#"{"hidden":true}"#).await.ok_json();
    assert_eq!(
        (hidden["hidden"].as_bool(), hidden["name"].as_str()),
        (Some(true), Some("left wing")),
        "hiding keeps the rest"
    );
    let listed = server.get(&labels).await.ok_json();
    assert_eq!(listed[0]["hidden"], json!(true), "stored: {listed}");
    assert!(hide(br#"{"hidden":"yes"}"#)
        .await
        .error(400)
        .contains("hidden"));
    assert_eq!(
        server
            .send("DELETE", &format!("/api/labels/{id}"), &[], b"")
            .await
            .status,
        204
    );
    let left = server.get(&labels).await.ok_json();
    assert_eq!(left.as_array().expect("list").len(), 1);
    assert!(server
        .send("DELETE", &format!("/api/labels/{id}"), &[], b"")
        .await
        .error(404)
        .contains("label"));
}

#[tokio::test]
async fn bad_requests_get_clear_json_errors() {
    let server = Server::start(|_| {}).await;
    let malformed = server
        .send(
            "POST",
            "/api/projects",
            &[("Content-Type", "application/json")],
            b"{\"name\": ",
        )
        .await;
    assert!(!malformed.error(400).is_empty());
    let unknown = server
        .post_json("/api/projects", json!({"name": "x", "colour": 1}))
        .await;
    assert!(unknown.error(400).contains("unknown field"));
    assert!(server
        .get("/api/images/abc")
        .await
        .error(400)
        .contains("parse"));
    assert!(server
        .get("/api/images/999")
        .await
        .error(404)
        .contains("image 999"));

    let (_, [cat, _], image) = server
        .project_with_image(&png(DynamicImage::ImageRgb8(shapes())))
        .await;
    let strokes = format!("/api/images/{}/strokes", image["id"]);
    let far = server
        .post_json(
            &strokes,
            json!({"label_id": cat, "kind": "positive", "radius": 2.0, "points": [[10.0, 10.0], [1e30, 5.0]]}),
        )
        .await;
    assert!(far.error(400).contains("far outside the 96×72 image"));
    let off_edge = server
        .post_json(
            &strokes,
            json!({"label_id": cat, "kind": "positive", "radius": 2.0, "points": [[10.0, 10.0], [-3.0, 80.0]]}),
        )
        .await
        .ok_json();
    let listed = server.get(&strokes).await.ok_json();
    assert_eq!(
        listed["strokes"][0], off_edge["stroke"],
        "the answer is the stroke as stored"
    );
}

#[tokio::test]
async fn uploads_decode_any_depth_and_refuse_garbage() {
    let server = Server::start(|s| s.max_upload = 200_000).await;
    let (pid, _, info) = server
        .project_with_image(&png(DynamicImage::ImageRgb8(shapes())))
        .await;
    assert_eq!(
        (info["width"].as_u64(), info["height"].as_u64()),
        (Some(96), Some(72))
    );

    let deep: ImageBuffer<Luma<u16>, Vec<u16>> =
        ImageBuffer::from_fn(40, 30, |x, y| Luma([(x * 1000 + y) as u16]));
    let upload = |name: &str| format!("/api/projects/{pid}/images?name={name}");
    let grey16 = server
        .send(
            "POST",
            &upload("scan.png"),
            &[],
            &png(DynamicImage::ImageLuma16(deep)),
        )
        .await
        .ok_json();
    assert_eq!(grey16["width"], 40);
    let shown = server
        .get(&format!("/api/images/{}/display.png", grey16["id"]))
        .await;
    assert_eq!(shown.header("content-type"), Some("image/png"));

    let mut corrupt = png(DynamicImage::ImageRgb8(shapes()));
    corrupt.truncate(100);
    assert!(server
        .send("POST", &upload("broken.png"), &[], &corrupt)
        .await
        .error(400)
        .contains("image"));
    let mut jpeg = std::io::Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(shapes())
        .write_to(&mut jpeg, image::ImageFormat::Jpeg)
        .expect("encode");
    let jpeg = jpeg.into_inner();
    assert!(server
        .send("POST", &upload("half.jpg"), &[], &jpeg[..jpeg.len() / 2])
        .await
        .error(400)
        .contains("truncated"));
    assert!(server
        .send("POST", &upload("text.png"), &[], b"hello")
        .await
        .error(400)
        .contains("image"));
    let huge = vec![0u8; 300_000];
    assert!(server
        .send("POST", &upload("huge.png"), &[], &huge)
        .await
        .error(413)
        .contains("limit"));
    let twice = server
        .send(
            "POST",
            &upload("shapes.png"),
            &[],
            &png(DynamicImage::ImageRgb8(shapes())),
        )
        .await;
    assert!(twice.error(409).contains("shapes.png"));

    let list = server
        .get(&format!("/api/projects/{pid}/images"))
        .await
        .ok_json();
    let names: Vec<&str> = list
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|i| i["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["shapes.png", "scan.png"],
        "refused uploads left nothing behind"
    );
}

#[tokio::test]
async fn strokes_undo_redo_erase_clear_and_survive_a_restart() {
    let server = Server::start(|_| {}).await;
    let (_, [cat, dog], info) = server
        .project_with_image(&png(DynamicImage::ImageRgb8(shapes())))
        .await;
    let image = info["id"].as_i64().expect("id");
    let strokes = format!("/api/images/{image}/strokes");
    let stroke = |label: i64, kind: &str, x: f32| json!({"label_id": label, "kind": kind, "radius": 3.0, "points": [[x, 30.0], [x + 5.0, 34.0]]});

    let first = server
        .post_json(&strokes, stroke(cat, "positive", 25.0))
        .await
        .ok_json();
    assert_eq!(
        first["history"],
        json!({"can_undo": true, "can_redo": false})
    );
    server
        .post_json(&strokes, stroke(dog, "positive", 65.0))
        .await
        .ok_json();
    server
        .post_json(&strokes, stroke(cat, "negative", 70.0))
        .await
        .ok_json();
    let bad = server
        .post_json(
            &strokes,
            json!({"label_id": cat, "kind": "positive", "radius": -1.0, "points": [[1.0, 1.0]]}),
        )
        .await;
    assert!(bad.error(400).contains("radius"));
    let empty = server
        .post_json(
            &strokes,
            json!({"label_id": cat, "kind": "positive", "radius": 2.0, "points": []}),
        )
        .await;
    assert!(empty.error(400).contains("points"));

    let count = |v: &serde_json::Value| v["strokes"].as_array().expect("strokes").len();
    let undone = server
        .post_json(&format!("/api/images/{image}/undo"), json!(null))
        .await
        .ok_json();
    assert_eq!(
        (count(&undone), undone["history"]["can_redo"].as_bool()),
        (2, Some(true))
    );
    let redone = server
        .post_json(&format!("/api/images/{image}/redo"), json!(null))
        .await
        .ok_json();
    assert_eq!(count(&redone), 3);
    assert!(server
        .post_json(&format!("/api/images/{image}/redo"), json!(null))
        .await
        .error(409)
        .contains("redo"));

    let cleared = server
        .post_json(
            &format!("/api/images/{image}/clear"),
            json!({"label_id": cat}),
        )
        .await
        .ok_json();
    assert_eq!(count(&cleared), 1, "both cat strokes went in one step");
    let back = server
        .post_json(&format!("/api/images/{image}/undo"), json!(null))
        .await
        .ok_json();
    assert_eq!(count(&back), 3);
    let first_id = first["stroke"]["id"].as_i64().expect("id");
    let erased = server
        .post_json(
            &format!("/api/images/{image}/strokes/erase"),
            json!({"ids": [first_id, first_id]}),
        )
        .await
        .ok_json();
    assert_eq!(count(&erased), 2, "an id given twice is erased once");
    assert_eq!(
        erased["history"]["can_redo"], false,
        "a new step drops the redo list"
    );

    let progress = server.get(&format!("/api/images/{image}")).await.ok_json();
    assert_eq!(
        (
            progress["strokes"].as_u64(),
            progress["labels_annotated"].as_u64()
        ),
        (Some(2), Some(2))
    );

    // A second server over the same file finds everything again.
    let restarted = Server::start_in(server.dir, |_| {}).await;
    let reloaded = restarted.get(&strokes).await.ok_json();
    assert_eq!(count(&reloaded), 2);
    assert_eq!(
        reloaded["strokes"][0]["points"],
        json!([[65.0, 30.0], [70.0, 34.0]])
    );
    let undone = restarted
        .post_json(&format!("/api/images/{image}/undo"), json!(null))
        .await
        .ok_json();
    assert_eq!(count(&undone), 3, "the undo history is stored too");
}

#[tokio::test]
async fn pins_force_the_label_map_and_exports_agree() {
    let server = Server::start(|_| {}).await;
    let (pid, [cat, dog], info) = server
        .project_with_image(&png(DynamicImage::ImageRgb8(shapes())))
        .await;
    let image = info["id"].as_i64().expect("id");
    let strokes = format!("/api/images/{image}/strokes");
    server.post_json(&strokes, json!({"label_id": cat, "kind": "positive", "radius": 3.0, "points": [[25.0, 36.0], [35.0, 36.0]]})).await.ok_json();
    server.post_json(&strokes, json!({"label_id": dog, "kind": "pin", "radius": 4.0, "points": [[70.0, 30.0], [72.0, 30.0]]})).await.ok_json();

    let map = server
        .get(&format!("/api/images/{image}/export/labelmap.png"))
        .await;
    assert!(map
        .header("content-disposition")
        .is_some_and(|d| d.contains("shapes.labels.png")));
    let (w, h, values) = decode_gray(&map.body);
    assert_eq!((w, h), (96, 72));
    assert!(values.iter().all(|&v| v <= 2));
    assert_eq!(
        values[30 * 96 + 71],
        2,
        "the pinned pixel is dog's (label 2)"
    );
    assert_eq!(
        values[30 * 96 + 70 - 4],
        2,
        "the pin's radius reaches 4 pixels"
    );

    let dog_png = server
        .get(&format!("/api/images/{image}/export/labels/{dog}.png"))
        .await;
    assert!(
        dog_png
            .header("content-disposition")
            .is_some_and(|d| d.contains("\"shapes.dog.png\"")),
        "named by image and label: {:?}",
        dog_png.header("content-disposition")
    );
    let (_, _, dog_mask) = decode_gray(&dog_png.body);
    assert!(dog_mask
        .iter()
        .zip(&values)
        .all(|(&m, &v)| (m == 255) == (v == 2)));

    let coco = server
        .get(&format!("/api/images/{image}/export/coco.json"))
        .await
        .json();
    let dog_ann = coco["annotations"]
        .as_array()
        .expect("annotations")
        .iter()
        .find(|a| a["category_id"] == dog)
        .expect("a dog annotation");
    let counts: u64 = dog_ann["segmentation"]["counts"]
        .as_array()
        .expect("counts")
        .iter()
        .filter_map(|c| c.as_u64())
        .sum();
    assert_eq!(counts, 96 * 72);
    let dog_area = values.iter().filter(|&&v| v == 2).count() as u64;
    assert_eq!(dog_ann["area"].as_u64(), Some(dog_area));
    assert_eq!(coco["categories"].as_array().expect("categories").len(), 2);

    let masks = server
        .get(&format!("/api/images/{image}/masks"))
        .await
        .ok_json();
    assert_eq!(masks["width"], 96);
    let project = server
        .get(&format!("/api/projects/{pid}/export/coco.json"))
        .await
        .json();
    assert_eq!(project["images"][0]["file_name"], "shapes.png");
}

#[tokio::test]
async fn folder_paths_stay_inside_dir() {
    let folder = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(folder.path().join("sub")).expect("mkdir");
    write(
        folder.path(),
        "sub/a.png",
        &png(DynamicImage::ImageRgb8(shapes())),
    );
    write(folder.path(), "notes.txt", b"not an image");
    // A link to an image outside the folder, and an image over the size cap.
    let outside = tempfile::tempdir().expect("temp dir");
    write(
        outside.path(),
        "secret.png",
        &png(DynamicImage::ImageRgb8(shapes())),
    );
    std::os::unix::fs::symlink(
        outside.path().join("secret.png"),
        folder.path().join("link.png"),
    )
    .expect("symlink");
    write(folder.path(), "big.png", &vec![0u8; 3 << 20]);
    let root = folder.path().to_path_buf();
    let server = Server::start(move |s| {
        s.dir = Some(root);
        s.max_upload = 2 << 20;
    })
    .await;
    let project = server
        .post_json("/api/projects", json!({"name": "p"}))
        .await
        .ok_json();
    let from_dir = format!("/api/projects/{}/images/from-dir", project["id"]);

    assert_eq!(
        server.get("/api/dir").await.ok_json(),
        json!(["big.png", "sub/a.png"]),
        "the link out of the folder is not listed"
    );
    let big = server
        .post_json(&from_dir, json!({"path": "big.png"}))
        .await;
    assert!(big.error(413).contains("upload limit"));
    let added = server
        .post_json(&from_dir, json!({"path": "sub/a.png"}))
        .await
        .ok_json();
    assert_eq!(added["name"], "sub/a.png");
    for escape in [
        "../test.db",
        "/etc/passwd",
        "sub/../../x.png",
        "sub",
        "link.png",
    ] {
        let refused = server.post_json(&from_dir, json!({"path": escape})).await;
        assert_eq!(
            refused.error(400),
            format!("no file {escape:?} in the server folder"),
            "one answer whether or not the file exists"
        );
    }
    let text = server
        .post_json(&from_dir, json!({"path": "notes.txt"}))
        .await;
    assert!(text.error(400).contains("image"));

    let without = Server::start(|_| {}).await;
    let p = without
        .post_json("/api/projects", json!({"name": "p"}))
        .await
        .ok_json();
    let refused = without
        .post_json(
            &format!("/api/projects/{}/images/from-dir", p["id"]),
            json!({"path": "a.png"}),
        )
        .await;
    assert!(refused.error(400).contains("--dir"));
}

#[tokio::test]
async fn a_token_guards_every_request() {
    let server = Server::start(|s| s.token = Some("s3cret".into())).await;
    assert!(server.get("/api/health").await.error(401).contains("token"));
    assert_eq!(server.get("/").await.status, 401);
    let bearer = server
        .send(
            "GET",
            "/api/health",
            &[("Authorization", "Bearer s3cret")],
            b"",
        )
        .await;
    assert_eq!(bearer.status, 200);
    assert_eq!(
        server
            .send(
                "GET",
                "/api/health",
                &[("Authorization", "Bearer nope")],
                b""
            )
            .await
            .status,
        401
    );
    let page = server.get("/?token=s3cret").await;
    assert_eq!(page.status, 200);
    let cookie = page
        .header("set-cookie")
        .expect("a cookie")
        .split(';')
        .next()
        .expect("pair")
        .to_string();
    let with_cookie = server
        .send("GET", "/assets/main.js", &[("Cookie", &cookie)], b"")
        .await;
    assert_eq!(with_cookie.status, 200);
}

#[test]
fn serve_refuses_an_open_host_without_a_token() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut options = scribseg_web::ServeOptions::new(dir.path().join("x.db"));
    options.addr = "0.0.0.0:0".parse().expect("address");
    let err = scribseg_web::serve(options, crate::util::model(), |_| {}).expect_err("refused");
    assert!(err.to_string().contains("--token"), "{err}");
}

/// Sends `request` on a new connection and then nothing more; what came
/// back, once the server has closed it (a panic if it is still open after
/// ten header timeouts).
async fn closed_after(server: &Server, request: &[u8]) -> Vec<u8> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    stream.write_all(request).await.expect("write");
    let mut answer = Vec::new();
    let read = tokio::time::timeout(
        crate::util::HEADER_TIMEOUT * 10,
        stream.read_to_end(&mut answer),
    )
    .await;
    assert!(
        matches!(read, Ok(Ok(_)) | Ok(Err(_))),
        "the connection was still open after ten header timeouts"
    );
    answer
}

#[tokio::test]
async fn a_connection_that_never_finishes_its_headers_is_closed() {
    let server = Server::start(|_| {}).await;
    closed_after(&server, b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n").await;
    // The server still answers others.
    assert_eq!(server.get("/api/health").await.status, 200);
}

/// A kept-alive connection that sent one request and then nothing more is
/// closed too: idle sockets cannot pile up either.
#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed() {
    let server = Server::start(|_| {}).await;
    let answer = closed_after(
        &server,
        b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    )
    .await;
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "its one request was answered first: {:?}",
        String::from_utf8_lossy(&answer[..answer.len().min(40)])
    );
}

/// Two tabs (or people) on one image: each undoes and redoes its own steps;
/// requests that name no client share one history; a malformed name is refused.
#[tokio::test]
async fn each_client_undoes_its_own_strokes_on_a_shared_image() {
    let server = Server::start(|_| {}).await;
    let (_, [cat, _], info) = server
        .project_with_image(&png(DynamicImage::ImageRgb8(shapes())))
        .await;
    let image = info["id"].as_i64().expect("id");
    let as_client = |client: &'static str, path: String, body: serde_json::Value| {
        let server = &server;
        async move {
            let body = body.to_string();
            let mut headers = vec![("Content-Type", "application/json")];
            if !client.is_empty() {
                headers.push(("X-Scribseg-Client", client));
            }
            server.send("POST", &path, &headers, body.as_bytes()).await
        }
    };
    let strokes = format!("/api/images/{image}/strokes");
    let stroke =
        |x: f32| json!({"label_id": cat, "kind": "positive", "radius": 3.0, "points": [[x, 30.0]]});
    let visible = |answer: &serde_json::Value| -> Vec<f64> {
        answer["strokes"]
            .as_array()
            .expect("strokes")
            .iter()
            .map(|s| s["points"][0][0].as_f64().expect("x"))
            .collect()
    };

    as_client("tab-a", strokes.clone(), stroke(10.0))
        .await
        .ok_json();
    as_client("tab-b", strokes.clone(), stroke(20.0))
        .await
        .ok_json();
    as_client("tab-a", strokes.clone(), stroke(30.0))
        .await
        .ok_json();
    let undo = format!("/api/images/{image}/undo");
    let redo = format!("/api/images/{image}/redo");
    // A's undo takes back A's newest stroke (30), then A's older one (10),
    // never B's, though B's was drawn in between.
    let after = as_client("tab-a", undo.clone(), json!(null))
        .await
        .ok_json();
    assert_eq!(visible(&after), [10.0, 20.0]);
    let after = as_client("tab-a", undo.clone(), json!(null))
        .await
        .ok_json();
    assert_eq!(visible(&after), [20.0]);
    assert_eq!(
        after["history"],
        json!({"can_undo": false, "can_redo": true})
    );
    let refused = as_client("tab-a", undo.clone(), json!(null)).await;
    assert_eq!(refused.status, 409, "A has nothing left to undo");
    // B's history is its own: one stroke to undo, nothing to redo.
    let listed = server
        .send("GET", &strokes, &[("X-Scribseg-Client", "tab-b")], b"")
        .await
        .ok_json();
    assert_eq!(
        listed["history"],
        json!({"can_undo": true, "can_redo": false})
    );
    // B drawing does not drop A's redo list.
    as_client("tab-b", strokes.clone(), stroke(40.0))
        .await
        .ok_json();
    let after = as_client("tab-a", redo.clone(), json!(null))
        .await
        .ok_json();
    assert_eq!(visible(&after), [10.0, 20.0, 40.0]);
    let after = as_client("tab-b", undo.clone(), json!(null))
        .await
        .ok_json();
    assert_eq!(visible(&after), [10.0, 20.0]);

    // No client named: the shared history, which holds none of the tabs' steps.
    as_client("", strokes.clone(), stroke(50.0)).await.ok_json();
    let after = as_client("", undo.clone(), json!(null)).await.ok_json();
    assert_eq!(visible(&after), [10.0, 20.0]);
    assert_eq!(as_client("", undo, json!(null)).await.status, 409);

    let bad = as_client("a b<script>", strokes, stroke(60.0)).await;
    assert_eq!(bad.status, 400);
    assert!(bad.error(400).contains("x-scribseg-client"));
}

#[tokio::test]
async fn an_image_status_is_kept_and_its_thumbnail_is_made_once() {
    let server = Server::start(|_| {}).await;
    let wide = image::imageops::resize(&shapes(), 384, 288, image::imageops::FilterType::Nearest);
    let (project, _, info) = server
        .project_with_image(&png(DynamicImage::ImageRgb8(wide)))
        .await;
    let id = info["id"].as_i64().expect("id");
    assert_eq!(info["status"], "todo", "images start to do");
    let image = format!("/api/images/{id}");
    let patch = |body: &'static [u8]| {
        server.send(
            "PATCH",
            &image,
            &[("Content-Type", "application/json")],
            body,
        )
    };
    assert_eq!(
        patch(br#"{"status":"done"}"#).await.ok_json()["status"],
        "done"
    );
    assert_eq!(
        server
            .get(&format!("/api/projects/{project}/images"))
            .await
            .ok_json()[0]["status"],
        "done",
        "the list shows it"
    );
    assert_eq!(
        patch(br#"{"status":"review"}"#).await.ok_json()["status"],
        "review"
    );
    assert!(patch(br#"{"status":"finished"}"#)
        .await
        .error(400)
        .contains("unknown variant"));
    assert!(patch(br#"{}"#).await.error(400).contains("status"));
    assert!(server
        .send(
            "PATCH",
            "/api/images/999",
            &[("Content-Type", "application/json")],
            br#"{"status":"done"}"#,
        )
        .await
        .error(404)
        .contains("image"));

    // The thumbnail: 96 pixels on the longer side, the aspect kept, the
    // same bytes twice, kept in the database after the first request.
    let db = scribseg_web::Store::open(&server.dir.path().join("test.db")).expect("open");
    assert_eq!(db.thumbnail(id).expect("read"), None, "made on request");
    let thumb = server.get(&format!("/api/images/{id}/thumb.png")).await;
    assert_eq!(thumb.header("content-type"), Some("image/png"));
    let decoded = image::load_from_memory(&thumb.body).expect("a PNG");
    assert_eq!((decoded.width(), decoded.height()), (96, 72));
    assert_eq!(db.thumbnail(id).expect("read"), Some(thumb.body.clone()));
    let again = server.get(&format!("/api/images/{id}/thumb.png")).await;
    assert_eq!(again.body, thumb.body);
    let tall = server
        .send(
            "POST",
            &format!("/api/projects/{project}/images?name=tall.png"),
            &[],
            &png(DynamicImage::ImageRgb8(image::RgbImage::new(100, 400))),
        )
        .await
        .ok_json();
    let thumb = server
        .get(&format!("/api/images/{}/thumb.png", tall["id"]))
        .await;
    let decoded = image::load_from_memory(&thumb.body).expect("a PNG");
    assert_eq!((decoded.width(), decoded.height()), (24, 96));
    assert_eq!(tall["status"], "todo");
}

//! The same-origin guard: DNS rebinding (another `Host`), other sites'
//! pages (`Origin`, the WebSocket handshake included), forged writes (no
//! JSON body and no `X-Scribseg`), the security headers and `--token`'s
//! minimum strength.

use serde_json::json;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::util::{png, request, shapes, Server};

#[tokio::test]
async fn another_host_name_is_refused_and_loopback_names_pass() {
    let server = Server::start(|_| {}).await;
    let port = server.addr.port();
    let rebound = format!("evil.example:{port}");
    let refused = request(
        server.addr,
        "GET",
        "/api/projects",
        &[("Host", &rebound)],
        b"",
    )
    .await;
    assert!(refused.error(403).contains("evil.example"), "{refused:?}");
    let page = request(server.addr, "GET", "/", &[("Host", &rebound)], b"").await;
    assert_eq!(page.status, 403, "the page itself is refused too");
    for host in [
        format!("localhost:{port}"),
        format!("app.localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
    ] {
        let answer = request(server.addr, "GET", "/api/projects", &[("Host", &host)], b"").await;
        assert_eq!(answer.status, 200, "{host}");
    }
}

#[tokio::test]
async fn another_sites_page_can_neither_read_nor_write() {
    let server = Server::start(|_| {}).await;
    let evil = [("Origin", "http://evil.example")];
    let read = server.send("GET", "/api/projects", &evil, b"").await;
    assert!(read.error(403).contains("evil.example"));
    let body = json!({"name": "planted"}).to_string();
    let write = server
        .send(
            "POST",
            "/api/projects",
            &[evil[0], ("Content-Type", "application/json")],
            body.as_bytes(),
        )
        .await;
    assert_eq!(write.status, 403);
    let null = server
        .send(
            "POST",
            "/api/projects",
            &[("Origin", "null")],
            body.as_bytes(),
        )
        .await;
    assert_eq!(null.status, 403, "a sandboxed page's null origin");
    let projects = server.get("/api/projects").await.ok_json();
    assert!(
        !projects.to_string().contains("planted"),
        "nothing was written: {projects}"
    );

    // The server's own page passes.
    let own = format!("http://{}", server.addr);
    let created = server
        .send(
            "POST",
            "/api/projects",
            &[("Origin", &own), ("Content-Type", "application/json")],
            body.as_bytes(),
        )
        .await;
    assert_eq!(created.status, 200);
}

#[tokio::test]
async fn a_write_without_json_or_the_header_is_refused() {
    let server = Server::start(|_| {}).await;
    let (pid, _, image) = server.project_with_image(&png(shapes().into())).await;
    let id = image["id"].as_i64().expect("an id");
    // What a cross-site form or `fetch(…, {mode: "no-cors"})` can send.
    let undo = request(
        server.addr,
        "POST",
        &format!("/api/images/{id}/undo"),
        &[("Content-Type", "text/plain")],
        b"",
    )
    .await;
    assert!(undo.error(403).contains("X-Scribseg"), "{undo:?}");
    let upload = request(
        server.addr,
        "POST",
        &format!("/api/projects/{pid}/images?name=planted.png"),
        &[],
        &png(shapes().into()),
    )
    .await;
    assert_eq!(upload.status, 403);
    let images = server
        .get(&format!("/api/projects/{pid}/images"))
        .await
        .ok_json();
    assert_eq!(images.as_array().map(Vec::len), Some(1), "{images}");
    // With the header, as the page sends it.
    let undo = server
        .send("POST", &format!("/api/images/{id}/undo"), &[], b"")
        .await;
    assert_ne!(undo.status, 403);
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let server = Server::start(|_| {}).await;
    let refused = server
        .send("GET", "/", &[("Origin", "http://evil.example")], b"")
        .await;
    for answer in [
        server.get("/").await,
        server.get("/api/nothing").await,
        refused,
    ] {
        assert_eq!(answer.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(answer.header("x-frame-options"), Some("DENY"));
        let csp = answer.header("content-security-policy").expect("a CSP");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    }
}

#[tokio::test]
async fn an_allowed_origin_may_name_its_host_and_use_the_api() {
    let server = Server::start(|s| s.allow_origins = vec!["http://tool.example:8080".into()]).await;
    let answer = request(
        server.addr,
        "GET",
        "/api/projects",
        &[
            ("Host", "tool.example:8080"),
            ("Origin", "http://tool.example:8080"),
        ],
        b"",
    )
    .await;
    assert_eq!(answer.status, 200);
    let other = request(
        server.addr,
        "GET",
        "/api/projects",
        &[("Origin", "http://tool.example:9090")],
        b"",
    )
    .await;
    assert_eq!(other.status, 403, "another port is another origin");
}

#[tokio::test]
async fn another_sites_page_cannot_open_the_websocket() {
    let server = Server::start(|_| {}).await;
    let (_, _, image) = server.project_with_image(&png(shapes().into())).await;
    let url = format!("ws://{}/api/images/{}/ws", server.addr, image["id"]);
    let handshake = |origin: &str| {
        let mut request = url.as_str().into_client_request().expect("a request");
        request
            .headers_mut()
            .insert("Origin", HeaderValue::from_str(origin).expect("a header"));
        tokio_tungstenite::connect_async(request)
    };
    let refused = handshake("http://evil.example").await;
    assert!(refused.is_err(), "a cross-site handshake was accepted");
    let own = handshake(&format!("http://{}", server.addr)).await;
    assert!(own.is_ok(), "{:?}", own.err());
}

#[test]
fn serve_refuses_a_weak_token_and_a_malformed_origin() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut options = scribseg_web::ServeOptions::new(dir.path().join("x.db"));
    options.token = Some("a".into());
    let err = scribseg_web::serve(options.clone(), crate::util::model(), |_| {}).expect_err("weak");
    assert!(err.to_string().contains("at least 16 characters"), "{err}");
    options.token = None;
    options.allow_origins = vec!["tool.example".into()];
    let err = scribseg_web::serve(options, crate::util::model(), |_| {}).expect_err("malformed");
    assert!(err.to_string().contains("http://host:port"), "{err}");
}

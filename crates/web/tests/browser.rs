//! The page in headless Chromium, driven through the DevTools protocol
//! with real mouse and keyboard events.
//!
//! Without Chromium the test says it skipped, except under `SCRIBSEG_CI`
//! where a missing browser fails the run (`.ci/run` installs it).

use std::path::PathBuf;
use std::time::Duration;

use image::imageops::{resize, FilterType};
use image::DynamicImage;
use serde_json::{json, Value};

use crate::cdp::{find_chromium, Browser};
use crate::util::{decode_gray, png, request, shapes, Server};

/// The picture is `shapes()` at this scale (288×216).
const SCALE: u32 = 3;

/// Chromium, or `None` after saying why the test is skipped.
fn chromium_or_skip() -> Option<PathBuf> {
    let found = find_chromium();
    if found.is_none() {
        assert!(
            std::env::var_os("SCRIBSEG_CI").is_none(),
            "Chromium is required under SCRIBSEG_CI (apt-get install -y chromium)"
        );
        eprintln!("skipped: chromium not found");
    }
    found
}

/// Viewport coordinates of image point (x, y).
async fn on_screen(browser: &mut Browser, x: f64, y: f64) -> (f64, f64) {
    let t = browser
        .eval("(() => { const v = scribseg.view, r = v.canvas.getBoundingClientRect(); return [r.left + v.ox, r.top + v.oy, v.scale]; })()")
        .await;
    let f = |i: usize| t[i].as_f64().expect("a number");
    (f(0) + (x + 0.5) * f(2), f(1) + (y + 0.5) * f(2))
}

/// Presses at the first point and moves through the others; the button stays down.
async fn drag(browser: &mut Browser, points: &[(f64, f64)]) {
    let (x, y) = on_screen(browser, points[0].0, points[0].1).await;
    browser.mouse("mouseMoved", x, y).await;
    browser.mouse("mousePressed", x, y).await;
    for &(ix, iy) in &points[1..] {
        let (x, y) = on_screen(browser, ix, iy).await;
        browser.mouse("mouseMoved", x, y).await;
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
}

async fn release(browser: &mut Browser, at: (f64, f64)) {
    let (x, y) = on_screen(browser, at.0, at.1).await;
    browser.mouse("mouseReleased", x, y).await;
}

fn line(from: (f64, f64), to: (f64, f64), n: usize) -> Vec<(f64, f64)> {
    (0..=n)
        .map(|i| {
            let t = i as f64 / n as f64;
            (from.0 + t * (to.0 - from.0), from.1 + t * (to.1 - from.1))
        })
        .collect()
}

/// The label-map value the page holds at image pixel (x, y).
fn frame_value(x: u32, y: u32) -> String {
    format!("scribseg.frame && scribseg.frame.data[{y} * scribseg.frame.width + {x}]")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paint_see_masks_live_undo_reload_and_export() {
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    let server = Server::start(|_| {}).await;
    let picture = resize(&shapes(), 96 * SCALE, 72 * SCALE, FilterType::Nearest);
    let file = server.dir.path().join("shapes.png");
    std::fs::write(&file, png(DynamicImage::ImageRgb8(picture))).expect("write the picture");
    let mut browser = Browser::launch(chromium, 1280, 800).await;
    browser.goto(&format!("http://{}/", server.addr)).await;
    browser
        .wait_for("document.body.dataset.started === '1'")
        .await;

    // Load an image through the page's own file input.
    browser.set_files("#file-input", &[file]).await;
    browser
        .wait_for("document.body.dataset.ready === '1' && document.body.dataset.predictions >= '1'")
        .await;

    // Two labels, typed into the form.
    for (i, name) in ["disc", "square"].iter().enumerate() {
        browser.click("#new-label").await;
        browser.type_text(name).await;
        browser.click("#add-label button").await;
        browser
            .wait_for(&format!("document.body.dataset.labels === '{}'", i + 1))
            .await;
    }
    browser.key("1", "Digit1", 49, 0).await;
    browser
        .wait_for("scribseg.activeLabel === scribseg.labels[0].id")
        .await;

    // A brush stroke across the disc: predictions arrive while the button is down.
    let before: u64 = browser
        .eval("Number(document.body.dataset.predictions)")
        .await
        .as_u64()
        .expect("count");
    let stroke = line((70.0, 108.0), (110.0, 108.0), 30);
    drag(&mut browser, &stroke).await;
    browser
        .wait_for(&format!(
            "Number(document.body.dataset.predictions) > {before}"
        ))
        .await;
    assert_eq!(
        browser.eval("document.body.dataset.strokes").await,
        json!("0"),
        "still drawing"
    );
    release(&mut browser, stroke[30]).await;
    browser
        .wait_for("document.body.dataset.strokes === '1'")
        .await;

    // A pin for the square: the overlay shows it before the button comes up.
    browser.key("2", "Digit2", 50, 0).await;
    browser.key("p", "KeyP", 80, 0).await;
    let (px, py) = (210u32, 99u32);
    let pin = line((200.0, 99.0), (220.0, 99.0), 12);
    drag(&mut browser, &pin).await;
    browser
        .wait_for(&format!("{} === 2", frame_value(px, py)))
        .await;
    assert_eq!(
        browser.eval("document.body.dataset.strokes").await,
        json!("1")
    );
    release(&mut browser, pin[12]).await;
    browser
        .wait_for("document.body.dataset.strokes === '2'")
        .await;

    // A third stroke, then Ctrl+Z takes it back.
    browser.key("b", "KeyB", 66, 0).await;
    let extra = line((190.0, 130.0), (230.0, 130.0), 10);
    drag(&mut browser, &extra).await;
    release(&mut browser, extra[10]).await;
    browser
        .wait_for("document.body.dataset.strokes === '3'")
        .await;
    browser.key("z", "KeyZ", 90, 2).await;
    browser
        .wait_for("document.body.dataset.strokes === '2'")
        .await;
    let image_id = browser.eval("scribseg.image.id").await;
    let stored = request(
        server.addr,
        "GET",
        &format!("/api/images/{image_id}/strokes"),
        &[],
        b"",
    )
    .await
    .json();
    assert_eq!(stored["strokes"].as_array().expect("strokes").len(), 2);
    assert_eq!(stored["history"]["can_redo"], true);

    // Reload: the strokes and labels come back, and so does the mask.
    browser.eval("window.beforeReload = true").await;
    browser.call("Page.reload", json!({})).await;
    browser
        .wait_for("!window.beforeReload && document.body.dataset.started === '1' && document.body.dataset.ready === '1'")
        .await;
    assert_eq!(
        browser.eval("document.body.dataset.strokes").await,
        json!("2")
    );
    assert_eq!(
        browser.eval("scribseg.labels.map(l => l.name)").await,
        json!(["disc", "square"])
    );
    browser
        .wait_for(&format!("{} === 2", frame_value(px, py)))
        .await;

    // The export links give the stored result.
    let href = |id: &str| format!("document.getElementById({id:?}).getAttribute('href')");
    let label_map = browser.eval(&href("export-labelmap")).await;
    let map = request(
        server.addr,
        "GET",
        label_map.as_str().expect("a link"),
        &[],
        b"",
    )
    .await;
    let (w, h, values) = decode_gray(&map.body);
    assert_eq!((w, h), (96 * SCALE, 72 * SCALE));
    assert_eq!(
        values[(py * w + px) as usize],
        2,
        "the pinned pixel is 'square'"
    );
    assert!(values.iter().all(|&v| v <= 2));
    let coco_link = browser.eval(&href("export-project")).await;
    let coco: Value = request(
        server.addr,
        "GET",
        coco_link.as_str().expect("a link"),
        &[],
        b"",
    )
    .await
    .json();
    let names: Vec<&str> = coco["categories"]
        .as_array()
        .expect("categories")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, ["disc", "square"]);
    let square = coco["categories"][1]["id"].clone();
    assert!(coco["annotations"]
        .as_array()
        .expect("annotations")
        .iter()
        .any(|a| a["category_id"] == square));

    // A screenshot to look at, with the brush cursor over the image.
    browser.key("1", "Digit1", 49, 0).await;
    let (cx, cy) = on_screen(&mut browser, 150.0, 160.0).await;
    browser.mouse("mouseMoved", cx, cy).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let shot = browser.screenshot().await;
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("scribseg-annotator.png");
    std::fs::write(&path, shot).expect("write the screenshot");
    eprintln!("screenshot: {}", path.display());
}

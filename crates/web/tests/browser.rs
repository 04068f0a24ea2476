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

/// A right-drag with the pin brush takes the label off the mask where the
/// model does not follow (an unpin: stored, drawn dashed, undoable, exported).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_right_drag_with_the_pin_brush_clears_the_mask_under_it() {
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    let lines = [(0, [[30.0, 90.0], [240.0, 90.0]])];
    let (server, (_, [cat, _], info), mut browser) = annotating_strokes(chromium, &lines).await;
    let pixels = "Number(document.body.dataset.overlayPixels)";
    let before = browser.eval(pixels).await.as_f64().expect("a count");
    assert!(before > 0.0, "the mask is drawn");

    // The pin brush, wide, dragged with the right button across the mask.
    browser.key("p", "KeyP", 80, 0).await;
    for _ in 0..6 {
        browser.key("]", "BracketRight", 221, 0).await;
    }
    let path = line((60.0, 60.0), (60.0, 130.0), 10);
    let (x, y) = on_screen(&mut browser, path[0].0, path[0].1).await;
    browser.mouse_button("mouseMoved", x, y, "none", 0).await;
    browser.mouse_button("mousePressed", x, y, "right", 0).await;
    for &(ix, iy) in &path[1..] {
        let (x, y) = on_screen(&mut browser, ix, iy).await;
        browser.mouse_button("mouseMoved", x, y, "right", 0).await;
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    let (x, y) = on_screen(&mut browser, 60.0, 130.0).await;
    browser
        .mouse_button("mouseReleased", x, y, "right", 0)
        .await;
    browser
        .wait_for(&format!(
            "document.body.dataset.strokes === '2' && {pixels} > 0 && {pixels} < {before}"
        ))
        .await;
    let strokes = server
        .get(&format!("/api/images/{}/strokes", info["id"]))
        .await
        .ok_json();
    let last = &strokes["strokes"][1];
    assert_eq!(
        (last["kind"].clone(), last["label_id"].clone()),
        (json!("unpin"), json!(cat))
    );
    // The export agrees: the column under the unpin is unlabelled, the rest of the stroke's mask is not.
    let map = server
        .get(&format!("/api/images/{}/export/labelmap.png", info["id"]))
        .await;
    let (w, _, map) = decode_gray(&map.body);
    assert_eq!(map[(90 * w + 60) as usize], 0, "cleared under the unpin");
    assert_eq!(map[(90 * w + 200) as usize], 1, "kept beside it");

    // Undo brings the mask back.
    browser.key("z", "KeyZ", 90, 2).await;
    browser
        .wait_for(&format!(
            "document.body.dataset.strokes === '1' && {pixels} === {before}"
        ))
        .await;
}

/// D marks the open image done and opens the next one not done; the list's
/// filter shows one status and is kept across a reload; a click on an
/// image's status cycles it; every item has its thumbnail; all is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_are_marked_done_with_d_and_the_list_filters_by_status() {
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    let (server, (project, _, first), mut browser) =
        annotating(chromium, shapes(), (1280, 800)).await;
    let mut ids = vec![first["id"].as_i64().expect("id")];
    for name in ["b.png", "c.png"] {
        let info = server
            .send(
                "POST",
                &format!("/api/projects/{project}/images?name={name}"),
                &[],
                &png(DynamicImage::ImageRgb8(shapes())),
            )
            .await
            .ok_json();
        ids.push(info["id"].as_i64().expect("id"));
    }
    browser.call("Page.reload", json!({})).await;
    let ready = "document.body.dataset.started === '1' && document.body.dataset.ready === '1'";
    browser.wait_for(ready).await;
    browser
        .wait_for(
            "[...document.querySelectorAll('#images .thumb')].filter(i => i.complete && i.naturalWidth === 96).length === 3",
        )
        .await;
    let open = browser.eval("scribseg.image.id").await;
    assert_eq!(open, json!(ids[0]), "the first image is open");

    // D: the first is done, the second opens.
    browser.key("d", "KeyD", 68, 0).await;
    browser
        .wait_for(&format!("scribseg.image.id === {} && {ready}", ids[1]))
        .await;
    let status = |id: i64| {
        let server = &server;
        async move { server.get(&format!("/api/images/{id}")).await.ok_json()["status"].clone() }
    };
    assert_eq!(status(ids[0]).await, json!("done"));

    // The filter, from the keyboard: "to do" lists the other two.
    let listed = "[...document.querySelectorAll('#images .image-item')].map(li => Number(li.dataset.imageId)).join()";
    browser.click("#image-filter").await;
    browser.key("ArrowDown", "ArrowDown", 40, 0).await;
    browser.key("Enter", "Enter", 13, 0).await;
    browser
        .wait_for(&format!("{listed} === '{},{}'", ids[1], ids[2]))
        .await;
    // A click on the third's status: to do → done, and it leaves the list.
    browser.key("Escape", "Escape", 27, 0).await;
    browser
        .click(&format!("[data-image-id='{}'] .status", ids[2]))
        .await;
    browser
        .wait_for(&format!("{listed} === '{}'", ids[1]))
        .await;
    assert_eq!(status(ids[2]).await, json!("done"));
    // R on the open image: needs review, and it leaves the "to do" list too.
    browser.key("r", "KeyR", 82, 0).await;
    browser.wait_for(&format!("{listed} === ''")).await;
    assert_eq!(status(ids[1]).await, json!("review"));

    // The filter is kept across a reload.
    browser.call("Page.reload", json!({})).await;
    browser
        .wait_for("document.body.dataset.started === '1'")
        .await;
    browser
        .wait_for(&format!(
            "document.getElementById('image-filter').value === 'todo' && {listed} === ''"
        ))
        .await;
}

/// The grey of pixel (x, y) of the picture on the canvas (before zoom and overlay).
fn picture_grey(x: u32, y: u32) -> String {
    format!(
        "(() => {{ const i = scribseg.view.image, c = document.createElement('canvas'); \
         c.width = i.width; c.height = i.height; const g = c.getContext('2d'); g.drawImage(i, 0, 0); \
         return g.getImageData({x}, {y}, 1, 1).data[0]; }})()"
    )
}

/// Shift+drag over a volume slice changes its display window (the model's
/// picture stays), without drawing a stroke; the window is kept with the
/// volume across a reload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_volume_display_window_follows_shift_drag_and_survives_a_reload() {
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    let server = Server::start(|_| {}).await;
    let file = phantom(server.dir.path());
    let mut browser = open_with_file(chromium, &server, file).await;
    let shown = "document.body.dataset.slice === '2/20' && document.body.dataset.ready === '1'";
    browser.wait_for(shown).await;
    let value = "document.getElementById('window-value').textContent";
    let preset = "document.getElementById('window-preset').selectedOptions[0].textContent";
    assert_eq!(browser.eval(value).await, json!("W 400 · L 40"));
    assert_eq!(browser.eval(preset).await, json!("default"));
    // The liver (120 HU) at voxel (34, 36) through the soft-tissue window.
    let liver = picture_grey(34, 36);
    let grey = browser.eval(&liver).await.as_f64().expect("a grey");
    assert!((160.0..=190.0).contains(&grey), "soft tissue: {grey}");

    // 200 screen pixels right and 100 down: the phantom spans −1000 to 700
    // HU, 1.7 HU a pixel, so the width grows by 340 and the level by 170.
    let (x, y) = on_screen(&mut browser, 48.0, 40.0).await;
    const SHIFT: u32 = 8;
    browser.mouse_with("mouseMoved", x, y, SHIFT).await;
    browser.mouse_with("mousePressed", x, y, SHIFT).await;
    for i in 1..=10 {
        let at = (x + 20.0 * f64::from(i), y + 10.0 * f64::from(i));
        browser.mouse_with("mouseMoved", at.0, at.1, SHIFT).await;
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    browser
        .mouse_with("mouseReleased", x + 200.0, y + 100.0, SHIFT)
        .await;
    browser
        .wait_for(&format!("{value} === 'W 740 · L 210' && {liver} < 110"))
        .await;
    assert_eq!(browser.eval(preset).await, json!("custom"));
    assert_eq!(
        browser.eval("document.body.dataset.strokes").await,
        json!("0"),
        "no stroke was drawn"
    );
    let id = browser.eval("scribseg.volume.id").await;
    // Kept with the volume once the page has sent it.
    let stored =
        || async { server.get(&format!("/api/volumes/{id}")).await.ok_json()["window"].clone() };
    let near = |v: &Value, want: f64| v.as_f64().is_some_and(|v| (v - want).abs() < 0.01);
    for _ in 0..100 {
        if !stored().await.is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let window = stored().await;
    assert!(
        near(&window["width"], 740.0) && near(&window["level"], 210.0),
        "stored: {window}"
    );

    browser.call("Page.reload", json!({})).await;
    browser.wait_for(shown).await;
    browser
        .wait_for(&format!("{value} === 'W 740 · L 210' && {liver} < 110"))
        .await;
    // The model's picture is still the soft-tissue one.
    let slice = server
        .get(&format!("/api/volumes/{id}/slices/2/20"))
        .await
        .ok_json();
    let model = server
        .get(&format!("/api/images/{}/display.png", slice["image"]["id"]))
        .await;
    let (w, _, grey) = decode_gray(&model.body);
    assert!((160..=190).contains(&grey[(36 * w + 34) as usize]));
}

/// A checksum of a label map: the page's (`scribseg.frame`) and an
/// export's are computed the same way.
const FRAME_SUM: &str = "(() => { const f = scribseg.frame; let s = 0; for (let i = 0; i < f.width * f.height; i++) s = (s * 31 + f.data[i]) % 1000000007; return s; })()";

fn frame_sum(map: &[u8]) -> u64 {
    map.iter()
        .fold(0u64, |s, &v| (s * 31 + u64::from(v)) % 1_000_000_007)
}

/// A day's work in small: 20 images, a stroke each drawn with the mouse and
/// `D` to the next, the server restarted (a new process state over the same
/// database) half way. At the end every image is done, has its stroke, and
/// exports the label map the page showed when it was drawn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_twenty_image_session_survives_a_restart_and_exports_what_was_shown() {
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    let server = Server::start(|_| {}).await;
    // Twenty photos: the shapes picture with its disc moved a little each time.
    let picture = |i: u32| {
        image::RgbImage::from_fn(96, 72, |x, y| {
            let (dx, dy) = (x as f32 - 24.0 - i as f32, y as f32 - 36.0);
            if dx * dx + dy * dy < 300.0 {
                image::Rgb([235, 180, 50])
            } else {
                let g = (80 + x / 2 + y / 3) as u8;
                image::Rgb([g, g, g])
            }
        })
    };
    let (project, _, first) = server
        .project_with_image(&png(DynamicImage::ImageRgb8(picture(0))))
        .await;
    let mut ids = vec![first["id"].as_i64().expect("id")];
    for i in 1..20 {
        let info = server
            .send(
                "POST",
                &format!("/api/projects/{project}/images?name=photo{i:02}.png"),
                &[],
                &png(DynamicImage::ImageRgb8(picture(i))),
            )
            .await
            .ok_json();
        ids.push(info["id"].as_i64().expect("id"));
    }
    let mut browser = Browser::launch(chromium, 1280, 800).await;
    let ready = "document.body.dataset.started === '1' && document.body.dataset.ready === '1'";
    browser.goto(&format!("http://{}/", server.addr)).await;
    browser.wait_for(ready).await;

    let mut shown = Vec::new();
    let mut server = server;
    for (i, &id) in ids.iter().enumerate() {
        if i == 10 {
            // A new server over the same database; the page is opened on it
            // and the eleventh image picked from the list with the mouse.
            server = Server::start_in(server.dir, |_| {}).await;
            browser.goto(&format!("http://{}/", server.addr)).await;
            browser
                .wait_for("document.body.dataset.started === '1'")
                .await;
            let item = format!("[data-image-id='{id}']");
            browser
                .eval(&format!(
                    "document.querySelector(\"{item}\").scrollIntoView()"
                ))
                .await;
            browser.click(&item).await;
        }
        browser
            .wait_for(&format!("scribseg.image.id === {id} && {ready}"))
            .await;
        let stroke = line((14.0 + i as f64, 36.0), (34.0 + i as f64, 36.0), 8);
        drag(&mut browser, &stroke).await;
        release(&mut browser, stroke[8]).await;
        // Saved, and every state the page sent answered: the frame on the
        // screen is the answer to the whole stroke.
        let idle = "document.body.dataset.strokes === '1' && document.body.dataset.unsaved === '0' \
                    && scribseg.socket && scribseg.socket.sentAt.size === 0 && !scribseg.socket.scheduled";
        browser.wait_for(idle).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        browser.wait_for(idle).await;
        shown.push(browser.eval(FRAME_SUM).await.as_u64().expect("a sum"));
        browser.key("d", "KeyD", 68, 0).await;
        if i + 1 < ids.len() {
            browser
                .wait_for(&format!("scribseg.image.id !== {id}"))
                .await;
        }
    }
    for (i, &id) in ids.iter().enumerate() {
        let info = server.get(&format!("/api/images/{id}")).await.ok_json();
        assert_eq!(
            (info["status"].clone(), info["strokes"].clone()),
            (json!("done"), json!(1)),
            "image {i}"
        );
        let map = server
            .get(&format!("/api/images/{id}/export/labelmap.png"))
            .await;
        let (_, _, map) = decode_gray(&map.body);
        assert!(map.contains(&1), "image {i} has a mask");
        assert_eq!(
            frame_sum(&map),
            shown[i],
            "image {i}: the export is what was shown"
        );
    }
}

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

/// A 1280×800 page on `server` that has started, given `file` through its file input.
async fn open_with_file(chromium: PathBuf, server: &Server, file: PathBuf) -> Browser {
    let mut browser = Browser::launch(chromium, 1280, 800).await;
    browser.goto(&format!("http://{}/", server.addr)).await;
    browser
        .wait_for("document.body.dataset.started === '1'")
        .await;
    browser.set_files("#file-input", &[file]).await;
    browser
}

/// A server with a project of two labels ("cat", "dog") and `picture`, and
/// a `width` × `height` page on it that has opened the picture: the
/// server, (project, labels, image) and the browser.
async fn annotating(
    chromium: PathBuf,
    picture: image::RgbImage,
    (width, height): (u32, u32),
) -> (Server, (i64, [i64; 2], Value), Browser) {
    let server = Server::start(|_| {}).await;
    let created = server
        .project_with_image(&png(DynamicImage::ImageRgb8(picture)))
        .await;
    let mut browser = Browser::launch(chromium, width, height).await;
    browser.goto(&format!("http://{}/", server.addr)).await;
    browser
        .wait_for("document.body.dataset.started === '1' && document.body.dataset.ready === '1'")
        .await;
    (server, created, browser)
}

/// [`annotating`] the shapes picture at 1280 × 800 with positive strokes of
/// radius 3 already stored, each `(k, [from, to])` for the `k`-th of the two
/// labels; the page reloaded and its first prediction in.
async fn annotating_strokes(
    chromium: PathBuf,
    lines: &[(usize, [[f32; 2]; 2])],
) -> (Server, (i64, [i64; 2], Value), Browser) {
    let picture = resize(&shapes(), 96 * SCALE, 72 * SCALE, FilterType::Nearest);
    let (server, created, mut browser) = annotating(chromium, picture, (1280, 800)).await;
    let strokes = format!("/api/images/{}/strokes", created.2["id"]);
    for &(k, points) in lines {
        let label = created.1[k];
        let body = json!({"label_id": label, "kind": "positive", "radius": 3.0, "points": points});
        server.post_json(&strokes, body).await.ok_json();
    }
    browser.call("Page.reload", json!({})).await;
    browser
        .wait_for(&format!(
            "document.body.dataset.started === '1' && document.body.dataset.strokes === '{}' \
             && Number(document.body.dataset.predictions) > 0",
            lines.len()
        ))
        .await;
    (server, created, browser)
}

/// Types a label name into the form and waits until the page has `count` labels.
async fn add_label(browser: &mut Browser, name: &str, count: usize) {
    browser.click("#new-label").await;
    browser.type_text(name).await;
    browser.click("#add-label button").await;
    browser
        .wait_for(&format!("document.body.dataset.labels === '{count}'"))
        .await;
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
    // Load an image through the page's own file input.
    let mut browser = open_with_file(chromium, &server, file).await;
    browser
        .wait_for("document.body.dataset.ready === '1' && document.body.dataset.predictions >= '1'")
        .await;

    // Two labels, typed into the form.
    for (i, name) in ["disc", "square"].iter().enumerate() {
        add_label(&mut browser, name, i + 1).await;
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
    // The tab's undo history is its own: the redo is there for the tab's
    // name, not for a client that names none.
    let tab = browser
        .eval("sessionStorage.getItem('scribseg.client')")
        .await;
    let tab = tab.as_str().expect("the tab names itself");
    let path = format!("/api/images/{image_id}/strokes");
    let stored = request(
        server.addr,
        "GET",
        &path,
        &[("X-Scribseg-Client", tab)],
        b"",
    )
    .await
    .json();
    assert_eq!(stored["strokes"].as_array().expect("strokes").len(), 2);
    assert_eq!(stored["history"]["can_redo"], true);
    let shared = request(server.addr, "GET", &path, &[], b"").await.json();
    assert_eq!(shared["history"]["can_redo"], false);

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

/// A 96×80×40 CT phantom (0.8 × 0.8 × 2.5 mm): an oval body of fat and
/// soft tissue with a spine, and a liver-like ellipsoid that changes from
/// slice to slice. Written as `dir/phantom.nii.gz`.
fn phantom(dir: &std::path::Path) -> PathBuf {
    let header = nifti::NiftiHeader {
        pixdim: [1.0, 0.8, 0.8, 2.5, 1.0, 1.0, 1.0, 1.0],
        sform_code: 1,
        srow_x: [-0.8, 0.0, 0.0, 38.0],
        srow_y: [0.0, -0.8, 0.0, 32.0],
        srow_z: [0.0, 0.0, 2.5, -50.0],
        ..nifti::NiftiHeader::default()
    };
    let data = ndarray::Array3::<i16>::from_shape_fn((96, 80, 40), |(x, y, z)| {
        let (x, y, z) = (x as f32, y as f32, z as f32);
        let body = ((x - 48.0) / 42.0).powi(2) + ((y - 40.0) / 30.0).powi(2);
        let liver =
            ((x - 34.0) / 16.0).powi(2) + ((y - 36.0) / 13.0).powi(2) + ((z - 20.0) / 9.0).powi(2);
        let spine = (x - 48.0).powi(2) + (y - 60.0).powi(2);
        let inside = body < 1.0 && (2.0..38.0).contains(&z);
        let texture = ((x * 1.7 + y * 2.3 + z * 3.1).sin() * 8.0) as i16;
        match () {
            _ if !inside => -1000,
            _ if spine < 30.0 => 700,
            _ if liver < 1.0 => 120 + texture,
            _ if body > 0.8 => -100 + texture,
            _ => 40 + texture,
        }
    });
    let path = dir.join("phantom.nii.gz");
    nifti::writer::WriterOptions::new(&path)
        .reference_header(&header)
        .write_nifti(&data)
        .expect("write the phantom");
    path
}

/// A checksum of the canvas pixels, to see that the picture changed.
const CANVAS_SUM: &str = "(() => { const c = scribseg.view.canvas; const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let s = 0; for (let i = 0; i < d.length; i += 4) s = (s * 31 + d[i]) % 1000000007; return s; })()";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_volume_is_browsed_with_wheel_keys_and_axes_and_exported() {
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    let server = Server::start(|_| {}).await;
    let file = phantom(server.dir.path());
    let mut browser = open_with_file(chromium, &server, file).await;
    // It opens on the axial axis, at the middle slice.
    browser
        .wait_for("document.body.dataset.slice === '2/20' && document.body.dataset.ready === '1'")
        .await;
    assert_eq!(
        browser
            .eval("[...document.querySelectorAll('#axes button')].map(b => b.textContent)")
            .await,
        json!(["sagittal", "coronal", "axial"])
    );
    assert_eq!(
        browser
            .eval("document.getElementById('slice-value').textContent")
            .await,
        json!("21 / 40")
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    let before = browser.eval(CANVAS_SUM).await;

    // The wheel moves one slice a notch; the picture changes.
    let (cx, cy) = on_screen(&mut browser, 48.0, 40.0).await;
    browser.wheel(cx, cy, 100.0, 0).await;
    browser
        .wait_for("document.body.dataset.slice === '2/21' && document.body.dataset.ready === '1'")
        .await;
    browser
        .wait_for(&format!("{CANVAS_SUM} !== {before}"))
        .await;
    let scale = browser.eval("scribseg.view.scale").await;
    // Ctrl+wheel zooms instead.
    browser.wheel(cx, cy, -100.0, 2).await;
    browser
        .wait_for(&format!("scribseg.view.scale > {scale}"))
        .await;
    assert_eq!(
        browser.eval("document.body.dataset.slice").await,
        json!("2/21")
    );
    // Arrow keys step too; the zoom stays while moving along one axis.
    let zoomed = browser.eval("scribseg.view.scale").await;
    browser.key("ArrowDown", "ArrowDown", 40, 0).await;
    browser
        .wait_for("document.body.dataset.slice === '2/22' && document.body.dataset.ready === '1'")
        .await;
    assert_eq!(browser.eval("scribseg.view.scale").await, zoomed);

    // The coronal axis: z (2.5 mm) is stretched to its physical size.
    browser.click("#axes button[data-axis='1']").await;
    browser
        .wait_for("document.body.dataset.slice === '1/40' && document.body.dataset.ready === '1'")
        .await;
    assert_eq!(
        browser
            .eval("[scribseg.image.width, scribseg.image.height]")
            .await,
        json!([96, 125])
    );

    // A pin for a new label on the liver; the slider marks the slice.
    add_label(&mut browser, "liver", 1).await;
    browser.key("p", "KeyP", 80, 0).await;
    // A wider brush (sized on screen): about 3 slice pixels at this zoom.
    for _ in 0..4 {
        browser.key("]", "BracketRight", 221, 0).await;
    }
    let pin = line((28.0, 60.0), (40.0, 64.0), 8);
    drag(&mut browser, &pin).await;
    release(&mut browser, pin[8]).await;
    browser
        .wait_for("document.body.dataset.strokes === '1'")
        .await;
    browser
        .wait_for("[...document.querySelectorAll('#slice-marks option')].map(o => o.value).join() === '40'")
        .await;

    // The NIfTI export has the pinned voxels: pixel (34, 62) of coronal slice
    // y 40 is x 34 (not flipped: x runs to the patient's left) and, rows
    // running down from superior, z = 39 - floor(62 / 3.125) = 20.
    let href = browser
        .eval("document.getElementById('export-nifti').getAttribute('href')")
        .await;
    let export = request(server.addr, "GET", href.as_str().expect("a link"), &[], b"").await;
    assert_eq!(export.status, 200);
    let mut raw = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&export.body[..]),
        &mut raw,
    )
    .expect("gzip");
    let object = nifti::InMemNiftiObject::from_reader(&raw[..]).expect("NIfTI");
    let labels = nifti::IntoNdArray::into_ndarray::<u8>(nifti::NiftiObject::into_volume(object))
        .expect("voxels");
    assert_eq!(labels.shape(), [96, 80, 40]);
    assert_eq!(labels[[34, 40, 20]], 1);
    assert!(
        labels.indexed_iter().all(|(at, &v)| v == 0 || at[1] == 40),
        "only slice y 40 is labelled"
    );

    // A picture to look at, with the brush cursor over the liver.
    browser.key("b", "KeyB", 66, 0).await;
    let (cx, cy) = on_screen(&mut browser, 60.0, 75.0).await;
    browser.mouse("mouseMoved", cx, cy).await;
    browser
        .wait_for("document.body.dataset.predictions >= '1'")
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let shot = browser.screenshot().await;
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("scribseg-volume.png");
    std::fs::write(&path, shot).expect("write the screenshot");
    eprintln!("screenshot: {}", path.display());
}

/// Strokes whose saves fail (the request never reaches the server) stay on
/// the canvas, are counted as unsaved, and are saved in drawing order once
/// the server can be reached again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strokes_whose_saves_fail_are_kept_and_saved_in_order_later() {
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    let picture = resize(&shapes(), 96 * SCALE, 72 * SCALE, FilterType::Nearest);
    let (server, (_, _, info), mut browser) = annotating(chromium, picture, (1280, 800)).await;

    // Saves fail as if the network were down; predictions go on.
    browser.call("Network.enable", json!({})).await;
    browser
        .call("Network.setBlockedURLs", json!({"urls": ["*/strokes"]}))
        .await;
    let first = line((70.0, 108.0), (110.0, 108.0), 10);
    let second = line((190.0, 130.0), (230.0, 130.0), 10);
    for (i, stroke) in [&first, &second].into_iter().enumerate() {
        drag(&mut browser, stroke).await;
        release(&mut browser, stroke[10]).await;
        browser
            .wait_for(&format!("document.body.dataset.unsaved === '{}'", i + 1))
            .await;
    }
    assert_eq!(
        browser.eval("scribseg.view.strokes.length").await,
        json!(2),
        "unsaved strokes stay on the canvas"
    );
    let status = browser
        .eval("document.getElementById('status-unsaved').textContent")
        .await;
    assert!(
        status
            .as_str()
            .is_some_and(|s| s.contains("2 strokes not saved")),
        "{status}"
    );
    assert_eq!(
        browser
            .eval("document.getElementById('undo').disabled")
            .await,
        json!(true),
        "undo waits for the saves"
    );

    browser
        .call("Network.setBlockedURLs", json!({"urls": []}))
        .await;
    browser
        .wait_for("document.body.dataset.unsaved === '0' && document.body.dataset.strokes === '2'")
        .await;
    let stored = request(
        server.addr,
        "GET",
        &format!("/api/images/{}/strokes", info["id"]),
        &[],
        b"",
    )
    .await
    .json();
    let starts: Vec<f64> = stored["strokes"]
        .as_array()
        .expect("strokes")
        .iter()
        .map(|s| s["points"][0][0].as_f64().expect("x"))
        .collect();
    assert_eq!(starts.len(), 2, "{stored}");
    assert!(starts[0] < starts[1], "saved out of order: {starts:?}");
}

/// The keyboard shortcuts still work after a slider was dragged or a label
/// was added with Enter (the focus stayed in the input and swallowed them);
/// Fit says the zoom it sets; the page's icon is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shortcuts_work_after_the_sliders_and_the_label_form() {
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    let (server, _, mut browser) = annotating(chromium, shapes(), (1280, 800)).await;

    browser.click("#size").await;
    browser.key("e", "KeyE", 69, 0).await;
    browser.wait_for("scribseg.tool === 'eraser'").await;
    browser.click("#opacity").await;
    browser.key("b", "KeyB", 66, 0).await;
    browser.wait_for("scribseg.tool === 'brush'").await;

    browser.click("#new-label").await;
    browser.type_text("third").await;
    browser.key("Enter", "Enter", 13, 0).await;
    browser
        .wait_for("document.body.dataset.labels === '3'")
        .await;
    browser.key("3", "Digit3", 51, 0).await;
    browser
        .wait_for("scribseg.activeLabel === scribseg.labels[2].id")
        .await;

    let (x, y) = on_screen(&mut browser, 40.0, 30.0).await;
    browser.wheel(x, y, -300.0, 0).await;
    browser.click("#fit").await;
    browser
        .wait_for("document.getElementById('status-zoom').textContent === `${Math.round(scribseg.view.scale * 100)}%`")
        .await;

    // The brush is sized on screen: zoomed in twice as far, a stroke is
    // half as wide in the image.
    let mut radii = Vec::new();
    for (i, zoom) in [0.0, -462.0].into_iter().enumerate() {
        let (x, y) = on_screen(&mut browser, 40.0, 30.0).await;
        browser.wheel(x, y, zoom, 0).await;
        drag(&mut browser, &line((35.0, 30.0), (45.0, 30.0), 5)).await;
        release(&mut browser, (45.0, 30.0)).await;
        browser
            .wait_for(&format!("document.body.dataset.strokes === '{}'", i + 1))
            .await;
        let on_screen = browser
            .eval(&format!(
                "scribseg.strokes[{i}].radius * scribseg.view.scale / scribseg.radius"
            ))
            .await;
        radii.push(on_screen.as_f64().expect("a radius"));
    }
    assert!(
        radii.iter().all(|r| (r - 1.0).abs() < 0.05),
        "the brush's size on screen at both zooms, as a share of the slider's: {radii:?}"
    );

    let icon = browser
        .eval("document.querySelector('link[rel=icon]').href")
        .await;
    let path = icon
        .as_str()
        .expect("an icon link")
        .replace(&format!("http://{}", server.addr), "");
    let served = request(server.addr, "GET", &path, &[], b"").await;
    assert_eq!(served.status, 200, "{path}");
}

/// A label is renamed by double-clicking its name; one eraser drag removes
/// the strokes of the label and kind it touches first, not every stroke
/// under its path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_double_click_renames_and_the_eraser_keeps_to_what_it_touched_first() {
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    // The object's stroke across the middle, two background strokes
    // crossing it and beside it.
    let lines = [
        (0, [[30.0, 90.0], [240.0, 90.0]]),
        (1, [[135.0, 15.0], [135.0, 195.0]]),
        (1, [[255.0, 30.0], [255.0, 180.0]]),
    ];
    let (server, (project, [cat, dog], _), mut browser) =
        annotating_strokes(chromium, &lines).await;

    // Down the first background stroke, over the object's, then across to
    // the second background stroke.
    browser.key("e", "KeyE", 69, 0).await;
    let mut path = line((135.0, 20.0), (135.0, 150.0), 20);
    path.extend(line((135.0, 150.0), (255.0, 150.0), 20));
    drag(&mut browser, &path).await;
    release(&mut browser, (255.0, 150.0)).await;
    browser
        .wait_for("document.body.dataset.strokes === '1'")
        .await;
    assert_eq!(
        browser.eval("scribseg.strokes[0].label_id").await,
        json!(cat),
        "the object's stroke stays"
    );

    let name = format!("[data-label-id='{dog}'] .label-name");
    browser.double_click(&name).await;
    browser
        .wait_for(&format!(
            "document.activeElement === document.querySelector(\"{name} input\")"
        ))
        .await;
    browser.type_text("background").await;
    browser.key("Enter", "Enter", 13, 0).await;
    browser
        .wait_for("scribseg.labels[1].name === 'background'")
        .await;
    let stored = server
        .get(&format!("/api/projects/{project}/labels"))
        .await
        .ok_json();
    assert_eq!(stored[1]["name"], "background", "the new name is stored");
}

/// A hidden label's mask and strokes leave the canvas (its eye button, or V
/// for the selected label); the choice is stored and survives a reload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hidden_label_leaves_the_canvas_and_stays_hidden_after_a_reload() {
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    let lines = [
        (0, [[30.0, 90.0], [240.0, 90.0]]),
        (1, [[255.0, 30.0], [255.0, 180.0]]),
    ];
    let (server, (project, [cat, dog], info), mut browser) =
        annotating_strokes(chromium, &lines).await;
    let pixels = "Number(document.body.dataset.overlayPixels)";
    let both = browser.eval(pixels).await.as_f64().expect("a count");
    assert!(both > 0.0, "both masks are drawn");

    browser
        .click(&format!("[data-label-id='{cat}'] .eye"))
        .await;
    browser
        .wait_for(&format!(
            "{pixels} > 0 && {pixels} < {both} && scribseg.view.strokes.length === 1"
        ))
        .await;
    assert_eq!(
        browser.eval("scribseg.view.strokes[0].label_id").await,
        json!(dog),
        "the other label's stroke is still drawn"
    );
    // The selected label by its key: 2 picks the dog, V hides it.
    browser.key("2", "Digit2", 50, 0).await;
    browser.key("v", "KeyV", 86, 0).await;
    browser
        .wait_for(&format!(
            "{pixels} === 0 && scribseg.view.strokes.length === 0"
        ))
        .await;
    let stored = server
        .get(&format!("/api/projects/{project}/labels"))
        .await
        .ok_json();
    assert_eq!(
        (stored[0]["hidden"].clone(), stored[1]["hidden"].clone()),
        (json!(true), json!(true)),
        "stored: {stored}"
    );

    browser.call("Page.reload", json!({})).await;
    browser
        .wait_for("document.body.dataset.strokes === '2' && Number(document.body.dataset.predictions) > 0")
        .await;
    browser
        .wait_for(&format!(
            "{pixels} === 0 && scribseg.view.strokes.length === 0"
        ))
        .await;
    // Hidden is a view: both labels are still predicted and exported.
    let map = server
        .get(&format!("/api/images/{}/export/labelmap.png", info["id"]))
        .await;
    let (_, _, map) = decode_gray(&map.body);
    let values: std::collections::BTreeSet<u8> = map.into_iter().collect();
    assert!(
        values.contains(&1) && values.contains(&2),
        "both labels in the export: {values:?}"
    );
}

/// At 1024 × 768 the whole toolbar, Export and the help button included,
/// is on screen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_toolbar_fits_a_1024_pixel_window() {
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    let server = Server::start(|_| {}).await;
    let mut browser = Browser::launch(chromium, 1024, 768).await;
    browser.goto(&format!("http://{}/", server.addr)).await;
    browser
        .wait_for("document.body.dataset.started === '1'")
        .await;
    let outside = browser
        .eval(
            "[...document.querySelectorAll('.toolbar button, .toolbar input')]\
             .filter(b => b.getBoundingClientRect().right > window.innerWidth)\
             .map(b => b.id || b.textContent)",
        )
        .await;
    assert_eq!(outside, json!([]), "off screen");
    assert_eq!(browser.eval("window.innerWidth").await, json!(1024));
}

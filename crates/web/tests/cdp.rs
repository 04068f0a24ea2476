//! A small Chrome DevTools Protocol client: launches headless Chromium,
//! opens one page, and sends commands to it over a WebSocket.
//!
//! chromiumoxide generates bindings for the whole protocol and fantoccini
//! needs chromedriver running beside the browser; the handful of commands
//! these tests use fit in this file, over the tokio-tungstenite the server
//! already brings.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Where Chromium is: `$SCRIBSEG_CHROMIUM`, else the first of the usual names on `PATH`.
pub fn find_chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("SCRIBSEG_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let names = ["chromium", "chromium-browser", "google-chrome", "chrome"];
    std::env::split_paths(&std::env::var_os("PATH")?)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// A headless browser with one page attached.
pub struct Browser {
    child: Child,
    _profile: TempDir,
    socket: Socket,
    next_id: u64,
    session: String,
}

impl Browser {
    /// Starts Chromium with a fresh profile and a `width × height` page.
    pub async fn launch(executable: PathBuf, width: u32, height: u32) -> Browser {
        let profile = tempfile::tempdir().expect("profile dir");
        let child = Command::new(&executable)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--remote-debugging-port=0",
                &format!("--window-size={width},{height}"),
                &format!("--user-data-dir={}", profile.path().display()),
                "about:blank",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", executable.display()));
        // Chromium writes its port and browser endpoint to DevToolsActivePort.
        let port_file = profile.path().join("DevToolsActivePort");
        // Generous: two browsers starting at once on a loaded 2-core machine
        // took over 30 s once.
        let deadline = Instant::now() + Duration::from_secs(90);
        let endpoint = loop {
            if let Ok(text) = std::fs::read_to_string(&port_file) {
                let mut lines = text.lines();
                if let (Some(port), Some(path)) = (lines.next(), lines.next()) {
                    break format!("ws://127.0.0.1:{port}{path}");
                }
            }
            assert!(
                Instant::now() < deadline,
                "Chromium did not open its DevTools port"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let (socket, _) = tokio_tungstenite::connect_async(&endpoint)
            .await
            .expect("DevTools connection");
        let mut browser = Browser {
            child,
            _profile: profile,
            socket,
            next_id: 0,
            session: String::new(),
        };
        let target = browser
            .send(None, "Target.createTarget", json!({"url": "about:blank"}))
            .await
            .expect("Target.createTarget");
        let target_id = target["targetId"]
            .as_str()
            .expect("a target id")
            .to_string();
        let attached = browser
            .send(
                None,
                "Target.attachToTarget",
                json!({"targetId": target_id, "flatten": true}),
            )
            .await
            .expect("Target.attachToTarget");
        browser.session = attached["sessionId"]
            .as_str()
            .expect("a session")
            .to_string();
        browser
            .call(
                "Emulation.setDeviceMetricsOverride",
                json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}),
            )
            .await;
        browser
    }

    /// Sends a command and waits for its answer: its result, or the error
    /// DevTools gave.
    async fn send(
        &mut self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, Value> {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .expect("send to DevTools");
        loop {
            let reply = tokio::time::timeout(Duration::from_secs(30), self.socket.next())
                .await
                .unwrap_or_else(|_| panic!("{method}: no answer in 30 s"))
                .expect("DevTools open")
                .expect("DevTools message");
            let Message::Text(text) = reply else { continue };
            let value: Value = serde_json::from_str(&text).expect("DevTools JSON");
            if value["id"] == id {
                return match value.get("error") {
                    Some(error) => Err(error.clone()),
                    None => Ok(value["result"].clone()),
                };
            }
        }
    }

    /// Sends a command to the page.
    pub async fn call(&mut self, method: &str, params: Value) -> Value {
        let session = self.session.clone();
        self.send(Some(&session), method, params)
            .await
            .unwrap_or_else(|error| panic!("{method}: {error}"))
    }

    /// Evaluates a JavaScript expression in the page and returns its value.
    pub async fn eval(&mut self, expression: &str) -> Value {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
            )
            .await;
        assert!(
            result.get("exceptionDetails").is_none(),
            "{expression}: {}",
            result["exceptionDetails"]
        );
        result["result"]["value"].clone()
    }

    /// Waits until `expression` is true in the page (an expression that
    /// throws, as on a page still loading, or a page between two documents
    /// counts as false).
    pub async fn wait_for(&mut self, expression: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let guarded =
            format!("(() => {{ try {{ return ({expression}); }} catch {{ return false; }} }})()");
        let session = self.session.clone();
        loop {
            let params = json!({"expression": guarded, "returnByValue": true});
            let answer = self.send(Some(&session), "Runtime.evaluate", params).await;
            // An error is a page between documents (a reload under way):
            // not true yet.
            if answer.is_ok_and(|result| result["result"]["value"] == json!(true)) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {expression}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Navigates to `url`.
    pub async fn goto(&mut self, url: &str) {
        self.call("Page.navigate", json!({"url": url})).await;
    }

    /// A mouse event at viewport point (x, y) with the left button.
    pub async fn mouse(&mut self, kind: &str, x: f64, y: f64) {
        self.mouse_with(kind, x, y, 0).await;
    }

    /// [`Self::mouse`] with keys held: `modifiers` is CDP's bit set (8 Shift).
    pub async fn mouse_with(&mut self, kind: &str, x: f64, y: f64, modifiers: u32) {
        self.mouse_button(kind, x, y, "left", modifiers).await;
    }

    /// A mouse event of `button` (`"left"`, `"right"`), held from press to
    /// release, with `modifiers` held.
    pub async fn mouse_button(&mut self, kind: &str, x: f64, y: f64, button: &str, modifiers: u32) {
        let held = if button == "right" { 2 } else { 1 };
        let (button, buttons) = match kind {
            "mousePressed" => (button, held),
            "mouseReleased" => (button, 0),
            _ => ("none", held),
        };
        self.call(
            "Input.dispatchMouseEvent",
            json!({"type": kind, "x": x, "y": y, "button": button, "buttons": buttons,
                   "clickCount": 1, "modifiers": modifiers}),
        )
        .await;
    }

    /// A mouse wheel turn at viewport point (x, y); `delta_y` > 0 scrolls
    /// down, `modifiers` is CDP's bit set (2 Ctrl).
    pub async fn wheel(&mut self, x: f64, y: f64, delta_y: f64, modifiers: u32) {
        self.call(
            "Input.dispatchMouseEvent",
            json!({"type": "mouseWheel", "x": x, "y": y, "deltaX": 0, "deltaY": delta_y, "modifiers": modifiers}),
        )
        .await;
    }

    /// A click on the centre of the element matching `selector`.
    pub async fn click(&mut self, selector: &str) {
        self.clicks(selector, 1).await;
    }

    /// A double click on the centre of the element matching `selector`: two
    /// presses and releases, the second with a click count of 2.
    pub async fn double_click(&mut self, selector: &str) {
        self.clicks(selector, 2).await;
    }

    async fn clicks(&mut self, selector: &str, count: u32) {
        let at = self
            .eval(&format!(
                "(() => {{ const r = document.querySelector({selector:?}).getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }})()"
            ))
            .await;
        let (x, y) = (at[0].as_f64().expect("x"), at[1].as_f64().expect("y"));
        self.call(
            "Input.dispatchMouseEvent",
            json!({"type": "mouseMoved", "x": x, "y": y}),
        )
        .await;
        for click in 1..=count {
            for (kind, buttons) in [("mousePressed", 1), ("mouseReleased", 0)] {
                self.call(
                    "Input.dispatchMouseEvent",
                    json!({"type": kind, "x": x, "y": y, "button": "left", "buttons": buttons, "clickCount": click}),
                )
                .await;
            }
        }
    }

    /// Types text into the focused element.
    pub async fn type_text(&mut self, text: &str) {
        self.call("Input.insertText", json!({"text": text})).await;
    }

    /// Presses and releases a key; `modifiers` is CDP's bit set (2 Ctrl, 8 Shift).
    pub async fn key(&mut self, key: &str, code: &str, key_code: u32, modifiers: u32) {
        let text = match key {
            _ if modifiers != 0 => "",
            // Enter types a carriage return, which submits a form.
            "Enter" => "\r",
            _ if key.chars().count() == 1 => key,
            _ => "",
        };
        for kind in ["keyDown", "keyUp"] {
            self.call(
                "Input.dispatchKeyEvent",
                json!({"type": kind, "key": key, "code": code, "windowsVirtualKeyCode": key_code,
                       "modifiers": modifiers, "text": if kind == "keyDown" { text } else { "" }}),
            )
            .await;
        }
    }

    /// Sets the files of an `<input type=file>`, which fires its change event.
    pub async fn set_files(&mut self, selector: &str, files: &[PathBuf]) {
        let document = self.call("DOM.getDocument", json!({})).await;
        let root = document["root"]["nodeId"].clone();
        let node = self
            .call(
                "DOM.querySelector",
                json!({"nodeId": root, "selector": selector}),
            )
            .await;
        self.call(
            "DOM.setFileInputFiles",
            json!({"nodeId": node["nodeId"], "files": files}),
        )
        .await;
    }

    /// A PNG of the page as it is now.
    pub async fn screenshot(&mut self) -> Vec<u8> {
        use base64::Engine;
        let shot = self
            .call("Page.captureScreenshot", json!({"format": "png"}))
            .await;
        base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("image data"))
            .expect("base64")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

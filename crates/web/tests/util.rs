//! A server on a loopback port over a temporary SQLite file, a minimal
//! HTTP/1.1 client, and test images.

use std::io::Cursor;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use burn::tensor::Device;
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use scribseg_model::{Segmenter, SegmenterConfig, UNetConfig};
use scribseg_web::{router, AppState, Model, Store};
use serde_json::Value;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One network with random weights for every test: the tests check the
/// plumbing, not the accuracy.
pub fn model() -> Arc<Model> {
    static MODEL: OnceLock<Arc<Model>> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            let device = Device::flex();
            let net = UNetConfig::new().init(&device);
            Arc::new(Model::new(
                Segmenter::new(net, device, SegmenterConfig::default()),
                "random (tests)",
            ))
        })
        .clone()
}

/// A running server and the folder holding its database.
pub struct Server {
    pub addr: SocketAddr,
    pub dir: TempDir,
}

/// The test servers' header-read timeout: short, so a test can outwait it.
pub const HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(500);

impl Server {
    /// Starts a server over `dir/test.db`; `configure` may set a token, a folder or limits.
    pub async fn start_in(dir: TempDir, configure: impl FnOnce(&mut AppState)) -> Server {
        let store = Store::open(&dir.path().join("test.db")).expect("open the database");
        let mut state = AppState::new(store, model());
        configure(&mut state);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        tokio::spawn(scribseg_web::run(listener, router(state), HEADER_TIMEOUT));
        Server { addr, dir }
    }

    /// Starts a server over a fresh database.
    pub async fn start(configure: impl FnOnce(&mut AppState)) -> Server {
        Self::start_in(tempfile::tempdir().expect("temp dir"), configure).await
    }

    pub async fn get(&self, path: &str) -> Response {
        request(self.addr, "GET", path, &[], b"").await
    }

    pub async fn post_json(&self, path: &str, body: Value) -> Response {
        let body = body.to_string();
        request(
            self.addr,
            "POST",
            path,
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        )
        .await
    }

    /// Sends a request as the page does: a write carries `X-Scribseg`.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        let mut all = headers.to_vec();
        if method != "GET" {
            all.push((scribseg_web::WRITE_HEADER, "1"));
        }
        request(self.addr, method, path, &all, body).await
    }

    /// Creates a project with two labels and one uploaded image; returns (project, [label ids], image).
    pub async fn project_with_image(&self, image: &[u8]) -> (i64, [i64; 2], Value) {
        let project = self
            .post_json("/api/projects", serde_json::json!({"name": "p"}))
            .await
            .ok_json();
        let pid = project["id"].as_i64().expect("project id");
        let a = self
            .post_json(
                &format!("/api/projects/{pid}/labels"),
                serde_json::json!({"name": "cat"}),
            )
            .await;
        let b = self
            .post_json(
                &format!("/api/projects/{pid}/labels"),
                serde_json::json!({"name": "dog"}),
            )
            .await;
        let labels = [
            a.ok_json()["id"].as_i64().expect("id"),
            b.ok_json()["id"].as_i64().expect("id"),
        ];
        let info = self
            .send(
                "POST",
                &format!("/api/projects/{pid}/images?name=shapes.png"),
                &[],
                image,
            )
            .await
            .ok_json();
        (pid, labels, info)
    }
}

/// An HTTP response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The JSON body of a 200 response.
    pub fn ok_json(&self) -> Value {
        assert_eq!(self.status, 200, "{}", String::from_utf8_lossy(&self.body));
        self.json()
    }

    /// Asserts a JSON error with `status` and returns its message.
    pub fn error(&self, status: u16) -> String {
        assert_eq!(
            self.status,
            status,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        let json = self.json();
        assert_eq!(json["status"], status);
        json["error"]
            .as_str()
            .expect("an error message")
            .to_string()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one request over a new connection and reads the whole answer.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    // `Host` is the server's address unless the caller names another.
    let is_host = |name: &str| name.eq_ignore_ascii_case("host");
    let host = headers
        .iter()
        .find(|(name, _)| is_host(name))
        .map_or_else(|| addr.to_string(), |(_, value)| value.to_string());
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers.iter().filter(|(name, _)| !is_host(name)) {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("write");
    // A server may answer (413) before reading a large body.
    let _ = stream.write_all(body).await;
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> Response {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Response {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = data.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&data[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&data[eol + 2..eol + 2 + size]);
        data = &data[eol + 4 + size..];
    }
    out
}

/// A 96×72 picture: an amber disc and a blue square on a grey gradient.
pub fn shapes() -> RgbImage {
    RgbImage::from_fn(96, 72, |x, y| {
        let (dx, dy) = (x as f32 - 30.0, y as f32 - 36.0);
        if dx * dx + dy * dy < 400.0 {
            Rgb([235, 180, 50])
        } else if (58..84).contains(&x) && (20..46).contains(&y) {
            Rgb([40, 60, 210])
        } else {
            let g = (80 + x / 2 + y / 3) as u8;
            Rgb([g, g, g])
        }
    })
}

/// Encodes an image as PNG.
pub fn png(image: DynamicImage) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image
        .write_to(&mut out, ImageFormat::Png)
        .expect("encode png");
    out.into_inner()
}

/// Decodes a grey PNG into (width, height, values).
pub fn decode_gray(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let image = image::load_from_memory(bytes).expect("a PNG").to_luma8();
    (image.width(), image.height(), image.into_raw())
}

/// Writes `bytes` to `dir/name`.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).expect("write the file");
}

/// Voxels of [`cube_volume`] along x, y and z.
pub const CUBE_DIMS: [usize; 3] = [24, 20, 16];

/// Whether voxel (x, y, z) is inside the cube of [`cube_volume`].
pub fn in_cube(x: usize, y: usize, z: usize) -> bool {
    (8..16).contains(&x) && (6..14).contains(&y) && (4..12).contains(&z)
}

/// A 24×20×16 CT (int16, −1000 HU air, a 60 HU cube; 1 × 1 × 2 mm voxels,
/// both axes of the slice flipped in x and y like a DICOM-derived file),
/// written with the `nifti` crate as `dir/name` (`.nii` or `.nii.gz`).
/// Returns the file's bytes.
pub fn cube_volume(dir: &Path, name: &str) -> Vec<u8> {
    let mut header = nifti::NiftiHeader {
        pixdim: [1.0, 1.0, 1.0, 2.0, 1.0, 1.0, 1.0, 1.0],
        sform_code: 1,
        srow_x: [-1.0, 0.0, 0.0, 10.0],
        srow_y: [0.0, -1.0, 0.0, 20.0],
        srow_z: [0.0, 0.0, 2.0, -30.0],
        ..nifti::NiftiHeader::default()
    };
    header.xyzt_units = 2;
    let [nx, ny, nz] = CUBE_DIMS;
    let data = ndarray::Array3::<i16>::from_shape_fn((nx, ny, nz), |(x, y, z)| {
        if in_cube(x, y, z) {
            60
        } else {
            -1000
        }
    });
    let path = dir.join(name);
    nifti::writer::WriterOptions::new(&path)
        .reference_header(&header)
        .write_nifti(&data)
        .expect("write the volume");
    std::fs::read(&path).expect("read the volume back")
}

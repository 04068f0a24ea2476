//! `scribseg serve` as it runs on a user's machine: a real process over a
//! real SQLite file, killed with SIGKILL while strokes are being saved, and
//! fed hostile files while its peak memory is read from `/proc`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use flate2::write::{GzEncoder, ZlibEncoder};
use flate2::Compression;
use serde_json::{json, Value};

/// The most a single hostile input may raise the server's peak memory to.
const SINGLE_PEAK: u64 = 1 << 30;
/// The same under four hostile uploads at once.
const CONCURRENT_PEAK: u64 = 2 << 30;

/// A running `scribseg serve` on the committed weights; killed when dropped.
struct Served {
    child: Child,
    addr: SocketAddr,
}

impl Served {
    /// Starts the server over `db` on a free port, once it listens.
    fn start(db: &Path) -> Served {
        Served::start_with(db, &[])
    }

    /// As [`Served::start`], with more flags of `scribseg serve`.
    fn start_with(db: &Path, flags: &[&str]) -> Served {
        let mut child = Command::new(env!("CARGO_BIN_EXE_scribseg"))
            .args(["serve", "--port", "0", "--db"])
            .arg(db)
            .args(flags)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("scribseg serve starts");
        let mut lines = BufReader::new(child.stderr.take().expect("piped")).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("serve says where it listens before it exits")
                .expect("text");
            if let Some(rest) = line.split("open http://").nth(1) {
                let host_port = rest.split([' ', '/']).next().expect("an address");
                break host_port.parse().expect("host:port");
            }
        };
        // The server's later messages go nowhere, so it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Served { child, addr }
    }

    /// Sends a request (with the header that marks a write as the page's)
    /// and returns the status and body; `Err` when the connection failed.
    fn call(&self, method: &str, path: &str, body: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
        call(self.addr, method, path, body)
    }

    /// As [`Served::call`], for a request that must be answered: the JSON of
    /// a success, or a panic naming what came back.
    fn ok(&self, method: &str, path: &str, body: &[u8]) -> Value {
        let (status, body) = self.call(method, path, body).expect("answered");
        let text = String::from_utf8_lossy(&body);
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {text}"
        );
        serde_json::from_slice(&body).unwrap_or(Value::Null)
    }

    /// The server's peak resident memory since the last [`Served::reset_peak`], in bytes.
    fn peak(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the server's /proc status");
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in kB");
        kib << 10
    }

    /// Starts a new peak-memory measurement (Linux's `clear_refs`).
    fn reset_peak(&self) {
        std::fs::write(format!("/proc/{}/clear_refs", self.child.id()), "5")
            .expect("reset the peak RSS");
    }

    /// SIGKILL: no shutdown, no flush.
    fn kill(mut self) {
        self.child.kill().expect("kill -9");
        self.child.wait().expect("reaped");
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request over its own connection.
fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &[u8],
) -> std::io::Result<(u16, Vec<u8>)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(120)))?;
    let content_type = if body.first() == Some(&b'{') {
        "application/json"
    } else {
        "application/octet-stream"
    };
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nX-Scribseg: 1\r\n\
         Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    // The server may answer (a refusal) before it has read the whole body.
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no complete answer"))?;
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    let mut body = raw[split + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    Ok((status, body))
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&data[..end])
            .ok()
            .and_then(|s| usize::from_str_radix(s.trim(), 16).ok())
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&data[end + 2..end + 2 + size]);
        data = &data[end + 4 + size..];
    }
    out
}

/// A project with one label and one 64×48 image: (project, label, image) ids.
fn project(served: &Served) -> (i64, i64, i64) {
    let project = served.ok("POST", "/api/projects", br#"{"name": "p"}"#)["id"].clone();
    let label = served.ok(
        "POST",
        &format!("/api/projects/{project}/labels"),
        br#"{"name": "cell"}"#,
    )["id"]
        .as_i64()
        .expect("label id");
    let image = served.ok(
        "POST",
        &format!("/api/projects/{project}/images?name=a.png"),
        &png_rgb8(64, 48),
    )["id"]
        .as_i64()
        .expect("image id");
    (project.as_i64().expect("project id"), label, image)
}

fn png_rgb8(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 90]));
    let mut out = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

#[test]
fn every_stroke_acknowledged_before_a_kill_9_is_there_after_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("work.db");
    let (_, label, image) = project(&Served::start(&db));
    let mut acknowledged: Vec<(i64, Value)> = Vec::new();
    for cycle in 0..10u64 {
        let served = Served::start(&db);
        let addr = served.addr;
        let writer = std::thread::spawn(move || {
            let mut acks = Vec::new();
            for i in 0.. {
                let points = json!([[cycle as f32, i as f32], [40.0, (i % 48) as f32]]);
                let body =
                    json!({"label_id": label, "kind": "positive", "radius": 3.0, "points": points});
                let path = format!("/api/images/{image}/strokes");
                match call(addr, "POST", &path, body.to_string().as_bytes()) {
                    Ok((200, answer)) => {
                        let answer: Value = serde_json::from_slice(&answer).expect("JSON");
                        let id = answer["stroke"]["id"].as_i64().expect("stroke id");
                        acks.push((id, points));
                    }
                    _ => return acks,
                }
            }
            acks
        });
        std::thread::sleep(Duration::from_millis(300 + 70 * cycle));
        served.kill();
        let acks = writer.join().expect("the writer");
        assert!(!acks.is_empty(), "cycle {cycle}: no stroke was saved");
        acknowledged.extend(acks);
    }
    let served = Served::start(&db);
    let stored = served.ok("GET", &format!("/api/images/{image}/strokes"), b"");
    let stored: Vec<(i64, Value)> = stored["strokes"]
        .as_array()
        .expect("strokes")
        .iter()
        .map(|s| (s["id"].as_i64().expect("id"), s["points"].clone()))
        .collect();
    let missing: Vec<_> = acknowledged
        .iter()
        .filter(|ack| !stored.contains(ack))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged strokes lost or changed: {:?}",
        missing.len(),
        acknowledged.len(),
        &missing[..missing.len().min(3)]
    );
}

/// A NIfTI-1 header (352 bytes with the extension flag) for `dims` voxels
/// of `datatype`, `bitpix` bits each.
fn nifti_header(dims: [i16; 3], datatype: i16, bitpix: i16) -> Vec<u8> {
    let mut b = vec![0u8; 352];
    b[..4].copy_from_slice(&348i32.to_le_bytes());
    for (i, d) in [3, dims[0], dims[1], dims[2], 1, 1, 1, 1]
        .iter()
        .enumerate()
    {
        b[40 + 2 * i..42 + 2 * i].copy_from_slice(&d.to_le_bytes());
    }
    b[70..72].copy_from_slice(&datatype.to_le_bytes());
    b[72..74].copy_from_slice(&bitpix.to_le_bytes());
    for i in 0..8 {
        b[76 + 4 * i..80 + 4 * i].copy_from_slice(&1f32.to_le_bytes());
    }
    b[108..112].copy_from_slice(&352f32.to_le_bytes());
    b[344..348].copy_from_slice(b"n+1\0");
    b
}

/// `head` followed by `zeros` zero bytes, gzipped as it is written.
fn gzip_with_zeros(head: &[u8], zeros: usize) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(head).expect("gzip");
    let block = vec![0u8; 1 << 20];
    for _ in 0..zeros >> 20 {
        gz.write_all(&block).expect("gzip");
    }
    gz.finish().expect("gzip")
}

/// A PNG chunk: length, type, data, CRC.
fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc.sum().to_be_bytes());
}

/// A black 16-bit RGB PNG of `width` × `height` written row by row: a few
/// hundred kilobytes that decode to 6 bytes a pixel.
fn png_rgb16_black(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[16, 2, 0, 0, 0]);
    let mut zlib = ZlibEncoder::new(Vec::new(), Compression::fast());
    let row = vec![0u8; 1 + 6 * width as usize];
    for _ in 0..height {
        zlib.write_all(&row).expect("zlib");
    }
    let idat = zlib.finish().expect("zlib");
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &idat);
    chunk(&mut out, b"IEND", &[]);
    out
}

#[test]
fn hostile_inputs_get_clear_errors_within_a_bounded_peak_memory_and_lose_no_work() {
    let dir = tempfile::tempdir().expect("temp dir");
    let served = Served::start(&dir.path().join("work.db"));
    let (project, label, image) = project(&served);
    let stroke = json!({"label_id": label, "kind": "positive", "radius": 3.0, "points": [[10.0, 10.0], [30.0, 20.0]]});
    let strokes = format!("/api/images/{image}/strokes");
    served.ok("POST", &strokes, stroke.to_string().as_bytes());

    let jpeg = {
        let mut out = std::io::Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(256, 256, |x, y| {
            image::Rgb([(x ^ y) as u8, (x * y) as u8, y as u8])
        }))
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .expect("jpeg");
        let mut bytes = out.into_inner();
        bytes.truncate(bytes.len() * 3 / 4);
        bytes
    };
    let mut nan_slope = nifti_header([4, 4, 4], 2, 8);
    nan_slope[112..116].copy_from_slice(&f32::NAN.to_le_bytes());
    nan_slope.extend_from_slice(&[7; 64]);
    let mut huge_png_header = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = 100_000u32.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut huge_png_header, b"IHDR", &ihdr);
    chunk(&mut huge_png_header, b"IDAT", &[0x78, 0x01, 0x03, 0x00]);
    chunk(&mut huge_png_header, b"IEND", &[]);
    let far_point =
        json!({"label_id": label, "kind": "positive", "radius": 3.0, "points": [[1e30, 5.0]]});
    let many_points: Vec<[f32; 2]> = (0..200_000).map(|i| [(i % 60) as f32, 5.0]).collect();
    let many_points =
        json!({"label_id": label, "kind": "positive", "radius": 3.0, "points": many_points});

    let images = format!("/api/projects/{project}/images?name=");
    let volumes = format!("/api/projects/{project}/volumes?name=");
    let cases: Vec<(String, Vec<u8>, &str)> = vec![
        (format!("{images}cut.jpg"), jpeg, "truncated"),
        (
            format!("{images}noise.png"),
            vec![0x5a; 4096],
            "not a readable image",
        ),
        (
            format!("{images}huge.png"),
            huge_png_header,
            "over the limit",
        ),
        (
            format!("{volumes}declared.nii.gz"),
            gzip_with_zeros(&nifti_header([512, 512, 1024], 64, 64), 8 << 20),
            "over the limit",
        ),
        (format!("{volumes}nan.nii"), nan_slope, "not a number"),
        (
            format!("{volumes}short.nii"),
            nifti_header([64, 64, 64], 2, 8),
            "truncated",
        ),
        (
            strokes.clone(),
            far_point.to_string().into_bytes(),
            "far outside",
        ),
        (
            strokes.clone(),
            many_points.to_string().into_bytes(),
            "points",
        ),
        (format!("{images}big.png"), vec![0; 80 << 20], "limit"),
    ];
    for (path, body, says) in &cases {
        served.reset_peak();
        let (status, answer) = served.call("POST", path, body).expect("answered");
        let answer = String::from_utf8_lossy(&answer);
        assert!((400..500).contains(&status), "{path}: {status} {answer}");
        assert!(
            answer.contains(says),
            "{path}: {answer:?} does not say {says:?}"
        );
        let peak = served.peak();
        eprintln!("{path}: {status}, peak RSS {} MiB", peak >> 20);
        assert!(peak <= SINGLE_PEAK, "{path}: peak RSS {} MiB", peak >> 20);
    }

    // Memory bombs that are valid files: accepted, within the bound.
    let bombs: Vec<(String, Vec<u8>)> = vec![
        (format!("{images}wide16.png"), png_rgb16_black(7000, 7000)),
        (
            format!("{volumes}padded.nii.gz"),
            gzip_with_zeros(&nifti_header([64, 64, 64], 2, 8), 256 << 20),
        ),
    ];
    for (path, body) in &bombs {
        served.reset_peak();
        served.ok("POST", path, body);
        let peak = served.peak();
        eprintln!("{path}: accepted, peak RSS {} MiB", peak >> 20);
        assert!(peak <= SINGLE_PEAK, "{path}: peak RSS {} MiB", peak >> 20);
    }
    served.reset_peak();
    let addr = served.addr;
    let uploads: Vec<_> = (0..4)
        .map(|i| {
            let body = bombs[0].1.clone();
            let path = format!("{images}wide16-{i}.png");
            std::thread::spawn(move || call(addr, "POST", &path, &body))
        })
        .collect();
    for upload in uploads {
        let (status, _) = upload.join().expect("uploader").expect("answered");
        assert_eq!(status, 200);
    }
    let peak = served.peak();
    eprintln!(
        "four 7000×7000 16-bit uploads at once: peak RSS {} MiB",
        peak >> 20
    );
    assert!(
        peak <= CONCURRENT_PEAK,
        "four uploads at once: peak RSS {} MiB",
        peak >> 20
    );

    let kept = served.ok("GET", &strokes, b"");
    assert_eq!(
        kept["strokes"][0]["points"], stroke["points"],
        "the saved stroke"
    );
}

/// `--labels` gives the project its label list at start; a later start keeps
/// the labels there (with their strokes) and appends the new names.
#[test]
fn a_label_list_given_at_start_is_there_and_kept_across_restarts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("labels.db");
    let names = |served: &Served| -> Vec<String> {
        let project = served.ok("GET", "/api/projects", b"")[0]["id"].clone();
        served
            .ok("GET", &format!("/api/projects/{project}/labels"), b"")
            .as_array()
            .expect("a list")
            .iter()
            .map(|label| label["name"].as_str().expect("a name").to_string())
            .collect()
    };
    let served = Served::start_with(&db, &["--labels", "liver, spleen,"]);
    assert_eq!(names(&served), ["liver", "spleen"]);
    served.kill();
    let served = Served::start_with(&db, &["--labels", "spleen,kidney"]);
    assert_eq!(names(&served), ["liver", "spleen", "kidney"]);
}

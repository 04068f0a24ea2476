//! The commands that run the network — `scribseg segment` and `scribseg
//! bench` — driven as a user would, on a checkpoint the test writes (random
//! weights: the tests check files, sizes, keys and errors, not quality).

use std::path::Path;

use image::{GrayImage, Luma, Rgb, RgbImage};

use crate::util::{path_str as s, random_checkpoint, scribseg, stderr};

/// A photo, a stroke image with labels 1 and 2, and a checkpoint.
fn fixture(dir: &Path) {
    RgbImage::from_fn(120, 80, |x, y| Rgb([(x * 2) as u8, (y * 3) as u8, 90]))
        .save(dir.join("photo.png"))
        .expect("photo");
    GrayImage::from_fn(120, 80, |x, y| {
        Luma([match (x, y) {
            (20..=40, 30) => 1,
            (80..=100, 50) => 2,
            _ => 0,
        }])
    })
    .save(dir.join("strokes.png"))
    .expect("strokes");
    random_checkpoint(&dir.join("weights"), 1);
}

#[test]
fn writes_a_label_map_and_probability_maps_of_the_image_size() {
    let dir = tempfile::tempdir().expect("tempdir");
    fixture(dir.path());
    let (out, probs) = (dir.path().join("labels.png"), dir.path().join("probs"));
    let res = scribseg(&[
        "segment",
        "--image",
        s(&dir.path().join("photo.png")),
        "--strokes",
        s(&dir.path().join("strokes.png")),
        "--weights",
        s(&dir.path().join("weights")),
        "--out",
        s(&out),
        "--probs",
        s(&probs),
    ]);
    assert!(res.status.success(), "{}", stderr(&res));
    let labels = image::open(&out).expect("label map").to_luma8();
    assert_eq!(labels.dimensions(), (120, 80));
    assert!(labels.pixels().all(|p| p.0[0] <= 2));
    for k in [1, 2] {
        let p = image::open(probs.join(format!("label_{k}.png"))).expect("probabilities");
        assert_eq!((p.width(), p.height()), (120, 80));
    }
}

#[test]
fn bad_stroke_images_are_named_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    fixture(dir.path());
    let run = |strokes: &Path| {
        scribseg(&[
            "segment",
            "--image",
            s(&dir.path().join("photo.png")),
            "--strokes",
            s(strokes),
            "--weights",
            s(&dir.path().join("weights")),
            "--out",
            s(&dir.path().join("labels.png")),
        ])
    };
    let small = dir.path().join("small.png");
    GrayImage::new(60, 40).save(&small).expect("write");
    let res = run(&small);
    assert!(!res.status.success());
    assert!(stderr(&res).contains("60×40"), "{}", stderr(&res));

    let empty = dir.path().join("empty.png");
    GrayImage::new(120, 80).save(&empty).expect("write");
    let res = run(&empty);
    assert!(!res.status.success());
    assert!(stderr(&res).contains("no stroke"), "{}", stderr(&res));

    let rgb = dir.path().join("rgb.png");
    RgbImage::new(120, 80).save(&rgb).expect("write");
    let res = run(&rgb);
    assert!(!res.status.success());
    assert!(stderr(&res).contains("8-bit grey"), "{}", stderr(&res));

    let corrupt = dir.path().join("corrupt.png");
    std::fs::write(&corrupt, b"\x89PNG\r\n\x1a\nnot really").expect("write");
    let res = run(&corrupt);
    assert!(!res.status.success());
    assert!(stderr(&res).contains("corrupt.png"), "{}", stderr(&res));

    let res = run(&dir.path().join("missing.png"));
    assert!(!res.status.success());
    assert!(stderr(&res).contains("missing.png"), "{}", stderr(&res));
    assert!(
        !dir.path().join("labels.png").exists(),
        "no output on error"
    );
}

#[test]
fn bench_prints_the_documented_json_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    random_checkpoint(&dir.path().join("weights"), 5);
    let res = scribseg(&[
        "bench",
        "--json",
        "--runs",
        "1",
        "--weights",
        s(&dir.path().join("weights")),
    ]);
    assert!(res.status.success(), "{}", stderr(&res));
    let text = String::from_utf8_lossy(&res.stdout);
    for key in [
        "forward_batch1_ms_median",
        "forward_batch4_ms_median",
        "segmenter_ms_median",
        "segmenter_one_label_changed_ms_median",
        "segmenter_one_label_changed_no_flip_ms_median",
        "simulate_128_per_s",
    ] {
        assert!(
            text.contains(&format!("\"{key}\": ")),
            "{key} missing: {text}"
        );
    }
}

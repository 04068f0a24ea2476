//! The `scribseg` binary driven as a user would: files in, files and exit codes out.

use std::path::{Path, PathBuf};
use std::process::Output;

use image::{GrayImage, ImageBuffer, Luma, Rgb, RgbImage};

use crate::util::{path_str, random_checkpoint, scribseg, stderr};

/// `scribseg simulate --mask MASK --out OUT EXTRA…`.
fn simulate(mask: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["simulate", "--mask", path_str(mask), "--out", path_str(out)];
    args.extend_from_slice(extra);
    scribseg(&args)
}

/// A 96×64 mask with a filled ellipse, written as 8-bit grey PNG.
fn ellipse_mask(dir: &Path) -> (PathBuf, GrayImage) {
    let mask = GrayImage::from_fn(96, 64, |x, y| {
        let v = ((x as f32 - 48.0) / 30.0).powi(2) + ((y as f32 - 32.0) / 18.0).powi(2) <= 1.0;
        Luma([if v { 255 } else { 0 }])
    });
    let path = dir.join("mask.png");
    mask.save(&path).expect("write the mask");
    (path, mask)
}

fn read_gray(path: &Path) -> GrayImage {
    image::open(path).expect("a readable image").to_luma8()
}

#[test]
fn simulate_writes_a_positive_scribble_inside_the_mask() {
    let dir = tempfile::tempdir().unwrap();
    let (mask_path, mask) = ellipse_mask(dir.path());
    let out = dir.path().join("s.png");
    let overlay = dir.path().join("o.png");
    let res = simulate(&mask_path, &out, &["--overlay", path_str(&overlay)]);
    assert!(res.status.success(), "{}", stderr(&res));
    let s = read_gray(&out);
    let painted: Vec<_> = s
        .enumerate_pixels()
        .filter(|(_, _, p)| p.0[0] != 0)
        .collect();
    assert!(painted.len() > 20, "only {} scribble pixels", painted.len());
    for (x, y, p) in painted {
        assert_eq!(p.0[0], 255, "positive value");
        assert_eq!(
            mask.get_pixel(x, y).0[0],
            255,
            "scribble pixel ({x},{y}) outside the mask"
        );
    }
    assert_eq!(
        image::open(&overlay).unwrap().to_rgb8().dimensions(),
        (96, 64)
    );
}

#[test]
fn same_seed_same_bytes_other_seed_other_scribble() {
    let dir = tempfile::tempdir().unwrap();
    let (mask_path, _) = ellipse_mask(dir.path());
    let run = |seed: &str, name: &str| {
        let out = dir.path().join(name);
        let res = simulate(&mask_path, &out, &["--seed", seed]);
        assert!(res.status.success(), "{}", stderr(&res));
        std::fs::read(out).unwrap()
    };
    assert_eq!(run("7", "a.png"), run("7", "b.png"));
    assert_ne!(run("7", "a.png"), run("8", "c.png"));
}

#[test]
fn sixteen_bit_and_rgb_masks_are_converted() {
    let dir = tempfile::tempdir().unwrap();
    let wide: ImageBuffer<Luma<u16>, Vec<u16>> = ImageBuffer::from_fn(64, 64, |x, _| {
        Luma([if (16..48).contains(&x) {
            40_000
        } else {
            30_000
        }])
    });
    let p16 = dir.path().join("m16.png");
    wide.save(&p16).unwrap();
    let rgb = RgbImage::from_fn(64, 64, |_, y| {
        if (16..48).contains(&y) {
            Rgb([255, 255, 255])
        } else {
            Rgb([0, 0, 0])
        }
    });
    let prgb = dir.path().join("rgb.png");
    rgb.save(&prgb).unwrap();
    for (mask, inside) in [(&p16, 0usize), (&prgb, 1)] {
        let out = dir.path().join("s.png");
        let res = simulate(mask, &out, &[]);
        assert!(res.status.success(), "{}", stderr(&res));
        for (x, y, p) in read_gray(&out).enumerate_pixels() {
            if p.0[0] != 0 {
                let c = [x, y][inside];
                assert!(
                    (16..48).contains(&c),
                    "scribble at ({x},{y}) outside the object stripe"
                );
            }
        }
    }
}

#[test]
fn empty_mask_is_an_error_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mask = dir.path().join("empty.png");
    GrayImage::new(32, 32).save(&mask).unwrap();
    let out = dir.path().join("s.png");
    let res = simulate(&mask, &out, &[]);
    assert_eq!(res.status.code(), Some(2));
    assert!(stderr(&res).contains("empty"), "{}", stderr(&res));
    assert!(!out.exists());
}

#[test]
fn bad_inputs_are_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let (mask_path, _) = ellipse_mask(dir.path());
    let out = dir.path().join("s.png");

    let missing = dir.path().join("nope.png");
    let res = simulate(&missing, &out, &[]);
    assert_eq!(res.status.code(), Some(2));
    assert!(stderr(&res).contains("nope.png"), "{}", stderr(&res));

    let jpeg = dir.path().join("mask.jpg");
    RgbImage::new(16, 16).save(&jpeg).unwrap();
    let res = simulate(&jpeg, &out, &[]);
    assert!(stderr(&res).contains("must be PNG"), "{}", stderr(&res));

    let garbage = dir.path().join("garbage.png");
    std::fs::write(&garbage, b"\x89PNG\r\n\x1a\nthis is not the rest of a PNG").unwrap();
    let res = simulate(&garbage, &out, &[]);
    assert_eq!(res.status.code(), Some(2));
    assert!(stderr(&res).contains("garbage.png"), "{}", stderr(&res));

    let (w, h) = read_gray(&mask_path).dimensions();
    let photo = dir.path().join("photo.jpg");
    RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 7) as u8, (y * 5) as u8, (x ^ y) as u8])
    })
    .save(&photo)
    .unwrap();
    let bytes = std::fs::read(&photo).unwrap();
    std::fs::write(&photo, &bytes[..bytes.len() / 2]).unwrap();
    let res = simulate(&mask_path, &out, &["--image", path_str(&photo)]);
    assert_eq!(res.status.code(), Some(2));
    assert!(
        stderr(&res).contains("photo.jpg is a truncated JPEG"),
        "{}",
        stderr(&res)
    );

    let small = dir.path().join("small.png");
    RgbImage::new(10, 10).save(&small).unwrap();
    let res = simulate(&mask_path, &out, &["--image", path_str(&small)]);
    assert!(stderr(&res).contains("10×10"), "{}", stderr(&res));
    assert!(!out.exists());
}

#[test]
fn corrective_marks_the_missed_half() {
    let dir = tempfile::tempdir().unwrap();
    let (mask_path, mask) = ellipse_mask(dir.path());
    // The prediction found only the left half of the ellipse.
    let prediction = GrayImage::from_fn(96, 64, |x, y| {
        Luma([if x < 48 { mask.get_pixel(x, y).0[0] } else { 0 }])
    });
    let pred_path = dir.path().join("pred.png");
    prediction.save(&pred_path).unwrap();
    let out = dir.path().join("c.png");
    let res = simulate(
        &mask_path,
        &out,
        &["--kind", "corrective", "--prediction", path_str(&pred_path)],
    );
    assert!(res.status.success(), "{}", stderr(&res));
    let s = read_gray(&out);
    let right = s
        .enumerate_pixels()
        .filter(|(x, _, p)| p.0[0] == 255 && *x >= 48)
        .count();
    let left = s
        .enumerate_pixels()
        .filter(|(x, _, p)| p.0[0] == 255 && *x < 48)
        .count();
    assert!(right > 10 && right > 2 * left, "right {right}, left {left}");

    let res = simulate(&mask_path, &out, &["--kind", "corrective"]);
    assert!(
        !res.status.success(),
        "corrective without --prediction must fail"
    );
}

#[test]
fn box_and_extreme_points_are_drawn() {
    let dir = tempfile::tempdir().unwrap();
    let (mask_path, _) = ellipse_mask(dir.path());
    for kind in ["bbox", "extrema"] {
        let out = dir.path().join(format!("{kind}.png"));
        let res = simulate(&mask_path, &out, &["--kind", kind]);
        assert!(res.status.success(), "{}", stderr(&res));
        let s = read_gray(&out);
        // The ellipse's left extreme is (18, 32); both encodings are bright there.
        assert!(s.get_pixel(18, 32).0[0] > 200, "{kind}");
        assert_eq!(
            s.get_pixel(48, 32).0[0],
            0,
            "{kind}: the centre stays empty"
        );
    }
}

#[test]
fn example_runs_without_any_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.png");
    let res = scribseg(&["simulate", "--example", "--out", path_str(&out)]);
    assert!(res.status.success(), "{}", stderr(&res));
    assert!(read_gray(&out).pixels().any(|p| p.0[0] == 255));
}

#[test]
fn every_subcommand_has_help() {
    let res = scribseg(&["--help"]);
    assert!(res.status.success());
    let text = String::from_utf8_lossy(&res.stdout).into_owned();
    for line in text
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
    {
        let Some(name) = line.split_whitespace().next() else {
            break;
        };
        if name == "help" {
            continue;
        }
        let sub = scribseg(&[name, "--help"]);
        assert!(sub.status.success(), "{name} --help failed");
    }
}

#[test]
fn train_flags_are_checked_like_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("train.toml");
    std::fs::write(&config, "shards = \"shards\"\nout = \"run\"\n").unwrap();
    for (flags, expected) in [
        (
            ["--copy-paste", "1.5"],
            "copy_paste_probability must lie in [0, 1]",
        ),
        (["--steps", "0"], "must be positive"),
    ] {
        let mut args = vec!["train", "--config", path_str(&config)];
        args.extend(flags);
        let res = scribseg(&args);
        assert!(!res.status.success());
        assert!(stderr(&res).contains(expected), "{}", stderr(&res));
        assert!(!dir.path().join("run").exists(), "nothing was started");
    }
}

/// `scribseg model average --weights W… --out OUT`.
fn model_average(weights: &[&Path], out: &Path) -> Output {
    let mut args = vec!["model", "average"];
    for w in weights {
        args.extend(["--weights", path_str(w)]);
    }
    args.extend(["--out", path_str(out)]);
    scribseg(&args)
}

#[test]
fn model_average_writes_a_checkpoint_and_needs_two() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, out) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("mean"),
    );
    random_checkpoint(&a, 1);
    random_checkpoint(&b, 2);

    let res = model_average(&[&a], &out);
    assert!(!res.status.success());
    assert!(
        stderr(&res).contains("at least two --weights"),
        "{}",
        stderr(&res)
    );
    assert!(!out.exists(), "nothing written on an error");

    let res = model_average(&[&a, &b], &out);
    assert!(res.status.success(), "{}", stderr(&res));
    assert!(
        stderr(&res).contains("the mean of 2 checkpoints"),
        "{}",
        stderr(&res)
    );
    let a_size = std::fs::metadata(a.join("model.bpk")).unwrap().len();
    let mean_size = std::fs::metadata(out.join("model.bpk")).unwrap().len();
    assert_eq!(mean_size, a_size, "the same tensors, in f32");
    let res = scribseg(&["model", "info", path_str(&out)]);
    assert!(res.status.success(), "{}", stderr(&res));
    let text = String::from_utf8_lossy(&res.stdout);
    assert!(
        text.contains("the element-wise mean of 2 checkpoints"),
        "{text}"
    );
    assert!(text.contains(&format!("[2] {}", b.display())), "{text}");
    assert_eq!(text.matches("(no lineage recorded)").count(), 2, "{text}");

    let missing = dir.path().join("missing");
    let res = model_average(&[&a, &missing], &dir.path().join("x"));
    assert!(!res.status.success());
    assert!(stderr(&res).contains("missing"), "{}", stderr(&res));
}

#[test]
fn every_style_simulates_and_only_crossing_leaves_the_mask() {
    let dir = tempfile::tempdir().unwrap();
    let (mask_path, mask) = ellipse_mask(dir.path());
    for style in [
        "paper", "centre", "short", "boundary", "brush", "zigzag", "wobbly", "crossing",
        "surround", "branches",
    ] {
        let out = dir.path().join(format!("{style}.png"));
        let res = simulate(&mask_path, &out, &["--style", style, "--seed", "2"]);
        assert!(res.status.success(), "{style}: {}", stderr(&res));
        let s = read_gray(&out);
        let positive_outside = s
            .enumerate_pixels()
            .filter(|(x, y, p)| p.0[0] == 255 && mask.get_pixel(*x, *y).0[0] == 0)
            .count();
        assert!(
            s.pixels().any(|p| p.0[0] == 255),
            "{style}: no positive stroke"
        );
        assert_eq!(positive_outside > 0, style == "crossing", "{style}");
        let negatives = s.pixels().any(|p| p.0[0] == 128);
        assert_eq!(negatives, style == "surround", "{style}");
    }
    let res = simulate(
        &mask_path,
        &dir.path().join("x.png"),
        &["--style", "scrawl"],
    );
    assert!(!res.status.success());
    assert!(stderr(&res).contains("scrawl"), "{}", stderr(&res));
}

/// A photo-like image of blocks whose layout follows `seed`.
fn blocks(w: u32, h: u32, seed: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        let (bx, by) = (x * 5 / w, y * 4 / h);
        let v = (bx * 7 + by * 13 + seed * 31).wrapping_mul(2_654_435_761) >> 8;
        Rgb([(v % 251) as u8, (v / 7 % 241) as u8, (v / 13 % 239) as u8])
    })
}

/// A folder of `images/` and `masks/` with one photo per `(id, image)`.
fn photo_folder(root: &Path, photos: &[(&str, RgbImage)]) {
    for sub in ["images", "masks"] {
        std::fs::create_dir_all(root.join(sub)).expect("mkdir");
    }
    for (id, photo) in photos {
        photo
            .save(root.join(format!("images/{id}.png")))
            .expect("write photo");
        GrayImage::from_fn(photo.width(), photo.height(), |x, _| {
            Luma([if x < photo.width() / 2 { 255 } else { 0 }])
        })
        .save(root.join(format!("masks/{id}.png")))
        .expect("write mask");
    }
}

#[test]
fn data_check_lists_an_evaluation_photo_in_training_and_fails_until_it_is_excluded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let eval_photo = blocks(200, 150, 1);
    photo_folder(&dir.path().join("eval"), &[("e1", eval_photo.clone())]);
    let copy = image::imageops::resize(&eval_photo, 120, 90, image::imageops::FilterType::Triangle);
    let others: Vec<(String, RgbImage)> = (2..6)
        .map(|s| (format!("p{s}"), blocks(160, 120, s)))
        .collect();
    let mut train: Vec<(&str, RgbImage)> = vec![("copy", copy)];
    train.extend(others.iter().map(|(id, p)| (id.as_str(), p.clone())));
    photo_folder(&dir.path().join("train"), &train);
    let config = dir.path().join("c.toml");
    let write = |exclude: &str| {
        let text = format!(
            "data_root = '.'\n[split]\ntrain = 1.0\nval = 0.0\n\
             [[dataset]]\nname = 'mine'\nkind = 'masks'\npath = 'train'\nweight = 1\n{exclude}\n\
             [[dataset]]\nname = 'bench'\nkind = 'masks'\npath = 'eval'\ntest_only = true\n"
        );
        std::fs::write(&config, text).expect("write config");
    };
    write("");
    let out = scribseg(&["data", "check", "--config", path_str(&config)]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", stderr(&out));
    assert!(stdout.contains("mine copy (train)"), "{stdout}");
    assert!(stdout.contains("[mine] exclude = [\"copy\"]"), "{stdout}");
    assert!(
        !stdout.contains("mine p"),
        "only the copy matches: {stdout}"
    );

    write("exclude = ['copy']");
    let out = scribseg(&["data", "check", "--config", path_str(&config)]);
    assert!(out.status.success(), "{}", stderr(&out));
}

//! `scribseg eval` end to end on a dataset the test draws: the test split
//! of a configured mask folder, a random-weight checkpoint, every report
//! written, and a rerun that reuses the records.

use std::path::Path;

use image::{GrayImage, Luma, Rgb, RgbImage};

use crate::util::{path_str as s, random_checkpoint, scribseg, stderr};

/// Forty 64×48 photos with one ellipse each, a config naming them, and a checkpoint.
fn fixture(dir: &Path) {
    let data = dir.join("shapes");
    std::fs::create_dir_all(data.join("images")).expect("mkdir");
    std::fs::create_dir_all(data.join("masks")).expect("mkdir");
    for i in 0..40u32 {
        let (cx, cy) = (20.0 + (i % 5) as f32 * 5.0, 18.0 + (i % 3) as f32 * 4.0);
        let inside = move |x: u32, y: u32| {
            ((x as f32 - cx) / 14.0).powi(2) + ((y as f32 - cy) / 9.0).powi(2) <= 1.0
        };
        RgbImage::from_fn(64, 48, |x, y| {
            if inside(x, y) {
                Rgb([200, 120, 40])
            } else {
                Rgb([30, 60, 90])
            }
        })
        .save(data.join(format!("images/img{i:02}.png")))
        .expect("image");
        GrayImage::from_fn(64, 48, |x, y| Luma([if inside(x, y) { 255 } else { 0 }]))
            .save(data.join(format!("masks/img{i:02}.png")))
            .expect("mask");
    }
    std::fs::write(
        dir.join("data.toml"),
        "data_root = \".\"\n[[dataset]]\nname = \"shapes\"\nkind = \"masks\"\npath = \"shapes\"\nweight = 1.0\n",
    )
    .expect("config");
    random_checkpoint(&dir.join("weights"), 3);
}

/// `scribseg eval` of the fixture's checkpoint on its test split, two
/// strokes and one seed, into `out`, with `extra` flags.
fn eval_test(dir: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let (config, weights) = (dir.join("data.toml"), dir.join("weights"));
    let mut args = vec![
        "eval",
        "--config",
        s(&config),
        "--weights",
        s(&weights),
        "--on",
        "test",
        "--strokes",
        "2",
        "--seeds",
        "1",
        "--out",
        s(out),
    ];
    args.extend_from_slice(extra);
    scribseg(&args)
}

#[test]
fn the_test_split_is_evaluated_and_a_rerun_reuses_the_records() {
    let dir = tempfile::tempdir().expect("tempdir");
    fixture(dir.path());
    let out = dir.path().join("out");
    let run = || eval_test(dir.path(), &out, &[]);
    let first = run();
    let log = stderr(&first);
    assert!(first.status.success(), "{log}");
    let table = std::fs::read_to_string(out.join("table.md")).expect("table");
    assert!(table.contains("shapes:test"), "{table}");
    assert!(out.join("records.jsonl").is_file());
    assert!(out.join("dice_vs_strokes.svg").is_file());
    assert!(out.join("dice_vs_strokes.png").is_file());
    assert!(log.contains("0 reused"), "{log}");

    let second = run();
    let log = stderr(&second);
    assert!(second.status.success(), "{log}");
    assert!(log.contains("0 protocol runs computed"), "{log}");
}

/// `scribseg eval --input box` on the fixture with `weights` (flag and folder) given.
fn eval_box(dir: &Path, weights: &[&str]) -> std::process::Output {
    let (config, out) = (dir.join("data.toml"), dir.join("out"));
    let mut args = vec!["eval", "--config", s(&config), "--input", "box"];
    args.extend_from_slice(weights);
    args.extend(["--out", s(&out)]);
    scribseg(&args)
}

#[test]
fn a_baseline_without_its_weights_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    fixture(dir.path());
    let res = eval_box(dir.path(), &["--weights", s(&dir.path().join("weights"))]);
    assert!(!res.status.success());
    assert!(stderr(&res).contains("--box-weights"), "{}", stderr(&res));
}

#[test]
fn scribble_weights_are_refused_as_a_baseline() {
    let dir = tempfile::tempdir().expect("tempdir");
    fixture(dir.path());
    let res = eval_box(
        dir.path(),
        &["--box-weights", s(&dir.path().join("weights"))],
    );
    assert!(!res.status.success());
    let log = stderr(&res);
    assert!(
        log.contains("holds a scribble network") && log.contains("not the box network"),
        "{log}"
    );
}

#[test]
fn another_crop_context_flip_or_threshold_is_another_predictor() {
    let dir = tempfile::tempdir().expect("tempdir");
    fixture(dir.path());
    let out = dir.path().join("out");
    let run = |extra: &[&str]| {
        let mut flags = vec!["--clicks", "0"];
        flags.extend_from_slice(extra);
        eval_test(dir.path(), &out, &flags)
    };
    let wide = run(&["--context", "1.0"]);
    assert!(wide.status.success(), "{}", stderr(&wide));
    let records = std::fs::read_to_string(out.join("records.jsonl")).expect("records");
    assert!(records.contains(", context 1\""), "{records}");
    assert!(!records.contains("\"clicks\""), "--clicks 0 runs none");

    let default = run(&[]);
    assert!(!default.status.success());
    assert!(
        stderr(&default).contains("context 1"),
        "{}",
        stderr(&default)
    );

    let unflipped = run(&["--context", "1.0", "--no-flip"]);
    assert!(!unflipped.status.success());
    assert!(
        stderr(&unflipped).contains("no flip"),
        "{}",
        stderr(&unflipped)
    );

    let cut = run(&["--context", "1.0", "--threshold", "0.9"]);
    assert!(!cut.status.success());
    assert!(stderr(&cut).contains("threshold 0.9"), "{}", stderr(&cut));

    let beyond = run(&["--threshold", "1.5"]);
    assert!(!beyond.status.success());
    assert!(
        stderr(&beyond).contains("--threshold must lie strictly between 0 and 1"),
        "{}",
        stderr(&beyond)
    );

    let negative = run(&["--context=-0.5"]);
    assert!(!negative.status.success());
    assert!(
        stderr(&negative).contains("--context must be a non-negative number"),
        "{}",
        stderr(&negative)
    );
}

#[test]
fn several_styles_are_set_side_by_side_with_the_untrained_ones_held_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    fixture(dir.path());
    let out = dir.path().join("out");
    let run = |styles: &str| eval_test(dir.path(), &out, &["--clicks", "0", "--style", styles]);
    let res = run("short,paper,centre");
    assert!(res.status.success(), "{}", stderr(&res));
    for style in ["paper", "centre", "short"] {
        assert!(out.join(style).join("table.md").is_file(), "{style}");
    }
    // The random checkpoint has no train.json: nothing is known to be trained.
    let table = std::fs::read_to_string(out.join("styles.md")).expect("styles.md");
    assert!(table.contains("| short (unknown) |"), "{table}");
    // With the default weights' record (every run on the paper's strokes
    // alone), the other styles are held out.
    let record = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../weights/default/train.json");
    std::fs::copy(record, dir.path().join("weights/train.json")).expect("train.json");
    let res = run("paper,short");
    assert!(res.status.success(), "{}", stderr(&res));
    let table = std::fs::read_to_string(out.join("styles.md")).expect("styles.md");
    let held = table.find("| short (held out) |").expect(&table);
    let trained = table.find("| paper (trained) |").expect(&table);
    assert!(held < trained, "{table}");

    let res = run("scrawl");
    assert!(!res.status.success());
    assert!(
        stderr(&res).contains("unknown stroke style"),
        "{}",
        stderr(&res)
    );
}

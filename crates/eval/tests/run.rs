//! `run_eval` over a tiny folder: records, reports, resuming, config checks.

use std::path::Path;

use scribseg_eval::{
    files, run_eval, DatasetSpec, EvalConfig, EvalDataset, Method, Predictors, RecordStore,
};

use crate::util::{ellipse, StandIn};

/// Writes three synthetic objects in the eval layout; the middle one has an ignore band.
fn write_folder(root: &Path) {
    std::fs::create_dir_all(root.join("images")).expect("mkdir");
    std::fs::create_dir_all(root.join("masks")).expect("mkdir");
    for (i, (a, b)) in [(20.0, 12.0), (14.0, 14.0), (8.0, 5.0)]
        .into_iter()
        .enumerate()
    {
        let o = ellipse(64, 48, (32.0, 24.0), (a, b), i as u8);
        o.image
            .save(root.join("images").join(format!("img{i}.png")))
            .expect("image");
        let mut grey = o.truth.to_gray();
        if i == 1 {
            for y in 0..48 {
                grey.put_pixel(0, y, image::Luma([128]));
            }
        }
        grey.save(root.join("masks").join(format!("img{i}_0.png")))
            .expect("mask");
    }
}

fn config(root: &Path) -> EvalConfig {
    let mut c = EvalConfig::new(vec![DatasetSpec::folder("tiny", root)]);
    c.seeds = 2;
    c.strokes.max_strokes = 5;
    c.clicks.max_clicks = 6;
    c.worst = 2;
    c
}

fn objects(root: &Path) -> Vec<scribseg_eval::EvalObject> {
    let spec = DatasetSpec::folder("tiny", root);
    let d = EvalDataset::open(&spec).expect("opens");
    (0..d.len())
        .flat_map(|i| d.load(i).expect("loads"))
        .collect()
}

#[test]
fn an_image_without_objects_is_skipped_not_fatal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("tiny");
    write_folder(&data);
    // A fourth image whose only mask is empty.
    let o = ellipse(64, 48, (32.0, 24.0), (10.0, 10.0), 9);
    o.image.save(data.join("images/img3.png")).expect("image");
    image::GrayImage::new(64, 48)
        .save(data.join("masks/img3_0.png"))
        .expect("mask");
    let d = EvalDataset::open(&DatasetSpec::folder("tiny", &data)).expect("opens");
    assert_eq!(d.len(), 4);
    let index = d.find("img3").expect("img3 is a unit");
    assert!(d.load(index).expect("no error").is_empty());
    assert_eq!(objects(&data).len(), 3);
}

#[test]
fn a_run_writes_every_report_and_a_rerun_reuses_its_records() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (data, out) = (dir.path().join("tiny"), dir.path().join("out"));
    write_folder(&data);
    let objects = objects(&data);
    assert_eq!(objects.len(), 3);
    assert_eq!(objects[1].ignore.as_ref().map(|m| m.area()), Some(48));
    let mut standin = StandIn::new(&objects, 3.0, true);
    let mut boxes = StandIn::new(&objects, 3.0, true);
    let mut extremes = StandIn::new(&objects, 6.0, true);
    let mut predictors = Predictors {
        scribble: Some(&mut standin),
        boxes: Some(&mut boxes),
        extremes: Some(&mut extremes),
    };
    let config = config(&data);
    let mut seen = Vec::new();
    let outcome =
        run_eval(&config, &mut predictors, &out, &mut |p| seen.push(p.done)).expect("runs");
    // Per object: 2 scribble seeds + box + extremes + clicks.
    assert_eq!((outcome.computed, outcome.reused), (15, 0));
    assert_eq!(seen, vec![1, 2, 3]);
    for name in [
        files::CONFIG,
        files::RECORDS,
        files::SUMMARY,
        files::TABLE,
        files::STROKE_CURVES,
        files::STROKE_CURVES_PNG,
        files::CLICK_CURVES,
        files::CLICK_CURVES_PNG,
        files::WORST,
    ] {
        assert!(out.join(name).exists(), "{name} written");
    }
    let table = std::fs::read_to_string(out.join(files::TABLE)).expect("table");
    for row in [
        "| Scribble |",
        "| Box |",
        "| Extreme points |",
        "| Scribble + corrective (2 strokes) |",
    ] {
        assert!(table.contains(row), "{row} in\n{table}");
    }
    // The box stand-in predicts the whole box: DICE = 2|T| / (|T| + |box|).
    let expected_box: f64 = objects
        .iter()
        .map(|o| {
            let t = o.truth.area() as f64;
            let b = o.truth.bounding_box().expect("non-empty").area() as f64;
            2.0 * t / (t + b)
        })
        .sum::<f64>()
        / 3.0;
    let box_cell = outcome.summary.table[1].cells[0].expect("box ran");
    assert!((box_cell.mean - expected_box).abs() < 1e-12);
    let sheet = image::open(out.join(files::WORST)).expect("png");
    // The two worst side by side, three 160-pixel-high tiles each (64×48 → 213×160).
    assert_eq!(sheet.height(), 160 + 2 * 4);
    assert!(sheet.width() >= 6 * 213, "{}", sheet.width());

    // A rerun computes nothing and gives the same figures.
    let again = run_eval(&config, &mut predictors, &out, &mut |_| {}).expect("reruns");
    assert_eq!((again.computed, again.reused), (0, 15));
    assert_eq!(again.summary, outcome.summary);

    // Records lost (an interrupted run) are recomputed, the others kept.
    let records = std::fs::read_to_string(out.join(files::RECORDS)).expect("records");
    let kept: Vec<&str> = records.lines().take(10).collect();
    std::fs::write(out.join(files::RECORDS), kept.join("\n") + "\n").expect("truncate");
    let resumed = run_eval(&config, &mut predictors, &out, &mut |_| {}).expect("resumes");
    assert_eq!((resumed.computed, resumed.reused), (5, 10));
    let store = RecordStore::open(&out.join(files::RECORDS)).expect("store");
    assert_eq!(store.records().len(), 15);
    let scribbles = store
        .records()
        .iter()
        .filter(|r| r.method == Method::Scribble);
    assert!(scribbles
        .clone()
        .all(|r| !r.dice.is_empty() && r.dice.len() <= 5));
    assert_eq!(scribbles.count(), 6);

    // A smoke-run cap changes no record: still the same folder.
    let mut capped = config.clone();
    capped.max_images = Some(1);
    let smoke = run_eval(&capped, &mut predictors, &out, &mut |_| {}).expect("capped rerun");
    assert_eq!((smoke.computed, smoke.reused), (0, 5));

    // Another configuration in the same folder is refused.
    let mut other = config.clone();
    other.strokes.max_strokes = 7;
    let e = run_eval(&other, &mut predictors, &out, &mut |_| {}).expect_err("refused");
    assert!(e.to_string().contains("another configuration"), "{e}");
}

/// A stand-in under another name.
struct Renamed(StandIn);

impl scribseg_eval::Predictor for Renamed {
    fn name(&self) -> &str {
        "other model"
    }
    fn predict(
        &mut self,
        image: &image::RgbImage,
        interaction: &scribseg_eval::Interaction,
    ) -> Result<scribseg_sim::Plane, scribseg_eval::PredictorError> {
        self.0.predict(image, interaction)
    }
}

#[test]
fn methods_can_be_added_to_a_folder_but_predictors_not_swapped() {
    use scribseg_eval::Predictor as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let (data, out) = (dir.path().join("tiny"), dir.path().join("out"));
    write_folder(&data);
    let objects = objects(&data);
    let config = config(&data);
    let mut boxes = StandIn::new(&objects, 3.0, true);
    let mut only_box = Predictors {
        boxes: Some(&mut boxes),
        ..Predictors::default()
    };
    run_eval(&config, &mut only_box, &out, &mut |_| {}).expect("box first");
    let mut extremes = StandIn::new(&objects, 3.0, true);
    let mut boxes = StandIn::new(&objects, 3.0, true);
    let mut both = Predictors {
        boxes: Some(&mut boxes),
        extremes: Some(&mut extremes),
        ..Predictors::default()
    };
    let added = run_eval(&config, &mut both, &out, &mut |_| {}).expect("extremes added");
    assert_eq!((added.computed, added.reused), (3, 3));
    let mut renamed = Renamed(StandIn::new(&objects, 3.0, true));
    assert_eq!(renamed.name(), "other model");
    let mut swapped = Predictors {
        boxes: Some(&mut renamed),
        ..Predictors::default()
    };
    let e = run_eval(&config, &mut swapped, &out, &mut |_| {}).expect_err("refused");
    assert!(
        e.to_string()
            .contains("records of predictor stand-in, now other model"),
        "{e}"
    );
}

#[test]
fn missing_predictors_skip_their_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (data, out) = (dir.path().join("tiny"), dir.path().join("out"));
    write_folder(&data);
    let mut boxes = StandIn::new(&objects(&data), 3.0, true);
    let mut predictors = Predictors {
        boxes: Some(&mut boxes),
        ..Predictors::default()
    };
    let outcome = run_eval(&config(&data), &mut predictors, &out, &mut |_| {}).expect("runs");
    assert_eq!(outcome.computed, 3);
    let rows = &outcome.summary.table;
    assert!(rows[0].cells[0].is_none() && rows[1].cells[0].is_some());
    assert!(outcome.summary.strokes.is_empty() && outcome.summary.clicks.is_empty());
    assert!(!out.join(files::STROKE_CURVES).exists());
    assert!(!out.join(files::STROKE_CURVES_PNG).exists());
    assert!(
        out.join(files::WORST).exists(),
        "ranked by box DICE instead"
    );
}

#[test]
fn zero_clicks_leave_the_click_protocol_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (data, out) = (dir.path().join("tiny"), dir.path().join("out"));
    write_folder(&data);
    let mut scribble = StandIn::new(&objects(&data), 3.0, true);
    let mut predictors = Predictors {
        scribble: Some(&mut scribble),
        ..Predictors::default()
    };
    let mut config = config(&data);
    config.clicks.max_clicks = 0;
    let outcome = run_eval(&config, &mut predictors, &out, &mut |_| {}).expect("runs");
    // Per object: the 2 scribble seeds only.
    assert_eq!(outcome.computed, 6);
    assert!(outcome.summary.clicks.is_empty() && !outcome.summary.strokes.is_empty());
    assert!(!out.join(files::CLICK_CURVES).exists());
    let records = std::fs::read_to_string(out.join(files::RECORDS)).expect("records");
    assert!(!records.contains("\"clicks\""), "{records}");
}

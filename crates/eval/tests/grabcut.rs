//! The whole loop over three real GrabCut objects (ignore band included).

use scribseg_eval::{files, run_eval, DatasetSpec, EvalConfig, EvalDataset, Predictors};

use crate::util::{dataset, StandIn};

#[test]
fn three_grabcut_objects_through_every_protocol() {
    let Some(root) = dataset("eval/grabcut") else {
        return;
    };
    let spec = DatasetSpec::folder("grabcut", root);
    let d = EvalDataset::open(&spec).expect("opens");
    let objects: Vec<_> = (0..3).flat_map(|i| d.load(i).expect("loads")).collect();
    assert_eq!(objects.len(), 3, "one object per GrabCut image");
    assert!(
        objects.iter().any(|o| o.ignore.is_some()),
        "the 128 band is read"
    );
    let mut scribble = StandIn::new(&objects, 6.0, true);
    let mut boxes = StandIn::new(&objects, 6.0, true);
    let mut extremes = StandIn::new(&objects, 20.0, true);
    let mut predictors = Predictors {
        scribble: Some(&mut scribble),
        boxes: Some(&mut boxes),
        extremes: Some(&mut extremes),
    };
    let mut config = EvalConfig::new(vec![spec]);
    config.seeds = 1;
    config.max_images = Some(3);
    config.worst = 3;
    let out = tempfile::tempdir().expect("tempdir");
    let outcome = run_eval(&config, &mut predictors, out.path(), &mut |_| {}).expect("runs");
    assert_eq!(outcome.computed, 3 * 4);
    let s = &outcome.summary;
    let scribble_row = s.table[0].cells[0].expect("scribble");
    let corrective_row = s.table[3].cells[0].expect("corrective");
    assert!(
        corrective_row.mean >= scribble_row.mean,
        "a correction never hurts this stand-in"
    );
    let curve = &s.strokes[0].curve;
    assert_eq!(curve.len(), 20);
    assert!(curve.windows(2).all(|w| w[1].mean >= w[0].mean));
    assert!(s.clicks[0].to_reach[1].mean <= 20.0);
    let table = std::fs::read_to_string(out.path().join(files::TABLE)).expect("table");
    println!("{table}");
    assert!(table.contains("| grabcut |"));
}

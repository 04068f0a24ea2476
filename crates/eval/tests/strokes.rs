//! The scribble protocol end to end: strokes → predictions → curve →
//! strokes-to-threshold.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use scribseg_eval::{
    interactions_to_reach, run_strokes, summarize, Method, ObjectRecord, Stop, StrokeProtocol,
    SummaryParams,
};
use scribseg_sim::{dice, Polarity};

use crate::util::{ellipse, StandIn};

#[test]
fn every_stroke_scores_what_the_stand_in_computes() {
    let object = ellipse(96, 64, (48.0, 32.0), (36.0, 22.0), 1);
    let mut standin = StandIn::new(std::slice::from_ref(&object), 3.0, true);
    let protocol = StrokeProtocol {
        max_strokes: 12,
        ..StrokeProtocol::default()
    };
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let trace = run_strokes(&mut standin, &object, &protocol, &mut rng).expect("runs");
    assert!(!trace.steps.is_empty() && trace.steps.len() <= 12);

    // Replay: after call k the stand-in has seen the first Σ strokes_added strokes.
    let mut seen = 0;
    for (k, step) in trace.steps.iter().enumerate() {
        seen += step.strokes_added;
        let expected = standin.answer(&object.truth, &trace.strokes[..seen]);
        let d = dice(&expected, &object.truth, None);
        assert_eq!(step.dice, d, "call {}", k + 1);
        assert!(step.strokes_added > 0, "call {} added no stroke", k + 1);
    }
    assert_eq!(
        seen,
        trace.strokes.len(),
        "strokes accumulate, none dropped"
    );

    // A clipped stand-in never predicts background: every correction is
    // positive, and adding positive disks never lowers DICE.
    assert!(trace
        .strokes
        .iter()
        .all(|s| s.polarity == Polarity::Positive));
    let curve = trace.dice();
    assert!(curve.windows(2).all(|w| w[1] >= w[0]), "{curve:?}");
    assert!(
        curve[curve.len() - 1] > curve[0],
        "corrections help: {curve:?}"
    );
    match trace.stop {
        Stop::NoCorrection => {
            // The corrective rule stops under 1% error.
            let missed = object.truth.minus(&trace.map.threshold(0.5)).area();
            assert!((missed as f64) < 0.01 * object.truth.area() as f64 + 1.0);
        }
        Stop::Budget => assert_eq!(trace.steps.len(), 12),
        other => panic!("unexpected stop {other:?}"),
    }
}

#[test]
fn strokes_to_threshold_follows_the_curve_and_caps_misses() {
    let object = ellipse(96, 64, (48.0, 32.0), (36.0, 22.0), 2);
    // A tiny brush: progress is slow, so 0.90 may never be reached in 4 strokes.
    let mut standin = StandIn::new(std::slice::from_ref(&object), 1.0, true);
    let protocol = StrokeProtocol {
        max_strokes: 4,
        ..StrokeProtocol::default()
    };
    let mut records = Vec::new();
    for seed in 0..2 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let trace = run_strokes(&mut standin, &object, &protocol, &mut rng).expect("runs");
        records.push(ObjectRecord::new(
            &object,
            Method::Scribble,
            "stand-in",
            seed,
            &trace,
        ));
    }
    let summary = summarize(
        &records,
        SummaryParams {
            datasets: vec!["synthetic".into()],
            max_strokes: 4,
            max_clicks: 20,
            corrective_row_strokes: 2,
        },
    );
    let stats = &summary.strokes[0];
    for (t, got) in [0.85, 0.90].iter().zip(&stats.to_reach) {
        let per_seed: Vec<f64> = records
            .iter()
            .map(|r| interactions_to_reach(&r.dice, *t).unwrap_or(4) as f64)
            .collect();
        assert_eq!(
            got.mean,
            per_seed.iter().sum::<f64>() / 2.0,
            "threshold {t}"
        );
        assert!(got.mean >= 1.0 && got.mean <= 4.0);
    }
    let first: f64 = records.iter().map(|r| r.dice[0]).sum::<f64>() / 2.0;
    assert_eq!(summary.table[0].cells[0].expect("scribble row").mean, first);
    assert_eq!(
        stats.curve.len(),
        4,
        "curves are extended flat to the budget"
    );
}

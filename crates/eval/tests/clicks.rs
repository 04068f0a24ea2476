//! The click protocol end to end: clicks → predictions → IoU → NoC.

use scribseg_eval::{run_clicks, ClickProtocol, Stop};
use scribseg_sim::{iou, Polarity};

use crate::util::{ellipse, StandIn};

#[test]
fn a_large_disk_needs_one_click_at_the_centre() {
    // A circle of radius 12 centred on a pixel: the deepest pixel is the centre.
    let object = ellipse(64, 40, (30.0, 20.0), (12.0, 12.0), 3);
    let mut standin = StandIn::new(std::slice::from_ref(&object), 100.0, true);
    let trace = run_clicks(&mut standin, &object, &ClickProtocol::default()).expect("runs");
    assert_eq!(trace.steps.len(), 1);
    assert_eq!(trace.stop, Stop::Reached);
    assert_eq!(
        trace.strokes[0].points[0],
        scribseg_sim::Point::new(30.0, 20.0)
    );
    assert_eq!(trace.steps[0].iou, 1.0);
}

#[test]
fn small_disks_take_several_positive_clicks_each_improving_iou() {
    let object = ellipse(64, 40, (30.0, 20.0), (20.0, 12.0), 4);
    let mut standin = StandIn::new(std::slice::from_ref(&object), 5.0, true);
    let protocol = ClickProtocol::default();
    let trace = run_clicks(&mut standin, &object, &protocol).expect("runs");
    let curve = trace.iou();
    assert!(curve.len() > 1, "{curve:?}");
    assert!(
        curve.windows(2).all(|w| w[1] > w[0]),
        "each click adds object: {curve:?}"
    );
    assert!(trace
        .strokes
        .iter()
        .all(|s| s.polarity == Polarity::Positive));
    // Each click lands on a pixel the previous prediction missed.
    for k in 1..trace.strokes.len() {
        let before = standin.answer(&object.truth, &trace.strokes[..k]);
        let p = trace.strokes[k].points[0];
        assert!(
            object.truth.get(p.x as isize, p.y as isize) && !before.get(p.x as isize, p.y as isize)
        );
    }
    match trace.stop {
        Stop::Reached => assert!(curve[curve.len() - 1] >= 0.90),
        Stop::Budget => assert_eq!(curve.len(), 20),
        other => panic!("unexpected stop {other:?}"),
    }
}

#[test]
fn over_prediction_draws_negative_clicks_on_false_positives() {
    // Unclipped disks spill over the boundary of a thin object.
    let object = ellipse(64, 40, (30.0, 20.0), (24.0, 4.0), 5);
    let mut standin = StandIn::new(std::slice::from_ref(&object), 9.0, false);
    let trace = run_clicks(&mut standin, &object, &ClickProtocol::default()).expect("runs");
    let negatives: Vec<usize> = (0..trace.strokes.len())
        .filter(|&k| trace.strokes[k].polarity == Polarity::Negative)
        .collect();
    assert!(!negatives.is_empty(), "a spill-over must be corrected");
    for k in negatives {
        let before = standin.answer(&object.truth, &trace.strokes[..k]);
        let p = trace.strokes[k].points[0];
        let (x, y) = (p.x as isize, p.y as isize);
        assert!(
            before.get(x, y) && !object.truth.get(x, y),
            "click {k} is on a false positive"
        );
    }
    // The recorded IoU is the stand-in's answer's IoU.
    let last = standin.answer(&object.truth, &trace.strokes);
    assert_eq!(
        trace.iou().last().copied(),
        Some(iou(&last, &object.truth, None))
    );
}

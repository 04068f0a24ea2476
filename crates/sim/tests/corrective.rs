//! Corrective scribbles: a missed lobe gets a positive stroke in the lobe,
//! a spill gets a negative stroke in the spill.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use scribseg_sim::{corrective_scribble, CorrectiveParams, Mask, Plane, Polarity, PredictionError};

const W: usize = 160;
const H: usize = 120;

fn disk(cx: f32, cy: f32, r: f32) -> Mask {
    Mask::from_fn(W, H, |x, y| {
        (x as f32 - cx).powi(2) + (y as f32 - cy).powi(2) <= r * r
    })
}

fn as_prediction(mask: &Mask) -> Plane {
    Plane::from_vec(
        W,
        H,
        mask.as_slice().iter().map(|&v| f32::from(v)).collect(),
    )
    .expect("one value per pixel")
}

/// Body: a disk; lobe: a smaller disk attached to its right.
fn body_and_lobe() -> (Mask, Mask, Mask) {
    let body = disk(60.0, 60.0, 35.0);
    let lobe = disk(112.0, 60.0, 20.0).minus(&body);
    let label = body.not().minus(&lobe).not();
    (label, body, lobe)
}

fn painted(plane: &Plane, sign: f32) -> Vec<usize> {
    plane
        .as_slice()
        .iter()
        .enumerate()
        .filter_map(|(i, &v)| (v == sign).then_some(i))
        .collect()
}

#[test]
fn missed_lobe_gets_a_positive_stroke_in_the_lobe() {
    let (label, body, lobe) = body_and_lobe();
    let prediction = as_prediction(&body);
    for seed in 0..10 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let s = corrective_scribble(&label, &prediction, &CorrectiveParams::default(), &mut rng)
            .expect("the lobe is well above 1% of the label");
        assert!(s.strokes.iter().all(|k| k.polarity == Polarity::Positive));
        let plane = s.render(&label);
        let pixels = painted(&plane, 1.0);
        let in_lobe = pixels.iter().filter(|&&i| lobe.as_slice()[i] != 0).count();
        assert!(!pixels.is_empty());
        assert!(
            pixels.iter().all(|&i| label.as_slice()[i] != 0),
            "positive strokes stay in the label"
        );
        assert!(
            in_lobe * 10 >= pixels.len() * 6,
            "seed {seed}: only {in_lobe} of {} stroke pixels in the lobe",
            pixels.len()
        );
    }
}

#[test]
fn spill_gets_a_negative_stroke_outside_the_label() {
    let (label, _, _) = body_and_lobe();
    // The prediction covers the label and spills into a blob below-left.
    let spill = disk(40.0, 100.0, 25.0).minus(&label);
    let predicted = label.not().minus(&spill).not();
    let prediction = as_prediction(&predicted);
    for seed in 0..10 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let s = corrective_scribble(&label, &prediction, &CorrectiveParams::default(), &mut rng)
            .expect("the spill is well above 1% of the label");
        assert!(s.strokes.iter().all(|k| k.polarity == Polarity::Negative));
        let plane = s.render(&label);
        let pixels = painted(&plane, -1.0);
        assert!(!pixels.is_empty());
        assert!(
            pixels.iter().all(|&i| label.as_slice()[i] == 0),
            "negative strokes stay outside the label"
        );
        let in_spill = pixels.iter().filter(|&&i| spill.as_slice()[i] != 0).count();
        assert!(
            in_spill * 10 >= pixels.len() * 7,
            "seed {seed}: {in_spill}/{} in the spill",
            pixels.len()
        );
    }
}

#[test]
fn small_error_gets_no_scribble() {
    let (label, _, _) = body_and_lobe();
    // A prediction that misses fewer than 1% of the label's pixels.
    let area = label.area();
    let mut missed = 0;
    let predicted = Mask::from_fn(W, H, |x, y| {
        let on = label.get(x as isize, y as isize);
        if on && missed * 200 < area && x < 40 {
            missed += 1;
            return false;
        }
        on
    });
    assert!(missed > 0);
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let prediction = as_prediction(&predicted);
    assert!(
        corrective_scribble(&label, &prediction, &CorrectiveParams::default(), &mut rng).is_none()
    );
}

#[test]
fn error_polarity_follows_the_larger_error() {
    let (label, body, _) = body_and_lobe();
    let e = PredictionError::measure(&label, &as_prediction(&body));
    assert_eq!(e.false_positive, 0.0);
    assert!(e.false_negative > 0.0);
    assert_eq!(e.polarity(), Polarity::Positive);
    let everything = Plane::from_vec(W, H, vec![1.0; W * H]).unwrap();
    assert_eq!(
        PredictionError::measure(&label, &everything).polarity(),
        Polarity::Negative
    );
}

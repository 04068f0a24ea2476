//! Corrective scribbles from a prediction's error (the paper's section 2.4).

use rand::Rng;

use crate::distance::dilate;
use crate::draw::{Polarity, Scribble};
use crate::geometry::Point;
use crate::mask::{Mask, Plane};
use crate::simulate::{simulate_with_polarity, ScribbleParams};

/// Parameters of the corrective scribble.
#[derive(Clone, Debug, PartialEq)]
pub struct CorrectiveParams {
    /// No scribble when the total error (false positives plus false
    /// negatives, in probability mass) is below this fraction of the label's
    /// area (paper: 1%).
    pub min_error_fraction: f32,
    /// The thresholded error is dilated by this fraction of the label's
    /// approximate radius `√(area/π)`. The paper dilates "by the approximate
    /// radius" so the new scribble overlaps the old ones; at a full radius a
    /// missed lobe's scribble lands mostly on the already-correct body, so we
    /// take a fifth of it: the stroke still reaches back into the body but
    /// sits mostly on the error. The dilated region is then confined to the
    /// label (positive) or its complement (negative), so a corrective stroke
    /// never contradicts the ground truth.
    pub dilation_fraction: f32,
    /// The simulator run on the temporary label.
    pub scribble: ScribbleParams,
}

impl Default for CorrectiveParams {
    fn default() -> Self {
        Self {
            min_error_fraction: 0.01,
            dilation_fraction: 0.2,
            scribble: ScribbleParams::default(),
        }
    }
}

/// The error of a prediction against a label, in probability mass.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PredictionError {
    /// Σ p·(1 − g): predicted object where there is none.
    pub false_positive: f32,
    /// Σ (1 − p)·g: object the prediction missed.
    pub false_negative: f32,
}

impl PredictionError {
    /// Measures `prediction` (probabilities in `[0, 1]`) against `label`.
    pub fn measure(label: &Mask, prediction: &Plane) -> Self {
        let (mut fp, mut fn_) = (0.0, 0.0);
        for (&g, &p) in label.as_slice().iter().zip(prediction.as_slice()) {
            let p = p.clamp(0.0, 1.0);
            if g != 0 {
                fn_ += 1.0 - p;
            } else {
                fp += p;
            }
        }
        Self {
            false_positive: fp,
            false_negative: fn_,
        }
    }

    /// The polarity a correction takes: negative when false positives
    /// outweigh false negatives.
    pub fn polarity(&self) -> Polarity {
        if self.false_positive > self.false_negative {
            Polarity::Negative
        } else {
            Polarity::Positive
        }
    }
}

/// Sets `prediction` to `truth` wherever `ignore` is set, so that ignored
/// pixels count as no error when a corrective scribble is simulated from it.
///
/// Panics when the three differ in size.
pub fn clear_ignored_error(prediction: &mut Plane, truth: &Mask, ignore: &Mask) {
    let size = (prediction.width(), prediction.height());
    assert!(
        size == (truth.width(), truth.height()) && size == (ignore.width(), ignore.height()),
        "prediction, truth and ignore sizes differ"
    );
    for ((p, &ig), &t) in prediction
        .as_mut_slice()
        .iter_mut()
        .zip(ignore.as_slice())
        .zip(truth.as_slice())
    {
        if ig != 0 {
            *p = f32::from(t);
        }
    }
}

/// A corrective scribble for `prediction` (probabilities, same size as
/// `label`), or `None` when the error is small (see
/// [`CorrectiveParams::min_error_fraction`]) or no pixel is wrong by more
/// than one half.
///
/// Panics when `prediction` and `label` differ in size.
pub fn corrective_scribble(
    label: &Mask,
    prediction: &Plane,
    params: &CorrectiveParams,
    rng: &mut impl Rng,
) -> Option<Scribble> {
    assert_eq!(
        (label.width(), label.height()),
        (prediction.width(), prediction.height()),
        "label and prediction sizes differ"
    );
    let error = PredictionError::measure(label, prediction);
    let area = label.area().max(1) as f32;
    if error.false_positive + error.false_negative < params.min_error_fraction * area {
        return None;
    }
    let polarity = error.polarity();
    let (wrong, allowed) = match polarity {
        Polarity::Positive => (prediction.below(0.5).and(label), label.clone()),
        Polarity::Negative => (prediction.threshold(0.5).minus(label), label.not()),
    };
    if wrong.is_empty() {
        return None;
    }
    let radius = params.dilation_fraction * (area / std::f32::consts::PI).sqrt();
    // Work on the error's bounding box grown by the dilation radius: the
    // temporary label cannot reach further, and on a large image the error
    // is usually a small part of it.
    let window = wrong.bounding_box().expect("not empty").expand(
        radius.ceil() as usize + 1,
        label.width(),
        label.height(),
    );
    let temporary = dilate(&wrong.crop(window), radius).and(&allowed.crop(window));
    let mut scribble = simulate_with_polarity(&temporary, &params.scribble, polarity, rng);
    for stroke in &mut scribble.strokes {
        for p in &mut stroke.points {
            *p = Point::new(p.x + window.x0 as f32, p.y + window.y0 as f32);
        }
    }
    (!scribble.is_empty()).then_some(scribble)
}

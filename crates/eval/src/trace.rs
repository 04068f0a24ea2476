//! What one protocol run on one object produced: a score after every call.

use std::time::Duration;

use scribseg_sim::{Confusion, Plane, Stroke};

use crate::error::Result;
use crate::object::EvalObject;
use crate::predictor::{predict_timed, Interaction, Predictor};

/// The scores after one predictor call.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Step {
    /// DICE of the thresholded map.
    pub dice: f64,
    /// IoU of the thresholded map.
    pub iou: f64,
    /// Wall-clock time of the call.
    pub latency: Duration,
    /// Strokes (polylines) added before this call; 0 for box and extreme points.
    pub strokes_added: usize,
    /// Of the pixels the previous call got right, the share this one got
    /// wrong ([`EvalObject::broken`]); `None` for a first call.
    pub broken: Option<f64>,
}

/// Why a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// A one-shot input (box, extreme points): one call.
    OneShot,
    /// The interaction budget was used up.
    Budget,
    /// The error fell under the corrective rule's 1%: no further stroke.
    NoCorrection,
    /// The target score was reached (clicks).
    Reached,
    /// No unclicked error pixel is left (clicks).
    NoErrorLeft,
}

/// Scores after each call, the strokes that were given, and the last map.
#[derive(Clone, Debug)]
pub struct Trace {
    /// One entry per predictor call, in order.
    pub steps: Vec<Step>,
    /// Every stroke given, oldest first (empty for box and extreme points).
    pub strokes: Vec<Stroke>,
    /// Why the run ended.
    pub stop: Stop,
    /// The last probability map.
    pub map: Plane,
}

impl Trace {
    /// The DICE after each call.
    pub fn dice(&self) -> Vec<f64> {
        self.steps.iter().map(|s| s.dice).collect()
    }

    /// The IoU after each call.
    pub fn iou(&self) -> Vec<f64> {
        self.steps.iter().map(|s| s.iou).collect()
    }

    /// What each call after the first broke of what was right before it.
    pub fn broken(&self) -> Vec<Option<f64>> {
        self.steps.iter().skip(1).map(|s| s.broken).collect()
    }
}

/// One timed, scored call; `strokes_added` is recorded in the step, and
/// what it broke of `previous` (the last call's map, if any).
pub(crate) fn scored_call(
    predictor: &mut dyn Predictor,
    object: &EvalObject,
    interaction: &Interaction,
    strokes_added: usize,
    previous: Option<&Plane>,
) -> Result<(Step, Plane)> {
    let timed = predict_timed(predictor, &object.image, interaction, &object.name())?;
    let threshold = predictor.threshold();
    let c: Confusion = object.score(&timed.map, threshold);
    let step = Step {
        dice: c.dice(),
        iou: c.iou(),
        latency: timed.latency,
        strokes_added,
        broken: previous.and_then(|p| object.broken(p, &timed.map, threshold)),
    };
    Ok((step, timed.map))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use image::RgbImage;
    use scribseg_sim::Mask;

    use super::*;
    use crate::error::PredictorError;

    /// Probability 0.45 on every pixel, cut where `threshold` says.
    struct Uncertain {
        threshold: f32,
    }

    impl Predictor for Uncertain {
        fn name(&self) -> &str {
            "uncertain"
        }

        fn threshold(&self) -> f32 {
            self.threshold
        }

        fn predict(
            &mut self,
            image: &RgbImage,
            _interaction: &Interaction,
        ) -> std::result::Result<Plane, PredictorError> {
            let (w, h) = (image.width() as usize, image.height() as usize);
            Ok(Plane::from_vec(w, h, vec![0.45; w * h]).expect("w × h values"))
        }
    }

    #[test]
    fn a_call_is_scored_at_the_predictors_threshold() {
        let object = EvalObject {
            dataset: "d".into(),
            image_id: "i".into(),
            id: "i_0".into(),
            image: Arc::new(RgbImage::new(4, 3)),
            truth: Mask::from_fn(4, 3, |_, _| true),
            ignore: None,
        };
        let strokes = Interaction::Strokes(Vec::new());
        let score = |threshold| {
            let mut predictor = Uncertain { threshold };
            scored_call(&mut predictor, &object, &strokes, 1, None)
                .expect("a map of the image's size")
                .0
                .dice
        };
        assert_eq!(score(0.4), 1.0);
        assert_eq!(score(0.5), 0.0);
    }
}

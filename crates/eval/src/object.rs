//! One object to segment: its image, ground truth and ignored pixels.

use std::sync::Arc;

use image::RgbImage;
use scribseg_sim::{clear_ignored_error, Mask, Plane};

use crate::metrics::Confusion;

/// The probability above which a pixel is predicted object, unless the
/// predictor says otherwise ([`crate::Predictor::threshold`]).
pub const THRESHOLD: f32 = 0.5;

/// An object of an evaluation dataset, at the image's full resolution.
#[derive(Clone, Debug)]
pub struct EvalObject {
    /// The dataset's name (`"grabcut"`).
    pub dataset: String,
    /// The image's stem (`"106024"`).
    pub image_id: String,
    /// The object's id, unique in the dataset (`"106024_0"`).
    pub id: String,
    /// The image, shared by the objects on it.
    pub image: Arc<RgbImage>,
    /// The ground truth, the image's size.
    pub truth: Mask,
    /// Pixels that count neither way (GrabCut's 128 band), if any.
    pub ignore: Option<Mask>,
}

impl EvalObject {
    /// `dataset/id`, how errors and reports name the object.
    pub fn name(&self) -> String {
        format!("{}/{}", self.dataset, self.id)
    }

    /// The confusion counts of a probability map thresholded at `threshold`.
    pub fn score(&self, map: &Plane, threshold: f32) -> Confusion {
        self.score_mask(&map.threshold(threshold))
    }

    /// The confusion counts of a binary prediction.
    pub fn score_mask(&self, prediction: &Mask) -> Confusion {
        Confusion::count(prediction, &self.truth, self.ignore.as_ref())
    }

    /// `map` with ignored pixels set to the truth, so that they count as no
    /// error when a corrective scribble is simulated from it.
    pub fn without_ignored_error(&self, map: &Plane) -> Plane {
        let mut out = map.clone();
        if let Some(ignore) = &self.ignore {
            clear_ignored_error(&mut out, &self.truth, ignore);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignored_pixels_take_the_truth_so_they_are_no_error() {
        let truth = Mask::from_fn(4, 1, |x, _| x < 2);
        let object = EvalObject {
            dataset: "d".into(),
            image_id: "i".into(),
            id: "i_0".into(),
            image: Arc::new(RgbImage::new(4, 1)),
            truth: truth.clone(),
            ignore: Some(Mask::from_fn(4, 1, |x, _| x == 1 || x == 2)),
        };
        let map = Plane::from_vec(4, 1, vec![0.9, 0.1, 0.8, 0.3]).expect("4 values");
        let cleaned = object.without_ignored_error(&map);
        assert_eq!(cleaned.as_slice(), &[0.9, 1.0, 0.0, 0.3]);
        // Scoring skips the same pixels: pixel 0 right, pixel 3 right.
        assert_eq!(object.score(&map, THRESHOLD).dice(), 1.0);
        assert_eq!(object.name(), "d/i_0");
    }
}

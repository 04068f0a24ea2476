//! One object to segment: its image, ground truth and ignored pixels.

use std::sync::Arc;

use image::RgbImage;
use scribseg_sim::{clear_ignored_error, Confusion, Mask, Plane};

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

    /// The share of the pixels that `before` got right (thresholded at
    /// `threshold`, ignored pixels left out) that `after` gets wrong: how
    /// much an interaction broke of what was already right. `None` when no
    /// pixel was right.
    pub fn broken(&self, before: &Plane, after: &Plane, threshold: f32) -> Option<f64> {
        let (mut right, mut broken) = (0usize, 0usize);
        let ignore = self.ignore.as_ref().map(Mask::as_slice);
        for (i, ((&b, &a), &t)) in before
            .as_slice()
            .iter()
            .zip(after.as_slice())
            .zip(self.truth.as_slice())
            .enumerate()
        {
            if ignore.is_some_and(|m| m[i] != 0) {
                continue;
            }
            let truth = t != 0;
            if (b > threshold) == truth {
                right += 1;
                broken += usize::from((a > threshold) != truth);
            }
        }
        (right > 0).then(|| broken as f64 / right as f64)
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
    use scribseg_sim::OBJECT_THRESHOLD;

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
        assert_eq!(object.score(&map, OBJECT_THRESHOLD).dice(), 1.0);
        assert_eq!(object.name(), "d/i_0");
    }

    #[test]
    fn broken_counts_right_pixels_turned_wrong_and_skips_ignored_ones() {
        let object = EvalObject {
            dataset: "d".into(),
            image_id: "i".into(),
            id: "i_0".into(),
            image: Arc::new(RgbImage::new(5, 1)),
            truth: Mask::from_fn(5, 1, |x, _| x < 2),
            ignore: Some(Mask::from_fn(5, 1, |x, _| x == 4)),
        };
        let plane = |v: Vec<f32>| Plane::from_vec(5, 1, v).expect("5 values");
        // Right before: pixels 0, 2, 3 (4 is ignored); after, 0 and 3 turn wrong, 1 is fixed.
        let before = plane(vec![0.9, 0.1, 0.1, 0.2, 0.9]);
        let after = plane(vec![0.1, 0.9, 0.1, 0.8, 0.1]);
        assert_eq!(
            object.broken(&before, &after, OBJECT_THRESHOLD),
            Some(2.0 / 3.0)
        );
        assert_eq!(object.broken(&after, &after, OBJECT_THRESHOLD), Some(0.0));
        let all_wrong = plane(vec![0.1, 0.1, 0.9, 0.9, 0.0]);
        assert_eq!(object.broken(&all_wrong, &before, OBJECT_THRESHOLD), None);
    }
}

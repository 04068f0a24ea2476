//! The interface a segmentation model implements to be evaluated, and a timed call.

use std::time::{Duration, Instant};

use image::RgbImage;
use scribseg_sim::{BoxPrompt, ExtremePoints, Plane, Stroke, OBJECT_THRESHOLD};

use crate::error::{Error, PredictorError, Result};

/// What the user has given so far, in the image's pixel frame.
#[derive(Clone, Debug, PartialEq)]
pub enum Interaction {
    /// Every stroke so far, oldest first. A click is a stroke of a single
    /// point (a dot); the predictor draws it as a disk of its own click
    /// radius, as [`scribseg_sim::draw_stroke`] does with any radius.
    Strokes(Vec<Stroke>),
    /// The ground truth's bounding box (the paper's box baseline).
    Box(BoxPrompt),
    /// The ground truth's four extreme points (the paper's extreme-point baseline).
    Extremes(ExtremePoints),
}

/// A model that turns an image and an [`Interaction`] into object probabilities.
///
/// The real implementation wraps the model crate's `Segmenter`; each of the
/// paper's three networks (scribble, box, extreme points) is one predictor.
pub trait Predictor {
    /// A short name for reports and error messages (`"unet-scribble"`).
    fn name(&self) -> &str;

    /// The probability above which a pixel of its maps counts as object
    /// when they are scored: the threshold its users' masks are cut at.
    fn threshold(&self) -> f32 {
        OBJECT_THRESHOLD
    }

    /// Object probabilities in `[0, 1]`, one per pixel of `image` (same
    /// width and height). A predictor that cannot use an interaction kind
    /// returns an error.
    fn predict(
        &mut self,
        image: &RgbImage,
        interaction: &Interaction,
    ) -> std::result::Result<Plane, PredictorError>;
}

/// A prediction with the wall-clock time of the call that made it.
#[derive(Clone, Debug)]
pub struct Timed {
    /// The probability map.
    pub map: Plane,
    /// How long [`Predictor::predict`] took.
    pub latency: Duration,
}

/// Calls `predictor`, timing the call and checking the map's size.
///
/// `object` (`dataset/object id`) only names the object in errors.
pub fn predict_timed(
    predictor: &mut dyn Predictor,
    image: &RgbImage,
    interaction: &Interaction,
    object: &str,
) -> Result<Timed> {
    let start = Instant::now();
    let map = predictor
        .predict(image, interaction)
        .map_err(|source| Error::Predictor {
            predictor: predictor.name().to_string(),
            object: object.to_string(),
            source,
        })?;
    let latency = start.elapsed();
    let expected = (image.width() as usize, image.height() as usize);
    let got = (map.width(), map.height());
    if got != expected {
        return Err(Error::PredictionSize {
            predictor: predictor.name().to_string(),
            object: object.to_string(),
            expected,
            got,
        });
    }
    Ok(Timed { map, latency })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(usize, usize);

    impl Predictor for Fixed {
        fn name(&self) -> &str {
            "fixed"
        }
        fn predict(
            &mut self,
            _image: &RgbImage,
            interaction: &Interaction,
        ) -> std::result::Result<Plane, PredictorError> {
            match interaction {
                Interaction::Strokes(_) => Ok(Plane::new(self.0, self.1)),
                _ => Err("strokes only".into()),
            }
        }
    }

    #[test]
    fn wrong_sizes_and_predictor_errors_name_the_object() {
        let image = RgbImage::new(4, 3);
        let strokes = Interaction::Strokes(Vec::new());
        assert!(predict_timed(&mut Fixed(4, 3), &image, &strokes, "d/o").is_ok());
        let e = predict_timed(&mut Fixed(3, 4), &image, &strokes, "d/o").expect_err("size");
        assert!(
            e.to_string().contains("d/o") && e.to_string().contains("(3, 4)"),
            "{e}"
        );
        let mask = scribseg_sim::Mask::from_fn(4, 3, |x, _| x == 1);
        let boxed = Interaction::Box(BoxPrompt::from_mask(&mask).expect("non-empty"));
        let e = predict_timed(&mut Fixed(4, 3), &image, &boxed, "d/o").expect_err("kind");
        assert!(e.to_string().contains("strokes only"), "{e}");
    }
}

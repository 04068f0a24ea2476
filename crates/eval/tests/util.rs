//! The stand-in predictor, synthetic objects and the shared data folder.

use std::collections::HashMap;
use std::sync::Arc;

use image::{Rgb, RgbImage};
use scribseg_eval::{EvalObject, Interaction, Predictor, PredictorError};
use scribseg_sim::{draw_stroke, Mask, Plane, Polarity, Transform};

/// A predictor that knows the ground truth of every image it is shown and
/// answers from the strokes in a computable way:
/// - strokes: the pixels within `radius` of a positive stroke — restricted
///   to the truth when `clip` is set — minus those within `radius` of a
///   negative stroke;
/// - box: the whole box (so DICE is `2|T| / (|T| + |box|)`);
/// - extreme points: the truth within `radius` of the four points.
pub struct StandIn {
    /// Truth per image, keyed by the image's bytes.
    truths: HashMap<Vec<u8>, Mask>,
    /// Disk radius around stroke points.
    pub radius: f32,
    /// Restrict positive disks to the truth (no false positives ever).
    pub clip: bool,
}

impl StandIn {
    pub fn new(objects: &[EvalObject], radius: f32, clip: bool) -> Self {
        let truths = objects
            .iter()
            .map(|o| (o.image.as_raw().clone(), o.truth.clone()))
            .collect();
        Self {
            truths,
            radius,
            clip,
        }
    }

    /// The answer for `strokes` on an image whose truth is `truth`.
    pub fn answer(&self, truth: &Mask, strokes: &[scribseg_sim::Stroke]) -> Mask {
        let (w, h) = (truth.width(), truth.height());
        let mut plane = Plane::new(w, h);
        // Negative strokes last, so they win where the disks overlap.
        let mut ordered: Vec<_> = strokes.iter().collect();
        ordered.sort_by_key(|s| s.polarity == Polarity::Negative);
        for s in ordered {
            draw_stroke(&mut plane, s, Transform::IDENTITY, self.radius, None);
        }
        let positive = plane.threshold(0.0);
        if self.clip {
            positive.and(truth)
        } else {
            positive
        }
    }
}

fn to_plane(mask: &Mask) -> Plane {
    let values = mask.as_slice().iter().map(|&v| f32::from(v)).collect();
    Plane::from_vec(mask.width(), mask.height(), values).expect("same size")
}

impl Predictor for StandIn {
    fn name(&self) -> &str {
        "stand-in"
    }

    fn predict(
        &mut self,
        image: &RgbImage,
        interaction: &Interaction,
    ) -> Result<Plane, PredictorError> {
        let truth = self
            .truths
            .get(image.as_raw())
            .ok_or("stand-in shown an unknown image")?;
        let (w, h) = (truth.width(), truth.height());
        let mask = match interaction {
            Interaction::Strokes(strokes) => self.answer(truth, strokes),
            Interaction::Box(b) => Mask::from_fn(w, h, |x, y| {
                let (x, y) = (x as f32, y as f32);
                x >= b.min.x && x <= b.max.x && y >= b.min.y && y <= b.max.y
            }),
            Interaction::Extremes(e) => Mask::from_fn(w, h, |x, y| {
                let p = scribseg_sim::Point::new(x as f32, y as f32);
                e.points.iter().any(|q| q.distance(p) <= self.radius)
            })
            .and(truth),
        };
        Ok(to_plane(&mask))
    }
}

/// A `w × h` object: a filled ellipse centred at `(cx, cy)` with semi-axes
/// `(a, b)`, on an image whose colour `shade` makes it unique.
pub fn ellipse(
    w: usize,
    h: usize,
    (cx, cy): (f32, f32),
    (a, b): (f32, f32),
    shade: u8,
) -> EvalObject {
    let truth = Mask::from_fn(w, h, |x, y| {
        ((x as f32 - cx) / a).powi(2) + ((y as f32 - cy) / b).powi(2) <= 1.0
    });
    let image = RgbImage::from_fn(w as u32, h as u32, |x, y| {
        let v = if truth.get(x as isize, y as isize) {
            200
        } else {
            40
        };
        Rgb([v, shade, 255 - v])
    });
    EvalObject {
        dataset: "synthetic".into(),
        image_id: format!("ellipse{shade}"),
        id: format!("ellipse{shade}_0"),
        image: Arc::new(image),
        truth,
        ignore: None,
    }
}

pub use scribseg_data::shared_dataset as dataset;

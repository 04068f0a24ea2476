//! One training example: the network's 128×128 input and its target, made
//! from an object sample the way the [`Segmenter`](scribseg_model::Segmenter)
//! will see a real one.

use image::RgbImage;
use rand::Rng;
use scribseg_data::{crop_mask, crop_rgb, ObjectSample};
use scribseg_model::{stroke_window, InputKind, SegmenterConfig};
use scribseg_sim::{
    distance_to_background, draw_stroke, simulate_scribble, BoxPrompt, ExtremePoints, Mask, Plane,
    Point, Polarity, ScribbleParams, Stroke, Transform, DRAW_RADIUS, EXTREME_SIGMA,
};

/// How examples are made.
#[derive(Clone, Debug)]
pub struct ExampleParams {
    /// Scribble, box or extreme points.
    pub kind: InputKind,
    /// The simulator's parameters.
    pub scribble: ScribbleParams,
    /// The crop's context is drawn uniformly from this range (see
    /// [`SegmenterConfig::context`]), so the network sees tight and loose crops.
    pub context: (f32, f32),
    /// The smallest crop side in source pixels, as the Segmenter uses.
    pub min_side: f32,
    /// Fraction of scribble examples whose positive input is one click (a
    /// dot deep inside the object) instead of a scribble, so the same model
    /// answers to clicks.
    pub click_probability: f32,
    /// At most this many other objects of the image contribute negative
    /// scribbles (the paper's multi-label rule).
    pub max_negative_objects: usize,
}

impl Default for ExampleParams {
    fn default() -> Self {
        Self {
            kind: InputKind::Scribble,
            scribble: ScribbleParams::default(),
            context: (0.3, 1.0),
            min_side: SegmenterConfig::default().min_side,
            click_probability: 0.1,
            max_negative_objects: 2,
        }
    }
}

/// The network's input and target at 128×128.
#[derive(Clone, Debug)]
pub struct Example {
    /// The photo crop.
    pub rgb: RgbImage,
    /// The interaction channel.
    pub channel: Plane,
    /// The target object in the crop.
    pub target: Mask,
    /// Pixels left out of the loss, if any.
    pub ignore: Option<Mask>,
}

/// Makes an example of `size × size` from `sample`, or `None` when the
/// object has no pixel.
pub fn make_example(
    sample: &ObjectSample,
    params: &ExampleParams,
    size: usize,
    rng: &mut impl Rng,
) -> Option<Example> {
    if sample.target.is_empty() {
        return None;
    }
    let positive: Vec<Stroke> = match params.kind {
        InputKind::Scribble if rng.random::<f32>() < params.click_probability => {
            vec![click(&sample.target, rng)?]
        }
        InputKind::Scribble => simulate_scribble(&sample.target, &params.scribble, rng).strokes,
        InputKind::Box => {
            let b = BoxPrompt::from_mask(&sample.target)?;
            vec![dot(b.min), dot(b.max)]
        }
        InputKind::Extremes => ExtremePoints::from_mask(&sample.target)?
            .points
            .map(dot)
            .to_vec(),
    };
    let config = SegmenterConfig {
        context: rng.random_range(params.context.0..=params.context.1),
        min_side: params.min_side,
        ..SegmenterConfig::default()
    };
    let window = stroke_window(
        positive.iter().flat_map(|s| s.points.iter().copied()),
        &config,
    )?;
    let target = crop_mask(&sample.target, &window, size, size);
    if target.is_empty() {
        return None;
    }
    let transform = window.transform(size, size);
    let mut channel = Plane::new(size, size);
    match params.kind {
        InputKind::Scribble => {
            let others = negative_scribbles(sample, params, rng);
            for stroke in others.iter().chain(&positive) {
                draw_stroke(&mut channel, stroke, transform, DRAW_RADIUS, Some(&target));
            }
        }
        InputKind::Box => BoxPrompt::from_mask(&sample.target)?.draw(&mut channel, transform),
        InputKind::Extremes => {
            ExtremePoints::from_mask(&sample.target)?.draw(&mut channel, transform, EXTREME_SIGMA)
        }
    }
    Some(Example {
        rgb: crop_rgb(&sample.image, &window, size, size),
        channel,
        target,
        ignore: sample
            .ignore
            .as_ref()
            .map(|m| crop_mask(m, &window, size, size)),
    })
}

/// Scribbles on up to `max_negative_objects` other objects, as negatives.
fn negative_scribbles(
    sample: &ObjectSample,
    params: &ExampleParams,
    rng: &mut impl Rng,
) -> Vec<Stroke> {
    let mut order: Vec<usize> = (0..sample.others.len()).collect();
    rand::seq::SliceRandom::shuffle(order.as_mut_slice(), rng);
    order
        .into_iter()
        .take(params.max_negative_objects)
        .flat_map(|i| simulate_scribble(&sample.others[i], &params.scribble, rng).strokes)
        .map(|s| Stroke {
            points: s.points,
            polarity: Polarity::Negative,
        })
        .collect()
}

/// A single-point positive stroke.
fn dot(p: Point) -> Stroke {
    Stroke {
        points: vec![p],
        polarity: Polarity::Positive,
    }
}

/// A click deep inside `mask`: a pixel drawn with probability proportional
/// to the square of its distance to the background.
fn click(mask: &Mask, rng: &mut impl Rng) -> Option<Stroke> {
    let depth = distance_to_background(&padded(mask));
    let w = mask.width() + 2;
    let total: f32 = depth.iter().map(|d| d * d).sum();
    if total <= 0.0 {
        return None;
    }
    let mut u = rng.random::<f32>() * total;
    let mut chosen = 0;
    for (i, d) in depth.iter().enumerate() {
        if d * d > 0.0 {
            chosen = i;
            if u < d * d {
                break;
            }
            u -= d * d;
        }
    }
    Some(dot(Point::new(
        (chosen % w) as f32 - 1.0,
        (chosen / w) as f32 - 1.0,
    )))
}

/// `mask` with a one-pixel background border, so the image edge counts as background.
fn padded(mask: &Mask) -> Mask {
    Mask::from_fn(mask.width() + 2, mask.height() + 2, |x, y| {
        mask.get(x as isize - 1, y as isize - 1)
    })
}

/// Adds a corrective scribble for `prediction` to `example` (drawn over the
/// existing channel). Returns whether one was added.
pub fn add_corrective(example: &mut Example, prediction: &Plane, rng: &mut impl Rng) -> bool {
    let params = scribseg_sim::CorrectiveParams::default();
    match scribseg_sim::corrective_scribble(&example.target, prediction, &params, rng) {
        Some(s) => {
            s.draw(
                &mut example.channel,
                Transform::IDENTITY,
                DRAW_RADIUS,
                Some(&example.target),
            );
            true
        }
        None => false,
    }
}

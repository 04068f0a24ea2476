//! One training example: the network's 128×128 input and its target, made
//! from an object sample the way the [`Segmenter`](scribseg_model::Segmenter)
//! will see a real one.

use image::RgbImage;
use rand::Rng;
use scribseg_data::ObjectSample;
use scribseg_model::input::INPUT_SIZE;
use scribseg_model::{CropSegmentation, InputKind, LabelCrop, SegmenterConfig};
use scribseg_sim::{
    clear_ignored_error, corrective_scribble, crop_mask, crop_rgb, distance_to_background,
    draw_stroke, simulate_style, BoxPrompt, CorrectiveParams, CropRule, ExtremePoints, Mask, Plane,
    Point, Polarity, Rect, ScribbleParams, Stroke, StrokeStyle, Transform, Window, DRAW_RADIUS,
    EXTREME_SIGMA, OBJECT_THRESHOLD,
};

/// How examples are made.
#[derive(Clone, Debug)]
pub struct ExampleParams {
    /// Scribble, box or extreme points.
    pub kind: InputKind,
    /// The paper's simulator's parameters.
    pub scribble: ScribbleParams,
    /// The stroke styles a scribble is drawn in, with their weights: each
    /// example draws one style in proportion to them.
    pub styles: Vec<(StrokeStyle, f32)>,
    /// The crop's context is drawn uniformly from this range (see
    /// [`SegmenterConfig::context`]), so the network sees tight and loose crops.
    pub context: (f32, f32),
    /// The smallest crop side in source pixels, as the Segmenter uses.
    pub min_side: f32,
    /// Fraction of scribble examples cropped around the object and its
    /// positive strokes instead of the strokes alone: the crop of the
    /// Segmenter's second pass (`SegmenterConfig::refine`), which follows
    /// the first pass's predicted object.
    pub object_crop_probability: f32,
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
            styles: vec![(StrokeStyle::Paper, 1.0)],
            context: (0.3, 1.0),
            min_side: SegmenterConfig::default().min_side,
            object_crop_probability: 0.0,
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
    /// The network's answer before the last stroke, as seen from this crop
    /// (a corrective example told it); `None` for a first stroke, and for
    /// a corrective example not told it.
    pub previous: Option<Plane>,
    /// The target object in the crop.
    pub target: Mask,
    /// Pixels left out of the loss, if any.
    pub ignore: Option<Mask>,
    /// Where a scribble example came from, for its corrective pass; `None`
    /// for box and extreme points, which take no corrections.
    pub origin: Option<Origin>,
}

/// A scribble example's object at full resolution with the strokes given
/// for it, so that a corrective pass can do what the evaluation protocol
/// and the [`Segmenter`](scribseg_model::Segmenter) do: simulate the
/// correction from the error over the whole object, then crop again around
/// all the positive strokes.
#[derive(Clone, Debug)]
pub struct Origin {
    /// The (augmented) object, without its other objects.
    object: ObjectSample,
    /// In the image frame: the other objects' scribbles (negative) and the
    /// object's own, then any correction.
    strokes: Vec<Stroke>,
    /// The crop rule (context and smallest side) the example was drawn with.
    crop: CropRule,
    /// Whether positive strokes are drawn only inside the target and
    /// negative ones only outside it (not for a style whose strokes cross
    /// the outline: the network must see them as drawn).
    clip: bool,
    /// Whether the crop also spans the whole object, as the Segmenter's
    /// second pass does around its first answer.
    around_object: bool,
}

impl Origin {
    /// The crop around the positive strokes with the example's context;
    /// `None` without a positive stroke.
    fn window(&self) -> Option<Window> {
        let positive = self
            .strokes
            .iter()
            .filter(|s| s.polarity == Polarity::Positive)
            .flat_map(|s| s.points.iter().copied());
        if !self.around_object {
            return self.crop.around_points(positive);
        }
        let b = self.object.target.bounding_box()?;
        let corners = [
            Point::new(b.x0 as f32, b.y0 as f32),
            Point::new((b.x1 - 1) as f32, (b.y1 - 1) as f32),
        ];
        // Only with a positive stroke, as for the strokes' own window.
        let mut positive = positive.peekable();
        positive.peek()?;
        self.crop.around_points(positive.chain(corners))
    }

    /// The example these strokes give: every stroke drawn clipped to the
    /// target (positives inside it, negatives outside, so their order does
    /// not matter), told `previous` (an answer of the network's size) as
    /// seen from its crop. `None` when there is no positive stroke or the
    /// target misses the crop.
    fn example(self, size: usize, previous: Option<&LabelCrop>) -> Option<Example> {
        let window = self.window()?;
        let (w, h) = (self.object.target.width(), self.object.target.height());
        let previous = previous.map(|p| p.seen_from(&window, w, h));
        let (strokes, clip) = (&self.strokes, self.clip);
        let example = crop_example(&self.object, &window, size, |channel, transform, target| {
            for stroke in strokes {
                draw_stroke(
                    channel,
                    stroke,
                    transform,
                    DRAW_RADIUS,
                    clip.then_some(target),
                );
            }
        })?;
        Some(Example {
            origin: Some(self),
            previous,
            ..example
        })
    }

    /// The network's `answer` pasted back at full resolution as the
    /// Segmenter pastes it (0 outside its crop), ignored pixels set to the
    /// truth so that no correction is spent on them (as the evaluation
    /// protocol does).
    fn error_map(&self, answer: &LabelCrop) -> Plane {
        let (w, h) = (self.object.target.width(), self.object.target.height());
        let pasted = CropSegmentation {
            crops: vec![Some(answer.clone())],
            width: w,
            height: h,
            threshold: OBJECT_THRESHOLD,
        };
        let mut map = pasted.probabilities_in(0, Rect::new(0, 0, w, h));
        if let Some(ignore) = &self.object.ignore {
            clear_ignored_error(&mut map, &self.object.target, ignore);
        }
        map
    }

    /// The network's answer `crop` (its probabilities for this example's
    /// crop) with the window it answers for; `None` without a positive stroke.
    ///
    /// Panics unless `crop` is the network's [`INPUT_SIZE`] square.
    fn answer(&self, crop: &Plane) -> Option<LabelCrop> {
        assert_eq!(
            (crop.width(), crop.height()),
            (INPUT_SIZE, INPUT_SIZE),
            "a prediction of the network's size"
        );
        Some(LabelCrop {
            window: self.window()?,
            probabilities: crop.as_slice().to_vec(),
        })
    }
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
    let style = pick_style(&params.styles, rng);
    let positive: Vec<Stroke> = match params.kind {
        InputKind::Scribble if rng.random::<f32>() < params.click_probability => {
            vec![click(&sample.target, rng)?]
        }
        InputKind::Scribble => simulate_style(&sample.target, style, &params.scribble, rng).strokes,
        InputKind::Box => {
            let b = BoxPrompt::from_mask(&sample.target)?;
            vec![dot(b.min), dot(b.max)]
        }
        InputKind::Extremes => ExtremePoints::from_mask(&sample.target)?
            .points
            .map(dot)
            .to_vec(),
    };
    let crop = CropRule {
        context: rng.random_range(params.context.0..=params.context.1),
        min_side: params.min_side,
    };
    let window = || crop.around_points(positive.iter().flat_map(|s| s.points.iter().copied()));
    match params.kind {
        InputKind::Scribble => {
            let mut strokes = negative_scribbles(sample, style, params, rng);
            strokes.extend(positive);
            let object = ObjectSample {
                image: sample.image.clone(),
                target: sample.target.clone(),
                others: Vec::new(),
                ignore: sample.ignore.clone(),
                modality: sample.modality,
                label: sample.label.clone(),
            };
            Origin {
                object,
                strokes,
                crop,
                clip: !style.crosses_outline(),
                around_object: params.object_crop_probability > 0.0
                    && rng.random::<f32>() < params.object_crop_probability,
            }
            .example(size, None)
        }
        InputKind::Box => {
            let b = BoxPrompt::from_mask(&sample.target)?;
            crop_example(sample, &window()?, size, |channel, transform, _| {
                b.draw(channel, transform)
            })
        }
        InputKind::Extremes => {
            let e = ExtremePoints::from_mask(&sample.target)?;
            crop_example(sample, &window()?, size, |channel, transform, _| {
                e.draw(channel, transform, EXTREME_SIGMA)
            })
        }
    }
}

/// The crop of `sample`'s object at `window`, `size × size`, its
/// interaction channel drawn by `draw` (given the crop's transform and
/// target); `None` when the target misses the crop.
fn crop_example(
    sample: &ObjectSample,
    window: &Window,
    size: usize,
    draw: impl FnOnce(&mut Plane, Transform, &Mask),
) -> Option<Example> {
    let target = crop_mask(&sample.target, window, size, size);
    if target.is_empty() {
        return None;
    }
    let mut channel = Plane::new(size, size);
    draw(&mut channel, window.transform(size, size), &target);
    Some(Example {
        rgb: crop_rgb(&sample.image, window, size, size),
        channel,
        target,
        ignore: sample
            .ignore
            .as_ref()
            .map(|m| crop_mask(m, window, size, size)),
        previous: None,
        origin: None,
    })
}

/// Scribbles on up to `max_negative_objects` other objects, as negatives,
/// in the target's style — but a centre line where that style would put
/// strokes off the other object (around it, or across its outline), which
/// could land on the target.
fn negative_scribbles(
    sample: &ObjectSample,
    style: StrokeStyle,
    params: &ExampleParams,
    rng: &mut impl Rng,
) -> Vec<Stroke> {
    let style = match style {
        StrokeStyle::Surround | StrokeStyle::Crossing => StrokeStyle::Centre,
        other => other,
    };
    let mut order: Vec<usize> = (0..sample.others.len()).collect();
    rand::seq::SliceRandom::shuffle(order.as_mut_slice(), rng);
    order
        .into_iter()
        .take(params.max_negative_objects)
        .flat_map(|i| simulate_style(&sample.others[i], style, &params.scribble, rng).strokes)
        .map(|s| Stroke {
            points: s.points,
            polarity: Polarity::Negative,
        })
        .collect()
}

/// A style drawn in proportion to its weight (the paper's when there is
/// none). A single style takes nothing from `rng`, so a run with the paper's
/// style alone draws the same examples as before styles existed.
fn pick_style(styles: &[(StrokeStyle, f32)], rng: &mut impl Rng) -> StrokeStyle {
    if let [(style, _)] = styles {
        return *style;
    }
    let total: f32 = styles.iter().map(|&(_, w)| w.max(0.0)).sum();
    let mut u = rng.random::<f32>() * total;
    for &(style, w) in styles {
        if u < w.max(0.0) {
            return style;
        }
        u -= w.max(0.0);
    }
    styles.last().map_or(StrokeStyle::Paper, |&(s, _)| s)
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

/// `example` with a corrective scribble for `prediction` (the network's
/// probabilities for its crop), made as the evaluation protocol makes one
/// and seen as the Segmenter would see it: simulated from the error over
/// the whole object, then the example cropped again around all its positive
/// strokes. With `tell_previous`, the new example is told `prediction` as
/// the network's previous answer, as the Segmenter tells a network that
/// reads it ([`Segmenter::segment_sequence`](scribseg_model::Segmenter::segment_sequence)).
/// `None` when the error is too small for a correction, and for box and
/// extreme-point examples. Examples must be of the network's size,
/// [`INPUT_SIZE`].
pub fn corrected(
    example: &Example,
    prediction: &Plane,
    tell_previous: bool,
    rng: &mut impl Rng,
) -> Option<Example> {
    let origin = example.origin.as_ref()?;
    let answer = origin.answer(prediction)?;
    let error_map = origin.error_map(&answer);
    let params = CorrectiveParams::default();
    let correction = corrective_scribble(&origin.object.target, &error_map, &params, rng)?;
    let mut origin = origin.clone();
    origin.strokes.extend(correction.strokes);
    origin.example(example.target.width(), tell_previous.then_some(&answer))
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use scribseg_data::Modality;

    use super::*;

    /// A 300×100 image with a 260×20 bar, scribbled only at its left end
    /// (the crop spans x ≈ 11–59), optionally with the bar's part right of
    /// that crop ignored.
    fn bar(ignore_right: bool) -> Origin {
        let inside = |x: usize, y: usize| (20..280).contains(&x) && (40..60).contains(&y);
        let object = ObjectSample {
            image: RgbImage::from_fn(300, 100, |x, y| {
                let v = if inside(x as usize, y as usize) {
                    220
                } else {
                    30
                };
                image::Rgb([v, v, v])
            }),
            target: Mask::from_fn(300, 100, inside),
            others: Vec::new(),
            ignore: ignore_right.then(|| Mask::from_fn(300, 100, |x, _| x >= 60)),
            modality: Modality::Photo,
            label: "bar".into(),
        };
        Origin {
            object,
            strokes: vec![Stroke {
                points: vec![Point::new(25.0, 50.0), Point::new(45.0, 50.0)],
                polarity: Polarity::Positive,
            }],
            crop: CropRule {
                context: 0.4,
                min_side: SegmenterConfig::default().min_side,
            },
            clip: true,
            around_object: false,
        }
    }

    /// The example's own target as its prediction: right inside the crop,
    /// blind to the object outside it.
    fn perfect_in_crop(example: &Example) -> Plane {
        let t = &example.target;
        Plane::from_vec(
            t.width(),
            t.height(),
            t.as_slice().iter().map(|&v| f32::from(v)).collect(),
        )
        .expect("the crop's size")
    }

    #[test]
    fn a_correction_is_drawn_where_the_crop_missed_and_the_crop_follows_it() {
        let example = bar(false)
            .example(INPUT_SIZE, None)
            .expect("the bar is in the crop");
        let before = example
            .origin
            .as_ref()
            .and_then(Origin::window)
            .expect("a window");
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let after = corrected(&example, &perfect_in_crop(&example), true, &mut rng)
            .expect("most of the bar is missed: a correction");
        let origin = after.origin.as_ref().expect("a scribble example");
        let correction = &origin.strokes[1..];
        assert!(!correction.is_empty());
        assert!(correction.iter().all(|s| s.polarity == Polarity::Positive));
        // The error is all outside the first crop, so the correction is too…
        let right_of_crop = before.x0 + before.width;
        assert!(
            correction
                .iter()
                .flat_map(|s| &s.points)
                .all(|p| p.x >= right_of_crop - 1.0),
            "{correction:?} vs a crop ending at {right_of_crop}"
        );
        // …and the new crop spans both strokes, as the Segmenter's would.
        let window = origin.window().expect("a window");
        assert!(
            window.width > 2.0 * before.width,
            "{window:?} vs {before:?}"
        );
        let inside = |p: &Point| {
            (window.x0..=window.x0 + window.width).contains(&p.x)
                && (window.y0..=window.y0 + window.height).contains(&p.y)
        };
        assert!(origin.strokes.iter().flat_map(|s| &s.points).all(inside));
        assert_eq!(after.target.width(), INPUT_SIZE);
        // Told the first answer: the bar inside the first crop, nothing past it.
        let previous = after.previous.as_ref().expect("told the first answer");
        let t = window.transform(INPUT_SIZE, INPUT_SIZE);
        let at = |x: f32, y: f32| {
            let p = t.apply(Point::new(x, y));
            previous.get(p.x.round() as usize, p.y.round() as usize)
        };
        assert!(at(35.0, 50.0) > 0.9, "{}", at(35.0, 50.0));
        assert_eq!(at(35.0, 20.0), 0.0, "above the bar");
        assert_eq!(at(200.0, 50.0), 0.0, "past the first crop");
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let untold = corrected(&example, &perfect_in_crop(&example), false, &mut rng)
            .expect("the same correction");
        assert!(untold.previous.is_none());
        assert_eq!(untold.channel, after.channel, "the same strokes either way");
    }

    #[test]
    fn ignored_pixels_take_no_correction() {
        let example = bar(true)
            .example(INPUT_SIZE, None)
            .expect("the bar is in the crop");
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        assert!(corrected(&example, &perfect_in_crop(&example), true, &mut rng).is_none());
    }

    #[test]
    fn box_examples_take_no_correction() {
        let origin = bar(false);
        let params = ExampleParams {
            kind: InputKind::Box,
            ..ExampleParams::default()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let example =
            make_example(&origin.object, &params, INPUT_SIZE, &mut rng).expect("an example");
        assert!(example.origin.is_none());
        let empty = Plane::new(INPUT_SIZE, INPUT_SIZE);
        assert!(corrected(&example, &empty, true, &mut rng).is_none());
    }

    #[test]
    fn an_object_crop_spans_the_object_a_stroke_crop_cuts() {
        let mut origin = bar(false);
        let stroke_crop = origin.window().expect("a window");
        assert!(
            stroke_crop.x0 + stroke_crop.width < 100.0,
            "{stroke_crop:?}"
        );
        origin.around_object = true;
        let object_crop = origin.window().expect("a window");
        // The bar spans x 20–279: all of it, with the context on each side.
        assert!(object_crop.x0 < 20.0 && object_crop.x0 + object_crop.width > 280.0);
        let example = origin
            .example(INPUT_SIZE, None)
            .expect("the bar is in the crop");
        // A 468-px square from x = −84: the bar covers crop columns 28–99.
        let row = INPUT_SIZE as isize / 2;
        let cells = |x: isize| example.target.get(x, row);
        assert!(cells(30) && cells(97) && !cells(25) && !cells(102));
    }

    #[test]
    fn crossing_strokes_reach_the_network_unclipped() {
        let mut origin = bar(false);
        // From inside the bar (y 40–59) across its top edge.
        origin.strokes[0].points = vec![Point::new(35.0, 50.0), Point::new(35.0, 25.0)];
        let outside_value = |origin: Origin| {
            let example = origin.example(INPUT_SIZE, None).expect("an example");
            let (c, t) = (&example.channel, &example.target);
            (0..INPUT_SIZE * INPUT_SIZE)
                .filter(|&i| t.as_slice()[i] == 0 && c.as_slice()[i] > 0.0)
                .count()
        };
        assert_eq!(outside_value(origin.clone()), 0, "clipped to the target");
        origin.clip = false;
        assert!(outside_value(origin) > 0, "drawn as given");
    }
}

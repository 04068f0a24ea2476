//! The click protocol of RITM, FocalClick, SimpleClick and SAM (NoC).
//!
//! Starting from an empty prediction, each click goes to the pixel farthest
//! from the boundary of the larger error region: false negatives and false
//! positives (ignored pixels excluded) are each padded by a 1-pixel zero
//! border and given an exact Euclidean distance transform; already-clicked
//! pixels are zeroed; the click is positive when the largest false-negative
//! distance exceeds the largest false-positive one, and sits at the first
//! pixel (row-major) holding that maximum.

use scribseg_sim::{distance_to_background, Mask, Plane, Point, Polarity, Stroke};

use crate::error::Result;
use crate::object::EvalObject;
use crate::predictor::{Interaction, Predictor};
use crate::trace::{scored_call, Stop, Trace};

/// Parameters of the click protocol.
#[derive(Clone, Debug, PartialEq)]
pub struct ClickProtocol {
    /// At most this many clicks (the field's 20).
    pub max_clicks: usize,
    /// Stop once the IoU reaches this (the highest NoC threshold, 0.90).
    pub stop_iou: f64,
}

impl Default for ClickProtocol {
    fn default() -> Self {
        Self {
            max_clicks: 20,
            stop_iou: 0.90,
        }
    }
}

/// A click at pixel `(x, y)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Click {
    /// Column.
    pub x: usize,
    /// Row.
    pub y: usize,
    /// Positive (object) or negative (background).
    pub polarity: Polarity,
}

impl Click {
    /// The click as a one-point stroke, the form predictors receive.
    pub fn to_stroke(self) -> Stroke {
        Stroke {
            points: vec![Point::new(self.x as f32, self.y as f32)],
            polarity: self.polarity,
        }
    }
}

/// The next click for `prediction`, or `None` when every error pixel has
/// been clicked already (or there is no error).
///
/// `clicked` marks the pixels clicked so far.
pub fn next_click(
    truth: &Mask,
    ignore: Option<&Mask>,
    prediction: &Mask,
    clicked: &Mask,
) -> Option<Click> {
    let (w, h) = (truth.width(), truth.height());
    let region = |wanted: bool| -> Vec<f32> {
        let error = Mask::from_fn(w, h, |x, y| {
            let i = y * w + x;
            let (t, p) = (truth.as_slice()[i] != 0, prediction.as_slice()[i] != 0);
            t == wanted && p != wanted && ignore.is_none_or(|m| m.as_slice()[i] == 0)
        });
        let mut d = padded_distance(&error);
        for (v, &c) in d.iter_mut().zip(clicked.as_slice()) {
            if c != 0 {
                *v = 0.0;
            }
        }
        d
    };
    let (false_negative, false_positive) = (region(true), region(false));
    let max = |d: &[f32]| d.iter().copied().fold(0.0f32, f32::max);
    let (fn_max, fp_max) = (max(&false_negative), max(&false_positive));
    let (distances, top, polarity) = if fn_max > fp_max {
        (false_negative, fn_max, Polarity::Positive)
    } else {
        (false_positive, fp_max, Polarity::Negative)
    };
    if top <= 0.0 {
        return None;
    }
    let i = distances.iter().position(|&d| d == top)?;
    Some(Click {
        x: i % w,
        y: i / w,
        polarity,
    })
}

/// For each pixel of `region`, the exact Euclidean distance to the nearest
/// pixel outside it, the image padded by a 1-pixel zero border (0 outside
/// the region).
///
/// Computed on the region's bounding box grown by one pixel: that ring is
/// all background, and clamping any farther background pixel onto it
/// brings it closer, so the result equals the transform of the whole padded
/// image at a fraction of its cost once the error is small.
fn padded_distance(region: &Mask) -> Vec<f32> {
    let (w, h) = (region.width(), region.height());
    let mut out = vec![0.0; w * h];
    let Some(r) = region.bounding_box() else {
        return out;
    };
    let (cw, ch) = (r.width() + 2, r.height() + 2);
    let crop = Mask::from_fn(cw, ch, |x, y| {
        region.get((r.x0 + x) as isize - 1, (r.y0 + y) as isize - 1)
    });
    let d = distance_to_background(&crop);
    for y in r.y0..r.y1 {
        let from = (y - r.y0 + 1) * cw + 1;
        out[y * w + r.x0..y * w + r.x1].copy_from_slice(&d[from..from + r.width()]);
    }
    out
}

/// Runs the click protocol on `object`: clicks until the IoU reaches
/// `stop_iou` or `max_clicks` were made.
pub fn run_clicks(
    predictor: &mut dyn Predictor,
    object: &EvalObject,
    protocol: &ClickProtocol,
) -> Result<Trace> {
    let (w, h) = (object.truth.width(), object.truth.height());
    let mut map = Plane::new(w, h);
    let mut clicked = Mask::new(w, h);
    let mut strokes = Vec::new();
    let mut steps = Vec::new();
    let stop = loop {
        if steps.len() == protocol.max_clicks {
            break Stop::Budget;
        }
        let prediction = map.threshold(predictor.threshold());
        let Some(click) = next_click(&object.truth, object.ignore.as_ref(), &prediction, &clicked)
        else {
            break Stop::NoErrorLeft;
        };
        clicked.set(click.x, click.y, true);
        strokes.push(click.to_stroke());
        let previous = (!steps.is_empty()).then_some(&map);
        let interaction = Interaction::Strokes(strokes.clone());
        let (step, next) = scored_call(predictor, object, &interaction, 1, previous)?;
        map = next;
        let reached = step.iou >= protocol.stop_iou;
        steps.push(step);
        if reached {
            break Stop::Reached;
        }
    };
    Ok(Trace {
        steps,
        strokes,
        stop,
        map,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(rows: &[&str]) -> Mask {
        Mask::from_fn(rows[0].len(), rows.len(), |x, y| {
            rows[y].as_bytes()[x] == b'#'
        })
    }

    /// The obvious version: the whole image padded by one pixel.
    fn reference_padded_distance(region: &Mask) -> Vec<f32> {
        let (w, h) = (region.width(), region.height());
        let padded = Mask::from_fn(w + 2, h + 2, |x, y| {
            region.get(x as isize - 1, y as isize - 1)
        });
        let d = distance_to_background(&padded);
        (0..w * h)
            .map(|i| d[(i / w + 1) * (w + 2) + i % w + 1])
            .collect()
    }

    #[test]
    fn cropped_distance_equals_the_whole_padded_transform() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for case in 0..200 {
            let (w, h) = (rng.random_range(1..24), rng.random_range(1..24));
            let density = rng.random_range(0.0..1.0);
            // Blobs in a random sub-rectangle, sometimes touching the border.
            let (x0, y0) = (rng.random_range(0..w), rng.random_range(0..h));
            let region = Mask::from_fn(w, h, |x, y| x >= x0 && y >= y0 && rng.random_bool(density));
            assert_eq!(
                padded_distance(&region),
                reference_padded_distance(&region),
                "case {case}: {w}x{h}"
            );
        }
    }

    #[test]
    fn clicks_follow_the_farthest_error_pixel() {
        // (truth, prediction, clicked, ignore, expected click)
        type Case<'a> = (
            &'a [&'a str],
            &'a [&'a str],
            &'a [&'a str],
            Option<&'a [&'a str]>,
            Option<(usize, usize, Polarity)>,
        );
        let cases: &[Case] = &[
            // Empty prediction: the deepest object pixel, first in row-major order.
            (
                &[".....", ".###.", ".###.", ".###.", "....."],
                &[".....", ".....", ".....", ".....", "....."],
                &[".....", ".....", ".....", ".....", "....."],
                None,
                Some((2, 2, Polarity::Positive)),
            ),
            // Padding: an object touching the border is still 1 px from it there.
            (
                &["###", "###", "..."],
                &["...", "...", "..."],
                &["...", "...", "..."],
                None,
                Some((0, 0, Polarity::Positive)),
            ),
            // The centre already clicked: a pixel at the next largest distance.
            (
                &[".....", ".###.", ".###.", ".###.", "....."],
                &[".....", ".....", ".....", ".....", "....."],
                &[".....", ".....", "..#..", ".....", "....."],
                None,
                Some((1, 1, Polarity::Positive)),
            ),
            // A larger false-positive blob wins: negative click.
            (
                &["#.....", "......", "......"],
                &["#.###.", "..###.", "..###."],
                &["......", "......", "......"],
                None,
                Some((3, 1, Polarity::Negative)),
            ),
            // Ties go to the negative click (FN must strictly exceed FP).
            (
                &["#.....", "......"],
                &["....#.", "......"],
                &["......", "......"],
                None,
                Some((4, 0, Polarity::Negative)),
            ),
            // The only error is ignored: nothing to click.
            (
                &["##..", "##.."],
                &["###.", "###."],
                &["....", "...."],
                Some(&["..#.", "..#."]),
                None,
            ),
            // No error at all.
            (&["#.", ".."], &["#.", ".."], &["..", ".."], None, None),
        ];
        for (i, (t, p, c, ig, expected)) in cases.iter().enumerate() {
            let ignore = ig.map(mask);
            let got = next_click(&mask(t), ignore.as_ref(), &mask(p), &mask(c));
            let got = got.map(|k| (k.x, k.y, k.polarity));
            assert_eq!(got, *expected, "case {i}");
        }
    }
}

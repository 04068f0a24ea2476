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
use crate::object::{EvalObject, THRESHOLD};
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
    let counts = |i: usize| ignore.is_none_or(|m| m.as_slice()[i] == 0);
    let region = |wanted: bool| -> Vec<f32> {
        let padded = Mask::from_fn(w + 2, h + 2, |x, y| {
            if x == 0 || y == 0 || x > w || y > h {
                return false;
            }
            let i = (y - 1) * w + (x - 1);
            let (t, p) = (truth.as_slice()[i] != 0, prediction.as_slice()[i] != 0);
            t == wanted && p != wanted && counts(i)
        });
        let d = distance_to_background(&padded);
        (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                if clicked.as_slice()[i] != 0 {
                    0.0
                } else {
                    d[(y + 1) * (w + 2) + x + 1]
                }
            })
            .collect()
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
        let prediction = map.threshold(THRESHOLD);
        let Some(click) = next_click(&object.truth, object.ignore.as_ref(), &prediction, &clicked)
        else {
            break Stop::NoErrorLeft;
        };
        clicked.set(click.x, click.y, true);
        strokes.push(click.to_stroke());
        let (step, next) =
            scored_call(predictor, object, &Interaction::Strokes(strokes.clone()), 1)?;
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

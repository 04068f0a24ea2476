//! Strokes and their rasterisation into a scribble channel.
//!
//! A scribble is kept as geometry (polylines in the source frame) so it can
//! be drawn at any resolution: into the label's own frame for a preview, or
//! straight into the network's 128×128 crop through a [`Transform`].

use crate::geometry::{Point, Transform};
use crate::mask::{Mask, Plane};

/// The brush radius, in target pixels, the paper draws scribbles with.
pub const DRAW_RADIUS: f32 = 2.0;

/// Whether a stroke marks the label (positive) or not-the-label (negative).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Polarity {
    /// Drawn on the object: +1 in the scribble channel.
    Positive,
    /// Drawn on what is not the object: −1 in the scribble channel.
    Negative,
}

impl Polarity {
    /// The value this polarity writes into the scribble channel.
    pub fn value(self) -> f32 {
        match self {
            Polarity::Positive => 1.0,
            Polarity::Negative => -1.0,
        }
    }
}

/// One stroke: a polyline (a single point is a dot) with a polarity.
#[derive(Clone, Debug, PartialEq)]
pub struct Stroke {
    /// The polyline's vertices in the source frame.
    pub points: Vec<Point>,
    /// Positive or negative.
    pub polarity: Polarity,
}

/// A set of strokes, as simulated for one label.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scribble {
    /// The strokes, in drawing order.
    pub strokes: Vec<Stroke>,
}

impl Scribble {
    /// Whether there is no stroke.
    pub fn is_empty(&self) -> bool {
        self.strokes.is_empty()
    }

    /// Draws every stroke into `plane` (see [`draw_stroke`]).
    pub fn draw(&self, plane: &mut Plane, transform: Transform, radius: f32, clip: Option<&Mask>) {
        for stroke in &self.strokes {
            draw_stroke(plane, stroke, transform, radius, clip);
        }
    }

    /// Renders the scribble in the source frame with the paper's radius,
    /// clipped to `label` (positive strokes) or its complement (negative).
    pub fn render(&self, label: &Mask) -> Plane {
        let mut plane = Plane::new(label.width(), label.height());
        self.draw(&mut plane, Transform::IDENTITY, DRAW_RADIUS, Some(label));
        plane
    }
}

/// Draws `stroke` into `plane`: every pixel whose centre lies within
/// `radius` (target pixels) of the transformed polyline gets the stroke's
/// polarity value, later strokes overwriting earlier ones.
///
/// With `clip` (a mask in the *target* frame, usually the label), positive
/// strokes only touch pixels inside it and negative strokes only pixels
/// outside it. The paper's authors mask their simulated scribbles the same
/// way; it keeps a radius-2 brush on a 1-pixel-wide structure from painting
/// the background as object.
pub fn draw_stroke(
    plane: &mut Plane,
    stroke: &Stroke,
    transform: Transform,
    radius: f32,
    clip: Option<&Mask>,
) {
    let points: Vec<Point> = stroke.points.iter().map(|&p| transform.apply(p)).collect();
    let value = stroke.polarity.value();
    let keep = |x: usize, y: usize| match clip {
        None => true,
        Some(m) => m.get(x as isize, y as isize) == (stroke.polarity == Polarity::Positive),
    };
    match points.as_slice() {
        [] => {}
        [p] => paint_segment(plane, *p, *p, radius, value, keep),
        _ => {
            for w in points.windows(2) {
                paint_segment(plane, w[0], w[1], radius, value, keep);
            }
        }
    }
}

/// Sets every pixel within `radius` of the segment `a–b` that `keep` allows.
fn paint_segment(
    plane: &mut Plane,
    a: Point,
    b: Point,
    radius: f32,
    value: f32,
    keep: impl Fn(usize, usize) -> bool,
) {
    let (w, h) = (plane.width() as isize, plane.height() as isize);
    let x0 = ((a.x.min(b.x) - radius).floor() as isize).max(0);
    let x1 = ((a.x.max(b.x) + radius).ceil() as isize).min(w - 1);
    let y0 = ((a.y.min(b.y) - radius).floor() as isize).max(0);
    let y1 = ((a.y.max(b.y) + radius).ceil() as isize).min(h - 1);
    if x0 > x1 || y0 > y1 {
        return;
    }
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let len2 = dx * dx + dy * dy;
    let r2 = radius * radius;
    let width = plane.width();
    let data = plane.as_mut_slice();
    for y in y0..=y1 {
        for x in x0..=x1 {
            let (px, py) = (x as f32 - a.x, y as f32 - a.y);
            let t = if len2 > 0.0 {
                ((px * dx + py * dy) / len2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let (ex, ey) = (px - t * dx, py - t * dy);
            if ex * ex + ey * ey <= r2 && keep(x as usize, y as usize) {
                data[y as usize * width + x as usize] = value;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn positive(points: Vec<Point>) -> Stroke {
        Stroke {
            points,
            polarity: Polarity::Positive,
        }
    }

    #[test]
    fn a_dot_is_a_disk_of_radius_two() {
        let mut p = Plane::new(9, 9);
        draw_stroke(
            &mut p,
            &positive(vec![Point::new(4.0, 4.0)]),
            Transform::IDENTITY,
            2.0,
            None,
        );
        let painted = p.as_slice().iter().filter(|&&v| v == 1.0).count();
        assert_eq!(painted, 13);
    }

    #[test]
    fn a_horizontal_line_is_five_rows_thick() {
        let mut p = Plane::new(20, 9);
        let s = positive(vec![Point::new(3.0, 4.0), Point::new(15.0, 4.0)]);
        draw_stroke(&mut p, &s, Transform::IDENTITY, 2.0, None);
        for y in 0..9 {
            assert_eq!(p.get(9, y) == 1.0, (2..=6).contains(&y), "row {y}");
        }
    }

    #[test]
    fn clip_confines_polarity() {
        let label = Mask::from_fn(20, 20, |x, _| x < 10);
        let mut p = Plane::new(20, 20);
        let line = vec![Point::new(0.0, 10.0), Point::new(19.0, 10.0)];
        draw_stroke(
            &mut p,
            &positive(line.clone()),
            Transform::IDENTITY,
            2.0,
            Some(&label),
        );
        assert_eq!(p.get(5, 10), 1.0);
        assert_eq!(p.get(15, 10), 0.0);
        let neg = Stroke {
            points: line,
            polarity: Polarity::Negative,
        };
        draw_stroke(&mut p, &neg, Transform::IDENTITY, 2.0, Some(&label));
        assert_eq!(p.get(5, 10), 1.0);
        assert_eq!(p.get(15, 10), -1.0);
    }

    #[test]
    fn transform_scales_into_a_smaller_frame() {
        let mut p = Plane::new(10, 10);
        let t = Transform::crop_resize(crate::Rect::new(0, 0, 100, 100), 10, 10);
        draw_stroke(
            &mut p,
            &positive(vec![Point::new(54.5, 54.5)]),
            t,
            0.5,
            None,
        );
        assert_eq!(p.get(5, 5), 1.0);
        assert_eq!(p.as_slice().iter().filter(|&&v| v != 0.0).count(), 1);
    }

    #[test]
    fn strokes_off_the_canvas_are_ignored() {
        let mut p = Plane::new(5, 5);
        draw_stroke(
            &mut p,
            &positive(vec![Point::new(-50.0, -50.0)]),
            Transform::IDENTITY,
            2.0,
            None,
        );
        assert!(p.as_slice().iter().all(|&v| v == 0.0));
    }
}

//! The paper's baselines' inputs, rendered into the same fourth channel:
//! the ground-truth bounding box and the four extreme points.

use crate::draw::{draw_stroke, Polarity, Stroke};
use crate::geometry::{Point, Transform};
use crate::mask::{Mask, Plane};

/// Width (radius, target pixels) of the box outline, as the authors' box
/// baseline draws it.
pub const BOX_LINE_RADIUS: f32 = 2.0;

/// Standard deviation (target pixels) of the extreme-point Gaussians: DEXTR
/// uses σ = 10 on 512-pixel crops, which is 2.5 at the network's 128.
pub const EXTREME_SIGMA: f32 = 2.5;

/// The label's bounding box as a prompt: the centres of its extreme pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BoxPrompt {
    /// Top-left corner (centre of the top-left extreme pixel).
    pub min: Point,
    /// Bottom-right corner (centre of the bottom-right extreme pixel).
    pub max: Point,
}

impl BoxPrompt {
    /// The box of `label`, `None` for an empty label.
    pub fn from_mask(label: &Mask) -> Option<Self> {
        let r = label.bounding_box()?;
        Some(Self {
            min: Point::new(r.x0 as f32, r.y0 as f32),
            max: Point::new((r.x1 - 1) as f32, (r.y1 - 1) as f32),
        })
    }

    /// Draws the box outline (value 1) into `plane`.
    pub fn draw(&self, plane: &mut Plane, transform: Transform) {
        let outline = Stroke {
            points: vec![
                self.min,
                Point::new(self.max.x, self.min.y),
                self.max,
                Point::new(self.min.x, self.max.y),
                self.min,
            ],
            polarity: Polarity::Positive,
        };
        draw_stroke(plane, &outline, transform, BOX_LINE_RADIUS, None);
    }
}

/// The four extreme points of a label (DEXTR): left-, top-, right- and
/// bottom-most pixels. Where several pixels tie, the middle one is taken.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExtremePoints {
    /// Left, top, right, bottom.
    pub points: [Point; 4],
}

impl ExtremePoints {
    /// The extreme points of `label`, `None` for an empty label.
    pub fn from_mask(label: &Mask) -> Option<Self> {
        let r = label.bounding_box()?;
        let column = |x: usize| -> Point {
            let ys: Vec<usize> = (r.y0..r.y1)
                .filter(|&y| label.get(x as isize, y as isize))
                .collect();
            Point::new(x as f32, ys[ys.len() / 2] as f32)
        };
        let row = |y: usize| -> Point {
            let xs: Vec<usize> = (r.x0..r.x1)
                .filter(|&x| label.get(x as isize, y as isize))
                .collect();
            Point::new(xs[xs.len() / 2] as f32, y as f32)
        };
        Some(Self {
            points: [column(r.x0), row(r.y0), column(r.x1 - 1), row(r.y1 - 1)],
        })
    }

    /// Draws a Gaussian of standard deviation `sigma` (target pixels) at
    /// each point into `plane`, keeping the maximum (values in `[0, 1]`).
    pub fn draw(&self, plane: &mut Plane, transform: Transform, sigma: f32) {
        let (w, h) = (plane.width(), plane.height());
        let reach = 3.0 * sigma;
        let inv = 1.0 / (2.0 * sigma * sigma);
        for p in self.points.map(|p| transform.apply(p)) {
            let x0 = (p.x - reach).floor().max(0.0) as usize;
            let y0 = (p.y - reach).floor().max(0.0) as usize;
            let x1 = ((p.x + reach).ceil().max(-1.0) as isize).min(w as isize - 1);
            let y1 = ((p.y + reach).ceil().max(-1.0) as isize).min(h as isize - 1);
            for y in y0 as isize..=y1 {
                for x in x0 as isize..=x1 {
                    let d2 = (x as f32 - p.x).powi(2) + (y as f32 - p.y).powi(2);
                    let v = &mut plane.as_mut_slice()[y as usize * w + x as usize];
                    *v = v.max((-d2 * inv).exp());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A diamond centred at (10, 8): extreme points are its four tips.
    fn diamond() -> Mask {
        Mask::from_fn(21, 17, |x, y| {
            (x as i32 - 10).abs() + (y as i32 - 8).abs() <= 6
        })
    }

    #[test]
    fn extreme_points_of_a_diamond_are_its_tips() {
        let e = ExtremePoints::from_mask(&diamond()).unwrap();
        assert_eq!(
            e.points,
            [
                Point::new(4.0, 8.0),
                Point::new(10.0, 2.0),
                Point::new(16.0, 8.0),
                Point::new(10.0, 14.0)
            ]
        );
    }

    #[test]
    fn gaussians_peak_at_the_points() {
        let e = ExtremePoints::from_mask(&diamond()).unwrap();
        let mut p = Plane::new(21, 17);
        e.draw(&mut p, Transform::IDENTITY, EXTREME_SIGMA);
        assert!((p.get(4, 8) - 1.0).abs() < 1e-6);
        // The centre is 6 px from the nearest tips: exp(−36 / (2·2.5²)).
        assert!((p.get(10, 8) - (-36.0f32 / 12.5).exp()).abs() < 1e-6);
        assert!(p.get(5, 8) > 0.9 && p.get(5, 8) < 1.0);
    }

    #[test]
    fn box_outline_is_drawn_on_the_bounding_box() {
        let b = BoxPrompt::from_mask(&diamond()).unwrap();
        assert_eq!(
            (b.min, b.max),
            (Point::new(4.0, 2.0), Point::new(16.0, 14.0))
        );
        let mut p = Plane::new(21, 17);
        b.draw(&mut p, Transform::IDENTITY);
        assert_eq!(p.get(4, 8), 1.0);
        assert_eq!(p.get(10, 2), 1.0);
        assert_eq!(p.get(10, 8), 0.0, "inside of the box stays empty");
    }

    #[test]
    fn empty_labels_have_no_prompt() {
        assert!(BoxPrompt::from_mask(&Mask::new(3, 3)).is_none());
        assert!(ExtremePoints::from_mask(&Mask::new(3, 3)).is_none());
    }

    #[test]
    fn renders_at_another_resolution() {
        let e = ExtremePoints::from_mask(&diamond()).unwrap();
        let t = Transform::crop_resize(crate::Rect::new(0, 0, 21, 17), 42, 34);
        let mut p = Plane::new(42, 34);
        e.draw(&mut p, t, EXTREME_SIGMA);
        let peak = t.apply(Point::new(4.0, 8.0));
        let v = p.get(peak.x.round() as usize, peak.y.round() as usize);
        assert!(v > 0.9, "{v}");
    }
}

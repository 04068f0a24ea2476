//! Clamped uniform B-splines through a path's points.
//!
//! The paper fits a B-spline to the x- and y-coordinates of each path. We use
//! the path's points as control points of a clamped uniform B-spline of degree
//! `min(3, points − 1)`: the curve starts and ends on the end points, stays in
//! the convex hull of every four consecutive points (so it cannot wander far
//! from the label), and rounds the MST's corners the way a hand does.

use crate::geometry::Point;

/// Samples the B-spline with control points `control` at least every
/// `spacing` pixels (measured along the control polygon).
pub fn sample_bspline(control: &[Point], spacing: f32) -> Vec<Point> {
    match control.len() {
        0 => return Vec::new(),
        1 => return control.to_vec(),
        _ => {}
    }
    let degree = (control.len() - 1).min(3);
    let n = control.len();
    // Clamped uniform knots: degree+1 zeros, interior knots, degree+1 ones.
    let interior = n - degree - 1;
    let mut knots = vec![0.0f32; degree + 1];
    knots.extend((1..=interior).map(|i| i as f32 / (interior + 1) as f32));
    knots.extend(std::iter::repeat_n(1.0f32, degree + 1));

    let polygon: f32 = control.windows(2).map(|w| w[0].distance(w[1])).sum();
    let samples = ((polygon / spacing.max(1e-3)).ceil() as usize).max(1);
    (0..=samples)
        .map(|i| de_boor(control, &knots, degree, i as f32 / samples as f32))
        .collect()
}

/// Evaluates the spline at `t ∈ [0, 1]` with de Boor's algorithm.
fn de_boor(control: &[Point], knots: &[f32], degree: usize, t: f32) -> Point {
    let n = control.len();
    // The knot span k with knots[k] <= t < knots[k+1], clamped to the last span at t = 1.
    let k = (degree..n)
        .rfind(|&k| knots[k] <= t)
        .unwrap_or(degree)
        .min(n - 1);
    let mut d: Vec<Point> = (0..=degree).map(|j| control[j + k - degree]).collect();
    for r in 1..=degree {
        for j in (r..=degree).rev() {
            let i = j + k - degree;
            let denom = knots[i + degree + 1 - r] - knots[i];
            let alpha = if denom > 0.0 {
                (t - knots[i]) / denom
            } else {
                0.0
            };
            d[j] = Point::new(
                (1.0 - alpha) * d[j - 1].x + alpha * d[j].x,
                (1.0 - alpha) * d[j - 1].y + alpha * d[j].y,
            );
        }
    }
    d[degree]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_on_the_end_points() {
        let c = [
            Point::new(0.0, 0.0),
            Point::new(10.0, 20.0),
            Point::new(30.0, 5.0),
            Point::new(40.0, 40.0),
            Point::new(60.0, 10.0),
        ];
        let s = sample_bspline(&c, 1.0);
        assert!(s[0].distance(c[0]) < 1e-4);
        assert!(s.last().unwrap().distance(c[4]) < 1e-4);
        // Dense: consecutive samples are close.
        for w in s.windows(2) {
            assert!(w[0].distance(w[1]) < 2.0);
        }
    }

    #[test]
    fn two_points_give_the_segment() {
        let s = sample_bspline(&[Point::new(0.0, 0.0), Point::new(10.0, 0.0)], 1.0);
        assert_eq!(s.len(), 11);
        assert!(s.iter().all(|p| p.y == 0.0));
        assert!((s[5].x - 5.0).abs() < 1e-5);
    }

    #[test]
    fn stays_in_the_control_hull() {
        let c = [
            Point::new(0.0, 0.0),
            Point::new(10.0, 10.0),
            Point::new(20.0, 0.0),
            Point::new(30.0, 10.0),
        ];
        for p in sample_bspline(&c, 0.5) {
            assert!(p.y >= -1e-4 && p.y <= 10.0 + 1e-4 && p.x >= -1e-4 && p.x <= 30.0 + 1e-4);
        }
    }
}

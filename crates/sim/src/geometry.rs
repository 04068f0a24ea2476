//! Points, rectangles and the crop-and-resize transform between pixel frames.

/// A point in continuous pixel coordinates: the centre of pixel `(x, y)` is
/// `Point { x: x as f32, y: y as f32 }`.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Point {
    /// Column coordinate.
    pub x: f32,
    /// Row coordinate.
    pub y: f32,
}

impl Point {
    /// A point at `(x, y)`.
    pub const fn new(x: f32, y: f32) -> Self {
        Self { x, y }
    }

    /// Euclidean distance to `other`.
    pub fn distance(self, other: Point) -> f32 {
        ((self.x - other.x).powi(2) + (self.y - other.y).powi(2)).sqrt()
    }
}

/// A half-open pixel rectangle `[x0, x1) × [y0, y1)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rect {
    /// First column.
    pub x0: usize,
    /// First row.
    pub y0: usize,
    /// One past the last column.
    pub x1: usize,
    /// One past the last row.
    pub y1: usize,
}

impl Rect {
    /// The rectangle `[x0, x1) × [y0, y1)`.
    pub const fn new(x0: usize, y0: usize, x1: usize, y1: usize) -> Self {
        Self { x0, y0, x1, y1 }
    }

    /// Width in pixels.
    pub const fn width(&self) -> usize {
        self.x1 - self.x0
    }

    /// Height in pixels.
    pub const fn height(&self) -> usize {
        self.y1 - self.y0
    }

    /// Number of pixels.
    pub const fn area(&self) -> usize {
        self.width() * self.height()
    }

    /// The smallest rectangle holding both.
    pub fn union(&self, other: &Rect) -> Rect {
        Rect {
            x0: self.x0.min(other.x0),
            y0: self.y0.min(other.y0),
            x1: self.x1.max(other.x1),
            y1: self.y1.max(other.y1),
        }
    }

    /// The pixels both hold, or `None` when they do not overlap.
    pub fn intersection(&self, other: &Rect) -> Option<Rect> {
        let r = Rect {
            x0: self.x0.max(other.x0),
            y0: self.y0.max(other.y0),
            x1: self.x1.min(other.x1),
            y1: self.y1.min(other.y1),
        };
        (r.x0 < r.x1 && r.y0 < r.y1).then_some(r)
    }

    /// Grows the rectangle by `margin` on every side, clipped to `width × height`.
    pub fn expand(&self, margin: usize, width: usize, height: usize) -> Rect {
        Rect {
            x0: self.x0.saturating_sub(margin),
            y0: self.y0.saturating_sub(margin),
            x1: (self.x1 + margin).min(width),
            y1: (self.y1 + margin).min(height),
        }
    }
}

/// An axis-aligned map from one pixel frame to another (`x' = x·sx + tx`).
///
/// The simulator works in the mask's own frame; the network sees a crop
/// resized to 128×128. [`Transform::crop_resize`] maps the first to the
/// second so that strokes and encodings are drawn directly at the target
/// resolution, with pixel centres kept consistent.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Transform {
    /// Horizontal scale.
    pub sx: f32,
    /// Vertical scale.
    pub sy: f32,
    /// Horizontal offset.
    pub tx: f32,
    /// Vertical offset.
    pub ty: f32,
}

impl Transform {
    /// The identity.
    pub const IDENTITY: Transform = Transform {
        sx: 1.0,
        sy: 1.0,
        tx: 0.0,
        ty: 0.0,
    };

    /// Maps the crop `rect` of a source frame onto a `width × height` target.
    ///
    /// Pixel edges line up: the source pixel edge at `rect.x0` maps to the
    /// target edge at 0 and `rect.x1` to `width`, so the centre of source
    /// pixel `x` lands at `(x − x0 + ½)·width/rect.width − ½`, the same
    /// convention as bilinear resizing with `align_corners = false`.
    pub fn crop_resize(rect: Rect, width: usize, height: usize) -> Transform {
        let sx = width as f32 / rect.width().max(1) as f32;
        let sy = height as f32 / rect.height().max(1) as f32;
        Transform {
            sx,
            sy,
            tx: (0.5 - rect.x0 as f32) * sx - 0.5,
            ty: (0.5 - rect.y0 as f32) * sy - 0.5,
        }
    }

    /// Maps a point.
    #[inline]
    pub fn apply(&self, p: Point) -> Point {
        Point::new(p.x * self.sx + self.tx, p.y * self.sy + self.ty)
    }

    /// The geometric mean of the two scales: how much a length grows.
    pub fn mean_scale(&self) -> f32 {
        (self.sx * self.sy).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_holds_both_rectangles() {
        let a = Rect::new(2, 5, 6, 7);
        let b = Rect::new(4, 1, 9, 6);
        assert_eq!(a.union(&b), Rect::new(2, 1, 9, 7));
        assert_eq!(b.union(&a), a.union(&b));
        assert_eq!(a.union(&a), a);
    }

    #[test]
    fn intersection_is_the_shared_pixels_or_none() {
        let (a, b) = (Rect::new(2, 1, 6, 5), Rect::new(4, 3, 9, 7));
        assert_eq!(a.intersection(&b), Some(Rect::new(4, 3, 6, 5)));
        assert_eq!(b.intersection(&a), a.intersection(&b));
        assert_eq!(a.intersection(&a), Some(a));
        // Touching edges share no pixel.
        assert_eq!(a.intersection(&Rect::new(6, 1, 8, 5)), None);
        assert_eq!(a.intersection(&Rect::new(0, 5, 9, 9)), None);
    }

    #[test]
    fn crop_resize_maps_edges_and_centres() {
        let t = Transform::crop_resize(Rect::new(10, 20, 30, 60), 10, 10);
        // Source edge x = 9.5 (left edge of pixel 10) goes to target edge −0.5.
        let p = t.apply(Point::new(9.5, 19.5));
        assert!(
            (p.x + 0.5).abs() < 1e-6 && (p.y + 0.5).abs() < 1e-6,
            "{p:?}"
        );
        let q = t.apply(Point::new(29.5, 59.5));
        assert!(
            (q.x - 9.5).abs() < 1e-5 && (q.y - 9.5).abs() < 1e-5,
            "{q:?}"
        );
    }

    #[test]
    fn identity_crop_is_identity() {
        let t = Transform::crop_resize(Rect::new(0, 0, 64, 32), 64, 32);
        assert_eq!(t.apply(Point::new(3.0, 7.0)), Point::new(3.0, 7.0));
    }

    #[test]
    fn rect_expand_clips() {
        let r = Rect::new(2, 3, 5, 6).expand(4, 7, 100);
        assert_eq!(r, Rect::new(0, 0, 7, 10));
    }
}

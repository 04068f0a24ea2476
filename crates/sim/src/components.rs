//! Connected components of a mask, each cut out with a one-pixel border.
//!
//! Hand-written (a stack-based flood fill) rather than imageproc's
//! `connected_components`: that labels the whole image with a union-find and
//! still leaves the per-component cut-outs to build, and it was the
//! simulator's second-largest cost on 512×512 labels. The fill visits each
//! object pixel once and yields each component's pixels directly.

use crate::geometry::Rect;
use crate::mask::Mask;

/// One 8-connected component of a mask, cut out of it.
#[derive(Clone, Debug)]
pub struct Component {
    /// The component's own pixels in its bounding box grown by one pixel, so
    /// the cut-out always has a background border (other components are
    /// background).
    pub mask: Mask,
    /// Source coordinates of the cut-out's pixel `(0, 0)` (may be −1).
    pub origin: (isize, isize),
    /// Bounding box in source coordinates.
    pub bbox: Rect,
    /// Number of pixels.
    pub area: usize,
}

/// Splits a mask into its 8-connected components, largest first (ties: the
/// one found first in row-major order).
///
/// Every cut-out has a one-pixel background border on all sides, even when
/// the component touches the image border, so that distance transforms and
/// thinning treat the image border as background.
pub fn components(mask: &Mask) -> Vec<Component> {
    let (w, h) = (mask.width(), mask.height());
    let src = mask.as_slice();
    let mut seen = vec![false; src.len()];
    let mut stack = Vec::new();
    let mut pixels = Vec::new();
    let mut out = Vec::new();
    for start in 0..src.len() {
        if src[start] == 0 || seen[start] {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        pixels.clear();
        let mut bbox = Rect::new(start % w, start / w, start % w + 1, start / w + 1);
        while let Some(i) = stack.pop() {
            pixels.push(i);
            let (x, y) = (i % w, i / w);
            bbox = Rect::new(
                bbox.x0.min(x),
                bbox.y0.min(y),
                bbox.x1.max(x + 1),
                bbox.y1.max(y + 1),
            );
            for ny in y.saturating_sub(1)..(y + 2).min(h) {
                for nx in x.saturating_sub(1)..(x + 2).min(w) {
                    let n = ny * w + nx;
                    if src[n] != 0 && !seen[n] {
                        seen[n] = true;
                        stack.push(n);
                    }
                }
            }
        }
        let mut cut = Mask::new(bbox.width() + 2, bbox.height() + 2);
        for &i in &pixels {
            cut.set(i % w - bbox.x0 + 1, i / w - bbox.y0 + 1, true);
        }
        out.push(Component {
            mask: cut,
            origin: (bbox.x0 as isize - 1, bbox.y0 as isize - 1),
            bbox,
            area: pixels.len(),
        });
    }
    out.sort_by_key(|c| std::cmp::Reverse(c.area));
    out
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_orders_by_area() {
        let m = Mask::from_fn(20, 10, |x, y| {
            (x < 3 && y < 3) || (x >= 10 && (2..8).contains(&y))
        });
        let c = components(&m);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].area, 60);
        assert_eq!(c[0].bbox, Rect::new(10, 2, 20, 8));
        assert_eq!(c[1].area, 9);
        assert_eq!(c[1].origin, (-1, -1));
        assert_eq!(c[1].mask.width(), 5);
        assert_eq!(c[1].mask.area(), 9);
        assert!(!c[1].mask.get(0, 0), "border must be background");
    }

    #[test]
    fn diagonal_pixels_are_one_component() {
        let m = Mask::from_fn(4, 4, |x, y| x == y);
        assert_eq!(components(&m).len(), 1);
    }

    #[test]
    fn empty_mask_has_none() {
        assert!(components(&Mask::new(5, 5)).is_empty());
    }
}

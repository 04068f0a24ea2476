//! Connected components of a mask, each cut out with a one-pixel border.

use image::{GrayImage, Luma};
use imageproc::region_labelling::{connected_components, Connectivity};

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

/// Splits a mask into its 8-connected components, largest first.
///
/// Every cut-out has a one-pixel background border on all sides, even when
/// the component touches the image border, so that distance transforms and
/// thinning treat the image border as background.
pub fn components(mask: &Mask) -> Vec<Component> {
    let (w, h) = (mask.width(), mask.height());
    if mask.is_empty() {
        return Vec::new();
    }
    let gray = GrayImage::from_raw(w as u32, h as u32, mask.as_slice().to_vec())
        .expect("buffer length matches dimensions");
    let labels = connected_components(&gray, Connectivity::Eight, Luma([0u8]));

    let mut boxes: Vec<Option<(Rect, usize)>> = Vec::new();
    for (i, &label) in labels.as_raw().iter().enumerate() {
        if label == 0 {
            continue;
        }
        let id = label as usize - 1;
        if boxes.len() <= id {
            boxes.resize(id + 1, None);
        }
        let (x, y) = (i % w, i / w);
        boxes[id] = Some(match boxes[id] {
            None => (Rect::new(x, y, x + 1, y + 1), 1),
            Some((r, n)) => (
                Rect::new(r.x0.min(x), r.y0.min(y), r.x1.max(x + 1), r.y1.max(y + 1)),
                n + 1,
            ),
        });
    }

    let raw = labels.as_raw();
    let mut out: Vec<Component> = boxes
        .into_iter()
        .enumerate()
        .filter_map(|(id, b)| b.map(|(bbox, area)| (id as u32 + 1, bbox, area)))
        .map(|(label, bbox, area)| {
            let origin = (bbox.x0 as isize - 1, bbox.y0 as isize - 1);
            let cut = Mask::from_fn(bbox.width() + 2, bbox.height() + 2, |x, y| {
                let sx = x as isize + origin.0;
                let sy = y as isize + origin.1;
                sx >= 0
                    && sy >= 0
                    && (sx as usize) < w
                    && (sy as usize) < h
                    && raw[sy as usize * w + sx as usize] == label
            });
            Component {
                mask: cut,
                origin,
                bbox,
                area,
            }
        })
        .collect();
    out.sort_by(|a, b| b.area.cmp(&a.area).then(a.bbox.y0.cmp(&b.bbox.y0)));
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

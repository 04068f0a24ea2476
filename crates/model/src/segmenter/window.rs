//! Where a label's crop goes: around its positive strokes, no wider than the image, and grown
//! around the answer when the answer runs into the crop's edge.

use scribseg_sim::{Plane, Point, Polarity, Rect, Stroke, Window};

use super::SegmenterConfig;
use crate::input::INPUT_SIZE;

/// The crop rule's window ([`SegmenterConfig::crop_rule`]) in an image of `image` (width, height) pixels, its
/// side capped at the image's longer side (but never below `min_side`),
/// still centred on the points. Past the image there is only black: once
/// corrections span the object of a small image, a wider window only
/// shrinks the object in the crop (the cap raised the validation split's
/// DICE after one correction, most on small images; docs/journal.md).
pub(super) fn image_window(
    points: impl IntoIterator<Item = Point>,
    config: &SegmenterConfig,
    image: (usize, usize),
) -> Option<Window> {
    let window = config.crop_rule().around_points(points)?;
    let side = window
        .width
        .min(image.0.max(image.1) as f32)
        .max(config.min_side);
    let (cx, cy) = (
        window.x0 + window.width / 2.0,
        window.y0 + window.height / 2.0,
    );
    Some(Window {
        x0: cx - side / 2.0,
        y0: cy - side / 2.0,
        width: side,
        height: side,
    })
}

/// The image pixels `window` covers (its pixel-edge box clipped to the
/// image), or `None` when it misses the image.
pub(super) fn pixels_of(window: &Window, width: usize, height: usize) -> Option<Rect> {
    let x0 = window.x0.floor().max(0.0) as usize;
    let y0 = window.y0.floor().max(0.0) as usize;
    let x1 = ((window.x0 + window.width).ceil().max(0.0) as usize).min(width);
    let y1 = ((window.y0 + window.height).ceil().max(0.0) as usize).min(height);
    (x0 < x1 && y0 < y1).then(|| Rect::new(x0, y0, x1, y1))
}

/// The points of a label's positive strokes (those its crop follows).
pub(super) fn positive_points(strokes: &[Stroke]) -> impl Iterator<Item = Point> + '_ {
    strokes
        .iter()
        .filter(|s| s.polarity == Polarity::Positive)
        .flat_map(|s| s.points.iter().copied())
}

/// At most this many passes per label with [`SegmenterConfig::refine`].
pub(super) const MAX_PASSES: usize = 4;

/// A pass's crop grows only when the next is at least this much wider:
/// otherwise the answer it has is kept.
pub(super) const GROWTH: f32 = 1.05;

/// Whether a crop's answer reaches its edge: a pixel above `threshold` in
/// its outermost two rows or columns.
pub(super) fn reaches_edge(crop: &[f32], threshold: f32) -> bool {
    let n = INPUT_SIZE;
    let border = |x: usize, y: usize| x < 2 || y < 2 || x + 2 >= n || y + 2 >= n;
    crop.iter()
        .enumerate()
        .any(|(i, &p)| p > threshold && border(i % n, i / n))
}

/// The crop around the object a first pass predicted in `window` (its
/// pixels above the threshold, as in the label map) and the label's positive
/// strokes, by the rule of `image_window` with `config`'s context; `None`
/// when the first pass predicted nothing.
pub(super) fn object_window(
    strokes: &[Stroke],
    window: &Window,
    crop: &[f32],
    config: &SegmenterConfig,
    image: (usize, usize),
) -> Option<Window> {
    let object = Plane::from_vec(INPUT_SIZE, INPUT_SIZE, crop.to_vec())?
        .threshold(config.threshold)
        .bounding_box()?;
    let scale = (
        window.width / INPUT_SIZE as f32,
        window.height / INPUT_SIZE as f32,
    );
    let corner = |x: usize, y: usize| {
        Point::new(
            window.x0 + x as f32 * scale.0,
            window.y0 + y as f32 * scale.1,
        )
    };
    let corners = [corner(object.x0, object.y0), corner(object.x1, object.y1)];
    image_window(
        corners.into_iter().chain(positive_points(strokes)),
        config,
        image,
    )
}

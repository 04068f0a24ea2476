//! What comes out: the crops' probabilities pasted back at full resolution, and the label map.

use scribseg_sim::{Plane, Rect, Window};

use super::window::pixels_of;
use crate::input::INPUT_SIZE;

/// The segmentation of one image.
#[derive(Clone, Debug, PartialEq)]
pub struct Segmentation {
    /// Per label (in the order given), the probability of each pixel.
    pub probabilities: Vec<Plane>,
    /// Per pixel, `k + 1` for the label `k` with the highest probability
    /// when it is above the threshold, else 0.
    pub label_map: Vec<u16>,
    /// Image width.
    pub width: usize,
    /// Image height.
    pub height: usize,
}

/// One label's answer at the network's resolution.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelCrop {
    /// The part of the image the network saw (it may reach past the image).
    pub window: Window,
    /// The probabilities of the 128×128 crop, row-major.
    pub probabilities: Vec<f32>,
}

impl LabelCrop {
    /// This answer as seen by another crop: per pixel of a crop at `window`
    /// (the network's [`INPUT_SIZE`] square) of an image `width × height`,
    /// this crop's probability at that pixel's centre in the image
    /// (bilinear, its edge clamped, as pasting reads it), or 0 where the
    /// centre falls outside the image or this crop's pixels. It is what
    /// pasting this answer at full resolution and cropping it again would
    /// give, without the full-resolution plane: the network's previous-answer
    /// channel, for training and inference alike.
    pub fn seen_from(&self, window: &Window, width: usize, height: usize) -> Plane {
        let mut out = Plane::new(INPUT_SIZE, INPUT_SIZE);
        let Some(covered) = pixels_of(&self.window, width, height) else {
            return out;
        };
        let t = self.window.transform(INPUT_SIZE, INPUT_SIZE);
        let last = INPUT_SIZE as f32 - 1.0;
        // One axis: the image coordinate of crop pixel `i` of `window`, and if
        // it lies in this crop's pixels, its two taps here and the second's weight.
        let axis =
            |i: usize, start: f32, extent: f32, scale: f32, shift: f32, range: (usize, usize)| {
                let source = start + (i as f32 + 0.5) * extent / INPUT_SIZE as f32 - 0.5;
                let pixel = (source + 0.5).floor();
                if pixel < range.0 as f32 || pixel >= range.1 as f32 {
                    return None;
                }
                Some(taps((source * scale + shift).clamp(0.0, last)))
            };
        let columns: Vec<_> = (0..INPUT_SIZE)
            .map(|i| {
                axis(
                    i,
                    window.x0,
                    window.width,
                    t.sx,
                    t.tx,
                    (covered.x0, covered.x1),
                )
            })
            .collect();
        let p = &self.probabilities;
        for (j, row) in out.as_mut_slice().chunks_exact_mut(INPUT_SIZE).enumerate() {
            let Some((top, bottom, fy)) = axis(
                j,
                window.y0,
                window.height,
                t.sy,
                t.ty,
                (covered.y0, covered.y1),
            ) else {
                continue;
            };
            for (v, column) in row.iter_mut().zip(&columns) {
                if let Some((left, right, fx)) = *column {
                    let at = |y: usize, x: usize| p[y * INPUT_SIZE + x];
                    let upper = at(top, left) * (1.0 - fx) + at(top, right) * fx;
                    let lower = at(bottom, left) * (1.0 - fx) + at(bottom, right) * fx;
                    *v = upper * (1.0 - fy) + lower * fy;
                }
            }
        }
        out
    }
}

/// The segmentation of one image before it is pasted back at full
/// resolution (see [`Segmenter::segment_crops`](super::Segmenter::segment_crops)).
#[derive(Clone, Debug, PartialEq)]
pub struct CropSegmentation {
    /// Per label (in the order given), its crop; `None` for a label without
    /// positive strokes (probability 0 everywhere).
    pub crops: Vec<Option<LabelCrop>>,
    /// Image width.
    pub width: usize,
    /// Image height.
    pub height: usize,
    /// The segmenter's threshold (see [`SegmenterConfig::threshold`](super::SegmenterConfig::threshold)).
    pub threshold: f32,
}

impl CropSegmentation {
    /// The smallest rectangle of the image outside which every label's
    /// probability is 0 (the union of the crops' windows, clipped to the
    /// image), or `None` when no label has a crop there.
    pub fn region(&self) -> Option<Rect> {
        self.crops
            .iter()
            .flatten()
            .filter_map(|c| pixels_of(&c.window, self.width, self.height))
            .reduce(|a, b| a.union(&b))
    }

    /// Label `k`'s probabilities over the pixels of `region` (which must lie
    /// in the image), row-major.
    pub fn probabilities_in(&self, k: usize, region: Rect) -> Plane {
        let mut plane = Plane::new(region.width(), region.height());
        if let Some(crop) = &self.crops[k] {
            paste(
                &mut plane,
                (region.x0, region.y0),
                &crop.probabilities,
                &crop.window,
            );
        }
        plane
    }

    /// Per pixel of `region` (row-major), `k + 1` for the most probable
    /// label `k` when it is above the threshold, else 0: the part of
    /// [`Segmentation::label_map`] that `region` covers.
    pub fn label_map_in(&self, region: Rect) -> Vec<u16> {
        let planes: Vec<Plane> = (0..self.crops.len())
            .map(|k| self.probabilities_in(k, region))
            .collect();
        label_map(&planes, region.width() * region.height(), self.threshold)
    }
}

/// Writes the crop's probabilities, resized bilinearly, into the part of
/// `plane` that `window` covers; `plane` holds the image pixels from
/// `origin` on (its top-left corner).
///
/// Each output row first blends the two crop rows around it (128 values),
/// then reads that blend at each column's two taps, found once per call: no
/// rounding or clamping per pixel.
pub(super) fn paste(plane: &mut Plane, origin: (usize, usize), crop: &[f32], window: &Window) {
    let (w, h) = (plane.width(), plane.height());
    let Some(covered) = pixels_of(window, origin.0 + w, origin.1 + h) else {
        return;
    };
    let t = window.transform(INPUT_SIZE, INPUT_SIZE);
    let x0 = covered.x0.max(origin.0);
    let columns: Vec<(usize, usize, f32)> = (x0..covered.x1)
        .map(|x| taps(x as f32 * t.sx + t.tx))
        .collect();
    let mut blend = [0f32; INPUT_SIZE];
    let out = plane.as_mut_slice();
    for y in covered.y0.max(origin.1)..covered.y1 {
        let (top, bottom, fy) = taps(y as f32 * t.sy + t.ty);
        let top = &crop[top * INPUT_SIZE..][..INPUT_SIZE];
        let bottom = &crop[bottom * INPUT_SIZE..][..INPUT_SIZE];
        for ((b, &t), &u) in blend.iter_mut().zip(top).zip(bottom) {
            *b = t * (1.0 - fy) + u * fy;
        }
        let row = &mut out[(y - origin.1) * w..][..w];
        for (dst, &(left, right, fx)) in row[x0 - origin.0..].iter_mut().zip(&columns) {
            *dst = blend[left] * (1.0 - fx) + blend[right] * fx;
        }
    }
}

/// The two crop positions around crop coordinate `c` (clamped to the crop)
/// and the second one's weight: one axis of a bilinear read of a crop.
fn taps(c: f32) -> (usize, usize, f32) {
    let floor = c.floor();
    let last = INPUT_SIZE as isize - 1;
    let at = |i: isize| i.clamp(0, last) as usize;
    (at(floor as isize), at(floor as isize + 1), c - floor)
}

/// Per pixel, `k + 1` for the most probable label above `threshold`, else 0
/// (the first such label on a tie). Runs over blocks of pixels, one pass per
/// label over each, with the best probability so far on the stack; compiled
/// for the CPU's best instruction set ([`pulp::Arch`]), where its selects
/// vectorise.
pub(super) fn label_map(probabilities: &[Plane], pixels: usize, threshold: f32) -> Vec<u16> {
    const BLOCK: usize = 1024;
    let mut map = vec![0u16; pixels];
    pulp::Arch::new().dispatch(LabelBlocks::<BLOCK> {
        probabilities,
        threshold,
        map: &mut map,
    });
    map
}

/// [`label_blocks`] as a [`pulp::WithSimd`] operation, so that it is
/// compiled with the dispatched instruction set.
struct LabelBlocks<'a, const BLOCK: usize> {
    probabilities: &'a [Plane],
    threshold: f32,
    map: &'a mut [u16],
}

impl<const BLOCK: usize> pulp::WithSimd for LabelBlocks<'_, BLOCK> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        label_blocks::<BLOCK>(self.probabilities, self.threshold, self.map);
    }
}

/// [`label_map`]'s loop over blocks of `BLOCK` pixels of `map`.
#[inline(always)]
pub(super) fn label_blocks<const BLOCK: usize>(
    probabilities: &[Plane],
    threshold: f32,
    map: &mut [u16],
) {
    for (start, block) in (0..).step_by(BLOCK).zip(map.chunks_mut(BLOCK)) {
        // Labels as floats too, so that both selects vectorise alike.
        let (mut best, mut labels) = ([threshold; BLOCK], [0f32; BLOCK]);
        for (k, plane) in probabilities.iter().enumerate() {
            let label = (k + 1) as f32;
            let values = &plane.as_slice()[start..start + block.len()];
            for ((l, b), &p) in labels.iter_mut().zip(&mut best).zip(values) {
                let better = p > *b;
                *l = if better { label } else { *l };
                *b = if better { p } else { *b };
            }
        }
        for (m, &l) in block.iter_mut().zip(&labels) {
            *m = l as u16;
        }
    }
}

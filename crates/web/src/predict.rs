//! Strokes in, a label map out: the [`Segmenter`] with pins applied on top.

use std::sync::Mutex;
use std::time::Instant;

use image::RgbImage;
use scribseg_model::Segmenter;
use scribseg_sim::{draw_stroke, Mask, Plane, Point, Polarity, Transform};
use serde::Serialize;

use crate::store::{NewStroke, StrokeKind};

/// What `/api/health` and the status line say about the model.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelInfo {
    /// Where the weights came from, e.g. `weights/default`.
    pub name: String,
    /// Trainable parameters.
    pub parameters: usize,
    /// Where inference runs.
    pub device: String,
}

/// A per-pixel labelling of one image: 0 is unlabelled, `k + 1` is the
/// `k`-th label of the list the prediction was asked for.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelMap {
    /// Image width.
    pub width: usize,
    /// Image height.
    pub height: usize,
    /// Row-major values.
    pub data: Vec<u8>,
    /// How long the prediction took, in milliseconds.
    pub millis: u32,
}

impl LabelMap {
    /// The pixels of the `k`-th label.
    pub fn mask_of(&self, k: usize) -> Mask {
        let value = k + 1;
        let data = self
            .data
            .iter()
            .map(|&v| u8::from(usize::from(v) == value))
            .collect();
        Mask::from_vec(self.width, self.height, data).expect("a label map covers its image")
    }
}

/// The network shared by every connection. Inference holds a lock: on a
/// small CPU one prediction at a time is as fast as several.
#[derive(Debug)]
pub struct Model {
    segmenter: Mutex<Segmenter>,
    info: ModelInfo,
}

impl Model {
    /// Wraps a loaded segmenter; `name` says where its weights came from.
    pub fn new(segmenter: Segmenter, name: impl Into<String>) -> Self {
        let info = ModelInfo {
            name: name.into(),
            parameters: segmenter.model().num_trainable_params(),
            device: "cpu (burn flex)".to_string(),
        };
        Self {
            segmenter: Mutex::new(segmenter),
            info,
        }
    }

    /// Name, size and device.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// Predicts the label map of `image` for `labels` (label ids, in the
    /// order of the map's values) from `strokes`. Strokes of labels not in
    /// the list are ignored. Pins are painted over the prediction in
    /// drawing order.
    pub fn predict(&self, image: &RgbImage, labels: &[i64], strokes: &[NewStroke]) -> LabelMap {
        let start = Instant::now();
        let index = |label_id: i64| labels.iter().position(|&l| l == label_id);
        let mut per_label: Vec<Vec<scribseg_sim::Stroke>> = vec![Vec::new(); labels.len()];
        for stroke in strokes {
            let polarity = match stroke.kind {
                StrokeKind::Positive => Polarity::Positive,
                StrokeKind::Negative => Polarity::Negative,
                StrokeKind::Pin => continue,
            };
            if let Some(k) = index(stroke.label_id) {
                per_label[k].push(geometry(stroke, polarity));
            }
        }
        let segmentation = {
            let segmenter = self.segmenter.lock().unwrap_or_else(|p| p.into_inner());
            segmenter.segment(image, &per_label)
        };
        let mut data: Vec<u8> = segmentation
            .label_map
            .iter()
            .map(|&v| u8::try_from(v).unwrap_or(0))
            .collect();
        let (width, height) = (segmentation.width, segmentation.height);
        for pin in strokes.iter().filter(|s| s.kind == StrokeKind::Pin) {
            if let Some(k) = index(pin.label_id) {
                paint_pin(&mut data, width, height, pin, k as u8 + 1);
            }
        }
        LabelMap {
            width,
            height,
            data,
            millis: start.elapsed().as_millis().try_into().unwrap_or(u32::MAX),
        }
    }
}

fn geometry(stroke: &NewStroke, polarity: Polarity) -> scribseg_sim::Stroke {
    scribseg_sim::Stroke {
        points: stroke
            .points
            .iter()
            .map(|&[x, y]| Point::new(x, y))
            .collect(),
        polarity,
    }
}

/// Sets every pixel within the pin's radius of its polyline to `value`,
/// rasterising only the pin's bounding box.
fn paint_pin(data: &mut [u8], width: usize, height: usize, pin: &NewStroke, value: u8) {
    let r = pin.radius;
    let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    for &[x, y] in &pin.points {
        (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
    }
    let clamp = |v: f32, max: usize| (v.max(0.0) as usize).min(max);
    let (bx0, by0) = (
        clamp((x0 - r).floor(), width),
        clamp((y0 - r).floor(), height),
    );
    let (bx1, by1) = (
        clamp((x1 + r).ceil() + 1.0, width),
        clamp((y1 + r).ceil() + 1.0, height),
    );
    if bx0 >= bx1 || by0 >= by1 {
        return;
    }
    let (bw, bh) = (bx1 - bx0, by1 - by0);
    let mut plane = Plane::new(bw, bh);
    let shift = Transform::crop_resize(scribseg_sim::Rect::new(bx0, by0, bx1, by1), bw, bh);
    draw_stroke(
        &mut plane,
        &geometry(pin, Polarity::Positive),
        shift,
        r,
        None,
    );
    for (i, &v) in plane.as_slice().iter().enumerate() {
        if v > 0.0 {
            data[(by0 + i / bw) * width + bx0 + i % bw] = value;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pin_paints_its_disc_only() {
        let (w, h) = (10, 8);
        let mut data = vec![0u8; w * h];
        let pin = NewStroke {
            label_id: 7,
            kind: StrokeKind::Pin,
            radius: 1.0,
            points: vec![[4.0, 3.0]],
        };
        paint_pin(&mut data, w, h, &pin, 2);
        let set: Vec<(usize, usize)> = (0..w * h)
            .filter(|&i| data[i] == 2)
            .map(|i| (i % w, i / w))
            .collect();
        assert_eq!(set, vec![(4, 2), (3, 3), (4, 3), (5, 3), (4, 4)]);
    }
}

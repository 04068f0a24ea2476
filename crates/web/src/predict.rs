//! Strokes in, a label map out: the [`Segmenter`] with pins and unpins
//! applied on top.

use std::time::Instant;

use image::RgbImage;
use parking_lot::FairMutex;
use scribseg_model::{CropSegmentation, Segmenter};
use scribseg_sim::{draw_stroke, Mask, Plane, Point, Polarity, Rect, Transform};
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

/// A label map known to be 0 outside a region of the image: what the
/// annotator sends while a user draws, so that the cost of a prediction
/// follows the crops, not the image size.
#[derive(Clone, Debug, PartialEq)]
pub struct RegionMap {
    /// Image width.
    pub width: usize,
    /// Image height.
    pub height: usize,
    /// The part of the image `data` covers (empty when nothing is labelled).
    pub region: Rect,
    /// Row-major values over `region`, as in [`LabelMap::data`].
    pub data: Vec<u8>,
    /// How long the prediction took, in milliseconds.
    pub millis: u32,
}

impl RegionMap {
    /// The whole image's label map.
    pub fn to_label_map(&self) -> LabelMap {
        let mut data = vec![0u8; self.width * self.height];
        let rw = self.region.width();
        if rw > 0 {
            for (row, values) in self.data.chunks_exact(rw).enumerate() {
                let start = (self.region.y0 + row) * self.width + self.region.x0;
                data[start..start + rw].copy_from_slice(values);
            }
        }
        LabelMap {
            width: self.width,
            height: self.height,
            data,
            millis: self.millis,
        }
    }
}

/// The network shared by every connection. Inference holds a lock (on a
/// small CPU one prediction at a time is as fast as several), taken once
/// per label and handed over in arrival order: a request with many labels
/// delays another client's answer by one label's passes, not by all of its
/// own.
#[derive(Debug)]
pub struct Model {
    segmenter: FairMutex<Segmenter>,
    info: ModelInfo,
    /// Whether the network is told its previous answer
    /// ([`Segmenter::tells_previous`]), read once: taking the fair lock to
    /// ask would queue behind other clients' passes.
    tells_previous: bool,
}

impl Model {
    /// Wraps a loaded segmenter; `name` says where its weights came from.
    pub fn new(segmenter: Segmenter, name: impl Into<String>) -> Self {
        let info = ModelInfo {
            name: name.into(),
            parameters: segmenter.model().num_trainable_params(),
            device: segmenter.device_name(),
        };
        Self {
            tells_previous: segmenter.tells_previous(),
            segmenter: FairMutex::new(segmenter),
            info,
        }
    }

    /// Name, size and device.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// Predicts the label map of `image` for `labels` (label ids, in the
    /// order of the map's values) from `strokes`. Strokes of labels not in
    /// the list are ignored. Pins (their label on) and unpins (their label
    /// off) are painted over the prediction in drawing order.
    pub fn predict(&self, image: &RgbImage, labels: &[i64], strokes: &[NewStroke]) -> LabelMap {
        self.predict_region(image, labels, strokes).to_label_map()
    }

    /// As [`Model::predict`], but only over the region that the labels'
    /// crops and the pins cover (everything outside is 0): on a large image
    /// this is the cost of the crops, not of the image.
    pub fn predict_region(
        &self,
        image: &RgbImage,
        labels: &[i64],
        strokes: &[NewStroke],
    ) -> RegionMap {
        let start = Instant::now();
        let index = |label_id: i64| labels.iter().position(|&l| l == label_id);
        // In drawing order, so that a network that reads its previous answer is told it.
        let mut ordered: Vec<(usize, scribseg_sim::Stroke)> = Vec::new();
        for stroke in strokes {
            let polarity = match stroke.kind {
                StrokeKind::Positive => Polarity::Positive,
                StrokeKind::Negative => Polarity::Negative,
                StrokeKind::Pin | StrokeKind::Unpin => continue,
            };
            if let Some(k) = index(stroke.label_id) {
                ordered.push((k, geometry(stroke, polarity)));
            }
        }
        let crops = self.segment_fairly(image, labels.len(), &ordered);
        let (width, height) = (crops.width, crops.height);
        let overrides: Vec<(&NewStroke, u8, Rect)> = strokes
            .iter()
            .filter(|s| s.kind.is_override())
            .filter_map(|s| {
                let k = index(s.label_id)?;
                Some((s, k as u8 + 1, pin_box(s, width, height)?))
            })
            .collect();
        // Pins widen the region; an unpin only clears what is inside it.
        let region = crops
            .region()
            .into_iter()
            .chain(
                overrides
                    .iter()
                    .filter(|o| o.0.kind == StrokeKind::Pin)
                    .map(|o| o.2),
            )
            .reduce(|a, b| a.union(&b))
            .unwrap_or(Rect::new(0, 0, 0, 0));
        let mut data: Vec<u8> = if region.width() == 0 {
            Vec::new()
        } else {
            crops
                .label_map_in(region)
                .into_iter()
                .map(|v| u8::try_from(v).unwrap_or(0))
                .collect()
        };
        for (stroke, value, stroke_box) in overrides {
            if let Some(inside) = stroke_box.intersection(&region) {
                paint_pin(&mut data, region, stroke, inside, value);
            }
        }
        RegionMap {
            width,
            height,
            region,
            data,
            millis: start.elapsed().as_millis().try_into().unwrap_or(u32::MAX),
        }
    }

    /// Every label's crops after `ordered` (the strokes in drawing order,
    /// each with its label's index among `labels`), the lock taken for one
    /// label at a time: the first label with strokes gives the answer its
    /// frame (a segmentation of nothing when there is none), each later one
    /// adds its crop. A network not told its previous answer reads the
    /// strokes grouped by label, grouped here once for all labels.
    fn segment_fairly(
        &self,
        image: &RgbImage,
        labels: usize,
        ordered: &[(usize, scribseg_sim::Stroke)],
    ) -> CropSegmentation {
        let mut per_label: Vec<Vec<scribseg_sim::Stroke>> = vec![Vec::new(); labels];
        for (k, stroke) in ordered {
            per_label[*k].push(stroke.clone());
        }
        let segment = |which: &[usize]| {
            let segmenter = self.segmenter.lock();
            if self.tells_previous {
                segmenter.segment_sequence(image, labels, ordered, which)
            } else {
                segmenter.segment_crops_of(image, &per_label, which.iter().copied())
            }
        };
        let mut drawn = (0..labels).filter(|&k| !per_label[k].is_empty());
        let first: Vec<usize> = drawn.next().into_iter().collect();
        let mut all = segment(&first);
        for k in drawn {
            let mut one = segment(&[k]);
            all.crops[k] = one.crops[k].take();
        }
        all
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

/// The pixels a pin may cover (its polyline's box grown by its radius,
/// clipped to the image), or `None` when it misses the image.
fn pin_box(pin: &NewStroke, width: usize, height: usize) -> Option<Rect> {
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
    (bx0 < bx1 && by0 < by1).then(|| Rect::new(bx0, by0, bx1, by1))
}

/// Every pixel within the stroke's radius of its polyline: a pin sets it to
/// `value` (its label), an unpin clears it where it holds `value`;
/// rasterising only `pin_region` (inside `region`); `data` holds the
/// pixels of `region`.
fn paint_pin(data: &mut [u8], region: Rect, pin: &NewStroke, pin_region: Rect, value: u8) {
    let (bw, bh) = (pin_region.width(), pin_region.height());
    let mut plane = Plane::new(bw, bh);
    let shift = Transform::crop_resize(pin_region, bw, bh);
    draw_stroke(
        &mut plane,
        &geometry(pin, Polarity::Positive),
        shift,
        pin.radius,
        None,
    );
    let rw = region.width();
    for (i, &v) in plane.as_slice().iter().enumerate() {
        if v > 0.0 {
            let (x, y) = (pin_region.x0 + i % bw, pin_region.y0 + i / bw);
            let pixel = &mut data[(y - region.y0) * rw + x - region.x0];
            if pin.kind == StrokeKind::Pin {
                *pixel = value;
            } else if *pixel == value {
                *pixel = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::Device;
    use scribseg_model::input::PREVIOUS_CHANNELS;
    use scribseg_model::{SegmenterConfig, UNetConfig};

    use super::*;

    #[test]
    fn a_network_told_its_previous_answer_ends_a_live_stroke_where_a_fresh_answer_does() {
        // What the page showed after drawing is what an export, computed
        // afresh, gives: the answer depends on the strokes, not on the
        // predictions asked for on the way (the crop cache holds those).
        let device = Device::flex();
        device.seed(13);
        let net = UNetConfig::new()
            .with_in_channels(PREVIOUS_CHANNELS)
            .init(&device);
        let model = || {
            Model::new(
                Segmenter::fast(net.clone(), SegmenterConfig::default()),
                "five channels (test)",
            )
        };
        let image = RgbImage::from_fn(160, 120, |x, y| {
            image::Rgb([
                (x * 3 % 256) as u8,
                (y * 5 % 256) as u8,
                ((x ^ y) % 256) as u8,
            ])
        });
        let stroke = |label_id, kind, points: &[[f32; 2]]| NewStroke {
            label_id,
            kind,
            radius: 3.0,
            points: points.to_vec(),
        };
        let mut strokes = vec![
            stroke(1, StrokeKind::Positive, &[[40.0, 40.0], [60.0, 50.0]]),
            stroke(2, StrokeKind::Positive, &[[120.0, 80.0], [130.0, 95.0]]),
            stroke(1, StrokeKind::Negative, &[[75.0, 60.0]]),
        ];
        let draft: Vec<[f32; 2]> = (0..6).map(|i| [50.0 + 4.0 * i as f32, 70.0]).collect();
        let live = model();
        let labels = [1, 2];
        let mut shown = None;
        for n in 1..=draft.len() {
            let mut state = strokes.clone();
            state.push(stroke(1, StrokeKind::Positive, &draft[..n]));
            shown = Some(live.predict(&image, &labels, &state).data);
        }
        strokes.push(stroke(1, StrokeKind::Positive, &draft));
        let exported = model().predict(&image, &labels, &strokes).data;
        assert_eq!(shown, Some(exported));
    }

    #[test]
    fn a_region_map_is_zero_outside_its_region() {
        let map = RegionMap {
            width: 4,
            height: 3,
            region: Rect::new(1, 1, 3, 3),
            data: vec![1, 2, 3, 4],
            millis: 0,
        };
        assert_eq!(
            map.to_label_map().data,
            vec![0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0]
        );
    }

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
        let whole = Rect::new(0, 0, w, h);
        let pin_region = pin_box(&pin, w, h).expect("inside the image");
        paint_pin(&mut data, whole, &pin, pin_region, 2);
        let set: Vec<(usize, usize)> = (0..w * h)
            .filter(|&i| data[i] == 2)
            .map(|i| (i % w, i / w))
            .collect();
        assert_eq!(set, vec![(4, 2), (3, 3), (4, 3), (5, 3), (4, 4)]);
    }

    #[test]
    fn an_unpin_clears_its_own_label_only_and_inside_the_region() {
        let (w, h) = (10, 8);
        // Label 2 on the left half, label 3 on the right half.
        let mut data: Vec<u8> = (0..w * h).map(|i| if i % w < 5 { 2 } else { 3 }).collect();
        let unpin = NewStroke {
            label_id: 7,
            kind: StrokeKind::Unpin,
            radius: 1.0,
            points: vec![[4.0, 3.0], [5.0, 3.0]],
        };
        let whole = Rect::new(0, 0, w, h);
        let unpin_box = pin_box(&unpin, w, h).expect("inside the image");
        paint_pin(&mut data, whole, &unpin, unpin_box, 2);
        let cleared: Vec<(usize, usize)> = (0..w * h)
            .filter(|&i| data[i] == 0)
            .map(|i| (i % w, i / w))
            .collect();
        // Its disc over label 2 is cleared; label 3 under it is kept.
        assert_eq!(cleared, vec![(4, 2), (3, 3), (4, 3), (4, 4)]);
        assert_eq!(data[3 * w + 5], 3);
        // Clipped to a region: only the region's pixels are touched.
        let region = Rect::new(4, 0, w, h);
        let mut part: Vec<u8> = vec![2; region.width() * region.height()];
        let inside = unpin_box.intersection(&region).expect("overlaps");
        paint_pin(&mut part, region, &unpin, inside, 2);
        // The 8 pixels of its discs but (3, 3), left of the region.
        assert_eq!(part.iter().filter(|&&v| v == 0).count(), 7);
    }
}

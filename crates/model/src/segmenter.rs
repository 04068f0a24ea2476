//! [`Segmenter`]: an image and the strokes of any number of labels in, a
//! full-resolution label map and per-label probabilities out.
//!
//! For each label the network sees a 128×128 square crop around that
//! label's positive strokes ([`SegmenterConfig::crop_rule`], no wider than the image),
//! with the label's own strokes drawn +1 and every other label's strokes −1
//! (the paper's multi-label rule). All labels of an image run as one batch.
//! The logits are resized back to the crop's extent in the image and turned into
//! probabilities; outside its crop a label's probability is 0. Unlike the
//! authors' GUI (which squashes the whole image to 128×128 and clamps
//! logits), the crop keeps the aspect ratio, follows the strokes, and the
//! outputs are probabilities.

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

use burn::tensor::Device;
use image::RgbImage;
use scribseg_sim::{
    crop_rgb, draw_stroke, BoxPrompt, CropRule, ExtremePoints, Plane, Point, Polarity, Rect,
    Stroke, Window, DRAW_RADIUS, EXTREME_SIGMA,
};

use crate::crop_cache::CropCache;
use crate::fast::{FastUNet, Precision};
use crate::input::{batch_tensor, push_sample, INPUT_SIZE};
use crate::{Error, UNet};

/// How crops are chosen around the strokes.
#[derive(Clone, Debug, PartialEq)]
pub struct SegmenterConfig {
    /// Context on each side of the strokes' bounding box, as a fraction of
    /// its longer side. Strokes run through an object's interior, so the
    /// object reaches past them; 0.4 makes the crop 1.8 times the strokes'
    /// extent. Measured on the validation split (MODEL.md): one scribble
    /// scores the same from 0.4 to 0.6, and every corrective scribble after
    /// it does better the tighter the crop, down to 0.3.
    pub context: f32,
    /// The context around a baseline's box or extreme points (the object's
    /// own extent), for [`Segmenter::segment_prompt`]: 0.6, where the two
    /// baseline networks scored best on the validation split.
    pub prompt_context: f32,
    /// The smallest crop side, in image pixels: a click or a short stroke
    /// still sees its surroundings.
    pub min_side: f32,
    /// Probability above which a pixel belongs to a label in the label map.
    /// 0.4: where mean DICE peaks on the validation split for all three
    /// networks (MODEL.md), as expected of probabilities whose best DICE is
    /// ~0.83 (the DICE-optimal cut of calibrated probabilities is half the
    /// DICE it reaches).
    pub threshold: f32,
    /// Growing crops: when set, a label whose answer runs into its crop's
    /// edge runs again on a crop around that answer (and its strokes) with
    /// this context, if that crop is wider, up to four passes in all. A
    /// short stroke over part of an object otherwise gets a crop that cuts
    /// the object off: the crop comes from the strokes' extent. On by
    /// default with the context 0.4: on the validation split with the
    /// weights of the time it raised one short stroke (a fifth to half of
    /// the object's spine) from 0.604 to 0.669 and one scribble of the
    /// paper's simulator from 0.852 to 0.857 (MODEL.md).
    pub refine: Option<f32>,
    /// Test-time flip: each crop also runs mirrored left to right, and the
    /// two logits (the mirrored one mirrored back) are averaged. Twice the
    /// network's work for each changed label, for 0.007 more mean DICE on
    /// the validation split with one scribble and after one correction
    /// (MODEL.md); on by default.
    pub flip: bool,
}

impl Default for SegmenterConfig {
    fn default() -> Self {
        Self {
            context: 0.4,
            prompt_context: 0.6,
            min_side: 48.0,
            threshold: 0.4,
            refine: Some(0.4),
            flip: true,
        }
    }
}

impl SegmenterConfig {
    /// The crop rule of this config's `context` and `min_side`: the crop the network sees for
    /// a label's strokes (it may reach past the image, read as black). Training crops its
    /// samples with this same rule from simulated strokes. (The [`Segmenter`] also caps the
    /// side at the image's, `image_window`; a training sample is a stored crop around its
    /// object, whose edges are not the photo's.)
    pub fn crop_rule(&self) -> CropRule {
        CropRule {
            context: self.context,
            min_side: self.min_side,
        }
    }
}

/// The crop rule's window ([`SegmenterConfig::crop_rule`]) in an image of `image` (width, height) pixels, its
/// side capped at the image's longer side (but never below `min_side`),
/// still centred on the points. Past the image there is only black: once
/// corrections span the object of a small image, a wider window only
/// shrinks the object in the crop (the cap raised the validation split's
/// DICE after one correction, most on small images; docs/journal.md).
fn image_window(
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

/// The segmentation of one image before it is pasted back at full
/// resolution (see [`Segmenter::segment_crops`]).
#[derive(Clone, Debug, PartialEq)]
pub struct CropSegmentation {
    /// Per label (in the order given), its crop; `None` for a label without
    /// positive strokes (probability 0 everywhere).
    pub crops: Vec<Option<LabelCrop>>,
    /// Image width.
    pub width: usize,
    /// Image height.
    pub height: usize,
    /// The segmenter's threshold (see [`SegmenterConfig::threshold`]).
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

/// The image pixels `window` covers (its pixel-edge box clipped to the
/// image), or `None` when it misses the image.
fn pixels_of(window: &Window, width: usize, height: usize) -> Option<Rect> {
    let x0 = window.x0.floor().max(0.0) as usize;
    let y0 = window.y0.floor().max(0.0) as usize;
    let x1 = ((window.x0 + window.width).ceil().max(0.0) as usize).min(width);
    let y1 = ((window.y0 + window.height).ceil().max(0.0) as usize).min(height);
    (x0 < x1 && y0 < y1).then(|| Rect::new(x0, y0, x1, y1))
}

/// Segments images from strokes with a trained [`UNet`].
#[derive(Debug)]
pub struct Segmenter {
    model: UNet,
    engine: Engine,
    config: SegmenterConfig,
    cache: Mutex<CropCache>,
}

/// What runs the network's forward pass.
#[derive(Debug)]
enum Engine {
    /// burn, on its device (the CPU's Flex backend, or a GPU).
    Burn(Device),
    /// The dedicated CPU path, its buffers reused between calls.
    Fast(Box<Mutex<FastUNet>>),
}

impl Segmenter {
    /// Wraps a network, run by burn on `device` (a GPU device, or for
    /// comparing against the fast CPU path).
    pub fn new(model: UNet, device: Device, config: SegmenterConfig) -> Self {
        Self {
            model,
            engine: Engine::Burn(device),
            config,
            cache: Mutex::new(CropCache::new(CACHED_CROPS)),
        }
    }

    /// Wraps a network, run by the dedicated CPU path ([`FastUNet`]): the
    /// same logits as burn's CPU backend (within 1e-4), about 4× sooner.
    pub fn fast(model: UNet, config: SegmenterConfig) -> Self {
        let fast = FastUNet::from_model(&model);
        Self {
            model,
            engine: Engine::Fast(Box::new(Mutex::new(fast))),
            config,
            cache: Mutex::new(CropCache::new(CACHED_CROPS)),
        }
    }

    /// Loads a checkpoint directory (see [`UNet::load`]) for the fast CPU
    /// path ([`Segmenter::fast`]).
    pub fn load(dir: impl AsRef<Path>, config: SegmenterConfig) -> Result<Self, Error> {
        let model = UNet::load(dir, &Device::flex())?;
        Ok(Self::fast(model, config))
    }

    /// Runs the fast CPU path in `precision`. [`Precision::Bf16`] answers
    /// sooner on AMD CPUs with AVX-512 BF16, with masks within an IoU of
    /// 0.99 of fp32's ([`Precision::fastest`] picks it where it is faster).
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] if this CPU cannot run `precision`, or if burn
    /// runs the network (it computes in fp32 only).
    pub fn with_precision(self, precision: Precision) -> Result<Self, Error> {
        match &self.engine {
            Engine::Fast(fast) => fast
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .set_precision(precision)?,
            Engine::Burn(_) if precision == Precision::F32 => {}
            Engine::Burn(device) => {
                return Err(Error::Unsupported(format!(
                    "burn's {device:?} runs the network in fp32 only, not {precision}"
                )))
            }
        }
        // Probabilities cached at another precision are not this one's.
        self.cache().clear();
        Ok(self)
    }

    /// Crops with this context around the strokes
    /// ([`SegmenterConfig::context`]).
    pub fn with_context(mut self, context: f32) -> Self {
        self.config.context = context;
        self
    }

    /// Crops with this context around a baseline's prompt
    /// ([`SegmenterConfig::prompt_context`]).
    pub fn with_prompt_context(mut self, context: f32) -> Self {
        self.config.prompt_context = context;
        self
    }

    /// Cuts the label map at this probability ([`SegmenterConfig::threshold`]).
    pub fn with_threshold(mut self, threshold: f32) -> Self {
        self.config.threshold = threshold;
        self
    }

    /// Turns growing crops on (with this context) or off
    /// ([`SegmenterConfig::refine`]).
    pub fn with_refine(mut self, context: Option<f32>) -> Self {
        self.config.refine = context;
        self
    }

    /// Keeps the probabilities of at least `crops` recent crops (default
    /// 32), so that a label whose crop input has not changed since a recent
    /// call is not computed again; 0 turns the cache off.
    pub fn with_cache_capacity(self, crops: usize) -> Self {
        Self {
            cache: Mutex::new(CropCache::new(crops)),
            ..self
        }
    }

    /// Where the forward pass runs, for status lines: the fast CPU path
    /// with its thread count, or burn's device.
    pub fn device_name(&self) -> String {
        match &self.engine {
            Engine::Fast(fast) => {
                let fast = fast.lock().unwrap_or_else(PoisonError::into_inner);
                let (threads, precision) = (fast.threads(), fast.precision());
                format!("cpu (fast path, {threads} threads, {precision})")
            }
            Engine::Burn(device) => format!("burn {device:?}"),
        }
    }

    /// Turns the test-time flip on or off ([`SegmenterConfig::flip`]).
    pub fn with_flip(mut self, flip: bool) -> Self {
        self.config.flip = flip;
        // Probabilities cached with the other setting are not this one's.
        self.cache().clear();
        self
    }

    /// The crop cache, locked (a poisoned lock is taken over, as for the
    /// fast path's buffers).
    fn cache(&self) -> MutexGuard<'_, CropCache> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The network.
    pub fn model(&self) -> &UNet {
        &self.model
    }

    /// The crop rule and threshold.
    pub fn config(&self) -> &SegmenterConfig {
        &self.config
    }

    /// Segments `image` for every label in `labels`: `labels[k]` holds the
    /// strokes drawn for label `k` (their points in image pixel
    /// coordinates). A label's positive strokes are positive for it and
    /// negative for every other label; its negative strokes (corrections)
    /// are negative for it alone. A label without positive strokes gets
    /// probability 0 everywhere.
    pub fn segment(&self, image: &RgbImage, labels: &[Vec<Stroke>]) -> Segmentation {
        let crops = self.segment_crops(image, labels);
        let (w, h) = (crops.width, crops.height);
        let whole = Rect::new(0, 0, w, h);
        let probabilities: Vec<Plane> = (0..labels.len())
            .map(|k| crops.probabilities_in(k, whole))
            .collect();
        let label_map = label_map(&probabilities, w * h, self.config.threshold);
        Segmentation {
            probabilities,
            label_map,
            width: w,
            height: h,
        }
    }

    /// What [`Segmenter::segment`] computes, kept at the network's
    /// resolution: per label its window and 128×128 probabilities. Pasting
    /// them back is left to the caller, for the part of the image it needs
    /// ([`CropSegmentation::label_map_in`]): on an 8000×6000 image a
    /// full-resolution plane per label costs more than the network.
    pub fn segment_crops(&self, image: &RgbImage, labels: &[Vec<Stroke>]) -> CropSegmentation {
        self.segment_crops_of(image, labels, 0..labels.len())
    }

    /// As [`Segmenter::segment_crops`], but only for the labels `which`
    /// lists (indices into `labels`); every other label's crop is `None`,
    /// though its strokes still count as negatives for the labels segmented.
    /// Segmenting label by label gives the same crops as all at once: a
    /// server shares the network fairly between clients this way, one label
    /// at a time. An index past `labels` is skipped.
    pub fn segment_crops_of(
        &self,
        image: &RgbImage,
        labels: &[Vec<Stroke>],
        which: impl IntoIterator<Item = usize>,
    ) -> CropSegmentation {
        let size = (image.width() as usize, image.height() as usize);
        let mut inputs: Vec<(usize, Window, Plane)> = which
            .into_iter()
            .filter_map(|k| {
                let window = image_window(positive_points(labels.get(k)?), &self.config, size)?;
                Some((k, window, interaction_channel(labels, k, &window)))
            })
            .collect();
        let mut probabilities = self.run(image, inputs.iter().map(|(_, w, c)| (w, c)));
        if let Some(context) = self.config.refine {
            let config = SegmenterConfig {
                context,
                ..self.config.clone()
            };
            for _ in 1..MAX_PASSES {
                // Labels whose answer runs into its crop's edge: the object
                // likely goes on past it, so the crop grows to the answer's
                // extent with the context and the label runs again.
                let mut grown = Vec::new();
                for (i, ((k, window, channel), crop)) in inputs
                    .iter_mut()
                    .zip(probabilities.chunks_exact(CROP_PIXELS))
                    .enumerate()
                {
                    if !reaches_edge(crop, config.threshold) {
                        continue;
                    }
                    match object_window(&labels[*k], window, crop, &config, size) {
                        Some(refined) if refined.width > GROWTH * window.width => {
                            *window = refined;
                            *channel = interaction_channel(labels, *k, window);
                            grown.push(i);
                        }
                        _ => {}
                    }
                }
                if grown.is_empty() {
                    break;
                }
                let again = self.run(image, grown.iter().map(|&i| (&inputs[i].1, &inputs[i].2)));
                for (&i, crop) in grown.iter().zip(again.chunks_exact(CROP_PIXELS)) {
                    probabilities[i * CROP_PIXELS..(i + 1) * CROP_PIXELS].copy_from_slice(crop);
                }
            }
        }
        let mut crops = vec![None; labels.len()];
        for ((k, window, _), crop) in inputs.iter().zip(probabilities.chunks_exact(CROP_PIXELS)) {
            crops[*k] = Some(LabelCrop {
                window: *window,
                probabilities: crop.to_vec(),
            });
        }
        CropSegmentation {
            crops,
            width: image.width() as usize,
            height: image.height() as usize,
            threshold: self.config.threshold,
        }
    }

    /// The object probabilities for one of the paper's baseline prompts (a
    /// bounding box or four extreme points, in image pixel coordinates), for
    /// a network trained on that prompt kind. The crop follows the prompt's
    /// points with the crop rule ([`SegmenterConfig::crop_rule`]), with the
    /// prompt's context ([`SegmenterConfig::prompt_context`]).
    pub fn segment_prompt(&self, image: &RgbImage, prompt: &Prompt) -> Plane {
        let mut probabilities = Plane::new(image.width() as usize, image.height() as usize);
        let rule = CropRule {
            context: self.config.prompt_context,
            ..self.config.crop_rule()
        };
        // Uncapped: a baseline reads the object's extent from the prompt's
        // share of the crop, which it was trained with at this one context;
        // capped at the image, the box's share changes and the box network
        // fails on objects that fill their image.
        let window = rule
            .around_points(prompt.points())
            .expect("a box or extreme points have at least one point");
        let mut channel = Plane::new(INPUT_SIZE, INPUT_SIZE);
        let transform = window.transform(INPUT_SIZE, INPUT_SIZE);
        match prompt {
            Prompt::Box(b) => b.draw(&mut channel, transform),
            Prompt::Extremes(e) => e.draw(&mut channel, transform, EXTREME_SIGMA),
        }
        let crop = self.run(image, [(&window, &channel)]);
        paste(&mut probabilities, (0, 0), &crop, &window);
        probabilities
    }

    /// Runs the network on the crops of `image` at `inputs` (window and
    /// interaction channel each) as one batch; the probabilities of all
    /// crops, [`CROP_PIXELS`] each, in order. A crop whose input is the same
    /// as one of the last few computed takes its probabilities from the
    /// [`CropCache`] instead.
    fn run<'a>(
        &self,
        image: &RgbImage,
        inputs: impl IntoIterator<Item = (&'a Window, &'a Plane)>,
    ) -> Vec<f32> {
        let mut values = Vec::new();
        for (window, channel) in inputs {
            let crop = crop_rgb(image, window, INPUT_SIZE, INPUT_SIZE);
            push_sample(&mut values, &crop, channel);
        }
        let crops = values.len() / SAMPLE_VALUES;
        let mut out = vec![0.0; crops * CROP_PIXELS];
        let mut cache = self.cache();
        cache.reserve(crops);
        let mut missing = Vec::new();
        for (i, (input, output)) in values
            .chunks_exact(SAMPLE_VALUES)
            .zip(out.chunks_exact_mut(CROP_PIXELS))
            .enumerate()
        {
            match cache.get(input) {
                Some(hit) => output.copy_from_slice(hit),
                None => missing.push(i),
            }
        }
        if missing.is_empty() {
            return out;
        }
        if missing.len() < crops {
            values = missing
                .iter()
                .flat_map(|&i| &values[i * SAMPLE_VALUES..(i + 1) * SAMPLE_VALUES])
                .copied()
                .collect();
        }
        let computed = self.probabilities(&values);
        for ((&i, input), probs) in missing
            .iter()
            .zip(values.chunks_exact(SAMPLE_VALUES))
            .zip(computed.chunks_exact(CROP_PIXELS))
        {
            out[i * CROP_PIXELS..(i + 1) * CROP_PIXELS].copy_from_slice(probs);
            cache.insert(input, probs);
        }
        out
    }

    /// The network's probabilities for a batch of inputs ([`SAMPLE_VALUES`]
    /// each), [`CROP_PIXELS`] per input; with the test-time flip, the
    /// sigmoid of the mean of each crop's logits and its mirror image's.
    fn probabilities(&self, values: &[f32]) -> Vec<f32> {
        let mut logits = if self.config.flip {
            let direct_len = values.len() / SAMPLE_VALUES * CROP_PIXELS;
            let mut both = values.to_vec();
            both.extend_from_slice(values);
            mirror_rows(&mut both[values.len()..]);
            let mut logits = self.logits(&both);
            let (direct, mirrored) = logits.split_at_mut(direct_len);
            mirror_rows(mirrored);
            for (d, m) in direct.iter_mut().zip(mirrored.iter()) {
                *d = 0.5 * (*d + m);
            }
            logits.truncate(direct_len);
            logits
        } else {
            self.logits(values)
        };
        for v in &mut logits {
            *v = 1.0 / (1.0 + (-*v).exp());
        }
        logits
    }

    /// The network's logits for a batch of inputs ([`SAMPLE_VALUES`] each),
    /// [`CROP_PIXELS`] per input.
    fn logits(&self, values: &[f32]) -> Vec<f32> {
        match &self.engine {
            Engine::Burn(device) => {
                let input = batch_tensor(values.to_vec(), INPUT_SIZE, device);
                self.model
                    .forward(input)
                    .into_data()
                    .try_into_vec::<f32>()
                    .expect("the network computes in f32")
            }
            Engine::Fast(fast) => {
                let batch = values.len() / SAMPLE_VALUES;
                let mut logits = vec![0.0; batch * CROP_PIXELS];
                fast.lock().unwrap_or_else(PoisonError::into_inner).forward(
                    values,
                    [batch, 4, INPUT_SIZE, INPUT_SIZE],
                    &mut logits,
                );
                logits
            }
        }
    }
}

/// Mirrors planes of the network's width left to right, row by row.
fn mirror_rows(planes: &mut [f32]) {
    for row in planes.chunks_exact_mut(INPUT_SIZE) {
        row.reverse();
    }
}

/// Pixels of one network crop.
const CROP_PIXELS: usize = INPUT_SIZE * INPUT_SIZE;

/// Input values of one crop: RGB and the interaction channel.
const SAMPLE_VALUES: usize = 4 * CROP_PIXELS;

/// Crops the [`CropCache`] holds at least: more than an image has labels
/// in practice.
const CACHED_CROPS: usize = 32;

/// A prompt of the paper's two baselines, given instead of strokes to a
/// network trained on it.
#[derive(Clone, Debug, PartialEq)]
pub enum Prompt {
    /// The object's bounding box, drawn as its outline.
    Box(BoxPrompt),
    /// The object's four extreme points, drawn as Gaussians.
    Extremes(ExtremePoints),
}

impl Prompt {
    /// The points the crop is placed around.
    fn points(&self) -> Vec<Point> {
        match self {
            Prompt::Box(b) => vec![b.min, b.max],
            Prompt::Extremes(e) => e.points.to_vec(),
        }
    }
}

/// The points of a label's positive strokes (those its crop follows).
fn positive_points(strokes: &[Stroke]) -> impl Iterator<Item = Point> + '_ {
    strokes
        .iter()
        .filter(|s| s.polarity == Polarity::Positive)
        .flat_map(|s| s.points.iter().copied())
}

/// At most this many passes per label with [`SegmenterConfig::refine`].
const MAX_PASSES: usize = 4;

/// A pass's crop grows only when the next is at least this much wider:
/// otherwise the answer it has is kept.
const GROWTH: f32 = 1.05;

/// Whether a crop's answer reaches its edge: a pixel above `threshold` in
/// its outermost two rows or columns.
fn reaches_edge(crop: &[f32], threshold: f32) -> bool {
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
fn object_window(
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

/// The fourth channel for label `k` in `window`: its positive strokes +1,
/// every other label's positive strokes and its own negative strokes −1.
fn interaction_channel(labels: &[Vec<Stroke>], k: usize, window: &Window) -> Plane {
    let transform = window.transform(INPUT_SIZE, INPUT_SIZE);
    let mut channel = Plane::new(INPUT_SIZE, INPUT_SIZE);
    // Negatives first, so the label's own positive strokes win where they cross.
    for pass in [Polarity::Negative, Polarity::Positive] {
        for (j, strokes) in labels.iter().enumerate() {
            for s in strokes {
                let polarity = match (j == k, s.polarity) {
                    (true, p) => p,
                    (false, Polarity::Positive) => Polarity::Negative,
                    (false, Polarity::Negative) => continue,
                };
                if polarity == pass {
                    let stroke = Stroke {
                        points: s.points.clone(),
                        polarity,
                    };
                    draw_stroke(&mut channel, &stroke, transform, DRAW_RADIUS, None);
                }
            }
        }
    }
    channel
}

/// Writes the crop's probabilities, resized bilinearly, into the part of
/// `plane` that `window` covers; `plane` holds the image pixels from
/// `origin` on (its top-left corner).
///
/// Each output row first blends the two crop rows around it (128 values),
/// then reads that blend at each column's two taps, found once per call: no
/// rounding or clamping per pixel.
fn paste(plane: &mut Plane, origin: (usize, usize), crop: &[f32], window: &Window) {
    let (w, h) = (plane.width(), plane.height());
    let Some(covered) = pixels_of(window, origin.0 + w, origin.1 + h) else {
        return;
    };
    let t = window.transform(INPUT_SIZE, INPUT_SIZE);
    // The two crop positions around `c` (clamped to the crop) and the second one's weight.
    let taps = |c: f32| {
        let floor = c.floor();
        let last = INPUT_SIZE as isize - 1;
        let at = |i: isize| i.clamp(0, last) as usize;
        (at(floor as isize), at(floor as isize + 1), c - floor)
    };
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

/// Per pixel, `k + 1` for the most probable label above `threshold`, else 0
/// (the first such label on a tie). Runs over blocks of pixels, one pass per
/// label over each, with the best probability so far on the stack; compiled
/// for the CPU's best instruction set ([`pulp::Arch`]), where its selects
/// vectorise.
fn label_map(probabilities: &[Plane], pixels: usize, threshold: f32) -> Vec<u16> {
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
fn label_blocks<const BLOCK: usize>(probabilities: &[Plane], threshold: f32, map: &mut [u16]) {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// An image large enough that no window here meets its cap.
    const LARGE: (usize, usize) = (10_000, 10_000);

    #[test]
    fn window_is_a_square_around_the_strokes_with_context() {
        let config = SegmenterConfig::default();
        let strokes = [Point::new(10.0, 20.0), Point::new(49.0, 29.0)];
        let w = config.crop_rule().around_points(strokes).unwrap();
        assert_eq!((w.width, w.height), (72.0, 72.0)); // 40 px × 1.8
        assert_eq!((w.x0 + w.width / 2.0, w.y0 + w.height / 2.0), (30.0, 25.0));
        let click = config
            .crop_rule()
            .around_points([Point::new(5.0, 5.0)])
            .unwrap();
        assert_eq!(click.width, 48.0);
        assert!(config
            .crop_rule()
            .around_points(std::iter::empty())
            .is_none());
    }

    #[test]
    fn window_is_no_wider_than_the_image_nor_narrower_than_min_side() {
        let config = SegmenterConfig::default();
        // Strokes over 200 × 100 px of a 218 × 166 image: 360 px with the
        // context, capped at 218 and still centred on the strokes.
        let strokes = [Point::new(9.0, 30.0), Point::new(208.0, 129.0)];
        assert_eq!(
            image_window(strokes, &config, LARGE),
            config.crop_rule().around_points(strokes)
        );
        let w = image_window(strokes, &config, (218, 166)).unwrap();
        assert_eq!((w.width, w.height), (218.0, 218.0));
        assert_eq!((w.x0 + w.width / 2.0, w.y0 + w.height / 2.0), (109.0, 80.0));
        // A 30-px image still gets the smallest window.
        let small = image_window(strokes, &config, (30, 20)).unwrap();
        assert_eq!(small.width, 48.0);
    }

    #[test]
    fn the_refined_window_follows_the_predicted_object_and_the_strokes() {
        // A 256-px window at (100, 50): 2 image pixels per crop pixel. The first pass
        // predicted crop pixels 10..=59 × 20..=39, i.e. image x 120..220, y 90..130.
        let window = Window {
            x0: 100.0,
            y0: 50.0,
            width: 256.0,
            height: 256.0,
        };
        let crop: Vec<f32> = (0..CROP_PIXELS)
            .map(|i| {
                let (x, y) = (i % INPUT_SIZE, i / INPUT_SIZE);
                if (10..60).contains(&x) && (20..40).contains(&y) {
                    0.9
                } else {
                    0.1
                }
            })
            .collect();
        let config = SegmenterConfig {
            context: 0.25,
            ..SegmenterConfig::default()
        };
        let stroke = |points: &[(f32, f32)], polarity| Stroke {
            points: points.iter().map(|&(x, y)| Point::new(x, y)).collect(),
            polarity,
        };
        let inside = [stroke(
            &[(150.0, 100.0), (170.0, 110.0)],
            Polarity::Positive,
        )];
        let w = object_window(&inside, &window, &crop, &config, LARGE).expect("an object");
        // Extent 100 px (+1 for pixel edges) × 1.5, centred on the object.
        assert!((w.width - 151.5).abs() < 1e-3, "{w:?}");
        assert!((w.x0 + w.width / 2.0 - 170.5).abs() < 1e-3, "{w:?}");
        assert!((w.y0 + w.height / 2.0 - 110.5).abs() < 1e-3, "{w:?}");
        // A positive stroke outside the object widens the window; a negative one does not.
        let outside = [
            stroke(&[(150.0, 100.0)], Polarity::Positive),
            stroke(&[(300.0, 100.0)], Polarity::Positive),
        ];
        let wider = object_window(&outside, &window, &crop, &config, LARGE).expect("an object");
        assert!(wider.x0 + wider.width > 300.0, "{wider:?}");
        let negative = [stroke(&[(300.0, 100.0)], Polarity::Negative)];
        let same = object_window(&negative, &window, &crop, &config, LARGE).expect("an object");
        assert_eq!(same, w);
        // Nothing predicted: no second pass.
        assert!(object_window(&inside, &window, &vec![0.1; CROP_PIXELS], &config, LARGE).is_none());
    }

    #[test]
    fn an_answer_reaches_the_edge_only_above_threshold_in_the_outer_two_pixels() {
        let with = |x: usize, y: usize, p: f32| {
            let mut crop = vec![0.1; CROP_PIXELS];
            crop[y * INPUT_SIZE + x] = p;
            crop
        };
        assert!(reaches_edge(&with(1, 60, 0.9), 0.4));
        assert!(reaches_edge(&with(60, INPUT_SIZE - 2, 0.9), 0.4));
        assert!(!reaches_edge(&with(2, 60, 0.9), 0.4));
        assert!(!reaches_edge(&with(0, 0, 0.3), 0.4));
        assert!(!reaches_edge(&vec![0.1; CROP_PIXELS], 0.4));
    }

    #[test]
    fn label_map_takes_the_most_probable_label_above_threshold() {
        let a = Plane::from_vec(3, 1, vec![0.9, 0.4, 0.6]).unwrap();
        let b = Plane::from_vec(3, 1, vec![0.7, 0.3, 0.8]).unwrap();
        assert_eq!(label_map(&[a, b], 3, 0.5), vec![1, 0, 2]);
    }

    #[test]
    fn label_map_agrees_with_the_per_pixel_rule_across_blocks() {
        // 2,500 pixels: two whole blocks of 1,024 and a partial one; ties go to the first label.
        let pixels = 2_500;
        let value =
            |k: usize, i: usize| ((i * 2_654_435_761 + k * 40_503) >> 9) as f32 % 10.0 / 10.0;
        let planes: Vec<Plane> = (0..3)
            .map(|k| Plane::from_vec(50, 50, (0..pixels).map(|i| value(k, i)).collect()).unwrap())
            .collect();
        let map = label_map(&planes, pixels, 0.35);
        for (i, &label) in map.iter().enumerate() {
            let mut best = (0u16, 0.35);
            for k in 0..3 {
                if value(k, i) > best.1 {
                    best = (k as u16 + 1, value(k, i));
                }
            }
            assert_eq!(label, best.0, "pixel {i}");
        }
        assert!((0..4).all(|l| map.contains(&l)), "every outcome occurs");
    }

    #[test]
    fn paste_interpolates_a_ramp_exactly() {
        // Bilinear resizing reproduces a linear function wherever the taps lie inside the crop.
        let ramp: Vec<f32> = (0..INPUT_SIZE * INPUT_SIZE)
            .map(|i| (i % INPUT_SIZE) as f32 * 0.5 + (i / INPUT_SIZE) as f32 * 0.25)
            .collect();
        let window = Window {
            x0: 10.0,
            y0: 5.0,
            width: 300.0,
            height: 300.0,
        };
        let mut plane = Plane::new(200, 150);
        paste(&mut plane, (20, 30), &ramp, &window);
        let t = window.transform(INPUT_SIZE, INPUT_SIZE);
        let last = (INPUT_SIZE - 1) as f32;
        for y in 0..150 {
            for x in 0..200 {
                let (ix, iy) = (x + 20, y + 30);
                let cx = (ix as f32 * t.sx + t.tx).clamp(0.0, last);
                let cy = (iy as f32 * t.sy + t.ty).clamp(0.0, last);
                let expected = cx * 0.5 + cy * 0.25;
                let got = plane.get(x, y);
                assert!(
                    (got - expected).abs() < 1e-3,
                    "({ix}, {iy}): {got} vs {expected}"
                );
            }
        }
    }

    #[test]
    fn paste_reproduces_a_constant_crop_inside_the_window_only() {
        let mut plane = Plane::new(300, 200);
        let window = Window {
            x0: 50.0,
            y0: -20.0,
            width: 100.0,
            height: 100.0,
        };
        paste(
            &mut plane,
            (0, 0),
            &vec![0.75; INPUT_SIZE * INPUT_SIZE],
            &window,
        );
        assert_eq!(plane.get(60, 10), 0.75);
        assert_eq!(plane.get(149, 79), 0.75);
        assert_eq!(plane.get(150, 10), 0.0);
        assert_eq!(plane.get(60, 80), 0.0);
    }

    #[test]
    fn the_test_time_flip_makes_the_answer_mirror_symmetric() {
        // P(mirrored input) = mirrored P(input) holds exactly with the flip
        // (a + b = b + a in floating point), and not for a random network
        // without it.
        let model = crate::UNetConfig::new().init(&Device::flex());
        let mut state = 0x2545_f491_u32;
        let input: Vec<f32> = (0..2 * SAMPLE_VALUES)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                state as f32 / u32::MAX as f32 - 0.5
            })
            .collect();
        let mut mirrored = input.clone();
        mirror_rows(&mut mirrored);
        for flip in [true, false] {
            let segmenter = Segmenter::fast(model.clone(), SegmenterConfig::default())
                .with_cache_capacity(0)
                .with_flip(flip);
            let mut direct = segmenter.probabilities(&input);
            mirror_rows(&mut direct);
            let of_mirrored = segmenter.probabilities(&mirrored);
            let max_diff = direct
                .iter()
                .zip(&of_mirrored)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max);
            if flip {
                assert!(max_diff < 1e-6, "with the flip: {max_diff}");
            } else {
                assert!(max_diff > 1e-3, "without the flip: {max_diff}");
            }
        }
    }

    #[test]
    fn other_labels_strokes_are_negative() {
        let line = |y: f32, polarity| Stroke {
            points: vec![Point::new(10.0, y), Point::new(90.0, y)],
            polarity,
        };
        let labels = vec![
            vec![line(30.0, Polarity::Positive)],
            vec![line(70.0, Polarity::Positive)],
        ];
        let window = Window {
            x0: 0.0,
            y0: 0.0,
            width: 128.0,
            height: 128.0,
        };
        let c0 = interaction_channel(&labels, 0, &window);
        assert_eq!(c0.get(50, 30), 1.0);
        assert_eq!(c0.get(50, 70), -1.0);
        let c1 = interaction_channel(&labels, 1, &window);
        assert_eq!(c1.get(50, 30), -1.0);
        assert_eq!(c1.get(50, 70), 1.0);
    }
}

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
//!
//! The parts: `window` (where a label's crop goes, and how it grows), `channel` (the
//! interaction channel and the baselines' prompts), `output` (the crops pasted back, the
//! label map); the engine (batching, the test-time flip, the crop cache) is this file.

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

use burn::tensor::Device;
use image::RgbImage;
use scribseg_sim::{
    crop_rgb, CropRule, Plane, Rect, Stroke, Window, EXTREME_SIGMA, OBJECT_THRESHOLD,
};

use crate::crop_cache::CropCache;
use crate::fast::{FastUNet, Precision};
use crate::input::{batch_tensor, push_sample, INPUT_SIZE};
use crate::{Error, UNet};

mod channel;
mod output;
mod window;

use channel::interaction_channel;
pub use channel::Prompt;
use output::{label_map, paste};
pub use output::{CropSegmentation, LabelCrop, Segmentation};
use window::{image_window, object_window, positive_points, reaches_edge, GROWTH, MAX_PASSES};

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
    /// Probability above which a pixel belongs to a label in the label map
    /// ([`OBJECT_THRESHOLD`] by default).
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
    /// Whether a network that reads its previous answer is told it
    /// ([`Segmenter::segment_sequence`]); on by default. Off, every stroke
    /// is answered as a first one.
    pub previous: bool,
}

impl Default for SegmenterConfig {
    fn default() -> Self {
        Self {
            context: 0.4,
            prompt_context: 0.6,
            min_side: 48.0,
            threshold: OBJECT_THRESHOLD,
            refine: Some(0.4),
            flip: true,
            previous: true,
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

    /// Tells a network that reads its previous answer that answer, or not
    /// ([`SegmenterConfig::previous`]).
    pub fn with_previous(mut self, previous: bool) -> Self {
        self.config.previous = previous;
        self
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
        self.segment_crops_after(image, labels, which, None)
    }

    /// The crops of the labels `which` lists after the strokes of
    /// `strokes`, in drawing order, each with the index of its label among
    /// `labels` labels. A network that reads its previous answer
    /// ([`Segmenter::reads_previous`]), when told it
    /// ([`SegmenterConfig::previous`]), answers each of the last
    /// [`PREVIOUS_DEPTH`] strokes in turn, each told the answer before it, the
    /// first told there was none: the answer is a function of the strokes
    /// alone (an export agrees with what the page showed), at most
    /// `PREVIOUS_DEPTH + 1` passes per label, of which a live stroke's
    /// earlier ones come from the crop cache. Any other network answers all
    /// strokes at once ([`Segmenter::segment_crops_of`]). A stroke of a label
    /// past `labels` is skipped.
    pub fn segment_sequence(
        &self,
        image: &RgbImage,
        labels: usize,
        strokes: &[(usize, Stroke)],
        which: &[usize],
    ) -> CropSegmentation {
        let grouped = |strokes: &[(usize, Stroke)]| {
            let mut grouped = vec![Vec::new(); labels];
            for (k, stroke) in strokes {
                if let Some(group) = grouped.get_mut(*k) {
                    group.push(stroke.clone());
                }
            }
            grouped
        };
        if !self.tells_previous() {
            return self.segment_crops_of(image, &grouped(strokes), which.iter().copied());
        }
        let first = strokes.len().saturating_sub(PREVIOUS_DEPTH);
        let mut answer: Option<CropSegmentation> = None;
        for end in first..=strokes.len() {
            let labels = grouped(&strokes[..end]);
            answer = Some(self.segment_crops_after(
                image,
                &labels,
                which.iter().copied(),
                answer.as_ref(),
            ));
        }
        answer.expect("at least one pass")
    }

    /// Whether the network reads its previous answer
    /// ([`UNetConfig::reads_previous`](crate::UNetConfig::reads_previous)).
    pub fn reads_previous(&self) -> bool {
        self.model.config().reads_previous()
    }

    /// Whether the network is told its previous answer: it reads one and
    /// [`SegmenterConfig::previous`] is on.
    pub fn tells_previous(&self) -> bool {
        self.reads_previous() && self.config.previous
    }

    /// As [`Segmenter::segment_crops_of`], each label told its answer in
    /// `previous` (the segmentation before the last interaction) when the
    /// network reads one ([`Segmenter::reads_previous`]) and is to be told
    /// ([`SegmenterConfig::previous`]); a label without a crop there, or
    /// without `previous`, is told there was none, as for a first stroke.
    pub fn segment_crops_after(
        &self,
        image: &RgbImage,
        labels: &[Vec<Stroke>],
        which: impl IntoIterator<Item = usize>,
        previous: Option<&CropSegmentation>,
    ) -> CropSegmentation {
        let size = (image.width() as usize, image.height() as usize);
        let tell = self.tells_previous();
        let previous_in = |k: usize, window: &Window| {
            let crop = previous?.crops.get(k)?.as_ref()?;
            tell.then(|| crop.seen_from(window, size.0, size.1))
        };
        let mut inputs: Vec<(usize, Window, Plane, Option<Plane>)> = which
            .into_iter()
            .filter_map(|k| {
                let window = image_window(positive_points(labels.get(k)?), &self.config, size)?;
                let channel = interaction_channel(labels, k, &window);
                Some((k, window, channel, previous_in(k, &window)))
            })
            .collect();
        let mut probabilities =
            self.run(image, inputs.iter().map(|(_, w, c, p)| (w, c, p.as_ref())));
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
                for (i, ((k, window, channel, previous), crop)) in inputs
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
                            *previous = previous_in(*k, window);
                            grown.push(i);
                        }
                        _ => {}
                    }
                }
                if grown.is_empty() {
                    break;
                }
                let again = self.run(
                    image,
                    grown.iter().map(|&i| {
                        let (_, window, channel, previous) = &inputs[i];
                        (window, channel, previous.as_ref())
                    }),
                );
                for (&i, crop) in grown.iter().zip(again.chunks_exact(CROP_PIXELS)) {
                    probabilities[i * CROP_PIXELS..(i + 1) * CROP_PIXELS].copy_from_slice(crop);
                }
            }
        }
        let mut crops = vec![None; labels.len()];
        for ((k, window, ..), crop) in inputs.iter().zip(probabilities.chunks_exact(CROP_PIXELS)) {
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
        let crop = self.run(image, [(&window, &channel, None)]);
        paste(&mut probabilities, (0, 0), &crop, &window);
        probabilities
    }

    /// Runs the network on the crops of `image` at `inputs` (window,
    /// interaction channel and any previous answer each) as one batch; the
    /// probabilities of all crops, [`CROP_PIXELS`] each, in order. A crop
    /// whose input is the same as one of the last few computed takes its
    /// probabilities from the [`CropCache`] instead.
    fn run<'a>(
        &self,
        image: &RgbImage,
        inputs: impl IntoIterator<Item = (&'a Window, &'a Plane, Option<&'a Plane>)>,
    ) -> Vec<f32> {
        let channels = self.model.config().in_channels;
        let sample_values = self.sample_values();
        let mut values = Vec::new();
        for (window, channel, previous) in inputs {
            let crop = crop_rgb(image, window, INPUT_SIZE, INPUT_SIZE);
            push_sample(&mut values, channels, &crop, channel, previous);
        }
        let crops = values.len() / sample_values;
        let mut out = vec![0.0; crops * CROP_PIXELS];
        let mut cache = self.cache();
        cache.reserve(crops);
        let mut missing = Vec::new();
        for (i, (input, output)) in values
            .chunks_exact(sample_values)
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
                .flat_map(|&i| &values[i * sample_values..(i + 1) * sample_values])
                .copied()
                .collect();
        }
        let computed = self.probabilities(&values);
        for ((&i, input), probs) in missing
            .iter()
            .zip(values.chunks_exact(sample_values))
            .zip(computed.chunks_exact(CROP_PIXELS))
        {
            out[i * CROP_PIXELS..(i + 1) * CROP_PIXELS].copy_from_slice(probs);
            cache.insert(input, probs);
        }
        out
    }

    /// Input values of one crop: the network's input channels.
    fn sample_values(&self) -> usize {
        self.model.config().in_channels * CROP_PIXELS
    }

    /// The network's probabilities for a batch of inputs ([`Segmenter::sample_values`]
    /// each), [`CROP_PIXELS`] per input; with the test-time flip, the
    /// sigmoid of the mean of each crop's logits and its mirror image's.
    fn probabilities(&self, values: &[f32]) -> Vec<f32> {
        let mut logits = if self.config.flip {
            let direct_len = values.len() / self.sample_values() * CROP_PIXELS;
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

    /// The network's logits for a batch of inputs ([`Segmenter::sample_values`] each),
    /// [`CROP_PIXELS`] per input.
    fn logits(&self, values: &[f32]) -> Vec<f32> {
        match &self.engine {
            Engine::Burn(device) => {
                let channels = self.model.config().in_channels;
                let input = batch_tensor(values.to_vec(), channels, INPUT_SIZE, device);
                self.model
                    .forward(input)
                    .into_data()
                    .try_into_vec::<f32>()
                    .expect("the network computes in f32")
            }
            Engine::Fast(fast) => {
                let channels = self.model.config().in_channels;
                let batch = values.len() / self.sample_values();
                let mut logits = vec![0.0; batch * CROP_PIXELS];
                fast.lock().unwrap_or_else(PoisonError::into_inner).forward(
                    values,
                    [batch, channels, INPUT_SIZE, INPUT_SIZE],
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

/// How many of the last strokes a network that reads its previous answer
/// answers in turn ([`Segmenter::segment_sequence`]): the strokes before them
/// are answered at once, as a first stroke.
pub const PREVIOUS_DEPTH: usize = 3;

/// Crops the [`CropCache`] holds at least: more than an image has labels
/// in practice.
const CACHED_CROPS: usize = 32;

#[cfg(test)]
mod tests;

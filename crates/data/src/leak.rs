//! Finding evaluation images among training images by content.
//!
//! Public sets reuse each other's photos (ECSSD holds GrabCut and Berkeley
//! images, resized and re-encoded), so file names prove nothing. Each photo
//! is reduced to a [`Fingerprint`]: its colour thumbnail of 32 × 32, each
//! channel's mean removed, scaled to unit length. Two photos match when
//! their fingerprints' correlation reaches [`MATCH_SIMILARITY`]: resizing
//! and JPEG re-encoding keep a thumbnail nearly unchanged (copies correlate
//! above 0.99), while different photos with the same layout (a bright sky
//! over dark ground, a lesion in a round field) stayed below 0.97 on the
//! sets of docs/data.md, where grey thumbnails reached 0.96. Volume slices
//! are not compared: volumes are split whole, and slices of different
//! patients look alike at this size.

use std::path::PathBuf;

use image::imageops::FilterType;
use image::RgbImage;

use crate::config::Config;
use crate::dataset::Dataset;
use crate::sample::{Modality, Sample};
use crate::split::Split;

/// Side of the thumbnail a fingerprint is made of.
pub const FINGERPRINT_SIDE: usize = 32;

/// Correlation from which two photos count as the same.
pub const MATCH_SIMILARITY: f32 = 0.97;

/// A photo's colour thumbnail, each channel's mean removed, scaled to unit
/// length.
#[derive(Clone, Debug)]
pub struct Fingerprint(Vec<f32>);

impl Fingerprint {
    /// The fingerprint of `image`; `None` for a flat image (nothing to compare).
    pub fn of(image: &RgbImage) -> Option<Self> {
        let side = FINGERPRINT_SIDE as u32;
        let thumb = image::imageops::resize(image, side, side, FilterType::Triangle);
        let mut values: Vec<f32> = thumb.as_raw().iter().map(|&v| f32::from(v)).collect();
        for channel in 0..3 {
            let n = (values.len() / 3) as f32;
            let mean = values.iter().skip(channel).step_by(3).sum::<f32>() / n;
            values
                .iter_mut()
                .skip(channel)
                .step_by(3)
                .for_each(|v| *v -= mean);
        }
        let norm = values.iter().map(|v| v * v).sum::<f32>().sqrt();
        if norm < 1e-3 {
            return None;
        }
        values.iter_mut().for_each(|v| *v /= norm);
        Some(Fingerprint(values))
    }

    /// Correlation with `other`, in [−1, 1].
    pub fn similarity(&self, other: &Fingerprint) -> f32 {
        self.0.iter().zip(&other.0).map(|(a, b)| a * b).sum()
    }
}

/// Where a compared photo comes from.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageRef {
    /// The dataset's name.
    pub dataset: String,
    /// The unit's id.
    pub id: String,
    /// Its split.
    pub split: Split,
    /// Whether it belongs to an evaluation set (`test_only`).
    pub evaluation: bool,
    /// The image file.
    pub source: PathBuf,
}

/// A training or validation photo that matches a test or evaluation photo.
#[derive(Clone, Debug, PartialEq)]
pub struct Leak {
    /// The training or validation photo.
    pub image: ImageRef,
    /// The test or evaluation photo it matches.
    pub reference: ImageRef,
    /// Their fingerprints' correlation.
    pub similarity: f32,
}

/// The test-split photos of a configuration (evaluation sets and every
/// dataset's test split), fingerprinted, to check other photos against.
#[derive(Default)]
pub struct References {
    entries: Vec<(ImageRef, Fingerprint)>,
}

impl References {
    /// Loads and fingerprints the test-split photos of every dataset of
    /// `config` that opens (the others are left to the caller to report).
    pub fn of_config(config: &Config) -> Self {
        let mut references = References::default();
        for dc in &config.datasets {
            let Ok(dataset) = Dataset::open(dc, &config.data_root, config.split) else {
                continue;
            };
            let units = dataset.units(Some(Split::Test));
            dataset.scan(&units, |s| references.add(&dataset, Split::Test, &s), || {});
        }
        references
    }

    /// Adds `sample` if it is a photo that is not flat.
    fn add(&mut self, dataset: &Dataset, split: Split, sample: &Sample) {
        if let Some(entry) = fingerprinted(dataset, split, sample) {
            self.entries.push(entry);
        }
    }

    /// How many photos there are to match against.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The references `sample` (of `dataset`, in `split`) matches with a
    /// correlation of at least `min_similarity` (usually
    /// [`MATCH_SIMILARITY`]), best first: every reference for a training or
    /// validation photo, the evaluation photos for a test photo, none for an
    /// evaluation photo.
    pub fn matches(
        &self,
        dataset: &Dataset,
        split: Split,
        sample: &Sample,
        min_similarity: f32,
    ) -> Vec<Leak> {
        if dataset.config().test_only {
            return Vec::new();
        }
        let Some((image, print)) = fingerprinted(dataset, split, sample) else {
            return Vec::new();
        };
        let mut leaks: Vec<Leak> = self
            .entries
            .iter()
            .filter(|(r, _)| !(r.dataset == image.dataset && r.id == image.id))
            .filter(|(r, _)| split != Split::Test || r.evaluation)
            .filter_map(|(reference, other)| {
                let similarity = print.similarity(other);
                (similarity >= min_similarity).then(|| Leak {
                    image: image.clone(),
                    reference: reference.clone(),
                    similarity,
                })
            })
            .collect();
        leaks.sort_by(|a, b| b.similarity.total_cmp(&a.similarity));
        leaks
    }
}

/// A photo's reference and fingerprint; `None` for slices and flat images.
fn fingerprinted(
    dataset: &Dataset,
    split: Split,
    sample: &Sample,
) -> Option<(ImageRef, Fingerprint)> {
    if sample.modality != Modality::Photo {
        return None;
    }
    let print = Fingerprint::of(&sample.image)?;
    Some((
        ImageRef {
            dataset: dataset.name().to_string(),
            id: sample.id.clone(),
            split,
            evaluation: dataset.config().test_only,
            source: sample.source.clone(),
        },
        print,
    ))
}

/// Every photo of `config` outside its evaluation sets that matches one of
/// `references` (usually [`References::of_config`]) as
/// [`References::matches`] says, at `min_similarity`; `on_unit(dataset,
/// units)` after every unit for progress. Datasets that do not open are
/// passed over (`scribseg data stats` reports them).
pub fn find_leaks(
    config: &Config,
    references: &References,
    min_similarity: f32,
    mut on_unit: impl FnMut(&str, usize),
) -> Vec<Leak> {
    let mut leaks = Vec::new();
    for dc in config.datasets.iter().filter(|d| !d.test_only) {
        let Ok(dataset) = Dataset::open(dc, &config.data_root, config.split) else {
            continue;
        };
        let n = dataset.len();
        for split in Split::ALL {
            let units = dataset.units(Some(split));
            dataset.scan(
                &units,
                |s| leaks.extend(references.matches(&dataset, split, &s, min_similarity)),
                || on_unit(&dc.name, n),
            );
        }
    }
    leaks
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A photo-like test image: a few coloured rectangles drawn from `seed`
    /// on a grey ramp.
    fn scene(w: u32, h: u32, seed: u64) -> RgbImage {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let boxes: Vec<([f32; 4], [u8; 3])> = (0..6)
            .map(|_| {
                let (x, y) = (rng.random::<f32>(), rng.random::<f32>());
                let corners = [
                    x,
                    y,
                    x + rng.random::<f32>() * 0.5,
                    y + rng.random::<f32>() * 0.5,
                ];
                (corners, [rng.random(), rng.random(), rng.random()])
            })
            .collect();
        RgbImage::from_fn(w, h, |x, y| {
            let (u, v) = (x as f32 / w as f32, y as f32 / h as f32);
            let ramp = (u * 120.0) as u8;
            let hit = boxes
                .iter()
                .rev()
                .find(|(b, _)| u >= b[0] && u < b[2] && v >= b[1] && v < b[3]);
            image::Rgb(hit.map_or([ramp; 3], |(_, c)| *c))
        })
    }

    fn reencoded(image: &RgbImage, w: u32, h: u32, quality: u8) -> RgbImage {
        let small = image::imageops::resize(image, w, h, FilterType::CatmullRom);
        let mut bytes = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality)
            .encode_image(&small)
            .expect("encode");
        image::load_from_memory(&bytes).expect("decode").to_rgb8()
    }

    #[test]
    fn a_resized_reencoded_copy_matches_and_other_scenes_do_not() {
        let original = scene(480, 320, 1);
        let copy = Fingerprint::of(&reencoded(&original, 300, 200, 70)).expect("not flat");
        let print = Fingerprint::of(&original).expect("not flat");
        assert!(
            print.similarity(&copy) >= MATCH_SIMILARITY,
            "{}",
            print.similarity(&copy)
        );
        for seed in 2..6 {
            let other = Fingerprint::of(&scene(480, 320, seed)).expect("not flat");
            assert!(print.similarity(&other) < MATCH_SIMILARITY, "seed {seed}");
        }
        assert!(Fingerprint::of(&RgbImage::from_pixel(9, 9, image::Rgb([7, 7, 7]))).is_none());
    }
}

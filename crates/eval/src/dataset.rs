//! What an evaluation runs over: a benchmark folder (`images/` +
//! `masks/<stem>_<k>.png`), or one split of a dataset of the data
//! configuration (our own test split).
//!
//! Benchmark folders use the data crate's [`MaskFolderSource`] with binary
//! masks (128 = ignore). It pairs files by stem rather than through
//! `pairs.csv`; the two agree on every staged benchmark. Where an image has
//! several objects (Berkeley's 189011 and 239007), their ignore masks are
//! merged; only GrabCut has ignore pixels, one object per image.
//!
//! A configured dataset is read with its own reader and split rule, so the
//! test split is exactly the one training never saw. A volume yields
//! hundreds of slices; [`SplitSpec::samples_per_unit`] evenly spaced ones
//! (among those with an object) stand for it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use scribseg_data::{
    Config, Dataset, DatasetConfig, MaskFolderOptions, MaskFolderSource, Sample, Source, Split,
    SplitRatios,
};

use crate::error::{Error, Result};
use crate::object::EvalObject;

/// A named set of images to evaluate on.
#[derive(Clone, Debug, PartialEq)]
pub struct DatasetSpec {
    /// The column name in reports (`"grabcut"`).
    pub name: String,
    /// Where its images come from.
    pub source: SpecSource,
}

/// Where a [`DatasetSpec`]'s images come from.
#[derive(Clone, Debug, PartialEq)]
pub enum SpecSource {
    /// A benchmark folder holding `images/` and `masks/`.
    Folder(PathBuf),
    /// One split of a configured dataset.
    Split(Box<SplitSpec>),
}

/// One split of a dataset of the data configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct SplitSpec {
    /// The dataset's entry in the configuration.
    pub dataset: DatasetConfig,
    /// The resolved data root its path is relative to.
    pub data_root: PathBuf,
    /// The configuration's split fractions.
    pub ratios: SplitRatios,
    /// Which split.
    pub split: Split,
    /// At most this many images (volume slices) per unit, evenly spaced.
    pub samples_per_unit: usize,
}

impl DatasetSpec {
    /// A benchmark folder named `name`.
    pub fn folder(name: impl Into<String>, root: impl Into<PathBuf>) -> Self {
        Self {
            name: name.into(),
            source: SpecSource::Folder(root.into()),
        }
    }

    /// The three staged benchmarks under `data_root` (`…/shared/data`):
    /// `eval/grabcut`, `eval/berkeley`, `eval/davis`.
    pub fn benchmarks(data_root: &Path) -> Vec<DatasetSpec> {
        ["grabcut", "berkeley", "davis"]
            .into_iter()
            .map(|name| Self::folder(name, data_root.join("eval").join(name)))
            .collect()
    }

    /// The `split` of every training dataset of `config` (mixture weight
    /// above 0, not test-only), each volume standing in with
    /// `samples_per_unit` slices.
    pub fn splits(config: &Config, split: Split, samples_per_unit: usize) -> Vec<DatasetSpec> {
        config
            .datasets
            .iter()
            .filter(|d| d.weight > 0.0 && !d.test_only)
            .map(|d| DatasetSpec {
                name: format!("{}:{}", d.name, split.name()),
                source: SpecSource::Split(Box::new(SplitSpec {
                    dataset: d.clone(),
                    data_root: config.data_root.clone(),
                    ratios: config.split,
                    split,
                    samples_per_unit: samples_per_unit.max(1),
                })),
            })
            .collect()
    }
}

/// An opened dataset: a list of images (units), each loading into its objects.
pub struct EvalDataset {
    name: String,
    units: Units,
}

enum Units {
    Folder(MaskFolderSource),
    Split {
        dataset: Dataset,
        indices: Vec<usize>,
        samples_per_unit: usize,
    },
}

impl EvalDataset {
    /// Lists the images (pairs a folder's files; reads a configured
    /// dataset's index and keeps the units of the split).
    pub fn open(spec: &DatasetSpec) -> Result<Self> {
        let units = match &spec.source {
            SpecSource::Folder(root) => {
                let options =
                    MaskFolderOptions::binary_folders(root.join("images"), root.join("masks"));
                Units::Folder(
                    MaskFolderSource::open(options).map_err(|e| data_error(&spec.name, e))?,
                )
            }
            SpecSource::Split(s) => {
                let dataset = Dataset::open(&s.dataset, &s.data_root, s.ratios)
                    .map_err(|e| data_error(&spec.name, e))?;
                let indices = dataset.units(Some(s.split));
                Units::Split {
                    dataset,
                    indices,
                    samples_per_unit: s.samples_per_unit,
                }
            }
        };
        Ok(Self {
            name: spec.name.clone(),
            units,
        })
    }

    /// The dataset's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of images (units: an image, or a volume).
    pub fn len(&self) -> usize {
        match &self.units {
            Units::Folder(source) => source.len(),
            Units::Split { indices, .. } => indices.len(),
        }
    }

    /// Whether there is no image.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The id of unit `index` (an image stem, or a volume id).
    pub fn image_id(&self, index: usize) -> &str {
        match &self.units {
            Units::Folder(source) => source.unit_id(index),
            Units::Split {
                dataset, indices, ..
            } => dataset.unit_id(indices[index]),
        }
    }

    /// The index of the unit with id `image_id`.
    pub fn find(&self, image_id: &str) -> Option<usize> {
        (0..self.len()).find(|&i| self.image_id(i) == image_id)
    }

    /// Loads unit `index` and its objects: ids `<stem>_<k>` in a folder
    /// (`k` from the mask's name), `<sample id>#<n>` in a configured
    /// dataset (`n` the object's position in its image).
    pub fn load(&self, index: usize) -> Result<Vec<EvalObject>> {
        let unit = self.image_id(index).to_string();
        let mut objects = Vec::new();
        match &self.units {
            Units::Folder(source) => {
                let samples =
                    without_empty(source.load(index)).map_err(|e| data_error(&self.name, e))?;
                for sample in samples {
                    let image = Arc::new(sample.image);
                    for object in sample.objects {
                        objects.push(EvalObject {
                            dataset: self.name.clone(),
                            image_id: unit.clone(),
                            id: format!("{}_{}", sample.id, object.label),
                            image: Arc::clone(&image),
                            truth: object.mask,
                            ignore: sample.ignore.clone(),
                        });
                    }
                }
            }
            Units::Split {
                dataset,
                indices,
                samples_per_unit,
            } => {
                let samples = without_empty(dataset.load(indices[index]))
                    .map_err(|e| data_error(&self.name, e))?;
                for sample in evenly_spaced(samples, *samples_per_unit) {
                    let image = Arc::new(sample.image);
                    for (n, object) in sample.objects.into_iter().enumerate() {
                        objects.push(EvalObject {
                            dataset: self.name.clone(),
                            image_id: unit.clone(),
                            id: format!("{}#{n}", sample.id),
                            image: Arc::clone(&image),
                            truth: object.mask,
                            ignore: sample.ignore.clone(),
                        });
                    }
                }
            }
        }
        Ok(objects)
    }
}

/// At most `n` of the samples that have an object, evenly spaced (the
/// middle one when `n` is 1).
fn evenly_spaced(samples: Vec<Sample>, n: usize) -> Vec<Sample> {
    let with_objects: Vec<Sample> = samples
        .into_iter()
        .filter(|s| !s.objects.is_empty())
        .collect();
    let len = with_objects.len();
    if len <= n {
        return with_objects;
    }
    let picks: Vec<usize> = (0..n).map(|i| (2 * i + 1) * len / (2 * n)).collect();
    with_objects
        .into_iter()
        .enumerate()
        .filter(|(i, _)| picks.contains(i))
        .map(|(_, s)| s)
        .collect()
}

/// A unit whose labels are all empty (or under the dataset's `min_area`) as no sample: there
/// is nothing in it to evaluate, as training skips it, and one such image must not end a run.
fn without_empty<T>(loaded: scribseg_data::Result<Vec<T>>) -> scribseg_data::Result<Vec<T>> {
    match loaded {
        Err(scribseg_data::Error::EmptyLabel { .. }) => Ok(Vec::new()),
        other => other,
    }
}

fn data_error(dataset: &str, source: scribseg_data::Error) -> Error {
    Error::Data {
        dataset: dataset.to_string(),
        source: Box::new(source),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::RgbImage;
    use scribseg_data::{Modality, Object};
    use scribseg_sim::Mask;

    fn sample(id: usize, objects: usize) -> Sample {
        Sample {
            id: id.to_string(),
            group: "v".into(),
            source: PathBuf::from("v.nii"),
            modality: Modality::Mri,
            image: RgbImage::new(2, 2),
            objects: (0..objects)
                .map(|_| Object {
                    mask: Mask::new(2, 2),
                    label: "1".into(),
                })
                .collect(),
            ignore: None,
        }
    }

    #[test]
    fn evenly_spaced_skips_empty_slices_and_spreads_the_picks() {
        let samples: Vec<Sample> = (0..10).map(|i| sample(i, usize::from(i >= 2))).collect();
        let ids = |v: Vec<Sample>| v.into_iter().map(|s| s.id).collect::<Vec<_>>();
        // Eight slices with objects (2..=9): picks 1, 4, 6 of them.
        assert_eq!(ids(evenly_spaced(samples.clone(), 3)), ["3", "6", "8"]);
        assert_eq!(ids(evenly_spaced(samples.clone(), 1)), ["6"]);
        assert_eq!(evenly_spaced(samples, 20).len(), 8);
    }
}

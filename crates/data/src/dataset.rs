//! A configured dataset: a reader plus its name, weight, split rule and object filter.

use std::collections::BTreeMap;
use std::path::Path;

use crate::coco::CocoSource;
use crate::config::{DatasetConfig, DatasetKind};
use crate::error::{Error, Result};
use crate::folder::{Layout, MaskFolderOptions, MaskFolderSource};
use crate::pattern::{is_pattern, PathPattern};
use crate::sample::Sample;
use crate::source::Source;
use crate::split::{Split, SplitRatios};
use crate::volume::{DecathlonSource, VolumeOptions};

/// A dataset opened from its [`DatasetConfig`].
pub struct Dataset {
    config: DatasetConfig,
    ratios: SplitRatios,
    source: Box<dyn Source>,
}

/// What a pass over a dataset found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScanReport {
    /// Units visited (images or volumes).
    pub units: usize,
    /// Units that loaded.
    pub loaded: usize,
    /// Samples produced (images, or slices for volumes).
    pub samples: usize,
    /// Target objects in those samples.
    pub objects: usize,
    /// Skipped units per reason ([`Error::reason`]).
    pub skipped: BTreeMap<&'static str, usize>,
    /// The first few skip messages, each naming its file.
    pub examples: Vec<String>,
}

/// How many skip messages a [`ScanReport`] keeps.
const KEPT_EXAMPLES: usize = 5;

impl ScanReport {
    /// Total number of skipped units.
    pub fn skipped_total(&self) -> usize {
        self.skipped.values().sum()
    }

    fn record_error(&mut self, err: &Error) {
        *self.skipped.entry(err.reason()).or_default() += 1;
        if self.examples.len() < KEPT_EXAMPLES {
            self.examples.push(err.to_string());
        }
    }
}

/// The folders or patterns of a mask dataset: patterns when `images` or
/// `masks` holds a `{` or `*`, and then both must capture the same names.
fn mask_layout(config: &DatasetConfig, root: &Path) -> Result<Layout> {
    let (images, masks) = (
        config.images.to_string_lossy(),
        config.masks.to_string_lossy(),
    );
    if !is_pattern(&images) && !is_pattern(&masks) {
        return Ok(Layout::Folders {
            images: root.join(&config.images),
            masks: root.join(&config.masks),
        });
    }
    let name = Path::new(&config.name);
    let images = PathPattern::parse(&images, name)?;
    let masks = PathPattern::parse(&masks, name)?;
    let (mut a, mut b) = (images.names(), masks.names());
    a.sort_unstable();
    b.sort_unstable();
    if a.is_empty() || a != b {
        return Err(Error::invalid(
            name,
            format!(
                "the patterns {:?} and {:?} must capture the same names, at least one",
                images.as_str(),
                masks.as_str()
            ),
        ));
    }
    Ok(Layout::Patterns {
        root: root.to_path_buf(),
        images,
        masks,
    })
}

impl Dataset {
    /// Opens the reader named by `config`, with paths under `data_root`.
    pub fn open(config: &DatasetConfig, data_root: &Path, ratios: SplitRatios) -> Result<Self> {
        let root = data_root.join(&config.path);
        let source: Box<dyn Source> = match config.kind {
            DatasetKind::Coco => Box::new(CocoSource::open(
                &root.join(&config.annotations),
                &root.join(&config.images),
            )?),
            DatasetKind::Masks => Box::new(MaskFolderSource::open(MaskFolderOptions {
                layout: mask_layout(config, &root)?,
                encoding: config.encoding,
                components: config.components,
                background_values: config.background_values.clone(),
                ignore_values: config.ignore_values.clone(),
                resize_masks: config.resize_masks,
                modality: config.modality,
                min_area: config.min_area,
            })?),
            DatasetKind::Decathlon => {
                let defaults = VolumeOptions::default();
                Box::new(DecathlonSource::open(
                    &root,
                    VolumeOptions {
                        slice_stride: config.slice_stride,
                        ct_window: config.ct_window.map_or(defaults.ct_window, |[a, b]| (a, b)),
                        spacing: config.spacing,
                        ..defaults
                    },
                )?)
            }
        };
        Ok(Dataset {
            config: config.clone(),
            ratios,
            source,
        })
    }

    /// The dataset's configuration.
    pub fn config(&self) -> &DatasetConfig {
        &self.config
    }

    /// The dataset's name.
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// Number of units (images or volumes).
    pub fn len(&self) -> usize {
        self.source.len()
    }

    /// Whether there is no unit.
    pub fn is_empty(&self) -> bool {
        self.source.is_empty()
    }

    /// The stable id of unit `index` (an image id, or a volume id).
    pub fn unit_id(&self, index: usize) -> &str {
        self.source.unit_id(index)
    }

    /// The split of unit `index`: always test for `test_only` sets.
    pub fn split_of(&self, index: usize) -> Split {
        if self.config.test_only {
            Split::Test
        } else {
            self.ratios.split_of(self.source.split_key(index))
        }
    }

    /// The units of one split, or all of them.
    pub fn units(&self, split: Option<Split>) -> Vec<usize> {
        (0..self.len())
            .filter(|&i| split.is_none_or(|s| self.split_of(i) == s))
            .collect()
    }

    /// Loads unit `index`, dropping objects under `min_area` pixels and the
    /// slices left without objects; an image left without objects is an
    /// [`Error::EmptyLabel`], a unit the config excludes an [`Error::Excluded`].
    pub fn load(&self, index: usize) -> Result<Vec<Sample>> {
        let id = self.source.unit_id(index);
        if self.config.exclude.iter().any(|e| e == id) {
            return Err(Error::Excluded {
                dataset: self.config.name.clone(),
                id: id.to_string(),
            });
        }
        let mut samples = self.source.load(index)?;
        let single_image = samples.len() == 1;
        for s in &mut samples {
            s.objects.retain(|o| o.mask.area() >= self.config.min_area);
        }
        if single_image && samples[0].objects.is_empty() {
            return Err(Error::EmptyLabel {
                path: samples[0].source.clone(),
            });
        }
        samples.retain(|s| !s.objects.is_empty());
        Ok(samples)
    }

    /// Loads `units` one by one, handing every sample to `on_sample` and
    /// calling `on_unit` after each unit (for progress); bad units are
    /// skipped and counted, never fatal.
    pub fn scan(
        &self,
        units: &[usize],
        mut on_sample: impl FnMut(Sample),
        mut on_unit: impl FnMut(),
    ) -> ScanReport {
        let mut report = ScanReport::default();
        for &unit in units {
            report.units += 1;
            match self.load(unit) {
                Ok(samples) => {
                    report.loaded += 1;
                    for s in samples {
                        report.samples += 1;
                        report.objects += s.objects.len();
                        on_sample(s);
                    }
                }
                Err(err) => report.record_error(&err),
            }
            on_unit();
        }
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn scan_skips_and_counts_bad_units() {
        let dir = tempfile::tempdir().expect("tempdir");
        let set = dir.path().join("set");
        for sub in ["images", "masks"] {
            std::fs::create_dir_all(set.join(sub)).expect("mkdir");
        }
        for (stem, area) in [("a", 30u32), ("b", 2), ("c", 30)] {
            image::RgbImage::new(10, 10)
                .save(set.join(format!("images/{stem}.png")))
                .expect("write");
            image::GrayImage::from_fn(10, 10, |x, y| {
                image::Luma([if y * 10 + x < area { 255 } else { 0 }])
            })
            .save(set.join(format!("masks/{stem}.png")))
            .expect("write");
        }
        std::fs::write(set.join("images/d.jpg"), b"not a jpeg").expect("write");
        image::GrayImage::new(10, 10)
            .save(set.join("masks/d.png"))
            .expect("write");
        std::fs::write(set.join("masks/e.png"), b"orphan").expect("write");
        let toml = "[[dataset]]\nname='s'\nkind='masks'\npath='set'\nmin_area=10\n";
        let config = Config::parse(toml, &dir.path().join("c.toml")).expect("valid");
        let root = if std::env::var_os(crate::config::DATA_ENV).is_some() {
            dir.path().to_path_buf()
        } else {
            config.data_root.clone()
        };
        let ds = Dataset::open(&config.datasets[0], &root, config.split).expect("opens");
        let mut ids = Vec::new();
        let mut ticks = 0;
        let report = ds.scan(&ds.units(None), |s| ids.push(s.id), || ticks += 1);
        assert_eq!(ids, ["a", "c"]);
        assert_eq!(ticks, 5);
        assert_eq!((report.units, report.loaded, report.objects), (5, 2, 2));
        assert_eq!(
            report.skipped.get("empty label"),
            Some(&1),
            "b is below min_area"
        );
        assert_eq!(report.skipped.get("corrupt image"), Some(&1), "{report:?}");
        assert_eq!(report.skipped.get("missing pair"), Some(&1));
        assert_eq!(report.skipped_total(), 3);
    }

    #[test]
    fn a_masks_pattern_beside_a_plain_images_folder_is_named_as_such() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("set/images")).expect("mkdir");
        let toml = "[[dataset]]\nname='p'\nkind='masks'\npath='set'\nmasks='gt/{id}.png'\n";
        let config = Config::parse(toml, &dir.path().join("c.toml")).expect("valid");
        let err = Dataset::open(&config.datasets[0], dir.path(), config.split)
            .err()
            .expect("no captures in images");
        assert!(
            err.to_string().contains("must capture the same names"),
            "{err}"
        );
    }

    #[test]
    fn test_only_sets_have_no_training_units() {
        let dir = tempfile::tempdir().expect("tempdir");
        let set = dir.path().join("set");
        for sub in ["images", "masks"] {
            std::fs::create_dir_all(set.join(sub)).expect("mkdir");
        }
        let toml = "[[dataset]]\nname='e'\nkind='masks'\npath='set'\ntest_only=true\n";
        let config = Config::parse(toml, &dir.path().join("c.toml")).expect("valid");
        for i in 0..20 {
            image::RgbImage::new(2, 2)
                .save(set.join(format!("images/{i}.png")))
                .expect("write");
        }
        let ds = Dataset::open(&config.datasets[0], dir.path(), config.split).expect("opens");
        assert_eq!(ds.units(Some(Split::Train)), Vec::<usize>::new());
        assert_eq!(ds.units(Some(Split::Test)).len(), 20);
    }
}

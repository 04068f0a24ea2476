//! The TOML configuration naming datasets, their kinds, paths, weights and splits.
//!
//! ```toml
//! data_root = "../../shared/data"   # relative to this file; $SCRIBSEG_DATA overrides it
//!
//! [split]
//! train = 0.8
//! val = 0.1
//!
//! [[dataset]]
//! name = "coco"
//! kind = "coco"                     # coco | masks | decathlon
//! path = "natural/coco"             # relative to data_root
//! weight = 0.6
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::folder::MaskEncoding;
use crate::sample::Modality;
use crate::split::SplitRatios;

/// Environment variable that overrides `data_root`.
pub const DATA_ENV: &str = "SCRIBSEG_DATA";

/// The whole configuration file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Folder all dataset paths are relative to. In the file it is relative
    /// to the file's own folder (default: that folder); after
    /// [`Config::load`] it is resolved, and `$SCRIBSEG_DATA` wins when set.
    #[serde(default)]
    pub data_root: PathBuf,
    /// More folders datasets can live under, by name (`more =
    /// "../../cache/data/more"`), each relative to the file's folder;
    /// `$SCRIBSEG_ROOT_<NAME>` (the name in capitals) overrides one. A
    /// dataset names one with `root = "more"`; after [`Config::load`] its
    /// `path` includes the root.
    #[serde(default)]
    pub roots: BTreeMap<String, PathBuf>,
    /// Train/validation fractions.
    #[serde(default)]
    pub split: SplitRatios,
    /// The datasets, in order.
    #[serde(rename = "dataset", default)]
    pub datasets: Vec<DatasetConfig>,
}

/// Which reader a dataset uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DatasetKind {
    /// A COCO instances JSON plus an image folder.
    Coco,
    /// `images/` plus `masks/` paired by stem.
    Masks,
    /// NIfTI volumes in the Decathlon layout.
    Decathlon,
}

/// One `[[dataset]]` entry.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetConfig {
    /// Unique name, used in statistics and shards.
    pub name: String,
    /// Reader.
    pub kind: DatasetKind,
    /// Folder of the dataset, relative to `data_root`.
    pub path: PathBuf,
    /// Mixture weight; 0 keeps the set out of training sampling.
    #[serde(default)]
    pub weight: f64,
    /// Evaluation-only set: every unit is in the test split.
    #[serde(default)]
    pub test_only: bool,
    /// Objects with fewer pixels are dropped (after slicing and resizing).
    #[serde(default = "default_min_area")]
    pub min_area: usize,
    /// COCO: annotation file inside `path`.
    #[serde(default = "default_annotations")]
    pub annotations: PathBuf,
    /// COCO and mask folders: image folder inside `path`; for mask folders
    /// also a path pattern (`"{id}/images/{id}.png"`, see [`crate::PathPattern`]).
    #[serde(default = "default_images")]
    pub images: PathBuf,
    /// Mask folders: mask folder inside `path`, or a path pattern with the
    /// same captures as `images` (a `*` in it: one file per object).
    #[serde(default = "default_masks")]
    pub masks: PathBuf,
    /// Mask folders: how a mask file holding every object is decoded.
    #[serde(default = "default_encoding")]
    pub encoding: MaskEncoding,
    /// Mask folders with label maps: one object per connected component.
    #[serde(default)]
    pub components: bool,
    /// Mask folders with index or label maps: the values that are
    /// background (default: 0).
    #[serde(default)]
    pub background_values: Option<Vec<u8>>,
    /// Mask folders with index or label maps: the values that are neither
    /// object nor background (default: 255 for instance maps, none for labels).
    #[serde(default)]
    pub ignore_values: Option<Vec<u8>>,
    /// Mask folders: resize masks of another size than their image to it
    /// (nearest neighbour) instead of skipping the image.
    #[serde(default)]
    pub resize_masks: bool,
    /// Unit ids (image stems, pattern keys, volume ids) left out of every
    /// split, such as a source's copies of evaluation images; counted as
    /// "excluded" by scans.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// A named root from `[roots]` that `path` is relative to, instead of
    /// `data_root`.
    #[serde(default)]
    pub root: Option<String>,
    /// Mask folders: the images' modality (default photo).
    #[serde(default = "default_modality")]
    pub modality: Modality,
    /// Volumes: keep every n-th slice along each axis.
    #[serde(default = "default_stride")]
    pub slice_stride: usize,
    /// Volumes: CT window `[low, high]` in HU (default `[-160, 240]`).
    #[serde(default)]
    pub ct_window: Option<[f32; 2]>,
    /// Volumes: voxel spacing `[x, y, z]` in mm overriding the header's.
    #[serde(default)]
    pub spacing: Option<[f32; 3]>,
}

fn default_min_area() -> usize {
    16
}
fn default_annotations() -> PathBuf {
    "instances.json".into()
}
fn default_images() -> PathBuf {
    "images".into()
}
fn default_masks() -> PathBuf {
    "masks".into()
}
fn default_encoding() -> MaskEncoding {
    MaskEncoding::Binary
}
fn default_modality() -> Modality {
    Modality::Photo
}
fn default_stride() -> usize {
    1
}

/// The environment variable that overrides root `name`: `SCRIBSEG_ROOT_MORE` for `more`.
pub fn root_env(name: &str) -> String {
    format!("SCRIBSEG_ROOT_{}", name.to_uppercase())
}

impl Config {
    /// Parses a TOML string; `base` is the folder relative paths start from.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let mut config: Config = toml::from_str(text).map_err(|source| Error::Toml {
            path: path.to_path_buf(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.data_root = match std::env::var_os(DATA_ENV) {
            Some(root) => PathBuf::from(root),
            None => base.join(&config.data_root),
        };
        for root in config.roots.values_mut() {
            // Absolute, because dataset paths are joined onto `data_root`,
            // and a relative root would land inside it.
            *root = std::path::absolute(base.join(&*root)).map_err(|e| Error::io(path, e))?;
        }
        for (name, root) in &mut config.roots {
            if let Some(dir) = std::env::var_os(root_env(name)) {
                *root = std::path::absolute(dir).map_err(|e| Error::io(path, e))?;
            }
        }
        config.validate(path)?;
        for d in &mut config.datasets {
            if let Some(name) = &d.root {
                d.path = config.roots[name].join(&d.path);
            }
        }
        Ok(config)
    }

    /// Reads and parses a configuration file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(&text, path)
    }

    fn validate(&self, path: &Path) -> Result<()> {
        let s = self.split;
        if !(0.0..=1.0).contains(&s.train) || s.val < 0.0 || s.train + s.val > 1.0 {
            return Err(Error::invalid(
                path,
                "split fractions must lie in [0, 1] and sum to at most 1",
            ));
        }
        for (i, d) in self.datasets.iter().enumerate() {
            if self.datasets[..i].iter().any(|e| e.name == d.name) {
                return Err(Error::invalid(
                    path,
                    format!("dataset name {:?} is used twice", d.name),
                ));
            }
            if let Some(root) = d.root.as_ref().filter(|r| !self.roots.contains_key(*r)) {
                return Err(Error::invalid(
                    path,
                    format!("dataset {:?}: no root {root:?} in [roots]", d.name),
                ));
            }
            if !(d.weight.is_finite() && d.weight >= 0.0) {
                return Err(Error::invalid(
                    path,
                    format!("dataset {:?}: weight must be ≥ 0", d.name),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
        data_root = "data"
        [split]
        train = 0.7
        val = 0.2
        [[dataset]]
        name = "coco"
        kind = "coco"
        path = "natural/coco"
        weight = 0.6
        [[dataset]]
        name = "clothing"
        kind = "masks"
        path = "natural/clothing"
        encoding = "labels"
        components = true
        [[dataset]]
        name = "ct"
        kind = "decathlon"
        path = "medical/ct"
        slice_stride = 3
        ct_window = [-1000, 1000]
    "#;

    #[test]
    fn parses_and_resolves_relative_to_the_file() {
        if std::env::var_os(DATA_ENV).is_some() {
            return; // the override is tested by the CLI; here it would mask the rule
        }
        let c = Config::parse(EXAMPLE, Path::new("/cfg/dir/c.toml")).expect("valid");
        assert_eq!(c.data_root, Path::new("/cfg/dir/data"));
        assert_eq!(c.split.train, 0.7);
        assert_eq!(c.datasets.len(), 3);
        assert_eq!(c.datasets[0].annotations, Path::new("instances.json"));
        assert_eq!(c.datasets[1].encoding, MaskEncoding::Labels);
        assert!(c.datasets[1].components);
        assert_eq!(c.datasets[1].weight, 0.0);
        assert_eq!(c.datasets[2].slice_stride, 3);
        assert_eq!(c.datasets[2].ct_window, Some([-1000.0, 1000.0]));
    }

    #[test]
    fn named_roots_resolve_relative_to_the_file() {
        let text = "roots = { extra = \"../more\" }\n[[dataset]]\nname = 'd'\nkind = 'masks'\n\
                    path = 'duts'\nroot = 'extra'\nexclude = ['0001']\n";
        let c = Config::parse(text, Path::new("/cfg/dir/c.toml")).expect("valid");
        if std::env::var_os(root_env("extra")).is_none() {
            assert_eq!(c.datasets[0].path, Path::new("/cfg/dir/../more/duts"));
            let relative = Config::parse(text, Path::new("cfg/c.toml")).expect("valid");
            assert!(
                relative.datasets[0].path.is_absolute(),
                "not inside data_root"
            );
        }
        assert_eq!(c.datasets[0].exclude, ["0001"]);
        let text = "[[dataset]]\nname = 'd'\nkind = 'masks'\npath = 'x'\nroot = 'nowhere'\n";
        let err = Config::parse(text, Path::new("/x/bad.toml")).expect_err("unknown root");
        assert!(err.to_string().contains("no root \"nowhere\""), "{err}");
    }

    #[test]
    fn errors_name_the_file() {
        let cases = [
            ("[[dataset]]\nname = 1", "malformed config"),
            ("[[dataset]]\nname='a'\nkind='coco'\npath='x'\nbogus=1", "malformed config"),
            ("[split]\ntrain = 0.9\nval = 0.2", "invalid content"),
            ("[[dataset]]\nname='a'\nkind='coco'\npath='x'\n[[dataset]]\nname='a'\nkind='coco'\npath='y'", "invalid content"),
        ];
        for (text, reason) in cases {
            let err = Config::parse(text, Path::new("/x/bad.toml")).expect_err(text);
            assert_eq!(err.reason(), reason, "{text}");
            assert!(err.to_string().contains("bad.toml"), "{err}");
        }
    }
}

//! The training configuration, read from TOML (`configs/train*.toml`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::schedule::{Phase, Plan, Schedule};
use crate::Error;
use scribseg_model::InputKind;
use scribseg_sim::{StrokeStyle, UnknownStyle};

/// Everything a training run needs; every field has a default but `shards`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// Folder with the packed shards (`scribseg pack --out`), relative paths
    /// resolved against the config file's folder.
    pub shards: PathBuf,
    /// Run folder: checkpoints (`last/`, `best/`), `state.json`, `log.csv`.
    pub out: PathBuf,
    /// Start from these weights instead of a random initialisation.
    pub init: Option<PathBuf>,
    /// What the fourth channel carries.
    pub kind: InputKind,
    /// Optimiser steps in all.
    pub steps: usize,
    /// Samples per step.
    pub batch: usize,
    /// Peak learning rate (Adam).
    pub lr: f64,
    /// Final learning rate of the cosine decay.
    pub min_lr: f64,
    /// Linear warm-up steps.
    pub warmup: usize,
    /// Adam's L2 weight decay (the authors' 1e-5).
    pub weight_decay: f64,
    /// Probability of a corrective second pass (paper: 0.3).
    pub corrective_probability: f32,
    /// Fraction of scribble samples given as one click instead.
    pub click_probability: f32,
    /// Fraction of corrective passes whose second input is told the first
    /// pass's answer, in a fifth input channel (the network's previous
    /// answer, as the Segmenter tells it before each stroke). Above 0 the
    /// network reads that channel: weights with four channels are widened
    /// at the start, the new channel's weights at zero, so training starts
    /// from the same answers. The passes not told it teach the network to
    /// answer a first stroke, which has no previous answer. 0 (the default)
    /// trains the paper's four-channel network.
    pub previous_probability: f32,
    /// Range of the crop context (see `SegmenterConfig::context`).
    pub context: (f32, f32),
    /// The stroke styles scribbles are drawn in, by name
    /// (`scribseg_sim::StrokeStyle`), with their shares: `styles = { paper
    /// = 0.5, centre = 0.2, short = 0.3 }`. Recorded in every checkpoint's
    /// `train.json`, so that `scribseg eval --style` knows which styles a
    /// network never saw.
    pub styles: BTreeMap<String, f32>,
    /// Fraction of scribble samples cropped around the object and its
    /// strokes, as the Segmenter's second pass crops (`refine`), instead of
    /// around the strokes alone.
    pub object_crop_probability: f32,
    /// Probability that a training sample gets another sample's object
    /// pasted over it (copy-paste augmentation; 0 turns it off).
    pub copy_paste_probability: f32,
    /// Master seed: the run is a function of it.
    pub seed: u64,
    /// Validate and checkpoint every this many steps.
    pub validate_every: usize,
    /// Validation examples (fixed for the run).
    pub validation_samples: usize,
    /// A learning-rate schedule in phases (`[[phases]]`), each with its own
    /// warm-up and cosine; when given, it replaces `lr`, `min_lr` and
    /// `warmup`, and `steps` still ends the run.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub phases: Vec<Phase>,
    /// A wall-time budget for this invocation, in minutes, loading and the
    /// first validation included: the run stops after the first step that
    /// ends past it (validating and checkpointing there), or at `steps`,
    /// whichever comes first, and a single cosine (not `phases`) decays by
    /// the fraction of the budget spent rather than by steps — for a machine lent for a fixed
    /// number of minutes. A resumed run starts its budget (and so its
    /// decay) afresh.
    pub time_limit_minutes: Option<f64>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            shards: PathBuf::from("shards"),
            out: PathBuf::from("runs/scribble"),
            init: None,
            kind: InputKind::Scribble,
            steps: 2000,
            batch: 16,
            lr: 1e-3,
            min_lr: 1e-5,
            warmup: 100,
            weight_decay: 1e-5,
            corrective_probability: 0.3,
            click_probability: 0.1,
            previous_probability: 0.0,
            context: (0.3, 1.0),
            styles: BTreeMap::from([("paper".to_string(), 1.0)]),
            object_crop_probability: 0.0,
            copy_paste_probability: 0.0,
            seed: 0,
            validate_every: 100,
            validation_samples: 128,
            phases: Vec::new(),
            time_limit_minutes: None,
        }
    }
}

impl TrainConfig {
    /// The stroke styles with their shares, or what is wrong with them: an
    /// unknown name, a share that is negative or not a number, or no
    /// positive share at all.
    pub fn stroke_styles(&self) -> Result<Vec<(StrokeStyle, f32)>, String> {
        let mut styles = Vec::new();
        for (name, &share) in &self.styles {
            let style: StrokeStyle = name.parse().map_err(|e: UnknownStyle| e.to_string())?;
            if !(share.is_finite() && share >= 0.0) {
                return Err(format!(
                    "the share of style {name} must be a non-negative number, not {share}"
                ));
            }
            if share > 0.0 {
                styles.push((style, share));
            }
        }
        if styles.is_empty() {
            return Err("styles needs at least one style with a positive share".into());
        }
        Ok(styles)
    }

    /// Reads a TOML file; relative paths in it are resolved against its folder.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        let mut config: TrainConfig = toml::from_str(&text).map_err(|e| Error::Config {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.shards = base.join(&config.shards);
        config.out = base.join(&config.out);
        config.init = config.init.map(|p| base.join(p));
        config.check().map_err(|message| Error::Config {
            path: path.to_owned(),
            message,
        })?;
        Ok(config)
    }

    /// Whether the values make a run: what is wrong, if anything. `load`
    /// checks a file; a caller that overrides fields checks again.
    pub fn check(&self) -> Result<(), String> {
        for (name, p) in [
            ("corrective_probability", self.corrective_probability),
            ("click_probability", self.click_probability),
            ("previous_probability", self.previous_probability),
            ("object_crop_probability", self.object_crop_probability),
            ("copy_paste_probability", self.copy_paste_probability),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("{name} must lie in [0, 1], not {p}"));
            }
        }
        self.stroke_styles()?;
        if self.batch == 0 || self.steps == 0 || self.validate_every == 0 {
            return Err("batch, steps and validate_every must be positive".into());
        }
        if self
            .phases
            .iter()
            .any(|p| p.steps == 0 || p.warmup > p.steps || !(p.lr > 0.0 && p.min_lr >= 0.0))
        {
            return Err(
                "every phase needs steps > 0, warmup ≤ steps, lr > 0 and min_lr ≥ 0".into(),
            );
        }
        if self
            .time_limit_minutes
            .is_some_and(|m| !(m > 0.0 && m.is_finite()))
        {
            return Err("time_limit_minutes must be a positive number".into());
        }
        Ok(())
    }

    /// The learning rate of every step: the phases when there are any, else
    /// one warm-up and cosine from `lr` to `min_lr` over `steps`.
    pub fn plan(&self) -> Plan {
        Plan::phased(&self.phases).unwrap_or_else(|| {
            Plan::single(Schedule {
                peak: self.lr,
                floor: self.min_lr,
                warmup: self.warmup,
                total: self.steps,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn styles_default_to_the_papers_and_bad_ones_are_named() {
        let config = TrainConfig::default();
        assert_eq!(config.stroke_styles(), Ok(vec![(StrokeStyle::Paper, 1.0)]));
        let with = |pairs: &[(&str, f32)]| TrainConfig {
            styles: pairs.iter().map(|&(n, w)| (n.to_string(), w)).collect(),
            ..TrainConfig::default()
        };
        let mixed = with(&[("paper", 0.5), ("short", 0.25), ("zigzag", 0.0)]);
        assert_eq!(
            mixed.stroke_styles(),
            Ok(vec![(StrokeStyle::Paper, 0.5), (StrokeStyle::Short, 0.25)])
        );
        let err = with(&[("scrawl", 1.0)]).check().unwrap_err();
        assert!(err.contains("scrawl"), "{err}");
        let err = with(&[("paper", f32::NAN)]).check().unwrap_err();
        assert!(err.contains("paper"), "{err}");
        assert!(with(&[("paper", 0.0)]).check().is_err());
    }

    #[test]
    fn every_probability_outside_zero_to_one_is_named() {
        assert!(TrainConfig::default().check().is_ok());
        for (field, config) in [
            (
                "previous_probability",
                TrainConfig {
                    previous_probability: f32::NAN,
                    ..TrainConfig::default()
                },
            ),
            (
                "corrective_probability",
                TrainConfig {
                    corrective_probability: 1.5,
                    ..TrainConfig::default()
                },
            ),
            (
                "click_probability",
                TrainConfig {
                    click_probability: -0.1,
                    ..TrainConfig::default()
                },
            ),
        ] {
            let err = config.check().unwrap_err();
            assert!(err.starts_with(field), "{err}");
        }
    }
}

//! Finding and loading the checkpoint a subcommand runs on.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use scribseg_model::fast::Precision;
use scribseg_model::{InputKind, Segmenter, SegmenterConfig};

/// `--precision`: the arithmetic of the CPU path.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PrecisionArg {
    /// bf16 products on AMD CPUs with AVX-512 BF16 (faster there; masks
    /// within an IoU of 0.99 of fp32's), else fp32.
    #[default]
    Auto,
    /// fp32 throughout (burn's logits to within 1e-4).
    Fp32,
    /// bf16 products; an error on a CPU without AVX-512 BF16.
    Bf16,
}

/// How the network runs, for the commands that run it for a user
/// (`segment`, `serve`, `eval`).
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct InferenceFlags {
    /// Arithmetic of the CPU path: `auto` runs bf16 products on AMD CPUs
    /// with AVX-512 BF16 (faster there, masks within an IoU of 0.99 of
    /// fp32's; slower than fp32 on Intel's), else fp32.
    #[arg(long, value_enum, default_value_t = PrecisionArg::Auto)]
    pub precision: PrecisionArg,
    /// Turn the test-time flip off: each crop runs once instead of also
    /// mirrored (half the network's time, ~0.007 lower validation DICE).
    #[arg(long)]
    pub no_flip: bool,
    /// Turn growing crops off: each label runs once, on the crop around its
    /// strokes, even where its mask runs into that crop's edge (a short
    /// stroke over part of an object then gets part of it).
    #[arg(long)]
    pub no_grow: bool,
    /// Probability above which a pixel belongs to a label: where masks and
    /// label maps are cut, and DICE is scored [default: 0.5 for `segment`,
    /// whose label map is documented so; else the Segmenter's 0.4, the
    /// validation split's best].
    #[arg(long, value_name = "P")]
    pub threshold: Option<f32>,
    /// Do not tell a network that reads its previous answer (five input
    /// channels) that answer: every stroke is answered as a first one.
    #[arg(long)]
    pub no_previous: bool,
}

impl PrecisionArg {
    /// The precision to run.
    pub fn resolve(self) -> Precision {
        match self {
            Self::Auto => Precision::fastest(),
            Self::Fp32 => Precision::F32,
            Self::Bf16 => Precision::Bf16,
        }
    }
}

/// The checkpoint `--weights` names, else the default weights.
pub fn resolve(weights: Option<PathBuf>) -> Result<PathBuf> {
    match weights {
        Some(dir) => Ok(dir),
        None => default_weights().context(
            "no default weights are present (weights/default/config.json + model.bpk); \
             pass --weights DIR with a trained checkpoint",
        ),
    }
}

/// Loads the checkpoint `--weights` names (else the default weights) into a
/// CPU [`Segmenter`] run as `flags` say, checking that it was trained on
/// `input`; returns it with the folder it came from.
pub fn load_segmenter(
    weights: Option<PathBuf>,
    input: InputKind,
    flags: InferenceFlags,
) -> Result<(Segmenter, PathBuf)> {
    let dir = resolve(weights)?;
    let mut segmenter = Segmenter::load(&dir, SegmenterConfig::default())
        .with_context(|| format!("loading the checkpoint {}", dir.display()))?
        .with_precision(flags.precision.resolve())
        .context("--precision")?
        .with_flip(!flags.no_flip)
        .with_previous(!flags.no_previous);
    if flags.no_grow {
        segmenter = segmenter.with_refine(None);
    }
    if let Some(threshold) = flags.threshold {
        if !(threshold > 0.0 && threshold < 1.0) {
            bail!("--threshold must lie strictly between 0 and 1, not {threshold}");
        }
        segmenter = segmenter.with_threshold(threshold);
    }
    let trained = segmenter.model().config().input_kind();
    if trained != input {
        bail!(
            "the checkpoint {} holds a {trained} network (\"input\" in its config.json), \
             not the {input} network asked for",
            dir.display()
        );
    }
    Ok((segmenter, dir))
}

/// `weights/default` in the working directory, else in the source tree this binary was built from.
fn default_weights() -> Option<PathBuf> {
    let source_tree = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../weights/default");
    [PathBuf::from("weights/default"), source_tree]
        .into_iter()
        .find(|dir| {
            dir.join(scribseg_model::CONFIG_FILE).is_file()
                && dir.join(scribseg_model::WEIGHTS_FILE).is_file()
        })
}

//! `scribseg eval`: the paper's Table 1, DICE-vs-strokes curves, the click
//! protocol and the worst objects, for trained checkpoints.

use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use image::RgbImage;
use indicatif::{ProgressBar, ProgressStyle};
use scribseg_data::{Config, Split};
use scribseg_eval::{
    markdown, run_eval, styles_markdown, DatasetSpec, EvalConfig, Interaction, Predictor,
    PredictorError, Predictors, StyleSummary, Summary,
};
use scribseg_model::lineage::Lineage;
use scribseg_model::{CropSegmentation, InputKind, Prompt, Segmenter};
use scribseg_sim::{Plane, Rect, Stroke, StrokeStyle};

use crate::weights::{self, InferenceFlags};

/// Which networks to evaluate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Input {
    /// The scribble network: first scribble, corrective curves, clicks.
    Scribble,
    /// The box baseline (`--box-weights`).
    Box,
    /// The extreme-point baseline (`--extremes-weights`).
    Extremes,
    /// All three.
    All,
}

/// What to evaluate on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Sets {
    /// The standard benchmarks under `eval/` (GrabCut, Berkeley, DAVIS).
    Benchmarks,
    /// The test split of every training dataset of the configuration.
    Test,
    /// The validation split of every training dataset.
    Val,
}

/// Flags of `scribseg eval`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The dataset configuration (TOML), e.g. `configs/default.toml`; its
    /// `data_root` holds the benchmarks under `eval/` (GrabCut, Berkeley, DAVIS).
    #[arg(long)]
    config: PathBuf,
    /// What to evaluate on; repeat for several (default: benchmarks and test).
    #[arg(long = "on", value_enum)]
    on: Vec<Sets>,
    /// Slices per volume in the medical test/validation splits (evenly spaced).
    #[arg(long, default_value_t = 3)]
    slices_per_volume: usize,
    /// The scribble network's checkpoint [default: weights/default].
    #[arg(long)]
    weights: Option<PathBuf>,
    /// The box baseline's checkpoint (a network trained with `kind = "box"`).
    #[arg(long)]
    box_weights: Option<PathBuf>,
    /// The extreme-point baseline's checkpoint (`kind = "extremes"`).
    #[arg(long)]
    extremes_weights: Option<PathBuf>,
    #[command(flatten)]
    inference: InferenceFlags,
    /// Growing crops for the scribble network with this context around the
    /// answer: a label whose mask runs into its crop's edge runs again on a
    /// crop around that mask [default: the Segmenter's; `--no-grow` turns
    /// them off].
    #[arg(long, value_name = "CONTEXT", conflicts_with = "no_grow")]
    refine: Option<f32>,
    /// Context of every network's crop around its strokes or prompt, as a
    /// fraction of their extent on each side [default: the Segmenter's].
    #[arg(long)]
    context: Option<f32>,
    /// Which networks to run.
    #[arg(long, value_enum, default_value_t = Input::Scribble)]
    input: Input,
    /// How the first scribble is drawn (paper, centre, short, boundary,
    /// brush, zigzag, wobbly, crossing, surround, branches); several, comma
    /// separated or repeated, each run into its own subfolder of `--out`, and
    /// `styles.md` there sets them side by side, the styles the weights never
    /// trained on (their `train.json`) first.
    #[arg(long = "style", value_delimiter = ',', default_value = "paper")]
    styles: Vec<StrokeStyle>,
    /// Strokes per object in the DICE-vs-strokes curves (the first scribble included).
    #[arg(long, default_value_t = 20)]
    strokes: usize,
    /// At most this many clicks in the click protocol (the field's 20); 0
    /// leaves the protocol out (most of a run's time on the split datasets).
    #[arg(long, default_value_t = 20)]
    clicks: usize,
    /// Runs of the random protocols per object, for mean ± standard deviation.
    #[arg(long, default_value_t = 3)]
    seeds: u64,
    /// At most this many images per dataset (a quick look).
    #[arg(long)]
    max_images: Option<usize>,
    /// Output folder: table.md, summary.json, records.jsonl (an interrupted
    /// run resumes from it), curves (SVG and PNG) and worst.png.
    #[arg(long)]
    out: PathBuf,
}

/// Runs the subcommand.
pub fn run(args: Args) -> Result<()> {
    let data = Config::load(&args.config).with_context(|| {
        format!(
            "reading the dataset configuration {}",
            args.config.display()
        )
    })?;
    let on = if args.on.is_empty() {
        vec![Sets::Benchmarks, Sets::Test]
    } else {
        args.on.clone()
    };
    let mut datasets = Vec::new();
    for sets in on {
        datasets.extend(match sets {
            Sets::Benchmarks => DatasetSpec::benchmarks(&data.data_root),
            Sets::Test => DatasetSpec::splits(&data, Split::Test, args.slices_per_volume),
            Sets::Val => DatasetSpec::splits(&data, Split::Val, args.slices_per_volume),
        });
    }
    let mut config = EvalConfig::new(datasets);
    config.seeds = args.seeds;
    config.strokes.max_strokes = args.strokes;
    config.clicks.max_clicks = args.clicks;
    config.max_images = args.max_images;

    let wants = |input: Input| args.input == input || args.input == Input::All;
    let mut scribble = wants(Input::Scribble)
        .then(|| Network::load(InputKind::Scribble, args.weights.clone(), args.inference))
        .transpose()?
        .map(|network| network.with_crop(args.context, args.refine))
        .transpose()?;
    let mut boxes = wants(Input::Box)
        .then(|| {
            let weights = required(&args.box_weights, "--box-weights")?;
            Network::load(InputKind::Box, Some(weights), args.inference)
        })
        .transpose()?
        .map(|network| network.with_crop(args.context, None))
        .transpose()?;
    let mut extremes = wants(Input::Extremes)
        .then(|| {
            let weights = required(&args.extremes_weights, "--extremes-weights")?;
            Network::load(InputKind::Extremes, Some(weights), args.inference)
        })
        .transpose()?
        .map(|network| network.with_crop(args.context, None))
        .transpose()?;
    let mut predictors = Predictors {
        scribble: scribble.as_mut().map(|p| p as &mut dyn Predictor),
        boxes: boxes.as_mut().map(|p| p as &mut dyn Predictor),
        extremes: extremes.as_mut().map(|p| p as &mut dyn Predictor),
    };

    let styles: Vec<StrokeStyle> = args
        .styles
        .iter()
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if let [style] = styles[..] {
        config.strokes.style = style;
        let summary = evaluate(&config, &mut predictors, &args.out)?;
        println!("{}", markdown(&summary));
        return Ok(());
    }
    let trained = match wants(Input::Scribble) {
        true => trained_styles(&weights::resolve(args.weights.clone())?)?,
        false => None,
    };
    let mut summaries = Vec::new();
    for style in styles {
        config.strokes.style = style;
        eprintln!("style {style}");
        let summary = evaluate(&config, &mut predictors, &args.out.join(style.name()))?;
        summaries.push(StyleSummary {
            style: style.name().to_string(),
            trained: trained.as_ref().map(|t| t.contains(&style)),
            summary,
        });
    }
    let table = styles_markdown(&summaries);
    let path = args.out.join("styles.md");
    std::fs::write(&path, &table).with_context(|| format!("writing {}", path.display()))?;
    println!("{table}");
    Ok(())
}

/// One evaluation into `out`, with a progress bar.
fn evaluate(config: &EvalConfig, predictors: &mut Predictors, out: &Path) -> Result<Summary> {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg:12} {bar:30} {pos}/{len} images  eta {eta}")
            .context("progress template")?,
    );
    let outcome = run_eval(config, predictors, out, &mut |p| {
        bar.set_message(p.dataset.clone());
        bar.set_length(p.total as u64);
        bar.set_position(p.done as u64);
    })
    .with_context(|| format!("evaluating into {}", out.display()))?;
    bar.finish_and_clear();
    eprintln!(
        "{} protocol runs computed, {} reused; files in {}",
        outcome.computed,
        outcome.reused,
        out.display()
    );
    Ok(outcome.summary)
}

/// The stroke styles any training run in the lineage of the checkpoint in
/// `dir` drew its scribbles in (a run whose config names none drew the
/// paper's); `None` for a checkpoint without `train.json`.
fn trained_styles(dir: &Path) -> Result<Option<BTreeSet<StrokeStyle>>> {
    let Some(lineage) = Lineage::load(dir)
        .with_context(|| format!("reading the training record of {}", dir.display()))?
    else {
        return Ok(None);
    };
    let mut styles = BTreeSet::new();
    for run in lineage.runs() {
        match run.config.get("styles").and_then(|s| s.as_object()) {
            None => {
                styles.insert(StrokeStyle::Paper);
            }
            Some(shares) => {
                for (name, share) in shares {
                    if share.as_f64().is_some_and(|v| v > 0.0) {
                        if let Ok(style) = name.parse::<StrokeStyle>() {
                            styles.insert(style);
                        }
                    }
                }
            }
        }
    }
    Ok(Some(styles))
}

fn required(path: &Option<PathBuf>, flag: &str) -> Result<PathBuf> {
    match path {
        Some(p) => Ok(p.clone()),
        None => {
            bail!("{flag} is needed to evaluate that baseline (train one with `scribseg train`)")
        }
    }
}

/// A checkpoint behind the [`Predictor`] interface: strokes for the
/// scribble network, a box or extreme points for a baseline.
struct Network {
    name: String,
    segmenter: Segmenter,
    prompts: bool,
    /// The answer to the last call's strokes: a network that reads its
    /// previous answer is told it when the next call adds to those strokes
    /// on the same image. The protocols' interactions (a scribble of
    /// several strokes, a correction, a click) are one call each, so each
    /// is told the answer before it, as a user sees it.
    last: Option<LastAnswer>,
}

/// See [`Network::last`].
struct LastAnswer {
    /// A hash of the image's size and pixels.
    image: u64,
    strokes: Vec<Stroke>,
    crops: CropSegmentation,
}

/// A hash of `image`'s size and pixels, to tell whether two calls are on one image.
fn fingerprint(image: &RgbImage) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    (image.dimensions(), image.as_raw()).hash(&mut hasher);
    hasher.finish()
}

impl Network {
    fn load(kind: InputKind, weights: Option<PathBuf>, flags: InferenceFlags) -> Result<Self> {
        let (segmenter, dir) = weights::load_segmenter(weights, kind, flags)?;
        // Named when off the defaults, so that records of one setting are
        // never taken for another's.
        let flip = if flags.no_flip { ", no flip" } else { "" };
        let grow = if flags.no_grow { ", no grow" } else { "" };
        let previous = if flags.no_previous {
            ", no previous"
        } else {
            ""
        };
        let threshold = flags
            .threshold
            .map(|t| format!(", threshold {t}"))
            .unwrap_or_default();
        Ok(Self {
            name: format!(
                "{kind} ({}){flip}{grow}{previous}{threshold}",
                dir.display()
            ),
            segmenter,
            prompts: kind != InputKind::Scribble,
            last: None,
        })
    }

    /// The same network with another crop context and coarse-to-fine pass
    /// (`--context`, `--refine`), named with them so that an output folder's
    /// records of one crop rule are never taken for another's.
    fn with_crop(mut self, context: Option<f32>, refine: Option<f32>) -> Result<Self> {
        if let Some(context) = context {
            if !(context.is_finite() && context >= 0.0) {
                bail!("--context must be a non-negative number, not {context}");
            }
            self.segmenter = if self.prompts {
                self.segmenter.with_prompt_context(context)
            } else {
                self.segmenter.with_context(context)
            };
            self.name = format!("{}, context {context}", self.name);
        }
        if let Some(refine) = refine {
            self.segmenter = self.segmenter.with_refine(Some(refine));
            self.name = format!("{}, refine {refine}", self.name);
        }
        Ok(self)
    }
}

impl Predictor for Network {
    fn name(&self) -> &str {
        &self.name
    }

    fn threshold(&self) -> f32 {
        self.segmenter.config().threshold
    }

    fn predict(
        &mut self,
        image: &RgbImage,
        interaction: &Interaction,
    ) -> std::result::Result<Plane, PredictorError> {
        match (interaction, self.prompts) {
            (Interaction::Strokes(strokes), false) if !self.segmenter.tells_previous() => {
                let crops =
                    self.segmenter
                        .segment_crops_of(image, std::slice::from_ref(strokes), [0]);
                let whole = Rect::new(0, 0, crops.width, crops.height);
                Ok(crops.probabilities_in(0, whole))
            }
            (Interaction::Strokes(strokes), false) => {
                // Hashing the image is only worth it for a network told its previous answer.
                let image_key = fingerprint(image);
                let previous = self
                    .last
                    .as_ref()
                    .filter(|last| {
                        last.image == image_key
                            && strokes.len() > last.strokes.len()
                            && strokes.starts_with(&last.strokes)
                    })
                    .map(|last| &last.crops);
                let crops = self.segmenter.segment_crops_after(
                    image,
                    std::slice::from_ref(strokes),
                    [0],
                    previous,
                );
                let whole = Rect::new(0, 0, crops.width, crops.height);
                let probabilities = crops.probabilities_in(0, whole);
                self.last = Some(LastAnswer {
                    image: image_key,
                    strokes: strokes.clone(),
                    crops,
                });
                Ok(probabilities)
            }
            (Interaction::Box(b), true) => {
                Ok(self.segmenter.segment_prompt(image, &Prompt::Box(*b)))
            }
            (Interaction::Extremes(e), true) => {
                Ok(self.segmenter.segment_prompt(image, &Prompt::Extremes(*e)))
            }
            _ => Err(format!("{} does not take this kind of input", self.name).into()),
        }
    }
}

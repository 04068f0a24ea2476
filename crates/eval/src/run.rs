//! The entry point: every protocol over every dataset, resumable, then the reports.

use std::path::{Path, PathBuf};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

mod reports;
mod worst;

pub use worst::worst_records;

use crate::clicks::{run_clicks, ClickProtocol};
use crate::dataset::{DatasetSpec, EvalDataset};
use crate::error::{Error, Result};
use crate::object::EvalObject;
use crate::predictor::Predictor;
use crate::prompts::{run_prompt, PromptKind};
use crate::record::{Method, ObjectRecord, RecordStore};
use crate::strokes::{run_strokes, StrokeProtocol};
use crate::summary::{summarize, Summary, SummaryParams};

/// What to run.
#[derive(Clone, Debug, PartialEq)]
pub struct EvalConfig {
    /// The datasets, in column order.
    pub datasets: Vec<DatasetSpec>,
    /// Runs of the (random) scribble protocol per object (default 3).
    pub seeds: u64,
    /// The scribble protocol.
    pub strokes: StrokeProtocol,
    /// The click protocol.
    pub clicks: ClickProtocol,
    /// Strokes behind Table 1's "scribble + corrective" row (paper: 2, one correction).
    pub corrective_row_strokes: usize,
    /// Objects on the contact sheet (the worst ones).
    pub worst: usize,
    /// At most this many images per dataset (a quick smoke run); `None` for all.
    pub max_images: Option<usize>,
}

impl EvalConfig {
    /// The defaults over `datasets`: 3 seeds, 20 strokes, 20 clicks, 16 worst.
    pub fn new(datasets: Vec<DatasetSpec>) -> Self {
        Self {
            datasets,
            seeds: 3,
            strokes: StrokeProtocol::default(),
            clicks: ClickProtocol::default(),
            corrective_row_strokes: 2,
            worst: 16,
            max_images: None,
        }
    }
}

/// The models to evaluate; a protocol whose predictor is absent is skipped.
#[derive(Default)]
pub struct Predictors<'a> {
    /// Takes [`Interaction::Strokes`](crate::Interaction::Strokes): the scribble rows, curves and clicks.
    pub scribble: Option<&'a mut dyn Predictor>,
    /// Takes [`Interaction::Box`](crate::Interaction::Box).
    pub boxes: Option<&'a mut dyn Predictor>,
    /// Takes [`Interaction::Extremes`](crate::Interaction::Extremes).
    pub extremes: Option<&'a mut dyn Predictor>,
}

impl Predictors<'_> {
    /// The predictor serving `method`.
    fn get(&mut self, method: Method) -> Option<&mut dyn Predictor> {
        let slot = match method {
            Method::Scribble | Method::Clicks => &mut self.scribble,
            Method::Box => &mut self.boxes,
            Method::Extremes => &mut self.extremes,
        };
        match slot {
            // Reborrowed, not `as_deref_mut`: the trait object's lifetime shortens here.
            Some(p) => Some(&mut **p),
            None => None,
        }
    }
}

/// Where the run is, reported after each image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    /// The dataset being run.
    pub dataset: String,
    /// Images finished in this dataset.
    pub done: usize,
    /// Images in this dataset.
    pub total: usize,
    /// Protocol runs computed so far (all datasets).
    pub computed: usize,
    /// Protocol runs taken from an earlier run's records.
    pub reused: usize,
}

/// What a run produced.
#[derive(Clone, Debug)]
pub struct EvalOutcome {
    /// The figures.
    pub summary: Summary,
    /// The files written, in `out_dir`.
    pub files: Vec<PathBuf>,
    /// Protocol runs computed now.
    pub computed: usize,
    /// Protocol runs reused from `records.jsonl`.
    pub reused: usize,
}

/// The file names a run writes in its output folder.
pub mod files {
    /// The configuration the records were made with.
    pub const CONFIG: &str = "config.txt";
    /// One JSON line per (dataset, object, method, seed).
    pub const RECORDS: &str = "records.jsonl";
    /// The summary figures.
    pub const SUMMARY: &str = "summary.json";
    /// Table 1 and the other tables.
    pub const TABLE: &str = "table.md";
    /// Mean DICE after 1, 2, … strokes per dataset.
    pub const STROKE_CURVES: &str = "dice_vs_strokes.svg";
    /// The same plot as a PNG.
    pub const STROKE_CURVES_PNG: &str = "dice_vs_strokes.png";
    /// Mean IoU after 1, 2, … clicks per dataset.
    pub const CLICK_CURVES: &str = "iou_vs_clicks.svg";
    /// The same plot as a PNG.
    pub const CLICK_CURVES_PNG: &str = "iou_vs_clicks.png";
    /// The worst objects: strokes, prediction, truth.
    pub const WORST: &str = "worst.png";
}

/// The seed of one object's run: a hash of dataset, object and seed index,
/// so that results do not depend on the order objects are run in.
fn object_seed(object: &EvalObject, seed: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in object.name().bytes().chain(seed.to_le_bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Runs `method` on `object` with seed index `seed`.
fn run_method(
    predictor: &mut dyn Predictor,
    config: &EvalConfig,
    object: &EvalObject,
    method: Method,
    seed: u64,
) -> Result<Option<ObjectRecord>> {
    let trace = match method {
        Method::Scribble => {
            let mut rng = ChaCha8Rng::seed_from_u64(object_seed(object, seed));
            Some(run_strokes(predictor, object, &config.strokes, &mut rng)?)
        }
        Method::Clicks => Some(run_clicks(predictor, object, &config.clicks)?),
        Method::Box => run_prompt(predictor, object, PromptKind::Box)?,
        Method::Extremes => run_prompt(predictor, object, PromptKind::Extremes)?,
    };
    Ok(trace.map(|t| ObjectRecord::new(object, method, predictor.name(), seed, &t)))
}

/// Seeds a method runs with: all for the random scribbles, one otherwise.
fn seeds(config: &EvalConfig, method: Method) -> u64 {
    match method {
        Method::Scribble => config.seeds,
        // No clicks allowed: the protocol is left out.
        Method::Clicks if config.clicks.max_clicks == 0 => 0,
        _ => 1,
    }
}

/// A description of the run that must match for records to be reused:
/// the configuration less what changes no record (the sheet's size, the
/// image cap of a smoke run). Predictors are checked per record instead,
/// so that methods can be added to a folder one at a time.
fn fingerprint(config: &EvalConfig) -> String {
    let mut c = config.clone();
    c.worst = 0;
    c.max_images = None;
    format!("{c:#?}\n")
}

/// Refuses an output folder holding records of another configuration.
fn check_config(out_dir: &Path, fingerprint: &str) -> Result<()> {
    let path = out_dir.join(files::CONFIG);
    match std::fs::read_to_string(&path) {
        Ok(old) if old != fingerprint => Err(Error::ConfigChanged { path }),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::write(&path, fingerprint).map_err(|e| Error::io(&path, e))
        }
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Runs every protocol that has a predictor over every dataset in
/// `config`, appending per-object records to `out_dir/records.jsonl`
/// (existing ones are kept and skipped, so an interrupted run resumes),
/// then writes the reports (see [`files`]) and returns the summary.
///
/// `progress` is called after each image.
pub fn run_eval(
    config: &EvalConfig,
    predictors: &mut Predictors,
    out_dir: &Path,
    progress: &mut dyn FnMut(&Progress),
) -> Result<EvalOutcome> {
    if config.seeds == 0 || config.strokes.max_strokes == 0 || config.corrective_row_strokes == 0 {
        return Err(Error::Config(
            "seeds, strokes and corrective-row strokes must be at least 1".into(),
        ));
    }
    std::fs::create_dir_all(out_dir).map_err(|e| Error::io(out_dir, e))?;
    check_config(out_dir, &fingerprint(config))?;
    let mut store = RecordStore::open(&out_dir.join(files::RECORDS))?;
    let datasets = config
        .datasets
        .iter()
        .map(EvalDataset::open)
        .collect::<Result<Vec<_>>>()?;
    let (mut computed, mut reused) = (0, 0);
    for dataset in &datasets {
        let total = config
            .max_images
            .map_or(dataset.len(), |m| m.min(dataset.len()));
        for index in 0..total {
            for object in dataset.load(index)? {
                for method in Method::ALL {
                    for seed in 0..seeds(config, method) {
                        let key = (object.dataset.clone(), object.id.clone(), method, seed);
                        let Some(predictor) = predictors.get(method) else {
                            continue;
                        };
                        if let Some(old) = store.get(&key) {
                            if old.predictor != predictor.name() {
                                return Err(Error::PredictorChanged {
                                    path: out_dir.join(files::RECORDS),
                                    stored: old.predictor.clone(),
                                    current: predictor.name().to_string(),
                                });
                            }
                            reused += 1;
                            continue;
                        }
                        if let Some(r) = run_method(predictor, config, &object, method, seed)? {
                            store.append(r)?;
                            computed += 1;
                        }
                    }
                }
            }
            progress(&Progress {
                dataset: dataset.name().to_string(),
                done: index + 1,
                total,
                computed,
                reused,
            });
        }
    }
    let params = SummaryParams {
        datasets: config.datasets.iter().map(|d| d.name.clone()).collect(),
        max_strokes: config.strokes.max_strokes,
        max_clicks: config.clicks.max_clicks,
        corrective_row_strokes: config.corrective_row_strokes,
    };
    let summary = summarize(store.records(), params);
    let mut files = reports::write_reports(&summary, out_dir)?;
    if config.worst > 0 {
        if let Some(path) =
            worst::write_worst(config, predictors, &datasets, store.records(), out_dir)?
        {
            files.push(path);
        }
    }
    files.push(out_dir.join(files::RECORDS));
    Ok(EvalOutcome {
        summary,
        files,
        computed,
        reused,
    })
}

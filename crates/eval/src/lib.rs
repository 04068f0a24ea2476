//! Evaluation of scribseg: every accuracy claim one function call away.
//!
//! A [`Predictor`] (the model behind a scribble, box or extreme-point
//! network) is run through the protocols of the paper and of the
//! click-based literature on the benchmarks in `shared/data/eval`:
//!
//! - **scribble** ([`run_strokes`]): a simulated scribble, then up to 19
//!   corrective scribbles from the current error (the paper's rule), DICE
//!   after each; strokes to DICE 0.85 / 0.90;
//! - **box** and **extreme points** ([`run_prompt`]), perfectly placed from
//!   the ground truth, as in the paper's Table 1;
//! - **clicks** ([`run_clicks`]): the RITM / SAM NoC protocol, clicks given
//!   to the predictor as one-point strokes.
//!
//! [`run_eval`] runs them over datasets with several seeds, keeps one JSON
//! line per object in `records.jsonl` (so an interrupted run resumes), and
//! writes Table 1 as Markdown, the curves as SVG and the worst objects as a
//! contact sheet.
//!
//! # For the CLI (`scribseg eval`)
//! Wrap the model's `Segmenter` in a [`Predictor`] (one per network: the
//! scribble, box and extreme-point models; a click is a one-point stroke,
//! drawn with the segmenter's click radius), then:
//!
//! ```no_run
//! # fn demo(scribble: &mut dyn scribseg_eval::Predictor) -> scribseg_eval::Result<()> {
//! use scribseg_eval::{run_eval, DatasetSpec, EvalConfig, Predictors};
//! let data_root = std::path::Path::new("../shared/data"); // or $SCRIBSEG_DATA
//! let mut config = EvalConfig::new(DatasetSpec::benchmarks(data_root));
//! config.seeds = 3; // --seeds
//! config.strokes.max_strokes = 20; // --strokes
//! // --input scribble|box|extremes|all decides which predictors are set.
//! let mut predictors = Predictors { scribble: Some(scribble), ..Predictors::default() };
//! let outcome = run_eval(&config, &mut predictors, "eval-out".as_ref(), &mut |p| {
//!     eprintln!("{} {}/{}", p.dataset, p.done, p.total); // a progress bar
//! })?;
//! println!("{}", scribseg_eval::markdown(&outcome.summary));
//! # Ok(())
//! # }
//! ```

mod clicks;
mod dataset;
mod error;
mod metrics;
mod object;
mod predictor;
mod prompts;
mod record;
mod report;
mod run;
mod strokes;
mod summary;
mod trace;

pub use clicks::{next_click, run_clicks, Click, ClickProtocol};
pub use dataset::{DatasetSpec, EvalDataset, SpecSource, SplitSpec};
pub use error::{Error, PredictorError, Result};
pub use metrics::interactions_to_reach;
pub use object::EvalObject;
pub use predictor::{predict_timed, Interaction, Predictor, Timed};
pub use prompts::{run_prompt, PromptKind};
pub use record::{score_after, Method, ObjectRecord, RecordKey, RecordStore, StrokeRecord};
pub use report::{
    contact_sheet, markdown, styles_markdown, write_curves, Series, SheetEntry, StyleSummary,
};
pub use run::{files, run_eval, worst_records, EvalConfig, EvalOutcome, Predictors, Progress};
pub use strokes::{run_strokes, StrokeProtocol};
pub use summary::{
    summarize, CurveStats, LatencyStats, MeanStd, Summary, SummaryParams, TableRow, THRESHOLDS,
};
pub use trace::{Step, Stop, Trace};

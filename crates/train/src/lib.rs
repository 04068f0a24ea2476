//! The training loop of scribseg.
//!
//! Each step draws objects from the packed shards by the datasets' mixture
//! weights, simulates the interaction (a scribble, a click, a box or extreme
//! points), crops around it exactly as the
//! [`Segmenter`](scribseg_model::Segmenter) will at inference (so the
//! network learns the context it will get), and — for scribble models, 30%
//! of the time — runs a first pass without gradients, adds a corrective
//! scribble where that prediction failed, and trains on the second pass
//! (the paper's iterative training). The correction is made as the
//! evaluation protocol makes one, from the error over the whole object (the
//! part outside the crop counts as missed), and the second pass sees the
//! crop the `Segmenter` would then take, around all the positive strokes. Loss: BCE with logits; optimiser: Adam
//! with weight decay and a warm-up + cosine schedule.
//!
//! Every step's randomness is a function of the seed and the step number
//! (each example of a batch of the seed, the step and its slot, so the
//! examples are made in parallel and the same on any number of threads), so a
//! run resumed from its last checkpoint draws the same batches as an
//! uninterrupted one would have; the checkpoint keeps Adam's moments too.

mod config;
mod error;
mod example;
mod learner;
mod log;
mod native;
mod provenance;
mod schedule;
mod trainer;

pub use config::TrainConfig;
pub use error::Error;
pub use example::{corrected, make_example, Example, ExampleParams, Origin};
pub use learner::{TrainDevice, NATIVE_OPTIMIZER_FILE, OPTIMIZER_FILE};
pub use log::{read_log, LogRow, LOG_FILE};
pub use native::{Batch, NativeTrainer};
pub use provenance::Provenance;
pub use schedule::{Phase, Plan, Schedule};
pub use scribseg_model::InputKind;
pub use trainer::{batch_tensors, bce_with_logits, train, Progress, RunState, Validation};

//! The paper's one-shot baselines: the ground truth's box and extreme points.

use scribseg_sim::{BoxPrompt, ExtremePoints};

use crate::error::Result;
use crate::object::EvalObject;
use crate::predictor::{Interaction, Predictor};
use crate::trace::{scored_call, Stop, Trace};

/// Which one-shot prompt to derive from the ground truth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PromptKind {
    /// The bounding box.
    Box,
    /// The four extreme points.
    Extremes,
}

impl PromptKind {
    /// The prompt for `object`, perfectly placed from its ground truth.
    ///
    /// The truth is never empty for a loaded object (the reader drops empty
    /// masks), so this only fails on hand-made objects.
    pub fn interaction(self, object: &EvalObject) -> Option<Interaction> {
        match self {
            PromptKind::Box => BoxPrompt::from_mask(&object.truth).map(Interaction::Box),
            PromptKind::Extremes => {
                ExtremePoints::from_mask(&object.truth).map(Interaction::Extremes)
            }
        }
    }
}

/// One call with the prompt of `kind`; `None` when the truth is empty.
pub fn run_prompt(
    predictor: &mut dyn Predictor,
    object: &EvalObject,
    kind: PromptKind,
) -> Result<Option<Trace>> {
    let Some(interaction) = kind.interaction(object) else {
        return Ok(None);
    };
    let (step, map) = scored_call(predictor, object, &interaction, 0, None)?;
    Ok(Some(Trace {
        steps: vec![step],
        strokes: Vec::new(),
        stop: Stop::OneShot,
        map,
    }))
}

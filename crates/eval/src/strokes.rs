//! The scribble protocol: one simulated scribble in a chosen style, then
//! corrective scribbles from the current error (the paper's section 2.4),
//! strokes accumulating.
//!
//! "Stroke" in the curve's sense is one interaction: a simulated scribble,
//! which may hold several polylines (one per path of its spanning tree).

use rand::Rng;
use scribseg_sim::{
    corrective_scribble, simulate_style, CorrectiveParams, ScribbleParams, StrokeStyle,
};

use crate::error::Result;
use crate::object::EvalObject;
use crate::predictor::{Interaction, Predictor};
use crate::trace::{scored_call, Stop, Trace};

/// Parameters of the scribble protocol.
#[derive(Clone, Debug, PartialEq)]
pub struct StrokeProtocol {
    /// Scribbles per object, the first included (paper-style curves: 20).
    pub max_strokes: usize,
    /// How the first scribble is drawn.
    pub style: StrokeStyle,
    /// The paper's simulator's parameters (for [`StrokeStyle::Paper`]).
    pub scribble: ScribbleParams,
    /// The corrective scribbles' rule.
    pub corrective: CorrectiveParams,
}

impl Default for StrokeProtocol {
    fn default() -> Self {
        Self {
            max_strokes: 20,
            style: StrokeStyle::Paper,
            scribble: ScribbleParams::default(),
            corrective: CorrectiveParams::default(),
        }
    }
}

/// Runs the protocol on `object`: a call after each scribble, at most
/// `max_strokes` calls; stops early (the curve stays flat) when no
/// corrective scribble is drawn.
///
/// Ignored pixels count as correct when the corrective scribble is
/// simulated, so no stroke is spent on them.
pub fn run_strokes(
    predictor: &mut dyn Predictor,
    object: &EvalObject,
    protocol: &StrokeProtocol,
    rng: &mut impl Rng,
) -> Result<Trace> {
    let mut strokes =
        simulate_style(&object.truth, protocol.style, &protocol.scribble, rng).strokes;
    let first = strokes.len();
    let (step, mut map) = scored_call(
        predictor,
        object,
        &Interaction::Strokes(strokes.clone()),
        first,
        None,
    )?;
    let mut steps = vec![step];
    let mut stop = Stop::Budget;
    while steps.len() < protocol.max_strokes {
        let error_map = object.without_ignored_error(&map);
        let Some(extra) = corrective_scribble(&object.truth, &error_map, &protocol.corrective, rng)
        else {
            stop = Stop::NoCorrection;
            break;
        };
        let added = extra.strokes.len();
        strokes.extend(extra.strokes);
        let (step, next) = scored_call(
            predictor,
            object,
            &Interaction::Strokes(strokes.clone()),
            added,
            Some(&map),
        )?;
        steps.push(step);
        map = next;
    }
    Ok(Trace {
        steps,
        strokes,
        stop,
        map,
    })
}

//! Masks, geometry and the scribble simulator of scribseg.
#![deny(missing_docs)]

mod components;
mod corrective;
mod distance;
mod draw;
mod geometry;
mod graph;
mod mask;
mod prompts;
mod simulate;
mod skeleton;
mod spline;

pub use components::{components, Component};
pub use corrective::{corrective_scribble, CorrectiveParams, PredictionError};
pub use distance::{dilate, distance_to_background};
pub use draw::{draw_stroke, Polarity, Scribble, Stroke, DRAW_RADIUS};
pub use geometry::{Point, Rect, Transform};
pub use mask::{Mask, Plane};
pub use prompts::{BoxPrompt, ExtremePoints, BOX_LINE_RADIUS, EXTREME_SIGMA};
pub use simulate::{simulate_scribble, ScribbleParams};
pub use skeleton::skeletonize;

//! Integration tests of the evaluation loop, driven by a deterministic
//! stand-in predictor whose answers are known.

mod util;

mod clicks;
mod grabcut;
mod run;
mod strokes;

//! Integration tests of the evaluation loop, driven by a deterministic
//! stand-in predictor whose answers are known, and of the documents that
//! carry its results.

mod util;

mod clicks;
mod documents;
mod grabcut;
mod run;
mod strokes;

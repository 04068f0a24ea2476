//! Masks, geometry and the scribble simulator of scribseg.
//!
//! The simulator turns a label mask into the strokes a person might draw on
//! it, following section 2.3 of Lowes et al., *Interactive Scribble
//! Segmentation*: per connected component a distance field and a dilated
//! Zhang–Suen skeleton, a grid of tiles visited in random order, points
//! sampled from `distance × skeleton` with a cleared radius around each, a
//! minimum spanning tree whose edges cost three times as much outside the
//! label, random removal of 1–3 edges in 20% of graphs, and the tree split
//! into longest paths drawn as B-splines with a radius-2 brush. Corrective
//! scribbles (section 2.4) come from a prediction's error, and the paper's
//! two baselines' inputs — box and extreme points — are drawn into the same
//! channel.
//!
//! ```
//! use rand::SeedableRng;
//! use scribseg_sim::{simulate_scribble, Mask, ScribbleParams};
//!
//! // A 64×48 label: a filled ellipse.
//! let label = Mask::from_fn(64, 48, |x, y| {
//!     ((x as f32 - 32.0) / 24.0).powi(2) + ((y as f32 - 24.0) / 14.0).powi(2) <= 1.0
//! });
//! let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
//! let scribble = simulate_scribble(&label, &ScribbleParams::default(), &mut rng);
//! // Drawn with the paper's radius-2 brush: +1 on the strokes, 0 elsewhere.
//! let channel = scribble.render(&label);
//! assert!(channel.as_slice().iter().any(|&v| v == 1.0));
//! ```
//!
//! Strokes are kept as geometry ([`Stroke`]), so they can be drawn at any
//! resolution through a [`Transform`] — straight into the network's 128×128
//! crop, say. Everything random takes a caller's [`rand::Rng`]: the same
//! seed gives the same scribble.
//!
//! # What is hand-written, and why
//! The simulator runs inside the training loop, once or twice per sample, so
//! its inner loops are written for this job: the distance transform (an
//! `f32` Felzenszwalb–Huttenlocher with reused buffers; imageproc's `f64`
//! one allocated per row), connected components (a flood fill that yields
//! cut-outs directly; imageproc labels the whole image first), Zhang–Suen
//! thinning (imageproc has none), the incremental distance update after
//! each sampled point, Prim's MST over a dense cost matrix (a few dozen
//! nodes; petgraph would need all n² edges materialised), and B-spline
//! evaluation. The distance transform and the thinning each have a slow,
//! obvious twin in their tests that they are compared against.

mod components;
mod corrective;
mod crop;
mod distance;
mod draw;
mod geometry;
mod graph;
mod mask;
mod overlap;
mod prompts;
mod simulate;
mod skeleton;
mod spline;
mod styles;

pub use components::{components, Component};
pub use corrective::{clear_ignored_error, corrective_scribble, CorrectiveParams, PredictionError};
pub use crop::{crop_mask, crop_plane, crop_rgb, CropRule, Window};
pub use distance::{dilate, distance_to_background};
pub use draw::{draw_stroke, Polarity, Scribble, Stroke, DRAW_RADIUS};
pub use geometry::{Point, Rect, Transform};
pub use mask::{Mask, Plane};
pub use overlap::{dice, iou, Confusion, OBJECT_THRESHOLD};
pub use prompts::{BoxPrompt, ExtremePoints, BOX_LINE_RADIUS, EXTREME_SIGMA};
pub use simulate::{simulate_scribble, ScribbleParams, MIN_PIECE_SAMPLES};
pub use skeleton::skeletonize;
pub use styles::{simulate_style, StrokeStyle, UnknownStyle};

//! Masks, geometry and the scribble simulator of scribseg.
#![deny(missing_docs)]

mod geometry;
mod mask;

pub use geometry::{Point, Rect, Transform};
pub use mask::{Mask, Plane};

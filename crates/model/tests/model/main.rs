//! Integration tests of the model crate, one binary grouped by topic.

mod architecture;
mod bf16;
mod checkpoint;
mod fast;
mod parity;
mod segmenter;
mod util;

//! Integration tests of the model crate, one binary grouped by topic.

mod architecture;
mod checkpoint;
mod parity;
mod util;

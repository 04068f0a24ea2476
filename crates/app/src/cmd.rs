//! One module per subcommand.

pub mod bench;
pub mod data;
pub mod eval;
pub mod model;
pub mod pack;
pub mod segment;
pub mod serve;
pub mod simulate;
pub mod train;

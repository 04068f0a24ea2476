//! One module per subcommand.

pub mod data;
pub mod model;
pub mod pack;
pub mod serve;
pub mod simulate;
pub mod train;

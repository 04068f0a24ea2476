//! Integration tests of the `scribseg` binary (one test binary): the commands
//! driven as a user would, and `scribseg serve` as a real process.

mod cli;
mod eval;
mod inference;
mod serve;
mod util;

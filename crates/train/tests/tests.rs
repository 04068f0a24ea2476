//! Integration tests of the trainer (one test binary): it learns, and the
//! committed configurations and checkpoints agree with it.

mod committed_weights;
mod configs;
mod native;
mod overfit;

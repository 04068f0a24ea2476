//! Finding the shared data folder, or skipping when it is absent.

pub use scribseg_data::shared_dataset as dataset;

//! Errors of the training crate.

use std::path::PathBuf;

/// What can go wrong while training.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or folder could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The configuration is malformed.
    #[error("{path}: bad training configuration: {message}")]
    Config {
        /// The config file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A shard could not be read.
    #[error(transparent)]
    Data(#[from] scribseg_data::Error),
    /// A checkpoint could not be read or written.
    #[error(transparent)]
    Model(#[from] scribseg_model::Error),
    /// The optimizer state of a checkpoint could not be read or written.
    #[error("{path}: optimizer state: {message}")]
    Checkpoint {
        /// The optimizer state file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// An unknown training device was asked for.
    #[error("{0}")]
    Device(String),
    /// The shards hold no usable object.
    #[error("{0}: no usable training object in the shards")]
    Empty(PathBuf),
}

//! The error type of the model crate.

use std::path::PathBuf;

/// What can go wrong when building a network or reading and writing a checkpoint.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration describes no buildable network.
    #[error("invalid network configuration: {0}")]
    InvalidConfig(String),
    /// A checkpoint's configuration file is missing or unreadable.
    #[error("cannot read the network configuration {}: {message}", path.display())]
    Config {
        /// The configuration file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A weights file is missing, unreadable or not a weights file.
    #[error("cannot read or write the weights {}: {message}", path.display())]
    Weights {
        /// The weights file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A weights file does not fit the configured network.
    #[error("the weights {} do not fit the network of its config.json: {message}", path.display())]
    WeightsMismatch {
        /// The weights file.
        path: PathBuf,
        /// Which tensors are missing, left over or of the wrong shape.
        message: String,
    },
    /// The backend asked for is unknown or not in this build.
    #[error("{0}")]
    Backend(String),
    /// This CPU or engine cannot run what was asked (e.g. bf16 without AVX-512 BF16).
    #[error("{0}")]
    Unsupported(String),
    /// A checkpoint's lineage (`train.json`) is unreadable or malformed.
    #[error("cannot read the lineage {}: {message}", path.display())]
    Lineage {
        /// The lineage file (or the file being hashed for it).
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A file or directory could not be written.
    #[error("cannot write {}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

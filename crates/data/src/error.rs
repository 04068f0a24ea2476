//! The error type of every reader, with the file (and COCO annotation id) it concerns.

use std::path::PathBuf;

/// Why a file, an annotation or a volume could not be turned into samples.
///
/// Every variant names the file. Dataset-level iteration
/// ([`crate::Dataset::scan`]) skips the item and counts it under
/// [`Error::reason`], so one bad file never aborts a dataset.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be opened or read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// An image or mask file is corrupt, truncated or in an unknown format.
    #[error("{path}: cannot decode image: {source}")]
    Image {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: image::ImageError,
    },
    /// A JSON file (COCO annotations, `dataset.json`) is malformed.
    #[error("{path}: malformed JSON: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// A TOML configuration file is malformed.
    #[error("{path}: malformed config: {source}")]
    Toml {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: toml::de::Error,
    },
    /// A NIfTI volume is corrupt, truncated or of an unsupported type.
    #[error("{path}: cannot read NIfTI volume: {source}")]
    Nifti {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: nifti::NiftiError,
    },
    /// One COCO annotation cannot be decoded.
    #[error("{path}: annotation {id}: {reason}")]
    Annotation {
        /// The annotation file.
        path: PathBuf,
        /// The annotation's `id`.
        id: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// An image has no mask, or a mask no image.
    #[error("{path}: missing pair: {reason}")]
    MissingPair {
        /// The file that has no partner.
        path: PathBuf,
        /// Which partner is missing.
        reason: String,
    },
    /// A label or mask holds no object.
    #[error("{path}: empty label")]
    EmptyLabel {
        /// The mask or label file.
        path: PathBuf,
    },
    /// The configuration leaves this unit out (`exclude`).
    #[error("{dataset}: {id}: excluded by the config")]
    Excluded {
        /// The dataset's name.
        dataset: String,
        /// The unit's id.
        id: String,
    },
    /// The content is readable but inconsistent (sizes differ, unknown encoding, bad shard).
    #[error("{path}: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

impl Error {
    /// A short category used to count skipped items (`"corrupt image"`, `"missing pair"`, …).
    pub fn reason(&self) -> &'static str {
        match self {
            Error::Io { .. } => "unreadable file",
            Error::Image { .. } => "corrupt image",
            Error::Json { .. } => "malformed JSON",
            Error::Toml { .. } => "malformed config",
            Error::Nifti { .. } => "corrupt volume",
            Error::Annotation { .. } => "bad annotation",
            Error::MissingPair { .. } => "missing pair",
            Error::EmptyLabel { .. } => "empty label",
            Error::Excluded { .. } => "excluded",
            Error::Invalid { .. } => "invalid content",
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn invalid(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Error::Invalid {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

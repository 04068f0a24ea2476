//! The error type of the evaluation: which file, object or predictor failed, and why.

use std::path::PathBuf;

/// The error a [`Predictor`](crate::Predictor) returns; any error type boxes into it.
pub type PredictorError = Box<dyn std::error::Error + Send + Sync>;

/// Why an evaluation could not run or could not write its reports.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A dataset could not be read.
    #[error("dataset {dataset}: {source}")]
    Data {
        /// The dataset's name.
        dataset: String,
        /// The reader's error (names the file); boxed, it is large.
        #[source]
        source: Box<scribseg_data::Error>,
    },
    /// A file of the output folder could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A line of the results file, or a JSON output, is malformed.
    #[error("{path}: line {line}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// 1-based line number (0 when the whole file is concerned).
        line: usize,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// A PNG could not be encoded.
    #[error("{path}: cannot write image: {source}")]
    Image {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: image::ImageError,
    },
    /// A plot could not be drawn.
    #[error("{path}: cannot draw plot: {reason}")]
    Plot {
        /// The file.
        path: PathBuf,
        /// What plotters reported.
        reason: String,
    },
    /// A predictor failed on an object.
    #[error("predictor {predictor} on {object}: {source}")]
    Predictor {
        /// The predictor's name.
        predictor: String,
        /// The object (`dataset/object id`).
        object: String,
        /// The predictor's error.
        #[source]
        source: PredictorError,
    },
    /// A predictor returned a map of the wrong size.
    #[error("predictor {predictor} on {object}: map is {got:?}, image is {expected:?}")]
    PredictionSize {
        /// The predictor's name.
        predictor: String,
        /// The object (`dataset/object id`).
        object: String,
        /// The image's `(width, height)`.
        expected: (usize, usize),
        /// The map's `(width, height)`.
        got: (usize, usize),
    },
    /// The output folder holds results of a different configuration.
    #[error("{path}: results of another configuration; use a new output folder or delete it")]
    ConfigChanged {
        /// The configuration file of the earlier run.
        path: PathBuf,
    },
    /// The output folder holds records of another predictor for the same method.
    #[error("{path}: records of predictor {stored}, now {current}; use a new output folder")]
    PredictorChanged {
        /// The records file.
        path: PathBuf,
        /// The predictor the records were made with.
        stored: String,
        /// The predictor of this run.
        current: String,
    },
    /// The configuration is unusable.
    #[error("invalid configuration: {0}")]
    Config(String),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

//! Checkpoints: a directory holding `config.json` (the [`UNetConfig`]) and `model.bpk` (the
//! weights in burn's burnpack format, float32 by default), nothing else.
//!
//! The weights file is the record of [`Module::into_record`] (one tensor per parameter and
//! batch-norm statistic, keyed by its module path such as `encoder.stages.2.blocks.0.project.conv.weight`).
//! Loading rebuilds the network from `config.json`, then applies the record, which must match
//! it exactly: every tensor present, none left over, every shape equal. Float tensors of another
//! precision (e.g. a half-precision file) are cast to the network's float type.

use std::path::{Path, PathBuf};

use burn::config::Config;
use burn::module::Module;
use burn::store::{ModuleRecord, RecordError};
use burn::tensor::Device;

use crate::{Error, UNet, UNetConfig};

/// The name of the configuration file in a checkpoint directory.
pub const CONFIG_FILE: &str = "config.json";
/// The name of the weights file in a checkpoint directory.
pub const WEIGHTS_FILE: &str = "model.bpk";

impl UNet {
    /// Writes the checkpoint directory `dir` (created if missing): [`CONFIG_FILE`] and [`WEIGHTS_FILE`].
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the directory or a file cannot be written.
    pub fn save(&self, dir: impl AsRef<Path>) -> Result<(), Error> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_owned(),
            source,
        })?;
        let config_path = dir.join(CONFIG_FILE);
        self.config()
            .save(&config_path)
            .map_err(|source| Error::Io {
                path: config_path,
                source,
            })?;
        let weights_path = dir.join(WEIGHTS_FILE);
        self.clone()
            .into_record()
            .save(&weights_path)
            .map_err(|err| weights_error(weights_path, err))
    }

    /// Loads the checkpoint directory `dir` onto `device`.
    ///
    /// # Errors
    ///
    /// - [`Error::Config`] if `config.json` is missing or is not a [`UNetConfig`],
    ///   [`Error::InvalidConfig`] if it describes no buildable network;
    /// - [`Error::Weights`] if the weights file is missing or not a burnpack file;
    /// - [`Error::WeightsMismatch`] if its tensors do not fit the configured network
    ///   (wrong shapes, missing or extra tensors).
    pub fn load(dir: impl AsRef<Path>, device: &Device) -> Result<Self, Error> {
        let dir = dir.as_ref();
        let config_path = dir.join(CONFIG_FILE);
        let config = UNetConfig::load(&config_path).map_err(|err| Error::Config {
            path: config_path,
            message: err.to_string(),
        })?;
        config.validate()?;
        let weights_path = dir.join(WEIGHTS_FILE);
        let record = ModuleRecord::load(&weights_path)
            .map_err(|err| weights_error(weights_path.clone(), err))?
            .cast_to_module_dtype();
        config
            .init(device)
            .try_load_record(record)
            .map_err(|err| weights_error(weights_path, err))
    }
}

/// Sorts a burn record error into an I/O-or-format error and a mismatch with the network.
fn weights_error(path: PathBuf, err: RecordError) -> Error {
    match err {
        RecordError::Io(message) => Error::Weights { path, message },
        RecordError::Validation(message) => Error::WeightsMismatch { path, message },
    }
}

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
use burn::module::{Module, ModuleMapper, Param};
use burn::store::{ModuleRecord, RecordError};
use burn::tensor::{DType, Device, Tensor};

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

    /// As [`UNet::save`], with every float tensor stored in half precision (f16): half the
    /// file. [`UNet::load`] casts them back to the network's f32; the weights keep 11
    /// significant bits (the logits move by about 1e-3, far less than bf16 inference moves them).
    ///
    /// # Errors
    ///
    /// As [`UNet::save`].
    pub fn save_half(&self, dir: impl AsRef<Path>) -> Result<(), Error> {
        // A copy that shares nothing with `self`: a clone would share the batch norms' running
        // statistics, which a mapper changes in place.
        let copy = self
            .config()
            .init(&Device::flex())
            .load_record(self.clone().into_record());
        copy.map(&mut CastFloats(DType::F16)).save(dir)
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
        let model = config
            .init(device)
            .try_load_record(record)
            .map_err(|err| weights_error(weights_path, err))?;
        // The record's tensors keep their file's precision (the lazily initialised parameters
        // have no dtype to cast to yet): a half-precision file computes in f32 from here on.
        Ok(model.map(&mut CastFloats(DType::F32)))
    }
}

/// Casts every float parameter and buffer of a module to one precision.
struct CastFloats(DType);

impl ModuleMapper for CastFloats {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let dtype = self.0;
        param.map(|tensor| {
            if tensor.dtype() == dtype {
                tensor
            } else {
                tensor.cast(dtype)
            }
        })
    }
}

/// Sorts a burn record error into an I/O-or-format error and a mismatch with the network.
fn weights_error(path: PathBuf, err: RecordError) -> Error {
    match err {
        RecordError::Io(message) => Error::Weights { path, message },
        RecordError::Validation(message) => Error::WeightsMismatch { path, message },
    }
}

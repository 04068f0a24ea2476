//! Where a run's steps compute: scribseg's own CPU trainer ([`crate::NativeTrainer`], the
//! default), or burn's autodiff on one of its backends (Flex, LibTorch, Vulkan), which stay for
//! reference and for GPUs. The loop in `trainer.rs` is the same for both.

use std::borrow::Borrow;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use burn::module::Module;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::activation::sigmoid;
use burn::tensor::Device;
use scribseg_model::fast::FastUNet;
use scribseg_model::input::{batch_tensor, push_sample, INPUT_SIZE};
use scribseg_model::{Backend, UNet, UNetConfig};
use scribseg_sim::Plane;

use crate::example::Example;
use crate::native::{Batch, NativeTrainer};
use crate::Error;

/// Where `scribseg train` computes its steps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TrainDevice {
    /// scribseg's own CPU trainer (`native`): the default.
    #[default]
    Native,
    /// burn's autodiff on a backend: `flex` (burn's CPU backend; `cpu` is read as `flex`),
    /// `torch` or `vulkan` in builds with those features.
    Burn(Backend),
}

impl fmt::Display for TrainDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Native => f.write_str("native"),
            Self::Burn(Backend::Cpu) => f.write_str("flex"),
            Self::Burn(backend) => backend.fmt(f),
        }
    }
}

impl FromStr for TrainDevice {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "native" => Ok(Self::Native),
            "flex" => Ok(Self::Burn(Backend::Cpu)),
            _ => s.parse().map(Self::Burn).map_err(|_| {
                Error::Device(format!(
                    "unknown device `{s}` (expected one of: native, flex, torch, vulkan)"
                ))
            }),
        }
    }
}

impl TrainDevice {
    /// The burn device its model lives on: the backend's autodiff device for burn, Flex for
    /// the CPU trainer (which only keeps a burn model to save checkpoints).
    pub(crate) fn model_device(self) -> Result<Device, Error> {
        match self {
            Self::Native => Ok(Device::flex()),
            Self::Burn(backend) => Ok(backend.device()?.autodiff()),
        }
    }

    /// The file, in a run's `last/`, that holds its optimizer state.
    pub(crate) fn optimizer_file(self) -> &'static str {
        match self {
            Self::Native => NATIVE_OPTIMIZER_FILE,
            Self::Burn(_) => OPTIMIZER_FILE,
        }
    }
}

/// burn's Adam moments of a run, saved beside the `last/` weights so that a resumed run
/// continues with the optimizer state it had.
pub const OPTIMIZER_FILE: &str = "optimizer.bpk";

/// The CPU trainer's Adam moments (see [`NativeTrainer::save_optimizer`]).
pub const NATIVE_OPTIMIZER_FILE: &str = "optimizer.native";

/// A model being trained, with its optimizer.
// One per run, never moved in a loop: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Learner {
    Burn {
        model: UNet,
        optim: ModuleOptimizer,
        /// The backend's plain (inference) device.
        device: Device,
    },
    Native {
        trainer: NativeTrainer,
        /// A network of the trained structure on Flex, into which the weights are written to
        /// save them.
        template: UNet,
        /// The fast inference path, for the corrective pass and validation.
        fast: FastUNet,
        /// Whether `fast` holds weights from before the last step.
        stale: bool,
    },
}

impl Learner {
    /// Starts training `model` (on [`TrainDevice::model_device`]) on `device`.
    pub(crate) fn new(device: TrainDevice, model: UNet, weight_decay: f64) -> Result<Self, Error> {
        Ok(match device {
            TrainDevice::Native => Self::Native {
                trainer: NativeTrainer::new(&model, weight_decay as f32),
                fast: FastUNet::from_model(&model),
                stale: false,
                template: model,
            },
            TrainDevice::Burn(backend) => Self::Burn {
                model,
                optim: AdamConfig::new()
                    .with_weight_decay(Some(WeightDecayConfig::new(weight_decay as f32)))
                    .init(),
                device: backend.device()?,
            },
        })
    }

    /// Loads the optimizer state saved at `path`.
    pub(crate) fn load_optimizer(&mut self, path: &Path) -> Result<(), Error> {
        match self {
            Self::Burn { optim, .. } => {
                let loaded = optim.clone().load(path).map_err(|err| Error::Checkpoint {
                    path: path.to_owned(),
                    message: err.to_string(),
                })?;
                *optim = loaded;
                Ok(())
            }
            Self::Native { trainer, .. } => trainer.load_optimizer(path),
        }
    }

    /// Saves the optimizer state to `path`.
    pub(crate) fn save_optimizer(&self, path: &Path) -> Result<(), Error> {
        match self {
            Self::Burn { optim, .. } => optim.save(path).map_err(|err| Error::Checkpoint {
                path: path.to_owned(),
                message: err.to_string(),
            }),
            Self::Native { trainer, .. } => trainer.save_optimizer(path),
        }
    }

    /// The model with its current weights, to save.
    pub(crate) fn model(&self) -> UNet {
        match self {
            Self::Burn { model, .. } => model.clone(),
            Self::Native {
                trainer, template, ..
            } => trainer.write_into(template.clone()),
        }
    }

    /// The probabilities of the current model for each example (inference mode: batch norms
    /// use their running statistics).
    pub(crate) fn predict<E: Borrow<Example>>(&mut self, examples: &[E]) -> Vec<Plane> {
        let channels = self.model_config().in_channels;
        let mut values = Vec::new();
        for e in examples {
            let e = e.borrow();
            push_sample(
                &mut values,
                channels,
                &e.rgb,
                &e.channel,
                e.previous.as_ref(),
            );
        }
        let probs: Vec<f32> = match self {
            Self::Burn { model, device, .. } => {
                let logits = model
                    .valid()
                    .forward(batch_tensor(values, channels, INPUT_SIZE, device));
                sigmoid(logits)
                    .into_data()
                    .try_into_vec::<f32>()
                    .expect("the network computes in f32")
            }
            Self::Native {
                trainer,
                template,
                fast,
                stale,
            } => {
                if *stale {
                    fast.load_weights(&trainer.write_into(template.clone()));
                    *stale = false;
                }
                let mut logits = vec![0.0; examples.len() * INPUT_SIZE * INPUT_SIZE];
                fast.forward(
                    &values,
                    [examples.len(), channels, INPUT_SIZE, INPUT_SIZE],
                    &mut logits,
                );
                logits
                    .into_iter()
                    .map(|x| 1.0 / (1.0 + (-x).exp()))
                    .collect()
            }
        };
        let n = INPUT_SIZE * INPUT_SIZE;
        probs
            .chunks_exact(n)
            .map(|p| Plane::from_vec(INPUT_SIZE, INPUT_SIZE, p.to_vec()).expect("one crop"))
            .collect()
    }

    /// The network's configuration.
    pub(crate) fn model_config(&self) -> &UNetConfig {
        match self {
            Self::Burn { model, .. } => model.config(),
            Self::Native { template, .. } => template.config(),
        }
    }

    /// One step on `batch` at learning rate `lr`; returns the batch's loss.
    pub(crate) fn step(&mut self, batch: &[Example], lr: f64) -> f32 {
        match self {
            Self::Burn { model, optim, .. } => {
                let device = model.devices().into_iter().next().expect("a model device");
                let channels = model.config().in_channels;
                let (input, target, weight) = crate::batch_tensors(batch, channels, &device);
                let loss = crate::bce_with_logits(model.forward(input), target, weight);
                let loss_value = loss.clone().into_scalar::<f32>();
                let grads = GradientsParams::from_grads(loss.backward(), &*model);
                *model = optim.step(lr, model.clone(), grads);
                loss_value
            }
            Self::Native { trainer, stale, .. } => {
                *stale = true;
                let values = BatchValues::of(batch, trainer.channels());
                trainer.step(
                    &Batch {
                        input: &values.input,
                        target: &values.target,
                        weight: &values.weight,
                        batch: values.batch,
                        side: values.side,
                    },
                    lr,
                )
            }
        }
    }
}

/// The input, target and loss weights of a batch of square examples, all of one side
/// (normally [`INPUT_SIZE`]), as plain values.
pub(crate) struct BatchValues {
    /// `[batch][channels][side][side]` ([`push_sample`]'s layout).
    pub input: Vec<f32>,
    pub channels: usize,
    /// `[batch][side][side]`, 1 inside the object.
    pub target: Vec<f32>,
    /// `[batch][side][side]`, 0 where the pixel is ignored.
    pub weight: Vec<f32>,
    pub batch: usize,
    pub side: usize,
}

impl BatchValues {
    pub(crate) fn of(batch: &[Example], channels: usize) -> Self {
        let side = batch.first().map_or(INPUT_SIZE, |e| e.target.width());
        let mut values = Self {
            input: Vec::new(),
            channels,
            target: Vec::new(),
            weight: Vec::new(),
            batch: batch.len(),
            side,
        };
        for e in batch {
            push_sample(
                &mut values.input,
                channels,
                &e.rgb,
                &e.channel,
                e.previous.as_ref(),
            );
            values
                .target
                .extend(e.target.as_slice().iter().map(|&v| f32::from(v)));
            match &e.ignore {
                Some(m) => values
                    .weight
                    .extend(m.as_slice().iter().map(|&v| f32::from(1 - v))),
                None => values
                    .weight
                    .extend(std::iter::repeat_n(1.0f32, e.target.as_slice().len())),
            }
        }
        values
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names_round_trip_and_cpu_is_read_as_flex() {
        for name in ["native", "flex", "torch", "vulkan"] {
            let device: TrainDevice = name.parse().expect("a device name");
            assert_eq!(device.to_string(), name);
        }
        assert_eq!(
            "cpu".parse::<TrainDevice>().ok(),
            Some(TrainDevice::Burn(Backend::Cpu))
        );
        assert_eq!(TrainDevice::default(), TrainDevice::Native);
        let err = "cuda".parse::<TrainDevice>().expect_err("not a device");
        assert!(err.to_string().contains("`cuda`"), "{err}");
    }
}

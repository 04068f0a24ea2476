//! scribseg's own CPU trainer: the network's forward pass in training mode, a hand-written
//! backward pass for each of its layers, the loss and Adam, on plain vectors.
//!
//! burn's autodiff records a graph of tensor operations at every step and runs each through
//! its generic kernels; this network is fixed, so its backward pass can be written out layer by
//! layer instead: 3×3 and 1×1 convolutions as matrix products (through `gemm`, the crate burn's
//! Flex backend multiplies with, on all cores), the depthwise 3×3 convolutions, batch norm in
//! training mode with its running statistics, SiLU, squeeze-excitation, average pooling, the ×2
//! bilinear upsampling and the skip concatenation (`ops`). Activations are channel-major over
//! the batch (`[c][batch][h][w]`), which makes a 1×1 convolution one product over the batch and
//! a batch norm's statistics one pass over a contiguous row.
//!
//! The weights are read out of a burn [`UNet`] and written back into one, so every checkpoint
//! is a burn record that loads on every path; Adam's moments, which are this trainer's own, are
//! saved beside them in [`NativeTrainer::save_optimizer`]'s format. Gradients agree with
//! burn's autodiff to a relative error of 1e-3 (tests/native.rs); Adam follows burn's
//! `Adam` with L2 weight decay exactly, so a step here is the step burn takes.

mod net;
mod ops;
mod params;
mod pool;

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;

use scribseg_model::{NamedTensor, UNet};
use serde::{Deserialize, Serialize};

use crate::Error;
use net::{Net, State};
use ops::{bce_with_logits, Geo};
use params::Store;
use pool::Pool;

/// The first line of a file written by [`NativeTrainer::save_optimizer`].
const OPTIMIZER_MAGIC: &str = "scribseg native Adam 1";

/// The trainer: the network's tensors, their gradients, Adam's moments and the scratch of a
/// step.
pub struct NativeTrainer {
    store: Store,
    net: Net,
    grads: Vec<Vec<f32>>,
    adam: Adam,
    pool: Pool,
    /// The network's input channels.
    channels: usize,
}

/// Adam as burn's `AdamConfig` builds it (β₁ 0.9, β₂ 0.999, ε 1e-5), with L2 weight decay added
/// to the gradient as burn's `WeightDecay` does.
struct Adam {
    weight_decay: f32,
    time: u64,
    moment_1: Vec<Vec<f32>>,
    moment_2: Vec<Vec<f32>>,
}

const BETA_1: f32 = 0.9;
const BETA_2: f32 = 0.999;
const EPSILON: f32 = 1e-5;

impl Adam {
    fn step(&mut self, lr: f32, params: &mut [NamedTensor], grads: &[Vec<f32>]) {
        self.time += 1;
        let time = i32::try_from(self.time).unwrap_or(i32::MAX);
        let correction_2 = (1.0 - BETA_2.powi(time)).sqrt();
        let factor = correction_2 / (1.0 - BETA_1.powi(time));
        let epsilon = EPSILON * correction_2;
        for (((param, grad), m1), m2) in params
            .iter_mut()
            .zip(grads)
            .zip(&mut self.moment_1)
            .zip(&mut self.moment_2)
        {
            for (((w, &g), m1), m2) in param.value.iter_mut().zip(grad).zip(m1).zip(m2) {
                let g = g + self.weight_decay * *w;
                *m1 = BETA_1 * *m1 + (1.0 - BETA_1) * g;
                *m2 = BETA_2 * *m2 + (1.0 - BETA_2) * g * g;
                *w -= lr * (*m1 * factor) / (m2.sqrt() + epsilon);
            }
        }
    }
}

/// The header of a saved optimizer state.
#[derive(Serialize, Deserialize, PartialEq)]
struct OptimizerHeader {
    time: u64,
    /// Each parameter's path and length, in the order their moments follow.
    params: Vec<(String, usize)>,
}

/// One training batch in the layout of [`scribseg_model::input::push_sample`].
pub struct Batch<'a> {
    /// `[batch][channels][side][side]`, the network's input channels.
    pub input: &'a [f32],
    /// `[batch][side][side]`: 1 inside the object, 0 outside.
    pub target: &'a [f32],
    /// `[batch][side][side]`: each pixel's weight in the loss (0 where it is ignored).
    pub weight: &'a [f32],
    /// Samples.
    pub batch: usize,
    /// The side of the square samples.
    pub side: usize,
}

impl NativeTrainer {
    /// A trainer starting from `model`'s weights, with Adam's L2 `weight_decay`.
    pub fn new(model: &UNet, weight_decay: f32) -> Self {
        let store = Store::of(model);
        let net = Net::new(model.config(), &store);
        let zeros = || -> Vec<Vec<f32>> {
            store
                .params
                .iter()
                .map(|p| vec![0.0; p.value.len()])
                .collect()
        };
        Self {
            grads: zeros(),
            adam: Adam {
                weight_decay,
                time: 0,
                moment_1: zeros(),
                moment_2: zeros(),
            },
            net,
            store,
            pool: Pool::default(),
            channels: model.config().in_channels,
        }
    }

    /// The loss of `batch` and its gradient with respect to every parameter (left in the
    /// trainer), in training mode: the batch norms' running statistics move as in a step.
    pub fn loss_and_gradients(&mut self, batch: &Batch) -> f32 {
        let geo = Geo {
            batch: batch.batch,
            height: batch.side,
            width: batch.side,
        };
        let plane = geo.plane();
        let channels = self.channels;
        assert_eq!(
            batch.input.len(),
            channels * geo.n(),
            "input of {channels} channels"
        );
        // [batch][channels][plane] → [channels][batch][plane].
        let mut input = self.pool.zeros(batch.input.len());
        for (b, sample) in batch.input.chunks_exact(channels * plane).enumerate() {
            for (c, channel) in sample.chunks_exact(plane).enumerate() {
                input[(c * geo.batch + b) * plane..][..plane].copy_from_slice(channel);
            }
        }
        let mut state = State {
            params: &self.store.params,
            running: &mut self.store.running,
            pool: &mut self.pool,
        };
        let (logits, tape) = self.net.forward(geo, input, &mut state);
        let (loss, dlogits) = bce_with_logits(&logits, batch.target, batch.weight, state.pool);
        self.grads.iter_mut().for_each(|g| g.fill(0.0));
        self.net
            .backward(&tape, &dlogits, &mut state, &mut self.grads);
        tape.recycle(&mut self.pool);
        self.pool.give(logits);
        self.pool.give(dlogits);
        loss
    }

    /// The network's input channels.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// How many values the buffers kept between steps hold: after the first step of a batch
    /// geometry it stays the same from step to step.
    pub fn kept_values(&self) -> usize {
        self.pool.held()
    }

    /// One training step on `batch` at learning rate `lr`; returns the batch's loss (before the
    /// step).
    pub fn step(&mut self, batch: &Batch, lr: f64) -> f32 {
        let loss = self.loss_and_gradients(batch);
        self.adam
            .step(lr as f32, &mut self.store.params, &self.grads);
        loss
    }

    /// Every parameter's gradient from the last [`NativeTrainer::loss_and_gradients`] or step,
    /// by its path in the burn module.
    pub fn gradients(&self) -> impl Iterator<Item = (&str, &[f32])> {
        self.store
            .params
            .iter()
            .zip(&self.grads)
            .map(|(p, g)| (p.name.as_str(), g.as_slice()))
    }

    /// `model` (a network of the same structure, e.g. the one the trainer started from) with
    /// the trainer's weights and running statistics.
    pub fn write_into(&self, model: UNet) -> UNet {
        self.store.write_into(model)
    }

    /// Writes Adam's step count and moments to `path`: a text header (a magic line, then
    /// JSON naming each parameter and its length) followed by the moments as little-endian
    /// `f32`, first moments then second, parameter by parameter.
    pub fn save_optimizer(&self, path: &Path) -> Result<(), Error> {
        let io = |source| Error::Io {
            path: path.to_owned(),
            source,
        };
        let header = OptimizerHeader {
            time: self.adam.time,
            params: self.params_header(),
        };
        let mut out = BufWriter::new(std::fs::File::create(path).map_err(io)?);
        writeln!(out, "{OPTIMIZER_MAGIC}").map_err(io)?;
        serde_json::to_writer(&mut out, &header).map_err(|e| io(e.into()))?;
        writeln!(out).map_err(io)?;
        for moments in [&self.adam.moment_1, &self.adam.moment_2] {
            for values in moments {
                for v in values {
                    out.write_all(&v.to_le_bytes()).map_err(io)?;
                }
            }
        }
        out.flush().map_err(io)
    }

    /// Reads Adam's state written by [`NativeTrainer::save_optimizer`] for a network of this
    /// structure; an error names what does not fit.
    pub fn load_optimizer(&mut self, path: &Path) -> Result<(), Error> {
        let bad = |message: String| Error::Checkpoint {
            path: path.to_owned(),
            message,
        };
        let file = std::fs::File::open(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        let mut input = BufReader::new(file);
        let mut line = String::new();
        // Lines are bounded: a header names ~200 parameters.
        let read_line = |input: &mut BufReader<std::fs::File>, line: &mut String| {
            line.clear();
            input
                .by_ref()
                .take(1 << 20)
                .read_line(line)
                .map_err(|e| bad(e.to_string()))
        };
        read_line(&mut input, &mut line)?;
        if line.trim_end() != OPTIMIZER_MAGIC {
            return Err(bad(
                "not an optimizer state of scribseg's CPU trainer".into()
            ));
        }
        read_line(&mut input, &mut line)?;
        let header: OptimizerHeader =
            serde_json::from_str(&line).map_err(|e| bad(format!("header: {e}")))?;
        if header.params != self.params_header() {
            return Err(bad(
                "its parameters are not this network's (another structure)".into(),
            ));
        }
        let mut moments = [self.adam.moment_1.clone(), self.adam.moment_2.clone()];
        let mut bytes = [0u8; 4];
        for values in moments.iter_mut().flatten() {
            for v in values.iter_mut() {
                input
                    .read_exact(&mut bytes)
                    .map_err(|_| bad("truncated".into()))?;
                *v = f32::from_le_bytes(bytes);
                if !v.is_finite() {
                    return Err(bad("a moment is not finite".into()));
                }
            }
        }
        let [moment_1, moment_2] = moments;
        self.adam.moment_1 = moment_1;
        self.adam.moment_2 = moment_2;
        self.adam.time = header.time;
        Ok(())
    }

    fn params_header(&self) -> Vec<(String, usize)> {
        self.store
            .params
            .iter()
            .map(|p| (p.name.clone(), p.value.len()))
            .collect()
    }
}

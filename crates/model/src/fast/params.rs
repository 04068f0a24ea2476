//! Reading the weights out of a burn [`UNet`] and folding each batch norm into the convolution
//! before it.

use std::collections::HashMap;

use burn::nn::BatchNormConfig;

use crate::UNet;

/// Every tensor of a module by its dotted path (`encoder.stages.1.blocks.0.expand.conv.weight`),
/// with its shape and values in burn's layout.
pub(super) struct Params {
    tensors: HashMap<String, (Vec<usize>, Vec<f32>)>,
    /// The batch norms' epsilon: a constant of the layer, not a tensor, so it is not visited;
    /// the network builds every batch norm with burn's default.
    epsilon: f32,
}

/// A convolution with its batch norm folded in: `y = W * x + b`.
#[derive(Debug, Clone)]
pub(super) struct FoldedConv {
    /// Output channels.
    pub cout: usize,
    /// Input channels per group (1 for a depthwise convolution).
    pub cin: usize,
    /// The kernel's height and width (1 or 3).
    pub kernel: usize,
    /// `[cout][cin][kernel][kernel]`, burn's (and PyTorch's) layout.
    pub weight: Vec<f32>,
    /// `[cout]`.
    pub bias: Vec<f32>,
}

/// A linear layer as `y[o] = b[o] + Σ_i w[o][i] x[i]`.
#[derive(Debug, Clone)]
pub(super) struct Dense {
    /// Input features.
    pub inputs: usize,
    /// Output features.
    pub outputs: usize,
    /// `[outputs][inputs]` (transposed from burn's `[inputs][outputs]`).
    pub weight: Vec<f32>,
    /// `[outputs]`.
    pub bias: Vec<f32>,
}

impl Params {
    /// Reads every tensor of `model`.
    pub fn of(model: &UNet) -> Self {
        Self {
            tensors: model
                .tensors()
                .into_iter()
                .map(|t| (t.name, (t.shape, t.value)))
                .collect(),
            epsilon: BatchNormConfig::new(1).epsilon as f32,
        }
    }

    fn get(&self, path: &str) -> &(Vec<usize>, Vec<f32>) {
        self.tensors
            .get(path)
            .unwrap_or_else(|| panic!("the network has no tensor `{path}`"))
    }

    fn find(&self, path: &str) -> Option<&(Vec<usize>, Vec<f32>)> {
        self.tensors.get(path)
    }

    /// The convolution at `prefix` (a burn `Conv2d`), with its bias or zeros.
    pub fn conv(&self, prefix: &str) -> FoldedConv {
        let (shape, weight) = self.get(&format!("{prefix}.weight"));
        let cout = shape[0];
        let bias = self
            .find(&format!("{prefix}.bias"))
            .map_or_else(|| vec![0.0; cout], |(_, bias)| bias.clone());
        assert_eq!(shape[2], shape[3], "square kernels only");
        FoldedConv {
            cout,
            cin: shape[1],
            kernel: shape[2],
            weight: weight.clone(),
            bias,
        }
    }

    /// The convolution and batch norm at `prefix` (a `ConvBn`), folded:
    /// `scale = γ / √(σ² + ε)`, `W' = scale · W`, `b' = β − scale · μ`.
    pub fn conv_bn(&self, prefix: &str) -> FoldedConv {
        let mut conv = self.conv(&format!("{prefix}.conv"));
        let gamma = &self.get(&format!("{prefix}.bn.gamma")).1;
        let beta = &self.get(&format!("{prefix}.bn.beta")).1;
        let mean = &self.get(&format!("{prefix}.bn.running_mean")).1;
        let var = &self.get(&format!("{prefix}.bn.running_var")).1;
        let per_out = conv.weight.len() / conv.cout;
        for o in 0..conv.cout {
            let scale = gamma[o] / (var[o] + self.epsilon).sqrt();
            for w in &mut conv.weight[o * per_out..(o + 1) * per_out] {
                *w *= scale;
            }
            conv.bias[o] = beta[o] + scale * (conv.bias[o] - mean[o]);
        }
        conv
    }

    /// The linear layer at `prefix`, transposed to `[outputs][inputs]`.
    pub fn dense(&self, prefix: &str) -> Dense {
        let (shape, weight) = self.get(&format!("{prefix}.weight"));
        let (inputs, outputs) = (shape[0], shape[1]);
        let bias = self
            .find(&format!("{prefix}.bias"))
            .map_or_else(|| vec![0.0; outputs], |(_, bias)| bias.clone());
        let mut transposed = vec![0.0; inputs * outputs];
        for i in 0..inputs {
            for o in 0..outputs {
                transposed[o * inputs + i] = weight[i * outputs + o];
            }
        }
        Dense {
            inputs,
            outputs,
            weight: transposed,
            bias,
        }
    }

    /// Whether a tensor lives under `prefix` (e.g. an optional depthwise convolution).
    pub fn has(&self, prefix: &str) -> bool {
        let dotted = format!("{prefix}.");
        self.tensors.keys().any(|path| path.starts_with(&dotted))
    }

    /// Every path, sorted (for error messages and debugging).
    #[allow(dead_code)]
    pub fn paths(&self) -> Vec<&str> {
        let mut paths: Vec<&str> = self.tensors.keys().map(String::as_str).collect();
        paths.sort_unstable();
        paths
    }
}

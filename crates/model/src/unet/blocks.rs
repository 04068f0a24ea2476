//! The building blocks: Fused-MBConv and MBConv with optional squeeze-excitation, and stages of them.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::{sigmoid, silu};
use burn::tensor::{Device, Tensor};

use super::config::{BlockKind, StageConfig};

/// A bias-free convolution followed by batch normalisation (no activation).
#[derive(Module, Debug)]
pub struct ConvBn {
    /// The convolution (no bias: the batch norm's shift replaces it).
    pub conv: Conv2d,
    /// The batch normalisation.
    pub bn: BatchNorm,
}

impl ConvBn {
    /// A `kernel`×`kernel` convolution with "same" padding; `groups == channels[0]` makes it depthwise.
    fn new(channels: [usize; 2], kernel: usize, groups: usize, device: &Device) -> Self {
        let pad = kernel / 2;
        let conv = Conv2dConfig::new(channels, [kernel, kernel])
            .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
            .with_groups(groups)
            .with_bias(false)
            .init(device);
        Self {
            conv,
            bn: BatchNormConfig::new(channels[1]).init(device),
        }
    }

    /// # Shapes
    /// `[B, C_in, H, W]` → `[B, C_out, H, W]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.bn.forward(self.conv.forward(x))
    }
}

/// Squeeze-excitation: global average pool, `Linear` down, SiLU, `Linear` up, sigmoid, scale.
#[derive(Module, Debug)]
pub struct SqueezeExcite {
    /// Hidden width → squeezed width.
    pub reduce: Linear,
    /// Squeezed width → hidden width.
    pub expand: Linear,
}

impl SqueezeExcite {
    fn new(channels: usize, squeezed: usize, device: &Device) -> Self {
        Self {
            reduce: LinearConfig::new(channels, squeezed).init(device),
            expand: LinearConfig::new(squeezed, channels).init(device),
        }
    }

    /// # Shapes
    /// `[B, C, H, W]` → `[B, C, H, W]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [batch, channels, _, _] = x.dims();
        let pooled = x
            .clone()
            .flatten::<3>(2, 3)
            .mean_dim(2)
            .reshape([batch, channels]);
        let scale = sigmoid(self.expand.forward(silu(self.reduce.forward(pooled))));
        x * scale.reshape([batch, channels, 1, 1])
    }
}

/// An EfficientNetV2 block: Fused-MBConv or MBConv, with an optional squeeze-excitation.
///
/// ```text
/// Fused:  conv3×3(in→h) BN SiLU [SE]                         conv1×1(h→out) BN (+ x)
/// MBConv: conv1×1(in→h) BN SiLU  dwconv3×3(h) BN SiLU [SE]   conv1×1(h→out) BN (+ x)
/// ```
/// with `h = expansion × in`; the residual is added when `in == out`.
#[derive(Module, Debug)]
pub struct Block {
    /// The expansion: 3×3 (Fused) or 1×1 (MBConv), followed by SiLU.
    pub expand: ConvBn,
    /// The 3×3 depthwise convolution of MBConv, followed by SiLU.
    pub depthwise: Option<ConvBn>,
    /// Squeeze-excitation on the hidden width.
    pub squeeze_excite: Option<SqueezeExcite>,
    /// The 1×1 projection to the output width (no activation).
    pub project: ConvBn,
    /// Whether the input is added to the output (input width == output width).
    pub residual: bool,
}

impl Block {
    /// A block of `stage`'s kind from `in_width` to `stage.width` channels.
    pub fn new(stage: &StageConfig, in_width: usize, se_divisor: usize, device: &Device) -> Self {
        let hidden = in_width * stage.expansion;
        let (expand, depthwise) = match stage.kind {
            BlockKind::Fused => (ConvBn::new([in_width, hidden], 3, 1, device), None),
            BlockKind::MbConv => (
                ConvBn::new([in_width, hidden], 1, 1, device),
                Some(ConvBn::new([hidden, hidden], 3, hidden, device)),
            ),
        };
        let squeeze_excite = stage
            .squeeze_excite
            .then(|| SqueezeExcite::new(hidden, in_width / se_divisor, device));
        Self {
            expand,
            depthwise,
            squeeze_excite,
            project: ConvBn::new([hidden, stage.width], 1, 1, device),
            residual: in_width == stage.width,
        }
    }

    /// # Shapes
    /// `[B, C_in, H, W]` → `[B, C_out, H, W]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let mut y = silu(self.expand.forward(x.clone()));
        if let Some(depthwise) = &self.depthwise {
            y = silu(depthwise.forward(y));
        }
        if let Some(se) = &self.squeeze_excite {
            y = se.forward(y);
        }
        let y = self.project.forward(y);
        if self.residual {
            x + y
        } else {
            y
        }
    }
}

/// A sequence of blocks at one resolution; the first block maps the input width to the stage width.
#[derive(Module, Debug)]
pub struct Stage {
    /// The blocks, applied in order.
    pub blocks: Vec<Block>,
}

impl Stage {
    /// The `stage.repeats` blocks of `stage`, the first taking `in_width` channels.
    pub fn new(stage: &StageConfig, in_width: usize, se_divisor: usize, device: &Device) -> Self {
        let blocks = (0..stage.repeats)
            .map(|i| {
                let width = if i == 0 { in_width } else { stage.width };
                Block::new(stage, width, se_divisor, device)
            })
            .collect();
        Self { blocks }
    }

    /// # Shapes
    /// `[B, C_in, H, W]` → `[B, width, H, W]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.blocks.iter().fold(x, |x, block| block.forward(x))
    }
}

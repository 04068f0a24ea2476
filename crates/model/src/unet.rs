//! Efficient-UNetV2: the network, its configuration and its building blocks.
//!
//! A U-Net whose stages are EfficientNetV2 blocks: Fused-MBConv at the high resolutions and
//! MBConv (depthwise + squeeze-excitation) at the low ones, in the encoder and the decoder. It
//! follows the authors' published model exactly (`shared/tools/anchor_torch.py` restates it), so
//! that results compare and weights port: 1,082,772 parameters, about 0.5 GMAC per 128×128 forward.
//!
//! # Stage table (defaults of [`UNetConfig`])
//!
//! | stage | resolution | block       | width | encoder blocks | decoder blocks | expansion | SE  |
//! |-------|------------|-------------|-------|----------------|----------------|-----------|-----|
//! | 0     | 128×128    | Fused-MBConv| 8     | 1              | 1              | 1         | no  |
//! | 1     | 64×64      | Fused-MBConv| 16    | 2              | 2              | 4         | no  |
//! | 2     | 32×32      | MBConv      | 32    | 2              | 2              | 4         | yes |
//! | 3     | 16×16      | MBConv      | 48    | 4              | 4              | 6         | yes |
//! | 4     | 8×8        | MBConv      | 64    | 4              | 4              | 6         | yes |
//!
//! - Expansion multiplies each block's *input* width; the decoder's first block at stage `i < 4`
//!   takes `2 × width_i` channels (upsampled features, then the skip).
//! - Squeeze-excitation squeezes to the block's input width / 4, with SiLU then sigmoid.
//! - 3×3 kernels, batch norm + SiLU, no activation after the 1×1 projection, a residual where
//!   the block's input and output widths match.
//! - Stem: bias-free 3×3 convolution 4 → 8. Head: bias-free 3×3 convolution 8 → 1 (logits).
//! - Down: 2×2 average pool, then 1×1 convolution with bias. Up: 1×1 convolution with bias,
//!   then ×2 bilinear (`align_corners = false`).

mod blocks;
mod config;
mod decoder;
mod encoder;
mod upsample;

pub use config::{BlockKind, InputKind, StageConfig, UNetConfig};

use burn::module::{Module, ModuleVisitor, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::PaddingConfig2d;
use burn::tensor::{Device, Tensor};

use decoder::Decoder;
use encoder::Encoder;

/// The Efficient-UNetV2 network; build it with [`UNetConfig::init`].
#[derive(Module, Debug)]
pub struct UNet {
    #[module(skip)]
    config: UNetConfig,
    stem: Conv2d,
    encoder: Encoder,
    decoder: Decoder,
    head: Conv2d,
}

impl UNetConfig {
    /// Builds the network with freshly initialised weights on `device`.
    ///
    /// # Panics
    ///
    /// If the configuration is invalid: see [`UNetConfig::validate`].
    pub fn init(&self, device: &Device) -> UNet {
        if let Err(err) = self.validate() {
            panic!("{err}");
        }
        let same_3x3 = |channels| {
            Conv2dConfig::new(channels, [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .with_bias(false)
                .init(device)
        };
        // The decoder ends at the first stage's width, where the encoder starts.
        let width = self.stages[0].width;
        UNet {
            config: self.clone(),
            stem: same_3x3([self.in_channels, width]),
            encoder: Encoder::new(self, device),
            decoder: Decoder::new(self, device),
            head: same_3x3([width, self.out_channels]),
        }
    }
}

impl UNet {
    /// The configuration the network was built from.
    pub fn config(&self) -> &UNetConfig {
        &self.config
    }

    /// The same network, recorded as taking `input` (e.g. scribble weights that start a
    /// baseline's training).
    pub fn with_input(mut self, input: InputKind) -> Self {
        self.config.input = Some(input);
        self
    }

    /// Computes the logits of the input.
    ///
    /// # Shapes
    ///
    /// - `input`: `[B, in_channels, H, W]`, with `H` and `W` multiples of
    ///   [`UNetConfig::size_multiple`] (16 by default); the model is trained at 128×128.
    /// - returns `[B, out_channels, H, W]`
    ///
    /// # Panics
    ///
    /// If the channels or the size do not fit.
    pub fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        let x = self.stem.forward(input); // [B, 8, H, W]
        let (bottom, skips) = self.encoder.forward(x); // [B, 64, H/16, W/16], 4 skips
        let x = self.decoder.forward(bottom, skips); // [B, 8, H, W]
        self.head.forward(x) // [B, 1, H, W]
    }

    /// The number of trainable parameters (as PyTorch counts them: batch-norm running
    /// statistics are state, not parameters).
    pub fn num_trainable_params(&self) -> usize {
        let mut counter = TrainableCounter::default();
        self.visit(&mut counter);
        counter.count
    }
}

/// Counts the parameters, skipping the `running_*` states of batch norms.
#[derive(Default)]
struct TrainableCounter {
    path: Vec<String>,
    count: usize,
}

impl ModuleVisitor for TrainableCounter {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_owned());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let is_running_state = self
            .path
            .last()
            .is_some_and(|name| name.starts_with("running_"));
        if !is_running_state {
            self.count += param.lazy_shape().num_elements();
        }
    }
}

//! The expanding path: upsample, concatenate the skip connection, run a stage.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::tensor::{Device, Tensor};

use super::blocks::Stage;
use super::config::UNetConfig;
use super::upsample::upsample2x;

/// Upsampling between two stages: a 1×1 convolution with bias, then ×2 bilinear
/// (`align_corners = false`, as PyTorch's `nn.Upsample` default; see
/// [`upsample2x`]).
#[derive(Module, Debug)]
pub struct Up {
    /// The 1×1 convolution to the finer stage's width.
    pub conv: Conv2d,
}

impl Up {
    fn new(channels: [usize; 2], device: &Device) -> Self {
        Self {
            conv: Conv2dConfig::new(channels, [1, 1]).init(device),
        }
    }

    /// # Shapes
    /// `[B, C_in, H, W]` → `[B, C_out, 2H, 2W]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        upsample2x(self.conv.forward(x))
    }
}

/// The decoder: `stages[n]` refines the bottleneck; then, for `i = n−1 … 0`, `ups[i]` brings the
/// features to resolution `i`, the skip is concatenated after them and `stages[i]` runs on the
/// `2 × width_i` channels.
#[derive(Module, Debug)]
pub struct Decoder {
    /// One stage per resolution; the last one takes `width_n`, the others `2 × width_i` channels.
    pub stages: Vec<Stage>,
    /// `ups[i]` goes from resolution `i + 1` (`width_{i+1}`) to resolution `i` (`width_i`).
    pub ups: Vec<Up>,
}

impl Decoder {
    /// The decoder of `config`.
    pub fn new(config: &UNetConfig, device: &Device) -> Self {
        let last = config.stages.len() - 1;
        let stages = config
            .stages
            .iter()
            .enumerate()
            .map(|(i, stage)| {
                let in_width = if i < last {
                    2 * stage.width
                } else {
                    stage.width
                };
                Stage::new(stage, in_width, config.se_divisor, device)
            })
            .collect();
        let ups = config
            .stages
            .windows(2)
            .map(|pair| Up::new([pair[1].width, pair[0].width], device))
            .collect();
        Self { stages, ups }
    }

    /// Decodes the encoder's bottleneck with its skip connections (highest resolution first).
    ///
    /// # Shapes
    /// - `bottom`: `[B, width_n, H / 2^n, W / 2^n]`
    /// - `skips[i]`: `[B, width_i, H / 2^i, W / 2^i]` for `i < n`
    /// - returns `[B, width_0, H, W]`
    pub fn forward(&self, bottom: Tensor<4>, skips: Vec<Tensor<4>>) -> Tensor<4> {
        let (last, finer) = self
            .stages
            .split_last()
            .expect("a decoder has at least one stage");
        let x = last.forward(bottom);
        finer
            .iter()
            .zip(&self.ups)
            .zip(skips)
            .rev()
            .fold(x, |x, ((stage, up), skip)| {
                stage.forward(Tensor::cat(vec![up.forward(x), skip], 1))
            })
    }
}

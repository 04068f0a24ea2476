//! The contracting path: a stage per resolution, each but the last followed by a downsampling.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AvgPool2d, AvgPool2dConfig};
use burn::tensor::{Device, Tensor};

use super::blocks::Stage;
use super::config::UNetConfig;

/// Downsampling between two stages: 2×2 average pool, then a 1×1 convolution with bias.
#[derive(Module, Debug)]
pub struct Down {
    /// The 2×2 average pool (stride 2).
    pub pool: AvgPool2d,
    /// The 1×1 convolution to the next stage's width.
    pub conv: Conv2d,
}

impl Down {
    fn new(channels: [usize; 2], device: &Device) -> Self {
        Self {
            pool: AvgPool2dConfig::new([2, 2]).init(),
            conv: Conv2dConfig::new(channels, [1, 1]).init(device),
        }
    }

    /// # Shapes
    /// `[B, C_in, H, W]` → `[B, C_out, H/2, W/2]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.conv.forward(self.pool.forward(x))
    }
}

/// The encoder: `stages[i]` runs at resolution `H / 2^i`, `downs[i]` goes from stage `i` to `i + 1`.
#[derive(Module, Debug)]
pub struct Encoder {
    /// One stage per resolution; stage `i` takes and gives `width_i` channels.
    pub stages: Vec<Stage>,
    /// One downsampling between each two consecutive stages.
    pub downs: Vec<Down>,
}

impl Encoder {
    /// The encoder of `config`.
    pub fn new(config: &UNetConfig, device: &Device) -> Self {
        let stages = config
            .stages
            .iter()
            .map(|stage| Stage::new(stage, stage.width, config.se_divisor, device))
            .collect();
        let downs = config
            .stages
            .windows(2)
            .map(|pair| Down::new([pair[0].width, pair[1].width], device))
            .collect();
        Self { stages, downs }
    }

    /// Returns the output of the last stage and the skip connections (the output of every other
    /// stage, highest resolution first).
    ///
    /// # Shapes
    /// - `x`: `[B, width_0, H, W]`
    /// - returns `[B, width_n, H / 2^n, W / 2^n]` (n = number of stages − 1) and, for `i < n`,
    ///   `[B, width_i, H / 2^i, W / 2^i]`
    pub fn forward(&self, x: Tensor<4>) -> (Tensor<4>, Vec<Tensor<4>>) {
        let mut skips = Vec::with_capacity(self.downs.len());
        let mut x = x;
        for (i, stage) in self.stages.iter().enumerate() {
            x = stage.forward(x);
            if let Some(down) = self.downs.get(i) {
                skips.push(x.clone());
                x = down.forward(x);
            }
        }
        (x, skips)
    }
}

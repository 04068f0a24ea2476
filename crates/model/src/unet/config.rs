//! [`UNetConfig`]: the hyper-parameters of the network, with the authors' stage table as defaults.

use burn::config::Config;
use serde::{Deserialize, Serialize};

use crate::Error;

/// The two block kinds of EfficientNetV2.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum BlockKind {
    /// Fused-MBConv: a 3×3 convolution expands the channels (no depthwise convolution).
    Fused,
    /// MBConv: a 1×1 convolution expands, then a 3×3 depthwise convolution.
    MbConv,
}

/// What the fourth input channel carries: the paper's scribble model or one of its two
/// baselines. A checkpoint records it (`"input"` in `config.json`; absent means scribble), so
/// that a network is never fed another kind's input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputKind {
    /// Scribbles and clicks: +1 positive, −1 negative strokes.
    Scribble,
    /// The object's bounding box outline.
    Box,
    /// Gaussians at the object's four extreme points.
    Extremes,
}

impl std::fmt::Display for InputKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Scribble => "scribble",
            Self::Box => "box",
            Self::Extremes => "extremes",
        })
    }
}

/// One resolution level of the U-Net, shared by its encoder and decoder stages.
#[derive(Config, Debug, PartialEq)]
pub struct StageConfig {
    /// The block kind of every block of the stage.
    pub kind: BlockKind,
    /// The output width (channels) of every block of the stage.
    pub width: usize,
    /// The number of blocks, in the encoder stage and again in the decoder stage.
    pub repeats: usize,
    /// The hidden width of a block is `expansion` × the block's *input* width.
    pub expansion: usize,
    /// Whether the blocks apply squeeze-excitation after the (depthwise) expansion.
    pub squeeze_excite: bool,
}

impl StageConfig {
    /// The authors' stage table, from the highest resolution to the lowest: the table in the
    /// [module docs](crate::unet) (Fused 8/16, then MBConv with SE 32/48/64).
    pub fn efficient_unet_v2() -> Vec<StageConfig> {
        use BlockKind::{Fused, MbConv};
        [
            (Fused, 8, 1, 1, false),
            (Fused, 16, 2, 4, false),
            (MbConv, 32, 2, 4, true),
            (MbConv, 48, 4, 6, true),
            (MbConv, 64, 4, 6, true),
        ]
        .into_iter()
        .map(|(kind, width, repeats, expansion, se)| {
            StageConfig::new(kind, width, repeats, expansion, se)
        })
        .collect()
    }
}

/// Configuration of the [`UNet`](crate::UNet): build it with [`UNetConfig::init`].
///
/// The defaults are the authors' Efficient-UNetV2 (1,082,772 parameters): see
/// [`StageConfig::efficient_unet_v2`] for the stage table.
#[derive(Config, Debug, PartialEq)]
pub struct UNetConfig {
    /// Input channels (image, positive and negative interaction maps, ...).
    #[config(default = 4)]
    pub in_channels: usize,
    /// Output channels (logits).
    #[config(default = 1)]
    pub out_channels: usize,
    /// The stages, from the highest resolution to the lowest; each stage but the last halves
    /// the resolution on the way down.
    #[config(default = "StageConfig::efficient_unet_v2()")]
    pub stages: Vec<StageConfig>,
    /// Squeeze-excitation squeezes to the block's input width divided by this.
    #[config(default = 4)]
    pub se_divisor: usize,
    /// What the interaction channel carries (it does not change the network's shape); `None`
    /// (a `config.json` from before the field) means scribble: see [`UNetConfig::input_kind`].
    pub input: Option<InputKind>,
}

impl UNetConfig {
    /// What the interaction channel carries.
    pub fn input_kind(&self) -> InputKind {
        self.input.unwrap_or(InputKind::Scribble)
    }

    /// Whether the network reads its previous answer: an input of
    /// [`PREVIOUS_CHANNELS`](crate::input::PREVIOUS_CHANNELS) channels.
    pub fn reads_previous(&self) -> bool {
        self.in_channels == crate::input::PREVIOUS_CHANNELS
    }

    /// Checks that the configuration describes a network that can be built.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] naming the offending field.
    pub fn validate(&self) -> Result<(), Error> {
        let invalid = |reason: String| Err(Error::InvalidConfig(reason));
        if self.in_channels == 0 || self.out_channels == 0 {
            return invalid("in_channels and out_channels must be positive".into());
        }
        if self.stages.is_empty() {
            return invalid("at least one stage is needed".into());
        }
        if self.se_divisor == 0 {
            return invalid("se_divisor must be positive".into());
        }
        for (i, stage) in self.stages.iter().enumerate() {
            if stage.width == 0 || stage.repeats == 0 || stage.expansion == 0 {
                return invalid(format!(
                    "stage {i}: width, repeats and expansion must be positive"
                ));
            }
            if stage.squeeze_excite && stage.width < self.se_divisor {
                return invalid(format!(
                    "stage {i}: width {} is too small to squeeze by {}",
                    stage.width, self.se_divisor
                ));
            }
        }
        Ok(())
    }

    /// The factor by which the input height and width must be divisible
    /// (2 to the number of downsamplings).
    pub fn size_multiple(&self) -> usize {
        1 << self.stages.len().saturating_sub(1)
    }
}

//! The network of scribseg: Efficient-UNetV2 on burn, its configuration and its checkpoints.
//!
//! ```
//! use burn::tensor::{Device, Tensor};
//! use scribseg_model::UNetConfig;
//!
//! let device = Device::flex();
//! let model = UNetConfig::new().init(&device);
//! assert_eq!(model.num_trainable_params(), 1_082_772);
//!
//! let input = Tensor::<4>::zeros([1, 4, 32, 32], &device);
//! let logits = model.forward(input);
//! assert_eq!(logits.dims(), [1, 1, 32, 32]);
//! ```

mod average;
mod backend;
mod checkpoint;
mod crop_cache;
mod error;
pub mod fast;
pub mod input;
pub mod lineage;
mod segmenter;
mod tensors;
pub mod unet;

pub use backend::Backend;
pub use checkpoint::{CONFIG_FILE, WEIGHTS_FILE};
pub use error::Error;
pub use lineage::{Lineage, LINEAGE_FILE};
pub use segmenter::{
    CropSegmentation, LabelCrop, Prompt, Segmentation, Segmenter, SegmenterConfig, PREVIOUS_DEPTH,
};
pub use tensors::NamedTensor;
pub use unet::{BlockKind, InputKind, StageConfig, UNet, UNetConfig};

//! Datasets for scribseg.
#![deny(missing_docs)]

mod augment;
mod coco;
mod config;
mod crop;
mod dataset;
mod error;
mod folder;
mod index_png;
mod mask_ops;
mod mixture;
mod object_sample;
mod pack;
mod runs;
mod sample;
mod shard;
mod sheet;
mod source;
mod split;
mod volume;

pub use augment::{augment, AugmentParams};
pub use coco::{polygon_to_rle, CocoSource, Rle};
pub use config::{Config, DatasetConfig, DatasetKind, DATA_ENV};
pub use crop::{crop_mask, crop_plane, crop_rgb, random_window, CropParams, Window};
pub use dataset::{Dataset, ScanReport};
pub use error::{Error, Result};
pub use folder::{MaskEncoding, MaskFolderOptions, MaskFolderSource, BINARY_IGNORE, INDEX_IGNORE};
pub use mixture::Mixture;
pub use object_sample::ObjectSample;
pub use pack::{pack, shard_name, PackOptions, PackReport};
pub use sample::{Modality, Object, Sample};
pub use shard::{ShardDataset, ShardMeta, ShardReader, ShardSampler, ShardWriter};
pub use sheet::{contact_sheet, overlay};
pub use source::Source;
pub use split::{Split, SplitRatios};
pub use volume::{DecathlonSource, VolumeOptions};

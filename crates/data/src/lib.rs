//! Datasets for scribseg: readers, splits, mixtures, crops and training shards.
//!
//! Readers turn the datasets on disk into plain [`Sample`]s (an RGB image,
//! its objects as [`scribseg_sim::Mask`]s, an ignore mask), never tensors:
//! [`CocoSource`] (polygons, RLE, compressed RLE, crowds as ignore),
//! [`MaskFolderSource`] (binary, instance, palette and label-map PNGs, the
//! `eval/` one-mask-per-instance layout) and [`DecathlonSource`] (NIfTI
//! volumes sliced along all three axes). A [`Config`] (TOML) names the
//! datasets; a [`Dataset`] adds the deterministic by-image / by-volume
//! [`Split`] and skips bad files with a count ([`ScanReport`]). Training
//! examples are [`ObjectSample`]s: one target, the image's other objects as
//! negatives, cropped by [`scribseg_sim::Window`] to any size and augmented;
//! [`pack`] writes them into shards that [`ShardReader`] serves at memory
//! speed, drawn by dataset weight through a [`ShardSampler`].
//!
//! # Example
//!
//! ```
//! use rand::SeedableRng;
//! use scribseg_data::{AugmentParams, CropParams, Modality, ObjectSample, Rle};
//! use scribseg_sim::Mask;
//!
//! // A COCO compressed RLE (pycocotools' string form) decodes to a mask…
//! let mask = Rle::from_compressed("1231ON", 3, 4).unwrap().to_mask().unwrap();
//! assert_eq!(mask.area(), 6);
//!
//! // …and any object becomes a 128×128 training crop with its transform.
//! let sample = ObjectSample {
//!     image: image::RgbImage::new(300, 200),
//!     target: Mask::from_fn(300, 200, |x, y| (100..160).contains(&x) && (50..90).contains(&y)),
//!     others: vec![],
//!     ignore: None,
//!     modality: Modality::Photo,
//!     label: "box".into(),
//! };
//! let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
//! let (crop, to_crop) = sample
//!     .random_crop(&CropParams::default(), &AugmentParams::none(), &mut rng)
//!     .unwrap();
//! assert_eq!((crop.image.width(), crop.target.width()), (128, 128));
//! assert!(crop.target.area() > 1000);
//! assert!(to_crop.sx > 1.0, "a 60-px object is enlarged");
//! ```

mod augment;
mod coco;
mod config;
mod copy_paste;
mod crop;
mod dataset;
mod error;
mod folder;
mod index_png;
mod jpeg;
mod leak;
mod mask_ops;
mod mat;
mod mixture;
mod object_sample;
mod pack;
mod pattern;
mod runs;
mod sample;
mod shard;
mod shared;
mod sheet;
mod source;
mod split;
mod volume;

pub use augment::{augment, AugmentParams};
pub use coco::{polygon_to_rle, CocoSource, Rle};
pub use config::{root_env, Config, DatasetConfig, DatasetKind, DATA_ENV};
pub use copy_paste::copy_paste;
pub use crop::{random_window, CropParams};
pub use dataset::{Dataset, ScanReport};
pub use error::{Error, Result};
pub use folder::{
    Layout, MaskEncoding, MaskFolderOptions, MaskFolderSource, BINARY_IGNORE, GROUP_CAPTURE,
    INDEX_IGNORE,
};
pub use jpeg::is_truncated_jpeg;
pub use leak::{
    find_leaks, Fingerprint, ImageRef, Leak, References, FINGERPRINT_SIDE, MATCH_SIMILARITY,
};
pub use mixture::Mixture;
pub use object_sample::ObjectSample;
pub use pack::{pack, shard_name, PackOptions, PackReport};
pub use pattern::{is_pattern, PathPattern, PatternMatch};
pub use sample::{Modality, Object, Sample};
pub use shard::{ShardDataset, ShardMeta, ShardReader, ShardSampler, ShardWriter};
pub use shared::{shared_dataset, CI_ENV};
pub use sheet::{contact_sheet, overlay};
pub use source::Source;
pub use split::{Split, SplitRatios};
pub use volume::{
    grey_through, grey_window, percentile, physical_size, to_grey, DecathlonSource, Volume,
    VolumeOptions,
};

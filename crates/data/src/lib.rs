//! Datasets for scribseg.
#![deny(missing_docs)]

mod coco;
mod error;
mod folder;
mod index_png;
mod mask_ops;
mod runs;
mod sample;
mod source;
mod volume;

pub use coco::{polygon_to_rle, CocoSource, Rle};
pub use error::{Error, Result};
pub use folder::{MaskEncoding, MaskFolderOptions, MaskFolderSource, BINARY_IGNORE, INDEX_IGNORE};
pub use sample::{Modality, Object, Sample};
pub use source::Source;
pub use volume::{DecathlonSource, VolumeOptions};

//! Reading an eval folder (`images/` + `masks/<stem>_<k>.png`) into objects.
//!
//! Uses the data crate's [`MaskFolderSource`] with binary masks (128 =
//! ignore). It pairs files by stem rather than through `pairs.csv`; the two
//! agree on every staged benchmark. Where an image has several objects
//! (Berkeley's 189011 and 239007), their ignore masks are merged; only
//! GrabCut has ignore pixels, one object per image.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use scribseg_data::{MaskEncoding, MaskFolderOptions, MaskFolderSource, Modality, Source};

use crate::error::{Error, Result};
use crate::object::EvalObject;

/// A named eval folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatasetSpec {
    /// The column name in reports (`"grabcut"`).
    pub name: String,
    /// The folder holding `images/` and `masks/`.
    pub root: PathBuf,
}

impl DatasetSpec {
    /// The three staged benchmarks under `data_root` (`…/shared/data`):
    /// `eval/grabcut`, `eval/berkeley`, `eval/davis`.
    pub fn benchmarks(data_root: &Path) -> Vec<DatasetSpec> {
        ["grabcut", "berkeley", "davis"]
            .into_iter()
            .map(|name| DatasetSpec {
                name: name.to_string(),
                root: data_root.join("eval").join(name),
            })
            .collect()
    }
}

/// An opened eval folder: a list of images, each loading into its objects.
pub struct EvalDataset {
    name: String,
    source: MaskFolderSource,
}

impl EvalDataset {
    /// Lists and pairs the folder's files.
    pub fn open(spec: &DatasetSpec) -> Result<Self> {
        let options = MaskFolderOptions {
            images: spec.root.join("images"),
            masks: spec.root.join("masks"),
            encoding: MaskEncoding::Binary,
            components: false,
            modality: Modality::Photo,
            min_area: 0,
        };
        let source = MaskFolderSource::open(options).map_err(|e| data_error(&spec.name, e))?;
        Ok(Self {
            name: spec.name.clone(),
            source,
        })
    }

    /// The dataset's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.source.len()
    }

    /// Whether there is no image.
    pub fn is_empty(&self) -> bool {
        self.source.is_empty()
    }

    /// The stem of image `index`.
    pub fn image_id(&self, index: usize) -> &str {
        self.source.unit_id(index)
    }

    /// The index of the image with stem `image_id`.
    pub fn find(&self, image_id: &str) -> Option<usize> {
        (0..self.len()).find(|&i| self.image_id(i) == image_id)
    }

    /// Loads image `index` and its objects (ids `<stem>_<k>`).
    pub fn load(&self, index: usize) -> Result<Vec<EvalObject>> {
        let samples = self
            .source
            .load(index)
            .map_err(|e| data_error(&self.name, e))?;
        let mut objects = Vec::new();
        for sample in samples {
            let image = Arc::new(sample.image);
            for object in sample.objects {
                objects.push(EvalObject {
                    dataset: self.name.clone(),
                    image_id: sample.id.clone(),
                    id: format!("{}_{}", sample.id, object.label),
                    image: Arc::clone(&image),
                    truth: object.mask,
                    ignore: sample.ignore.clone(),
                });
            }
        }
        Ok(objects)
    }
}

fn data_error(dataset: &str, source: scribseg_data::Error) -> Error {
    Error::Data {
        dataset: dataset.to_string(),
        source: Box::new(source),
    }
}

//! Plain items the readers return: an image with all its objects.

use std::path::PathBuf;

use image::RgbImage;
use scribseg_sim::Mask;

/// Where an image comes from; decides which augmentation applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Modality {
    /// A colour photograph (colour jitter applies).
    Photo,
    /// A CT slice, windowed to 0–255 grey (intensity jitter applies).
    Ct,
    /// An MRI slice, percentile-clipped to 0–255 grey (intensity jitter applies).
    Mri,
}

impl Modality {
    /// Whether this is a grey medical slice rather than a photo.
    pub fn is_medical(self) -> bool {
        !matches!(self, Modality::Photo)
    }

    /// The code stored in shards.
    pub(crate) fn code(self) -> u8 {
        match self {
            Modality::Photo => 0,
            Modality::Ct => 1,
            Modality::Mri => 2,
        }
    }

    /// The inverse of [`Modality::code`].
    pub(crate) fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(Modality::Photo),
            1 => Some(Modality::Ct),
            2 => Some(Modality::Mri),
            _ => None,
        }
    }
}

/// One object of an image: its mask and what it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Object {
    /// The object's pixels, the size of the image.
    pub mask: Mask,
    /// Category name or label value (`"person"`, `"41"`, `"left atrium"`).
    pub label: String,
}

/// One image (a photo or a volume slice) with every object annotated on it.
#[derive(Clone, Debug)]
pub struct Sample {
    /// Unique id within the dataset (`"000000391895"`, `"la_003/z/041"`).
    pub id: String,
    /// The unit that decides the split: the image id, or the volume id for slices.
    pub group: String,
    /// The file the image was read from.
    pub source: PathBuf,
    /// Photo or medical modality.
    pub modality: Modality,
    /// The pixels; grey slices are replicated to three channels.
    pub image: RgbImage,
    /// Target objects, each of the image's size.
    pub objects: Vec<Object>,
    /// Pixels that count neither as object nor as background (COCO crowds,
    /// Pascal's 255 border, GrabCut's 128 band); `None` when there are none.
    pub ignore: Option<Mask>,
}

impl Sample {
    /// Image width in pixels.
    pub fn width(&self) -> usize {
        self.image.width() as usize
    }

    /// Image height in pixels.
    pub fn height(&self) -> usize {
        self.image.height() as usize
    }
}

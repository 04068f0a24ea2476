//! One training example: a target object with its image context and the other objects around it.

use image::RgbImage;
use rand::Rng;
use scribseg_sim::{crop_mask, crop_rgb, Mask, Transform, Window};

use crate::augment::{augment, AugmentParams};
use crate::crop::{random_window, CropParams};
use crate::sample::{Modality, Sample};

/// A target object, its image and every other object of the same image
/// (whose scribbles serve as negatives), all in one pixel frame.
#[derive(Clone, Debug)]
pub struct ObjectSample {
    /// The pixels.
    pub image: RgbImage,
    /// The object to segment.
    pub target: Mask,
    /// The image's other objects (non-empty in this frame).
    pub others: Vec<Mask>,
    /// Pixels excluded from loss and metrics, if any.
    pub ignore: Option<Mask>,
    /// Photo or medical (chooses the augmentation).
    pub modality: Modality,
    /// The target's category or label name.
    pub label: String,
}

impl ObjectSample {
    /// Object `target` of `sample`, with its other objects as `others`.
    pub fn from_sample(sample: &Sample, target: usize) -> Self {
        ObjectSample {
            image: sample.image.clone(),
            target: sample.objects[target].mask.clone(),
            others: (0..sample.objects.len())
                .filter(|&i| i != target)
                .map(|i| sample.objects[i].mask.clone())
                .collect(),
            ignore: sample.ignore.clone(),
            modality: sample.modality,
            label: sample.objects[target].label.clone(),
        }
    }

    /// Every object of `sample` in turn.
    pub fn all_from_sample(sample: &Sample) -> impl Iterator<Item = ObjectSample> + '_ {
        (0..sample.objects.len()).map(|i| ObjectSample::from_sample(sample, i))
    }

    /// Crops `window` to `width × height` (image bilinear, masks nearest);
    /// other objects and the ignore mask that vanish from the crop are dropped.
    pub fn crop(&self, window: &Window, width: usize, height: usize) -> ObjectSample {
        ObjectSample {
            image: crop_rgb(&self.image, window, width, height),
            target: crop_mask(&self.target, window, width, height),
            others: self
                .others
                .iter()
                .map(|m| crop_mask(m, window, width, height))
                .filter(|m| !m.is_empty())
                .collect(),
            ignore: self
                .ignore
                .as_ref()
                .map(|m| crop_mask(m, window, width, height))
                .filter(|m| !m.is_empty()),
            modality: self.modality,
            label: self.label.clone(),
        }
    }

    /// A random training crop around the target (random margin and jitter,
    /// `params.size` square, moved inside the image where it fits), then
    /// flips and colour or intensity jitter.
    ///
    /// Returns the crop and the transform from this sample's frame into it
    /// (flips are not part of the transform: simulate scribbles on the
    /// returned crop). `None` when the target is empty.
    pub fn random_crop(
        &self,
        params: &CropParams,
        augmentation: &AugmentParams,
        rng: &mut impl Rng,
    ) -> Option<(ObjectSample, Transform)> {
        let bbox = self.target.bounding_box()?;
        let (w, h) = (self.image.width() as usize, self.image.height() as usize);
        let window = random_window(bbox, params, rng).shifted_inside(w, h);
        let mut crop = self.crop(&window, params.size, params.size);
        augment(&mut crop, augmentation, rng);
        Some((crop, window.transform(params.size, params.size)))
    }
}

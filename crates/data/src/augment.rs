//! Flips, colour jitter for photos and intensity jitter for medical slices.

use rand::Rng;
use scribseg_sim::Mask;

use crate::object_sample::ObjectSample;

/// Augmentation strengths; each jitter is drawn uniformly in `±strength`.
#[derive(Clone, Debug, PartialEq)]
pub struct AugmentParams {
    /// Probability of a horizontal flip.
    pub hflip: f32,
    /// Probability of a vertical flip (medical slices only: photos have an up).
    pub vflip: f32,
    /// Photos: brightness offset as a fraction of 255.
    pub brightness: f32,
    /// Photos and medical: contrast factor deviation around 1.
    pub contrast: f32,
    /// Photos: saturation factor deviation around 1.
    pub saturation: f32,
    /// Medical: gamma is `exp(±gamma)`.
    pub gamma: f32,
}

impl Default for AugmentParams {
    fn default() -> Self {
        AugmentParams {
            hflip: 0.5,
            vflip: 0.5,
            brightness: 0.1,
            contrast: 0.2,
            saturation: 0.2,
            gamma: 0.3,
        }
    }
}

impl AugmentParams {
    /// No augmentation at all (validation and tests).
    pub fn none() -> Self {
        AugmentParams {
            hflip: 0.0,
            vflip: 0.0,
            brightness: 0.0,
            contrast: 0.0,
            saturation: 0.0,
            gamma: 0.0,
        }
    }
}

fn symmetric(rng: &mut impl Rng, strength: f32) -> f32 {
    if strength > 0.0 {
        rng.random_range(-strength..strength)
    } else {
        0.0
    }
}

/// Applies random flips and photometric jitter in place.
pub fn augment(sample: &mut ObjectSample, params: &AugmentParams, rng: &mut impl Rng) {
    let h = rng.random::<f32>() < params.hflip;
    let v = sample.modality.is_medical() && rng.random::<f32>() < params.vflip;
    if h || v {
        flip(sample, h, v);
    }
    if sample.modality.is_medical() {
        intensity_jitter(sample, params, rng);
    } else {
        colour_jitter(sample, params, rng);
    }
}

fn flip(sample: &mut ObjectSample, horizontal: bool, vertical: bool) {
    if horizontal {
        image::imageops::flip_horizontal_in_place(&mut sample.image);
    }
    if vertical {
        image::imageops::flip_vertical_in_place(&mut sample.image);
    }
    sample.target = flip_mask(&sample.target, horizontal, vertical);
    for m in sample.others.iter_mut().chain(sample.ignore.as_mut()) {
        *m = flip_mask(m, horizontal, vertical);
    }
}

fn flip_mask(m: &Mask, horizontal: bool, vertical: bool) -> Mask {
    let w = m.width().max(1);
    let mut rows: Vec<&[u8]> = m.as_slice().chunks_exact(w).collect();
    if vertical {
        rows.reverse();
    }
    let mut data = Vec::with_capacity(m.as_slice().len());
    for row in rows {
        if horizontal {
            data.extend(row.iter().rev());
        } else {
            data.extend_from_slice(row);
        }
    }
    Mask::from_vec(m.width(), m.height(), data).expect("same size as the input")
}

fn colour_jitter(sample: &mut ObjectSample, params: &AugmentParams, rng: &mut impl Rng) {
    let brightness = symmetric(rng, params.brightness) * 255.0;
    let contrast = 1.0 + symmetric(rng, params.contrast);
    let saturation = 1.0 + symmetric(rng, params.saturation);
    if brightness == 0.0 && contrast == 1.0 && saturation == 1.0 {
        return;
    }
    for p in sample.image.pixels_mut() {
        let [r, g, b] = p.0.map(f32::from);
        let grey = 0.299 * r + 0.587 * g + 0.114 * b;
        p.0 = [r, g, b].map(|c| {
            let c = grey + (c - grey) * saturation;
            // A saturating cast of `x + 0.5` rounds and clamps to 0–255 (no libm call).
            ((c - 128.0) * contrast + 128.5 + brightness) as u8
        });
    }
}

fn intensity_jitter(sample: &mut ObjectSample, params: &AugmentParams, rng: &mut impl Rng) {
    let gamma = symmetric(rng, params.gamma).exp();
    let contrast = 1.0 + symmetric(rng, params.contrast);
    let lut: Vec<u8> = (0..256)
        .map(|v| {
            let x = (v as f32 / 255.0).powf(gamma);
            (((x - 0.5) * contrast + 0.5) * 255.0)
                .round()
                .clamp(0.0, 255.0) as u8
        })
        .collect();
    for p in sample.image.pixels_mut() {
        p.0 = p.0.map(|c| lut[c as usize]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::Modality;
    use rand::SeedableRng;

    fn sample(modality: Modality) -> ObjectSample {
        ObjectSample {
            image: image::RgbImage::from_fn(4, 3, |x, y| {
                image::Rgb([x as u8 * 50, y as u8 * 60, 90])
            }),
            target: Mask::from_fn(4, 3, |x, y| x == 0 && y == 0),
            others: vec![Mask::from_fn(4, 3, |x, _| x == 3)],
            ignore: None,
            modality,
            label: "t".into(),
        }
    }

    #[test]
    fn flips_move_image_and_masks_together() {
        let mut s = sample(Modality::Ct);
        let before = *s.image.get_pixel(0, 0);
        flip(&mut s, true, true);
        assert!(s.target.get(3, 2) && s.target.area() == 1);
        assert_eq!(*s.image.get_pixel(3, 2), before);
        assert!(s.others[0].get(0, 0) && s.others[0].area() == 3);
    }

    #[test]
    fn no_augmentation_changes_nothing() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        for m in [Modality::Photo, Modality::Mri] {
            let mut s = sample(m);
            augment(&mut s, &AugmentParams::none(), &mut rng);
            assert_eq!(s.image, sample(m).image);
            assert_eq!(s.target, sample(m).target);
        }
    }

    #[test]
    fn photometric_jitter_changes_pixels_not_masks() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let params = AugmentParams {
            hflip: 0.0,
            vflip: 0.0,
            ..AugmentParams::default()
        };
        for m in [Modality::Photo, Modality::Mri] {
            let mut s = sample(m);
            augment(&mut s, &params, &mut rng);
            assert_ne!(s.image, sample(m).image, "{m:?}");
            assert_eq!(s.target, sample(m).target);
        }
    }

    #[test]
    fn photos_are_never_flipped_vertically() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let params = AugmentParams {
            hflip: 0.0,
            vflip: 1.0,
            ..AugmentParams::none()
        };
        let mut s = sample(Modality::Photo);
        augment(&mut s, &params, &mut rng);
        assert!(s.target.get(0, 0));
    }
}

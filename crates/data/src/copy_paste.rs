//! Copy-paste augmentation: an object cut out of one sample, pasted onto another.
//!
//! The pasted object hides what lies beneath it: its pixels are removed from
//! the target, the other objects and the ignore mask of the destination, and
//! it joins the destination's other objects (a negative for the target).
//! Whether it raises validation DICE is for the trainer to measure; it is off
//! unless called.

use rand::Rng;
use scribseg_sim::Mask;

use crate::object_sample::ObjectSample;

/// Pastes `source`'s target onto `dest` at a random shift.
///
/// Both samples must have the same size (crops of the same `CropParams`).
/// The paste is skipped (returns `false`) when it would hide more than
/// `max_occlusion` (0–1) of the destination target, or when either target
/// is empty.
pub fn copy_paste(
    dest: &mut ObjectSample,
    source: &ObjectSample,
    max_occlusion: f32,
    rng: &mut impl Rng,
) -> bool {
    let (w, h) = (dest.target.width(), dest.target.height());
    assert_eq!(
        (source.target.width(), source.target.height()),
        (w, h),
        "copy-paste needs samples of one size"
    );
    let (Some(bbox), Some(_)) = (source.target.bounding_box(), dest.target.bounding_box()) else {
        return false;
    };
    let dx = rng.random_range(-(bbox.x0 as i64)..=(w - bbox.x1) as i64) as isize;
    let dy = rng.random_range(-(bbox.y0 as i64)..=(h - bbox.y1) as i64) as isize;
    let pasted = Mask::from_fn(w, h, |x, y| {
        source.target.get(x as isize - dx, y as isize - dy)
    });
    let hidden = dest.target.and(&pasted).area();
    if hidden as f32 > max_occlusion * dest.target.area() as f32 {
        return false;
    }
    for (x, y, p) in dest.image.enumerate_pixels_mut() {
        if pasted.get(x as isize, y as isize) {
            *p = *source
                .image
                .get_pixel((x as isize - dx) as u32, (y as isize - dy) as u32);
        }
    }
    dest.target = dest.target.minus(&pasted);
    for m in &mut dest.others {
        *m = m.minus(&pasted);
    }
    dest.others.retain(|m| !m.is_empty());
    dest.ignore = dest
        .ignore
        .as_ref()
        .map(|m| m.minus(&pasted))
        .filter(|m| !m.is_empty());
    dest.others.push(pasted);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::Modality;
    use rand::SeedableRng;

    fn sample(colour: u8, target: Mask) -> ObjectSample {
        ObjectSample {
            image: image::RgbImage::from_pixel(20, 20, image::Rgb([colour; 3])),
            target,
            others: vec![],
            ignore: None,
            modality: Modality::Photo,
            label: "x".into(),
        }
    }

    #[test]
    fn pasted_object_occludes_and_becomes_a_negative() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        let big = Mask::from_fn(20, 20, |x, y| x < 16 && y < 16);
        let small = Mask::from_fn(20, 20, |x, y| (2..6).contains(&x) && (2..6).contains(&y));
        let mut pasted_once = false;
        for _ in 0..20 {
            let mut dest = sample(10, big.clone());
            if !copy_paste(&mut dest, &sample(200, small.clone()), 0.5, &mut rng) {
                continue;
            }
            pasted_once = true;
            let negative = dest.others.last().expect("pasted object is a negative");
            assert_eq!(negative.area(), 16);
            assert!(dest.target.and(negative).is_empty(), "target is occluded");
            assert_eq!(dest.target.area() + negative.and(&big).area(), 256);
            let image = &dest.image;
            let on = (0..20 * 20)
                .filter(|i| image.as_raw()[i * 3] == 200)
                .count();
            assert_eq!(on, 16, "the pasted pixels carry the source colour");
        }
        assert!(pasted_once);
    }

    #[test]
    fn pastes_that_hide_too_much_are_skipped() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let whole = Mask::from_fn(20, 20, |_, _| true);
        let mut dest = sample(10, Mask::from_fn(20, 20, |x, y| x < 4 && y < 4));
        let before = dest.clone();
        assert!(!copy_paste(&mut dest, &sample(200, whole), 0.5, &mut rng));
        assert_eq!(dest.image, before.image);
        assert_eq!(dest.target, before.target);
    }
}

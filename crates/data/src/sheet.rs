//! Contact sheets: a grid of samples with their masks drawn over the image.

use image::{Rgb, RgbImage};

use crate::object_sample::ObjectSample;

/// Tint of the target object.
const TARGET: [f32; 3] = [40.0, 220.0, 60.0];
/// Tint of the other objects.
const OTHER: [f32; 3] = [60.0, 120.0, 255.0];
/// Tint of ignored pixels.
const IGNORE: [f32; 3] = [255.0, 220.0, 0.0];

/// The sample's image with the target tinted green, the other objects blue
/// and ignored pixels yellow (half opacity).
pub fn overlay(sample: &ObjectSample) -> RgbImage {
    let mut out = sample.image.clone();
    for (x, y, p) in out.enumerate_pixels_mut() {
        let (x, y) = (x as isize, y as isize);
        let tint = if sample.target.get(x, y) {
            Some(TARGET)
        } else if sample.ignore.as_ref().is_some_and(|m| m.get(x, y)) {
            Some(IGNORE)
        } else if sample.others.iter().any(|m| m.get(x, y)) {
            Some(OTHER)
        } else {
            None
        };
        if let Some(t) = tint {
            p.0 = [0, 1, 2].map(|c| ((f32::from(p.0[c]) + t[c]) / 2.0) as u8);
        }
    }
    out
}

/// Overlays laid out in a grid of `columns`, with a 2-pixel gap; tiles may differ in size
/// (each cell is as large as the largest tile).
pub fn contact_sheet(samples: &[ObjectSample], columns: usize) -> RgbImage {
    const GAP: u32 = 2;
    let columns = columns.max(1);
    let rows = samples.len().div_ceil(columns).max(1);
    let cell_w = samples.iter().map(|s| s.image.width()).max().unwrap_or(1);
    let cell_h = samples.iter().map(|s| s.image.height()).max().unwrap_or(1);
    let width = columns as u32 * (cell_w + GAP) + GAP;
    let height = rows as u32 * (cell_h + GAP) + GAP;
    let mut sheet = RgbImage::from_pixel(width, height, Rgb([32, 32, 32]));
    for (i, s) in samples.iter().enumerate() {
        let x = GAP + (i % columns) as u32 * (cell_w + GAP);
        let y = GAP + (i / columns) as u32 * (cell_h + GAP);
        image::imageops::replace(&mut sheet, &overlay(s), i64::from(x), i64::from(y));
    }
    sheet
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::Modality;
    use scribseg_sim::Mask;

    #[test]
    fn tints_and_grid_layout() {
        let s = ObjectSample {
            image: RgbImage::new(4, 4),
            target: Mask::from_fn(4, 4, |x, _| x == 0),
            others: vec![Mask::from_fn(4, 4, |x, _| x == 1)],
            ignore: Some(Mask::from_fn(4, 4, |x, _| x == 2)),
            modality: Modality::Photo,
            label: "t".into(),
        };
        let o = overlay(&s);
        assert_eq!(o.get_pixel(0, 0).0, [20, 110, 30]);
        assert_eq!(o.get_pixel(1, 0).0, [30, 60, 127]);
        assert_eq!(o.get_pixel(2, 0).0, [127, 110, 0]);
        assert_eq!(o.get_pixel(3, 0).0, [0, 0, 0]);
        let sheet = contact_sheet(&[s.clone(), s.clone(), s], 2);
        assert_eq!(sheet.dimensions(), (2 * 6 + 2, 2 * 6 + 2));
        assert_eq!(sheet.get_pixel(2, 2).0, [20, 110, 30]);
        assert_eq!(
            sheet.get_pixel(8, 8).0,
            [32, 32, 32],
            "fourth cell is empty"
        );
    }
}

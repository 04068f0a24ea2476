//! Pictures a person can look at: a photo with a label's outline and its
//! scribble (or prompt) painted over it.

use image::{Rgb, RgbImage};
use scribseg_sim::{Mask, Plane};

/// Outline colour of the label.
const OUTLINE: Rgb<u8> = Rgb([255, 220, 0]);
/// Colour of positive strokes and prompts.
const POSITIVE: Rgb<u8> = Rgb([0, 230, 64]);
/// Colour of negative strokes.
const NEGATIVE: Rgb<u8> = Rgb([255, 40, 40]);

/// A grey stand-in photo when none is given: object mid-grey, background dark.
pub fn backdrop(mask: &Mask) -> RgbImage {
    RgbImage::from_fn(mask.width() as u32, mask.height() as u32, |x, y| {
        if mask.get(x as isize, y as isize) {
            Rgb([110, 110, 110])
        } else {
            Rgb([40, 40, 40])
        }
    })
}

/// Paints the outline of `mask` (object pixels with a background 4-neighbour).
pub fn outline(image: &mut RgbImage, mask: &Mask, colour: Option<Rgb<u8>>) {
    let colour = colour.unwrap_or(OUTLINE);
    for y in 0..mask.height() as isize {
        for x in 0..mask.width() as isize {
            let edge = mask.get(x, y)
                && [(1, 0), (-1, 0), (0, 1), (0, -1)]
                    .iter()
                    .any(|(dx, dy)| !mask.get(x + dx, y + dy));
            if edge {
                image.put_pixel(x as u32, y as u32, colour);
            }
        }
    }
}

/// Blends a channel over the image: positive values in green, negative in
/// red, with opacity proportional to the magnitude.
pub fn channel(image: &mut RgbImage, plane: &Plane) {
    for (x, y, px) in image.enumerate_pixels_mut() {
        let v = plane.get(x as usize, y as usize);
        if v == 0.0 {
            continue;
        }
        let colour = if v > 0.0 { POSITIVE } else { NEGATIVE };
        let a = v.abs().min(1.0) * 0.9;
        for c in 0..3 {
            px.0[c] = (f32::from(px.0[c]) * (1.0 - a) + f32::from(colour.0[c]) * a).round() as u8;
        }
    }
}

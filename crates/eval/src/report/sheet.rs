//! A contact sheet: per object, the image with its strokes, the prediction
//! and the ground truth, side by side.

use image::imageops::{self, FilterType};
use image::{Rgb, RgbImage};
use scribseg_sim::{draw_stroke, Mask, Plane, Polarity, Stroke, Transform};

/// Height of every tile, pixels.
const TILE: u32 = 160;
/// Gap between tiles and around the sheet, pixels.
const GAP: u32 = 4;
/// Brush radius of strokes on the sheet, in image pixels at tile scale.
const STROKE_RADIUS: f32 = 2.5;
/// Radius of a click (a one-point stroke), in image pixels at tile scale.
const CLICK_RADIUS: f32 = 4.0;

const OBJECT: [u8; 3] = [40, 220, 60];
const IGNORED: [u8; 3] = [255, 220, 0];
const POSITIVE: Rgb<u8> = Rgb([0, 255, 0]);
const NEGATIVE: Rgb<u8> = Rgb([255, 0, 0]);

/// One row of the sheet.
#[derive(Clone, Copy, Debug)]
pub struct SheetEntry<'a> {
    /// The image.
    pub image: &'a RgbImage,
    /// The strokes given (clicks are one-point strokes).
    pub strokes: &'a [Stroke],
    /// The thresholded prediction.
    pub prediction: &'a Mask,
    /// The ground truth.
    pub truth: &'a Mask,
    /// Ignored pixels, drawn yellow on the truth tile.
    pub ignore: Option<&'a Mask>,
}

/// `image` with `mask` tinted `colour` at half opacity.
fn tinted(image: &RgbImage, mask: &Mask, colour: [u8; 3]) -> RgbImage {
    let mut out = image.clone();
    for (x, y, p) in out.enumerate_pixels_mut() {
        if mask.get(x as isize, y as isize) {
            p.0 = [0, 1, 2].map(|c| ((u16::from(p.0[c]) + u16::from(colour[c])) / 2) as u8);
        }
    }
    out
}

/// The tile height scaled to the image, and the factor.
fn scaled(image: &RgbImage) -> (RgbImage, f32) {
    let s = TILE as f32 / image.height().max(1) as f32;
    let w = ((image.width() as f32 * s).round() as u32).max(1);
    (imageops::resize(image, w, TILE, FilterType::Triangle), s)
}

/// The strokes drawn over an already scaled tile.
fn with_strokes(tile: &mut RgbImage, strokes: &[Stroke], scale: f32) {
    let mut plane = Plane::new(tile.width() as usize, tile.height() as usize);
    let transform = Transform {
        sx: scale,
        sy: scale,
        tx: 0.0,
        ty: 0.0,
    };
    for s in strokes {
        let radius = if s.points.len() == 1 {
            CLICK_RADIUS
        } else {
            STROKE_RADIUS
        };
        draw_stroke(&mut plane, s, transform, radius, None);
    }
    for (x, y, p) in tile.enumerate_pixels_mut() {
        match plane.get(x as usize, y as usize) {
            v if v == Polarity::Positive.value() => *p = POSITIVE,
            v if v == Polarity::Negative.value() => *p = NEGATIVE,
            _ => {}
        }
    }
}

/// Rows of three tiles (strokes, prediction, truth), `columns` rows side by
/// side, every tile 160 pixels high.
pub fn contact_sheet(entries: &[SheetEntry], columns: usize) -> RgbImage {
    let rows: Vec<[RgbImage; 3]> = entries
        .iter()
        .map(|e| {
            let (mut strokes, scale) = scaled(e.image);
            with_strokes(&mut strokes, e.strokes, scale);
            let (prediction, _) = scaled(&tinted(e.image, e.prediction, OBJECT));
            let mut truth = tinted(e.image, e.truth, OBJECT);
            if let Some(ignore) = e.ignore {
                truth = tinted(&truth, ignore, IGNORED);
            }
            [strokes, prediction, scaled(&truth).0]
        })
        .collect();
    let columns = columns.max(1);
    let group_w = rows
        .iter()
        .map(|r| r.iter().map(|t| t.width() + GAP).sum::<u32>())
        .max()
        .unwrap_or(GAP);
    let n_rows = rows.len().div_ceil(columns).max(1) as u32;
    let width = columns.min(rows.len().max(1)) as u32 * (group_w + GAP) + GAP;
    let height = n_rows * (TILE + GAP) + GAP;
    let mut sheet = RgbImage::from_pixel(width, height, Rgb([32, 32, 32]));
    for (i, row) in rows.iter().enumerate() {
        let mut x = GAP + (i % columns) as u32 * (group_w + GAP);
        let y = GAP + (i / columns) as u32 * (TILE + GAP);
        for tile in row {
            imageops::replace(&mut sheet, tile, i64::from(x), i64::from(y));
            x += tile.width() + GAP;
        }
    }
    sheet
}

#[cfg(test)]
mod tests {
    use super::*;
    use scribseg_sim::Point;

    #[test]
    fn tiles_show_strokes_prediction_and_truth() {
        let image = RgbImage::from_pixel(80, 40, Rgb([100, 100, 100]));
        let truth = Mask::from_fn(80, 40, |x, _| x < 40);
        let prediction = Mask::new(80, 40);
        let strokes = [Stroke {
            points: vec![Point::new(10.0, 20.0)],
            polarity: Polarity::Negative,
        }];
        let entry = SheetEntry {
            image: &image,
            strokes: &strokes,
            prediction: &prediction,
            truth: &truth,
            ignore: None,
        };
        let sheet = contact_sheet(&[entry, entry, entry], 2);
        // Tiles are 160×320 after scaling 40 → 160; 2 groups across, 2 rows.
        assert_eq!(sheet.height(), 2 * (TILE + GAP) + GAP);
        assert_eq!(sheet.width(), 2 * (3 * (320 + GAP) + GAP) + GAP);
        // The click at (10, 20) is red at 4× scale in the first tile.
        assert_eq!(*sheet.get_pixel(GAP + 40, GAP + 80), NEGATIVE);
        // The truth tile is tinted on the left, plain on the right.
        let truth_x = GAP + 2 * (320 + GAP);
        assert_eq!(sheet.get_pixel(truth_x + 10, GAP + 10).0, [70, 160, 80]);
        assert_eq!(sheet.get_pixel(truth_x + 300, GAP + 10).0, [100, 100, 100]);
    }
}

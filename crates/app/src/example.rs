//! A generated example for trying the tools without any data: a textured
//! backdrop with a round body and a lobe.

use image::{Rgb, RgbImage};
use scribseg_sim::Mask;

/// Side of the example image.
const SIZE: usize = 256;

/// Whether `(x, y)` lies on the example object: an ellipse with an attached
/// round lobe and a thin arm.
fn on_object(x: f32, y: f32) -> bool {
    let body = ((x - 110.0) / 70.0).powi(2) + ((y - 140.0) / 50.0).powi(2) <= 1.0;
    let lobe = (x - 185.0).powi(2) + (y - 80.0).powi(2) <= 28.0f32.powi(2);
    let arm = (60.0..150.0).contains(&x) && (y - (185.0 + (x - 60.0) * 0.3)).abs() < 4.0;
    body || lobe || arm
}

/// The example photo and its label.
pub fn example() -> (RgbImage, Mask) {
    let mask = Mask::from_fn(SIZE, SIZE, |x, y| on_object(x as f32, y as f32));
    let photo = RgbImage::from_fn(SIZE as u32, SIZE as u32, |x, y| {
        let (fx, fy) = (x as f32, y as f32);
        let stripes = ((fx * 0.15).sin() * (fy * 0.11).cos() * 20.0) as i32;
        let base = if on_object(fx, fy) {
            [200, 120, 60]
        } else {
            [70, 110, 150]
        };
        Rgb(base.map(|c: i32| (c + stripes).clamp(0, 255) as u8))
    });
    (photo, mask)
}

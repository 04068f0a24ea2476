//! The network's input: a 128×128 crop of the photo, normalised, plus the
//! interaction channel — built the same way for training and inference.

use burn::tensor::{Device, Tensor, TensorData};
use image::RgbImage;
use scribseg_sim::Plane;

/// Side of the square the network sees.
pub const INPUT_SIZE: usize = 128;

/// Photo normalisation: `(v / 255 − MEAN) / SPREAD` per channel, which maps
/// 8-bit values to about `[−2, 2]`, the range of the ±1 scribble channel.
const MEAN: f32 = 0.5;
/// See [`MEAN`].
const SPREAD: f32 = 0.25;

/// Appends one sample (`4 × size × size` values, channel-major) to `out`:
/// the normalised RGB crop, then the interaction channel as is.
///
/// Panics when the crop and the channel differ in size.
pub fn push_sample(out: &mut Vec<f32>, rgb: &RgbImage, channel: &Plane) {
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    assert_eq!(
        (w, h),
        (channel.width(), channel.height()),
        "crop and channel sizes differ"
    );
    for c in 0..3 {
        out.extend(
            rgb.pixels()
                .map(|p| (f32::from(p.0[c]) / 255.0 - MEAN) / SPREAD),
        );
    }
    out.extend_from_slice(channel.as_slice());
}

/// A `[batch, 4, size, size]` tensor from values written by [`push_sample`].
pub fn batch_tensor(values: Vec<f32>, size: usize, device: &Device) -> Tensor<4> {
    let batch = values.len() / (4 * size * size);
    Tensor::from_data(TensorData::new(values, [batch, 4, size, size]), device)
}

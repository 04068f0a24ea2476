//! The network's input: a 128×128 crop of the photo, normalised, plus the
//! interaction channel and, for a network that reads it, the previous answer —
//! built the same way for training and inference.

use burn::tensor::{Device, Tensor, TensorData};
use image::RgbImage;
use scribseg_sim::Plane;

/// Side of the square the network sees.
pub const INPUT_SIZE: usize = 128;

/// Input channels of the paper's network: RGB and the interaction channel.
pub const SCRIBBLE_CHANNELS: usize = 4;

/// Input channels of a network that also reads its previous answer: RGB, the
/// interaction channel, and the previous probabilities in `[0, 1]` (0 where
/// there is none, as for a first stroke).
pub const PREVIOUS_CHANNELS: usize = 5;

/// Photo normalisation: `(v / 255 − MEAN) / SPREAD` per channel, which maps
/// 8-bit values to about `[−2, 2]`, the range of the ±1 scribble channel.
const MEAN: f32 = 0.5;
/// See [`MEAN`].
const SPREAD: f32 = 0.25;

/// Appends one sample of `channels` channels (`channels × size × size`
/// values, channel-major) to `out`: the normalised RGB crop, the interaction
/// channel as is, then — for a network of [`PREVIOUS_CHANNELS`] — `previous`
/// (zeros without one). A network of [`SCRIBBLE_CHANNELS`] cannot read a
/// previous answer, so `previous` is not written for it.
///
/// Panics when the crop and the planes differ in size, or for another
/// number of channels.
pub fn push_sample(
    out: &mut Vec<f32>,
    channels: usize,
    rgb: &RgbImage,
    channel: &Plane,
    previous: Option<&Plane>,
) {
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    assert_eq!(
        (w, h),
        (channel.width(), channel.height()),
        "crop and channel sizes differ"
    );
    assert!(
        channels == SCRIBBLE_CHANNELS || channels == PREVIOUS_CHANNELS,
        "a network of {channels} input channels"
    );
    for c in 0..3 {
        out.extend(
            rgb.pixels()
                .map(|p| (f32::from(p.0[c]) / 255.0 - MEAN) / SPREAD),
        );
    }
    out.extend_from_slice(channel.as_slice());
    if channels == PREVIOUS_CHANNELS {
        match previous {
            Some(p) => {
                assert_eq!(
                    (w, h),
                    (p.width(), p.height()),
                    "crop and previous answer sizes differ"
                );
                out.extend_from_slice(p.as_slice());
            }
            None => out.resize(out.len() + w * h, 0.0),
        }
    }
}

/// A `[batch, channels, size, size]` tensor from values written by [`push_sample`].
pub fn batch_tensor(values: Vec<f32>, channels: usize, size: usize, device: &Device) -> Tensor<4> {
    let batch = values.len() / (channels * size * size);
    Tensor::from_data(
        TensorData::new(values, [batch, channels, size, size]),
        device,
    )
}

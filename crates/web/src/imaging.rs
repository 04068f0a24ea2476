//! Decoding uploaded image files into the 8-bit RGB the model and the page see.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, ImageReader, RgbImage};

use crate::error::{Error, Result};

/// The largest image accepted, in pixels (about 8000 × 6000 and a bit).
pub const MAX_PIXELS: u64 = 50_000_000;

/// File extensions the annotator opens.
pub const EXTENSIONS: [&str; 6] = ["png", "jpg", "jpeg", "tif", "tiff", "bmp"];

/// Reads the size of an encoded image without decoding its pixels, and
/// rejects images over [`MAX_PIXELS`].
pub fn dimensions(bytes: &[u8]) -> Result<(u32, u32)> {
    let reader = reader(bytes)?;
    let (w, h) = reader
        .into_dimensions()
        .map_err(|e| Error::bad_request(format!("not a readable image: {e}")))?;
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(Error::bad_request(format!(
            "the image is {w}×{h}, over the limit of {MAX_PIXELS} pixels"
        )));
    }
    if w == 0 || h == 0 {
        return Err(Error::bad_request("the image is empty"));
    }
    Ok((w, h))
}

/// Decodes an image file (JPEG, PNG, TIFF, BMP; 8 or 16 bits; grey, RGB
/// or RGBA) to 8-bit RGB. Images with more than 8 bits per channel are
/// stretched from their darkest to their brightest value, so 12-bit scans
/// stored in 16 bits are not black; alpha is dropped. A cut-off JPEG is an
/// error.
pub fn decode(bytes: &[u8]) -> Result<RgbImage> {
    let (w, h) = dimensions(bytes)?;
    if scribseg_data::is_truncated_jpeg(bytes) {
        return Err(Error::bad_request(
            "the JPEG is truncated (its image data stops before the end marker): upload the whole file",
        ));
    }
    // Large images decode one at a time: each holds its file, its decoded
    // pixels (up to 16 bytes a pixel) and the 8-bit copy until it is done.
    let _turn = (u64::from(w) * u64::from(h) > LARGE_PIXELS)
        .then(|| LARGE_DECODES.lock().unwrap_or_else(|p| p.into_inner()));
    let image = reader(bytes)?
        .decode()
        .map_err(|e| Error::bad_request(format!("could not decode the image: {e}")))?;
    let (w, h) = (image.width(), image.height());
    Ok(match image {
        DynamicImage::ImageLuma16(i) => stretch(i.as_raw(), 1, w, h),
        DynamicImage::ImageLumaA16(i) => stretch(i.as_raw(), 2, w, h),
        DynamicImage::ImageRgb16(i) => stretch(i.as_raw(), 3, w, h),
        DynamicImage::ImageRgba16(i) => stretch(i.as_raw(), 4, w, h),
        DynamicImage::ImageRgb32F(i) => stretch(i.as_raw(), 3, w, h),
        DynamicImage::ImageRgba32F(i) => stretch(i.as_raw(), 4, w, h),
        other => other.to_rgb8(),
    })
}

/// Images over this many pixels (about 2000 × 2000) are decoded one at a
/// time, so that concurrent uploads of large images do not add up.
const LARGE_PIXELS: u64 = 4_000_000;

static LARGE_DECODES: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The longer side of the image list's thumbnails, in pixels (twice the
/// list's 48 CSS pixels, for sharp high-density screens).
pub const THUMBNAIL_SIDE: u32 = 96;

/// `image` shrunk to at most [`THUMBNAIL_SIDE`] on its longer side, aspect kept.
pub fn thumbnail(image: &RgbImage) -> RgbImage {
    let (w, h) = image.dimensions();
    let scale = (f64::from(THUMBNAIL_SIDE) / f64::from(w.max(h))).min(1.0);
    let side = |v: u32| ((f64::from(v) * scale).round() as u32).max(1);
    image::imageops::thumbnail(image, side(w), side(h))
}

/// Encodes `image` as PNG, for the page to show.
pub fn to_png(image: &RgbImage) -> Result<Vec<u8>> {
    let mut out = Cursor::new(Vec::new());
    image
        .write_to(&mut out, ImageFormat::Png)
        .map_err(|e| Error::Internal(format!("png encoding: {e}")))?;
    Ok(out.into_inner())
}

fn reader(bytes: &[u8]) -> Result<ImageReader<Cursor<&[u8]>>> {
    ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| Error::bad_request(format!("not a readable image: {e}")))
}

/// Maps the range of the colour values in `values` (row-major pixels of
/// `channels` values each: grey, grey + alpha, RGB or RGBA) onto 0–255 RGB,
/// without a floating-point copy of the image; alpha is dropped.
fn stretch<T: Copy + Into<f32>>(
    values: &[T],
    channels: usize,
    width: u32,
    height: u32,
) -> RgbImage {
    let colours = if channels >= 3 { 3 } else { 1 };
    let colour = |pixel: &[T]| -> [f32; 3] {
        let v = |i: usize| pixel[i.min(colours - 1)].into();
        [v(0), v(1), v(2)]
    };
    let (lo, hi) = values
        .chunks_exact(channels)
        .flat_map(colour)
        .filter(|v| v.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    let scale = if hi > lo { 255.0 / (hi - lo) } else { 0.0 };
    let data = values
        .chunks_exact(channels)
        .flat_map(colour)
        .map(|v| ((v - lo) * scale).round().clamp(0.0, 255.0) as u8)
        .collect();
    RgbImage::from_raw(width, height, data).expect("three values per pixel of the image")
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageBuffer, Luma};

    fn encode(image: DynamicImage) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, ImageFormat::Png).expect("encode");
        out.into_inner()
    }

    #[test]
    fn sixteen_bit_grey_is_stretched() {
        let img: ImageBuffer<Luma<u16>, Vec<u16>> =
            ImageBuffer::from_fn(4, 2, |x, _| Luma([1000 + 100 * x as u16]));
        let rgb = decode(&encode(DynamicImage::ImageLuma16(img))).expect("decodes");
        assert_eq!(rgb.dimensions(), (4, 2));
        assert_eq!(rgb.get_pixel(0, 0).0, [0, 0, 0]);
        assert_eq!(rgb.get_pixel(3, 1).0, [255, 255, 255]);
    }

    #[test]
    fn sixteen_bit_colour_is_stretched_over_its_colours_not_its_alpha() {
        let img: ImageBuffer<image::Rgba<u16>, Vec<u16>> = ImageBuffer::from_fn(3, 1, |x, _| {
            let v = 1000 + 150 * x as u16;
            image::Rgba([v, v, 1000, u16::MAX])
        });
        let rgb = decode(&encode(DynamicImage::ImageRgba16(img))).expect("decodes");
        assert_eq!(rgb.get_pixel(0, 0).0, [0, 0, 0]);
        assert_eq!(rgb.get_pixel(1, 0).0, [128, 128, 0]);
        assert_eq!(rgb.get_pixel(2, 0).0, [255, 255, 0]);
    }

    #[test]
    fn corrupt_bytes_are_a_bad_request() {
        let mut bytes = encode(DynamicImage::new_rgb8(8, 8));
        bytes.truncate(40);
        assert!(matches!(decode(&bytes), Err(Error::BadRequest(_))));
        assert!(matches!(decode(b"hello"), Err(Error::BadRequest(_))));
    }
}

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
    dimensions(bytes)?;
    if scribseg_data::is_truncated_jpeg(bytes) {
        return Err(Error::bad_request(
            "the JPEG is truncated (its image data stops before the end marker): upload the whole file",
        ));
    }
    let image = reader(bytes)?
        .decode()
        .map_err(|e| Error::bad_request(format!("could not decode the image: {e}")))?;
    Ok(match image {
        DynamicImage::ImageLuma16(_)
        | DynamicImage::ImageLumaA16(_)
        | DynamicImage::ImageRgb16(_)
        | DynamicImage::ImageRgba16(_)
        | DynamicImage::ImageRgb32F(_)
        | DynamicImage::ImageRgba32F(_) => stretch(&image.to_rgb32f()),
        other => other.to_rgb8(),
    })
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

/// Maps the range of values in `image` onto 0–255.
fn stretch(image: &image::Rgb32FImage) -> RgbImage {
    let (lo, hi) = image
        .as_raw()
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let scale = if hi > lo { 255.0 / (hi - lo) } else { 0.0 };
    let data = image
        .as_raw()
        .iter()
        .map(|&v| ((v - lo) * scale).round().clamp(0.0, 255.0) as u8)
        .collect();
    RgbImage::from_raw(image.width(), image.height(), data).expect("same size as the source image")
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
    fn corrupt_bytes_are_a_bad_request() {
        let mut bytes = encode(DynamicImage::new_rgb8(8, 8));
        bytes.truncate(40);
        assert!(matches!(decode(&bytes), Err(Error::BadRequest(_))));
        assert!(matches!(decode(b"hello"), Err(Error::BadRequest(_))));
    }
}

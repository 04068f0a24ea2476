//! Reading masks, probability maps and photos from disk with errors that
//! say which file was wrong and why.

use std::path::Path;

use anyhow::{bail, Context, Result};
use image::{DynamicImage, ImageFormat, ImageReader, RgbImage};
use scribseg_sim::{Mask, Plane};

/// The largest image, in pixels, the command-line tools accept (16k × 16k).
pub const MAX_PIXELS: u64 = 16_384 * 16_384;

/// Decodes any supported image, refusing ones above [`MAX_PIXELS`] before
/// their pixels are allocated, and cut-off JPEGs.
pub fn open(path: &Path) -> Result<(DynamicImage, ImageFormat)> {
    let reader = ImageReader::open(path)
        .with_context(|| format!("cannot open {}", path.display()))?
        .with_guessed_format()
        .with_context(|| format!("cannot read {}", path.display()))?;
    let Some(format) = reader.format() else {
        bail!(
            "{} is not an image in a format scribseg reads (PNG, JPEG, BMP, TIFF)",
            path.display()
        );
    };
    let (w, h) = reader
        .into_dimensions()
        .with_context(|| format!("{} is not a valid {format:?} image", path.display()))?;
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        bail!(
            "{} is {w}×{h} pixels, more than the limit of {MAX_PIXELS} pixels",
            path.display()
        );
    }
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if scribseg_data::is_truncated_jpeg(&bytes) {
        bail!(
            "{} is a truncated JPEG (its image data stops before the end marker)",
            path.display()
        );
    }
    let image = ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()?
        .decode()
        .with_context(|| {
            format!(
                "{} is not a valid {format:?} image (corrupt or truncated?)",
                path.display()
            )
        })?;
    Ok((image, format))
}

/// Reads a PNG mask. The rule: a pixel is object when its grey value is
/// above half the range — `> 127` for 8-bit, `> 32767` for 16-bit; colour
/// masks are first converted to grey (Rec. 601 luma); alpha is ignored.
pub fn read_mask(path: &Path) -> Result<Mask> {
    let (image, format) = open(path)?;
    if format != ImageFormat::Png {
        bail!(
            "mask {} is a {format:?} file; masks must be PNG (lossy formats blur edges)",
            path.display()
        );
    }
    Ok(match image {
        DynamicImage::ImageLuma16(_)
        | DynamicImage::ImageLumaA16(_)
        | DynamicImage::ImageRgb16(_)
        | DynamicImage::ImageRgba16(_) => {
            let gray = image.to_luma16();
            let (w, h) = gray.dimensions();
            let data = gray
                .into_raw()
                .into_iter()
                .map(|v| u8::from(v > 32767))
                .collect();
            Mask::from_vec(w as usize, h as usize, data).expect("size matches")
        }
        other => Mask::from_gray(&other.to_luma8()),
    })
}

/// Reads a probability map: 8-bit (`v / 255`) or 16-bit (`v / 65535`) grey PNG.
pub fn read_probabilities(path: &Path) -> Result<Plane> {
    let (image, format) = open(path)?;
    if format != ImageFormat::Png {
        bail!(
            "prediction {} is a {format:?} file; probability maps must be PNG",
            path.display()
        );
    }
    let gray = image.to_luma16();
    let (w, h) = gray.dimensions();
    let data = gray
        .into_raw()
        .into_iter()
        .map(|v| f32::from(v) / 65535.0)
        .collect();
    Ok(Plane::from_vec(w as usize, h as usize, data).expect("size matches"))
}

/// Reads a photo as 8-bit RGB (grey is replicated, alpha dropped, 16-bit
/// scaled down).
pub fn read_rgb(path: &Path) -> Result<RgbImage> {
    Ok(open(path)?.0.to_rgb8())
}

/// Writes a PNG, naming the file on failure.
pub fn save_png(image: &DynamicImage, path: &Path) -> Result<()> {
    image
        .save_with_format(path, ImageFormat::Png)
        .with_context(|| format!("cannot write {}", path.display()))
}

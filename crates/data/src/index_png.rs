//! Reading the raw values of an index or label PNG (grey or palette), without palette expansion.

use std::io::BufReader;
use std::path::Path;

use crate::error::{Error, Result};

/// A row-major raster of raw 8-bit values.
#[derive(Debug)]
pub(crate) struct IndexImage {
    pub width: usize,
    pub height: usize,
    pub values: Vec<u8>,
}

/// Reads a grey or palette PNG's raw values (palette indices stay indices).
///
/// Bit depths 1, 2, 4 and 8 are accepted; 16-bit and colour PNGs are
/// reported as an unsupported encoding.
pub(crate) fn read_index_png(path: &Path) -> Result<IndexImage> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut decoder = png::Decoder::new(BufReader::new(file));
    decoder.set_transformations(png::Transformations::IDENTITY);
    let corrupt = |e: png::DecodingError| Error::invalid(path, format!("corrupt PNG: {e}"));
    let mut reader = decoder.read_info().map_err(corrupt)?;
    let mut buf = vec![0; reader.output_buffer_size().unwrap_or(0)];
    let info = reader.next_frame(&mut buf).map_err(corrupt)?;
    let (width, height) = (info.width as usize, info.height as usize);
    let bits = match (info.color_type, info.bit_depth) {
        (png::ColorType::Grayscale | png::ColorType::Indexed, depth) if (depth as u8) <= 8 => {
            depth as usize
        }
        (color, depth) => {
            return Err(Error::invalid(
                path,
                format!(
                "unsupported mask encoding: {color:?} at {depth:?} (need 8-bit grey or palette)"
            ),
            ))
        }
    };
    let per_byte = 8 / bits;
    let mut values = Vec::with_capacity(width * height);
    for row in buf.chunks(info.line_size).take(height) {
        for x in 0..width {
            let byte = row[x / per_byte];
            let shift = 8 - bits * (x % per_byte + 1);
            values.push((byte >> shift) & ((1u16 << bits) - 1) as u8);
        }
    }
    Ok(IndexImage {
        width,
        height,
        values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palette_indices_are_not_expanded() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("p.png");
        let file = std::fs::File::create(&path).expect("create");
        let mut enc = png::Encoder::new(std::io::BufWriter::new(file), 3, 2);
        enc.set_color(png::ColorType::Indexed);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_palette(vec![0u8; 3 * 256]);
        let mut w = enc.write_header().expect("header");
        w.write_image_data(&[0, 1, 2, 255, 1, 0]).expect("data");
        w.finish().expect("finish");
        let img = read_index_png(&path).expect("reads");
        assert_eq!((img.width, img.height), (3, 2));
        assert_eq!(img.values, vec![0, 1, 2, 255, 1, 0]);
    }

    #[test]
    fn truncated_png_is_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.png");
        image::GrayImage::from_pixel(40, 40, image::Luma([3]))
            .save(&path)
            .expect("write");
        let bytes = std::fs::read(&path).expect("read");
        std::fs::write(&path, &bytes[..bytes.len() / 2]).expect("truncate");
        let err = read_index_png(&path).expect_err("fails");
        assert!(err.to_string().contains("t.png"), "{err}");
    }
}

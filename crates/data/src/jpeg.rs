//! Cut-off JPEG files. The `image` crate decodes a JPEG whose entropy-coded
//! data stops early without an error (the missing rows come out grey), so a
//! half-uploaded or half-downloaded photo would be stored, shown and trained
//! on as if it were whole. The markers tell: a whole JPEG ends its last scan
//! (the last SOS marker) with the EOI marker. Inside a scan a 0xFF data byte
//! is always followed by 0x00, so the two markers never occur by chance there.

/// Whether `bytes` are a JPEG (they start with SOI) whose last scan has no
/// EOI after it, or that has no scan at all. Anything that is not a JPEG is
/// not truncated by this test.
pub fn is_truncated_jpeg(bytes: &[u8]) -> bool {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return false;
    }
    let last = |marker: u8| bytes.windows(2).rposition(|w| w == [0xFF, marker]);
    match (last(0xDA), last(0xD9)) {
        (Some(scan), Some(end)) => end < scan,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use image::{ImageFormat, RgbImage};

    use super::*;

    fn encoded(format: ImageFormat) -> Vec<u8> {
        let image = RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 4, y as u8 * 5, 90]));
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, format).expect("encode");
        out.into_inner()
    }

    #[test]
    fn a_jpeg_cut_anywhere_in_its_scan_is_truncated_and_a_whole_one_is_not() {
        let jpeg = encoded(ImageFormat::Jpeg);
        assert!(!is_truncated_jpeg(&jpeg));
        for cut in [jpeg.len() / 2, jpeg.len() - 2, jpeg.len() - 1] {
            assert!(
                is_truncated_jpeg(&jpeg[..cut]),
                "cut at {cut} of {}",
                jpeg.len()
            );
        }
        // Only the header: no scan at all.
        assert!(is_truncated_jpeg(&jpeg[..200]));
        let png = encoded(ImageFormat::Png);
        assert!(!is_truncated_jpeg(&png));
        assert!(!is_truncated_jpeg(&png[..png.len() / 2]), "not a JPEG");
    }
}

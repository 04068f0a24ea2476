//! The interface every reader implements: a list of units (images or volumes) that load into samples.

use crate::error::Result;
use crate::sample::Sample;

/// A dataset reader: an indexed list of units, each loading into samples.
///
/// A unit is what the split is decided on: an image for photos, a whole
/// volume for NIfTI data (which loads into many slices).
pub trait Source: Send + Sync {
    /// Number of units.
    fn len(&self) -> usize;

    /// Whether there is no unit.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The stable id of unit `index` (used for the split hash).
    fn unit_id(&self, index: usize) -> &str;

    /// What decides unit `index`'s split: its id, unless units come in
    /// groups that must stay together (video frames of one sequence).
    fn split_key(&self, index: usize) -> &str {
        self.unit_id(index)
    }

    /// Loads unit `index` into samples; any error names the file and why.
    fn load(&self, index: usize) -> Result<Vec<Sample>>;
}

/// Reads an image file as RGB, with the path in the error; a cut-off JPEG
/// is an error, not an image with grey rows.
pub(crate) fn read_rgb(path: &std::path::Path) -> Result<image::RgbImage> {
    let bytes = std::fs::read(path).map_err(|e| crate::Error::io(path, e))?;
    if crate::is_truncated_jpeg(&bytes) {
        return Err(crate::Error::invalid(
            path,
            "the JPEG is truncated (its image data stops before the end marker)",
        ));
    }
    let reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| crate::Error::io(path, e))?;
    let image = reader.decode().map_err(|source| crate::Error::Image {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(image.to_rgb8())
}

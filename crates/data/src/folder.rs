//! Mask folders: `images/` plus `masks/`, paired by file stem.
//!
//! Two layouts are recognised per image, file by file:
//! - `masks/<stem>.png`: one mask file holding every object, decoded by
//!   [`MaskEncoding`];
//! - `masks/<stem>_<k>.png`: one binary mask per object (the `eval/` layout,
//!   where 128 marks "ignore").
//!
//! An image without a mask, or a mask without an image, is a unit that fails
//! with [`Error::MissingPair`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use image::{GrayImage, Luma};
use imageproc::region_labelling::{connected_components, Connectivity};
use scribseg_sim::Mask;

use crate::error::{Error, Result};
use crate::index_png::read_index_png;
use crate::mask_ops::{select, union};
use crate::sample::{Modality, Object, Sample};
use crate::source::{read_rgb, Source};

/// Grey value that marks "ignore" in binary masks (GrabCut's unknown band).
pub const BINARY_IGNORE: u8 = 128;
/// Index that marks "ignore" in instance and palette PNGs (Pascal VOC's border).
pub const INDEX_IGNORE: u8 = 255;

/// How the pixel values of a `masks/<stem>.png` file map to objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MaskEncoding {
    /// 8-bit grey: 128 ignore, above 128 object, the rest background; one object per file.
    Binary,
    /// Instance-index PNG, grey or palette (Pascal VOC style): every value
    /// 1–254 is one object, 255 ignore, 0 background.
    #[serde(alias = "palette")]
    Instance,
    /// Label map (e.g. Clothing Co-Parsing): every non-zero value is a
    /// class, one object per value (or per connected component of it); no
    /// ignore value.
    Labels,
}

/// Options for a [`MaskFolderSource`].
#[derive(Clone, Debug)]
pub struct MaskFolderOptions {
    /// The image folder.
    pub images: PathBuf,
    /// The mask folder.
    pub masks: PathBuf,
    /// How single mask files are decoded.
    pub encoding: MaskEncoding,
    /// For [`MaskEncoding::Labels`]: one object per 8-connected component
    /// instead of one per label value.
    pub components: bool,
    /// Photo, or a medical modality for grey images.
    pub modality: Modality,
    /// With `components`: regions under this many pixels are dropped while
    /// labelling, before any mask is built.
    pub min_area: usize,
}

/// What belongs to one stem.
#[derive(Default)]
struct Pair {
    image: Option<PathBuf>,
    /// `masks/<stem>.png`.
    whole: Option<PathBuf>,
    /// `masks/<stem>_<k>.png`, ordered by `k`.
    parts: BTreeMap<u32, PathBuf>,
}

/// A folder of images and masks paired by stem.
pub struct MaskFolderSource {
    options: MaskFolderOptions,
    stems: Vec<String>,
    pairs: Vec<Pair>,
}

const IMAGE_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "bmp", "tif", "tiff"];

fn files_with_stems(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        if !IMAGE_EXTENSIONS.contains(&ext.as_str()) {
            continue;
        }
        if let Some(stem) = path.file_stem() {
            out.push((stem.to_string_lossy().into_owned(), path));
        }
    }
    Ok(out)
}

/// Splits `"<stem>_<k>"` into `(stem, k)`.
fn split_instance_suffix(stem: &str) -> Option<(&str, u32)> {
    let (base, k) = stem.rsplit_once('_')?;
    Some((base, k.parse().ok()?))
}

impl MaskFolderSource {
    /// Lists and pairs the two folders.
    pub fn open(options: MaskFolderOptions) -> Result<Self> {
        let mut pairs: BTreeMap<String, Pair> = BTreeMap::new();
        for (stem, path) in files_with_stems(&options.images)? {
            pairs.entry(stem).or_default().image = Some(path);
        }
        for (stem, path) in files_with_stems(&options.masks)? {
            match split_instance_suffix(&stem) {
                Some((base, k)) if !pairs.contains_key(&stem) && pairs.contains_key(base) => {
                    pairs
                        .entry(base.to_string())
                        .or_default()
                        .parts
                        .insert(k, path);
                }
                _ => pairs.entry(stem).or_default().whole = Some(path),
            }
        }
        let (stems, pairs) = pairs.into_iter().unzip();
        Ok(MaskFolderSource {
            options,
            stems,
            pairs,
        })
    }

    /// Decodes `masks/<stem>.png` into objects and an ignore mask.
    fn decode_whole(&self, path: &Path) -> Result<(Vec<Object>, Option<Mask>)> {
        if self.options.encoding == MaskEncoding::Binary {
            let (object, ignore) = read_binary(path)?;
            return Ok((
                vec![Object {
                    mask: object,
                    label: "object".into(),
                }],
                ignore,
            ));
        }
        let raster = read_index_png(path)?;
        let (w, h) = (raster.width, raster.height);
        let mut present = [false; 256];
        for &v in &raster.values {
            present[v as usize] = true;
        }
        let is_instance = self.options.encoding == MaskEncoding::Instance;
        let objects = if self.options.components && !is_instance {
            label_components(w, h, &raster.values, self.options.min_area)
        } else {
            (1..=255u8)
                .filter(|&v| present[v as usize] && !(is_instance && v == INDEX_IGNORE))
                .map(|value| Object {
                    mask: select(w, h, &raster.values, |v| v == value),
                    label: value.to_string(),
                })
                .collect()
        };
        let ignore = (is_instance && present[INDEX_IGNORE as usize])
            .then(|| select(w, h, &raster.values, |v| v == INDEX_IGNORE));
        Ok((objects, ignore))
    }
}

/// Reads a binary mask: `(object, ignore)`.
fn read_binary(path: &Path) -> Result<(Mask, Option<Mask>)> {
    let grey = image::open(path)
        .map_err(|source| Error::Image {
            path: path.to_path_buf(),
            source,
        })?
        .to_luma8();
    let (w, h) = (grey.width() as usize, grey.height() as usize);
    let values = grey.as_raw();
    let object = select(w, h, values, |v| v > BINARY_IGNORE);
    let ignore = values
        .contains(&BINARY_IGNORE)
        .then(|| select(w, h, values, |v| v == BINARY_IGNORE));
    Ok((object, ignore))
}

/// One object per 8-connected region of equal non-zero label, labelled in
/// one pass over the label map; regions under `min_area` pixels are never
/// materialised (label maps hold many specks).
fn label_components(w: usize, h: usize, values: &[u8], min_area: usize) -> Vec<Object> {
    let grey = GrayImage::from_raw(w as u32, h as u32, values.to_vec())
        .expect("buffer length matches dimensions");
    let regions = connected_components(&grey, Connectivity::Eight, Luma([0u8]));
    let regions = regions.as_raw();
    let count = regions.iter().copied().max().unwrap_or(0) as usize;
    let mut areas = vec![0usize; count + 1];
    let mut value_of = vec![0u8; count + 1];
    for (&r, &v) in regions.iter().zip(values) {
        areas[r as usize] += 1;
        value_of[r as usize] = v;
    }
    (1..=count)
        .filter(|&r| areas[r] >= min_area.max(1))
        .map(|r| Object {
            mask: Mask::from_vec(
                w,
                h,
                regions.iter().map(|&x| u8::from(x as usize == r)).collect(),
            )
            .expect("raster length is width × height"),
            label: value_of[r].to_string(),
        })
        .collect()
}

impl Source for MaskFolderSource {
    fn len(&self) -> usize {
        self.stems.len()
    }

    fn unit_id(&self, index: usize) -> &str {
        &self.stems[index]
    }

    fn load(&self, index: usize) -> Result<Vec<Sample>> {
        let pair = &self.pairs[index];
        let stem = &self.stems[index];
        let Some(image_path) = &pair.image else {
            let mask = pair
                .whole
                .clone()
                .or_else(|| pair.parts.values().next().cloned());
            return Err(Error::MissingPair {
                path: mask.unwrap_or_else(|| self.options.masks.join(stem)),
                reason: "mask has no image".into(),
            });
        };
        let (mut objects, mut ignore) = match &pair.whole {
            Some(path) => self.decode_whole(path)?,
            None if !pair.parts.is_empty() => (Vec::new(), None),
            None => {
                return Err(Error::MissingPair {
                    path: image_path.clone(),
                    reason: "image has no mask".into(),
                })
            }
        };
        for (k, path) in &pair.parts {
            let (mask, part_ignore) = read_binary(path)?;
            objects.push(Object {
                mask,
                label: k.to_string(),
            });
            if let Some(pi) = part_ignore {
                ignore = Some(ignore.map_or_else(|| pi.clone(), |i| union(&i, &pi)));
            }
        }
        let image = read_rgb(image_path)?;
        let (w, h) = (image.width() as usize, image.height() as usize);
        let mask_path = pair.whole.as_ref().or(pair.parts.values().next());
        let mask_path = mask_path.expect("a pair without masks returned above");
        for m in objects.iter().map(|o| &o.mask).chain(&ignore) {
            if (m.width(), m.height()) != (w, h) {
                return Err(Error::invalid(
                    mask_path,
                    format!("mask is {}x{}, image is {w}x{h}", m.width(), m.height()),
                ));
            }
        }
        objects.retain(|o| !o.mask.is_empty());
        if objects.is_empty() {
            return Err(Error::EmptyLabel {
                path: mask_path.clone(),
            });
        }
        Ok(vec![Sample {
            id: stem.clone(),
            group: stem.clone(),
            source: image_path.clone(),
            modality: self.options.modality,
            image,
            objects,
            ignore,
        }])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(encoding: MaskEncoding, components: bool) -> (tempfile::TempDir, MaskFolderOptions) {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("images")).expect("mkdir");
        std::fs::create_dir(dir.path().join("masks")).expect("mkdir");
        let options = MaskFolderOptions {
            images: dir.path().join("images"),
            masks: dir.path().join("masks"),
            encoding,
            components,
            modality: Modality::Photo,
            min_area: 0,
        };
        (dir, options)
    }

    fn write_image(o: &MaskFolderOptions, name: &str, w: u32, h: u32) {
        image::RgbImage::from_pixel(w, h, image::Rgb([1, 2, 3]))
            .save(o.images.join(name))
            .expect("write image");
    }

    fn write_grey(o: &MaskFolderOptions, name: &str, w: u32, h: u32, f: impl Fn(u32, u32) -> u8) {
        GrayImage::from_fn(w, h, |x, y| Luma([f(x, y)]))
            .save(o.masks.join(name))
            .expect("write mask");
    }

    #[test]
    fn binary_masks_pair_by_stem_with_ignore_band() {
        let (_dir, o) = folder(MaskEncoding::Binary, false);
        write_image(&o, "a.jpg", 8, 6);
        write_grey(&o, "a.png", 8, 6, |x, _| match x {
            0..=2 => 255,
            3 => 128,
            _ => 0,
        });
        let source = MaskFolderSource::open(o).expect("opens");
        let s = source.load(0).expect("loads").remove(0);
        assert_eq!(s.objects.len(), 1);
        assert_eq!(s.objects[0].mask.area(), 18);
        assert_eq!(s.ignore.expect("band").area(), 6);
    }

    #[test]
    fn per_instance_files_become_objects() {
        let (_dir, o) = folder(MaskEncoding::Binary, false);
        write_image(&o, "img_1.jpg", 8, 6);
        write_grey(&o, "img_1_0.png", 8, 6, |x, _| if x < 2 { 255 } else { 0 });
        write_grey(&o, "img_1_1.png", 8, 6, |x, _| if x > 5 { 255 } else { 0 });
        let source = MaskFolderSource::open(o).expect("opens");
        assert_eq!(source.len(), 1, "stem with an underscore still pairs");
        let s = source.load(0).expect("loads").remove(0);
        assert_eq!(s.objects.len(), 2);
        assert_eq!(s.objects[1].label, "1");
        assert!(s.ignore.is_none());
    }

    #[test]
    fn instance_png_splits_values_and_ignores_255() {
        let (_dir, o) = folder(MaskEncoding::Instance, false);
        write_image(&o, "a.png", 6, 2);
        write_grey(&o, "a.png", 6, 2, |x, _| [0, 1, 1, 255, 2, 0][x as usize]);
        let s = MaskFolderSource::open(o)
            .expect("opens")
            .load(0)
            .expect("loads")
            .remove(0);
        let areas: Vec<usize> = s.objects.iter().map(|o| o.mask.area()).collect();
        assert_eq!(areas, vec![4, 2]);
        assert_eq!(s.ignore.expect("255 is ignore").area(), 2);
    }

    #[test]
    fn label_maps_split_into_components_on_request() {
        for (components, expected) in [(false, 2), (true, 4)] {
            let (_dir, o) = folder(MaskEncoding::Labels, components);
            write_image(&o, "a.png", 7, 1);
            write_grey(&o, "a.png", 7, 1, |x, _| {
                [5, 5, 41, 5, 0, 41, 41][x as usize]
            });
            let s = MaskFolderSource::open(o)
                .expect("opens")
                .load(0)
                .expect("loads")
                .remove(0);
            assert_eq!(s.objects.len(), expected, "components = {components}");
            assert!(s.objects.iter().all(|o| o.label == "5" || o.label == "41"));
        }
    }

    #[test]
    fn missing_pairs_and_empty_masks_are_reported() {
        let (_dir, o) = folder(MaskEncoding::Binary, false);
        write_image(&o, "lonely.jpg", 4, 4);
        write_grey(&o, "orphan.png", 4, 4, |_, _| 255);
        write_image(&o, "blank.jpg", 4, 4);
        write_grey(&o, "blank.png", 4, 4, |_, _| 0);
        write_image(&o, "small.jpg", 4, 4);
        write_grey(&o, "small.png", 3, 4, |_, _| 255);
        let source = MaskFolderSource::open(o).expect("opens");
        let reasons: Vec<String> = (0..source.len())
            .map(|i| source.load(i).expect_err("all fail").to_string())
            .collect();
        assert_eq!(source.len(), 4);
        assert!(reasons[0].contains("blank.png") && reasons[0].contains("empty label"));
        assert!(reasons[1].contains("lonely.jpg") && reasons[1].contains("no mask"));
        assert!(reasons[2].contains("orphan.png") && reasons[2].contains("no image"));
        assert!(reasons[3].contains("small.png") && reasons[3].contains("3x4"));
    }
}

//! Mask folders: images paired with masks by file stem, or by path patterns.
//!
//! Two layouts:
//! - [`Layout::Folders`]: `images/<stem>.*` beside `masks/<stem>.png` (one
//!   file holding every object, decoded by [`MaskEncoding`]) or
//!   `masks/<stem>_<k>.png` (one binary mask per object, the `eval/` layout
//!   where 128 marks "ignore");
//! - [`Layout::Patterns`]: two [`PathPattern`]s below the dataset's folder,
//!   paired by what their captures took (`stage1_train/{id}/images/{id}.png`
//!   with `stage1_train/{id}/masks/*.png`). A mask pattern with a `*` gives
//!   one file per object, read as binary masks; without one, one file
//!   holding every object, decoded by [`MaskEncoding`].
//!
//! Label maps may be PNG or MATLAB `.mat` files (their one 2-D integer
//! array). An image without a mask, or a mask without an image, is a unit that
//! fails with [`Error::MissingPair`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use image::{ImageBuffer, Luma};
use imageproc::region_labelling::{connected_components, Connectivity};
use scribseg_sim::{crop_mask, Mask, Rect, Window};

use crate::error::{Error, Result};
use crate::index_png::{read_index_png, IndexImage};
use crate::mask_ops::{select, union};
use crate::mat::read_mat_labels;
use crate::pattern::PathPattern;
use crate::sample::{Modality, Object, Sample};
use crate::source::{read_rgb, Source};

/// Grey value that marks "ignore" in binary masks (GrabCut's unknown band).
pub const BINARY_IGNORE: u8 = 128;
/// Index that marks "ignore" in instance and palette PNGs (Pascal VOC's border).
pub const INDEX_IGNORE: u8 = 255;

/// How the pixel values of a mask file holding every object map to objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MaskEncoding {
    /// 8-bit grey: 128 ignore, above 128 object, the rest background; one object per file.
    Binary,
    /// 8-bit grey with soft edges (salient-object sets such as DUTS): above
    /// 127 object, the rest background, no ignore; one object per file.
    Soft,
    /// Instance-index PNG, grey or palette (Pascal VOC style): every value
    /// is one object but the background (0) and ignore (255) values.
    #[serde(alias = "palette")]
    Instance,
    /// Label map (Clothing Co-Parsing, CamVid): every value but the
    /// background (0) and ignore (none) values is a class, one object per
    /// value (or per connected component of it).
    Labels,
}

impl MaskEncoding {
    /// The background and ignore values of an index or label map unless the
    /// dataset names its own.
    fn default_values(self) -> (Vec<u8>, Vec<u8>) {
        match self {
            MaskEncoding::Instance => (vec![0], vec![INDEX_IGNORE]),
            _ => (vec![0], Vec::new()),
        }
    }
}

/// Where a mask folder's images and masks are.
#[derive(Clone, Debug)]
pub enum Layout {
    /// `images/<stem>.*` beside `masks/<stem>.png` or `masks/<stem>_<k>.png`.
    Folders {
        /// The image folder.
        images: PathBuf,
        /// The mask folder.
        masks: PathBuf,
    },
    /// Files matched by two patterns below `root`, paired by their captures.
    Patterns {
        /// The dataset's folder.
        root: PathBuf,
        /// Where the images are; one file per key.
        images: PathPattern,
        /// Where the masks are, with the same capture names.
        masks: PathPattern,
    },
}

/// Options for a [`MaskFolderSource`].
#[derive(Clone, Debug)]
pub struct MaskFolderOptions {
    /// Where images and masks are.
    pub layout: Layout,
    /// How mask files holding every object are decoded.
    pub encoding: MaskEncoding,
    /// For [`MaskEncoding::Labels`]: one object per 8-connected component
    /// instead of one per label value.
    pub components: bool,
    /// Index and label maps: values that are background (`None`: the
    /// encoding's, 0).
    pub background_values: Option<Vec<u8>>,
    /// Index and label maps: values that are neither object nor background
    /// (`None`: the encoding's, 255 for instance maps, none for labels).
    pub ignore_values: Option<Vec<u8>>,
    /// Masks of another size than their image are resized to it (nearest
    /// neighbour) instead of failing the unit.
    pub resize_masks: bool,
    /// Photo, or a medical modality for grey images.
    pub modality: Modality,
    /// With `components`: regions under this many pixels are dropped while
    /// labelling, before any mask is built.
    pub min_area: usize,
}

impl MaskFolderOptions {
    /// Binary masks in the folders layout, every other option at its default.
    pub fn binary_folders(images: PathBuf, masks: PathBuf) -> Self {
        MaskFolderOptions {
            layout: Layout::Folders { images, masks },
            encoding: MaskEncoding::Binary,
            components: false,
            background_values: None,
            ignore_values: None,
            resize_masks: false,
            modality: Modality::Photo,
            min_area: 0,
        }
    }
}

/// What belongs to one unit.
#[derive(Default)]
struct Pair {
    /// The image; more than one makes the unit ambiguous.
    images: Vec<PathBuf>,
    /// The mask file holding every object.
    whole: Option<PathBuf>,
    /// One binary mask per object, with its label, in order.
    parts: Vec<(String, PathBuf)>,
}

/// A folder of images and masks paired by stem or by pattern.
pub struct MaskFolderSource {
    options: MaskFolderOptions,
    ids: Vec<String>,
    /// What decides each unit's split: its `{group}` capture, or its id.
    split_keys: Vec<String>,
    pairs: Vec<Pair>,
}

/// The capture that decides the split in a pattern layout.
pub const GROUP_CAPTURE: &str = "group";

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
    out.sort();
    Ok(out)
}

/// Splits `"<stem>_<k>"` into `(stem, k)`.
fn split_instance_suffix(stem: &str) -> Option<(&str, u32)> {
    let (base, k) = stem.rsplit_once('_')?;
    Some((base, k.parse().ok()?))
}

/// Pairs `images/<stem>.*` with `masks/<stem>.png` and `masks/<stem>_<k>.png`.
fn pair_folders(images: &Path, masks: &Path) -> Result<BTreeMap<String, Pair>> {
    let mut pairs: BTreeMap<String, Pair> = BTreeMap::new();
    for (stem, path) in files_with_stems(images)? {
        pairs.entry(stem).or_default().images.push(path);
    }
    let mut parts: BTreeMap<String, BTreeMap<u32, PathBuf>> = BTreeMap::new();
    for (stem, path) in files_with_stems(masks)? {
        match split_instance_suffix(&stem) {
            Some((base, k)) if !pairs.contains_key(&stem) && pairs.contains_key(base) => {
                parts.entry(base.to_string()).or_default().insert(k, path);
            }
            _ => pairs.entry(stem).or_default().whole = Some(path),
        }
    }
    for (stem, by_k) in parts {
        let pair = pairs.entry(stem).or_default();
        pair.parts = by_k.into_iter().map(|(k, p)| (k.to_string(), p)).collect();
    }
    Ok(pairs)
}

/// Pairs the files two patterns find below `root` by their captures; a
/// file the masks pattern matches is never an image (`{set}/{id}.png` beside
/// `{set}annot/{id}.png`).
fn pair_patterns(
    root: &Path,
    images: &PathPattern,
    masks: &PathPattern,
) -> Result<BTreeMap<String, Pair>> {
    let names = images.names();
    let mask_files = masks.find(root, &names)?;
    let is_mask: std::collections::HashSet<&Path> =
        mask_files.iter().map(|m| m.path.as_path()).collect();
    let mut pairs: BTreeMap<String, Pair> = BTreeMap::new();
    for m in images.find(root, &names)? {
        if !is_mask.contains(m.path.as_path()) {
            pairs.entry(m.key).or_default().images.push(m.path);
        }
    }
    for m in mask_files {
        let pair = pairs.entry(m.key).or_default();
        if masks.has_any() {
            let label = m
                .path
                .file_stem()
                .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
            pair.parts.push((label, m.path));
        } else {
            pair.whole = Some(m.path);
        }
    }
    Ok(pairs)
}

impl MaskFolderSource {
    /// Lists and pairs the images and masks.
    pub fn open(options: MaskFolderOptions) -> Result<Self> {
        let pairs = match &options.layout {
            Layout::Folders { images, masks } => pair_folders(images, masks)?,
            Layout::Patterns {
                root,
                images,
                masks,
            } => pair_patterns(root, images, masks)?,
        };
        let (ids, pairs): (Vec<String>, Vec<Pair>) = pairs.into_iter().unzip();
        let group = match &options.layout {
            Layout::Patterns { images, .. } => {
                images.names().iter().position(|n| *n == GROUP_CAPTURE)
            }
            Layout::Folders { .. } => None,
        };
        let split_keys = ids
            .iter()
            .map(|id| match group {
                Some(g) => id.split('/').nth(g).unwrap_or(id).to_string(),
                None => id.clone(),
            })
            .collect();
        Ok(MaskFolderSource {
            options,
            ids,
            split_keys,
            pairs,
        })
    }

    /// Decodes a mask file holding every object into objects and an ignore mask.
    fn decode_whole(&self, path: &Path) -> Result<(Vec<Object>, Option<Mask>)> {
        if let Some(threshold) = self.binary_threshold() {
            let (object, ignore) = read_binary(path, threshold)?;
            return Ok((
                vec![Object {
                    mask: object,
                    label: "object".into(),
                }],
                ignore,
            ));
        }
        let is_mat = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("mat"));
        let raster = if is_mat {
            read_mat_labels(path)?
        } else {
            read_index_png(path)?
        };
        let IndexImage {
            width: w,
            height: h,
            values,
        } = raster;
        let (default_background, default_ignore) = self.options.encoding.default_values();
        let background = self
            .options
            .background_values
            .as_deref()
            .unwrap_or(&default_background);
        let ignored = self
            .options
            .ignore_values
            .as_deref()
            .unwrap_or(&default_ignore);
        let mut present = [false; 256];
        for &v in &values {
            present[v as usize] = true;
        }
        let is_object = |v: u8| !background.contains(&v) && !ignored.contains(&v);
        let objects = if self.options.components && self.options.encoding == MaskEncoding::Labels {
            label_components(w, h, &values, self.options.min_area, is_object)
        } else {
            (0..=255u8)
                .filter(|&v| present[v as usize] && is_object(v))
                .map(|value| Object {
                    mask: select(w, h, &values, |v| v == value),
                    label: value.to_string(),
                })
                .collect()
        };
        let ignore = ignored
            .iter()
            .any(|&v| present[v as usize])
            .then(|| select(w, h, &values, |v| ignored.contains(&v)));
        Ok((objects, ignore))
    }

    /// The grey level above which a single-object encoding marks object
    /// (and whether 128 is ignore); `None` for index and label maps.
    fn binary_threshold(&self) -> Option<BinaryThreshold> {
        match self.options.encoding {
            MaskEncoding::Binary => Some(BinaryThreshold::WithIgnoreBand),
            MaskEncoding::Soft => Some(BinaryThreshold::Soft),
            MaskEncoding::Instance | MaskEncoding::Labels => None,
        }
    }

    /// The mask files of a pair, for messages.
    fn mask_path<'a>(&self, pair: &'a Pair) -> Option<&'a PathBuf> {
        pair.whole.as_ref().or(pair.parts.first().map(|(_, p)| p))
    }
}

/// How a grey mask splits into object, background and ignore.
#[derive(Clone, Copy)]
enum BinaryThreshold {
    /// Above 128 object, 128 ignore.
    WithIgnoreBand,
    /// Above 127 object, no ignore.
    Soft,
}

/// Reads a single-object grey mask: `(object, ignore)`.
fn read_binary(path: &Path, threshold: BinaryThreshold) -> Result<(Mask, Option<Mask>)> {
    let grey = image::open(path)
        .map_err(|source| Error::Image {
            path: path.to_path_buf(),
            source,
        })?
        .to_luma8();
    let (w, h) = (grey.width() as usize, grey.height() as usize);
    let values = grey.as_raw();
    match threshold {
        BinaryThreshold::WithIgnoreBand => {
            let object = select(w, h, values, |v| v > BINARY_IGNORE);
            let ignore = values
                .contains(&BINARY_IGNORE)
                .then(|| select(w, h, values, |v| v == BINARY_IGNORE));
            Ok((object, ignore))
        }
        BinaryThreshold::Soft => Ok((select(w, h, values, |v| v > 127), None)),
    }
}

/// One object per 8-connected region of equal label for which `is_object`
/// holds, labelled in one pass over the label map; regions under `min_area`
/// pixels are never materialised (label maps hold many specks).
fn label_components(
    w: usize,
    h: usize,
    values: &[u8],
    min_area: usize,
    is_object: impl Fn(u8) -> bool,
) -> Vec<Object> {
    // Values shifted by one into 16 bits, so that every class, 0 included,
    // is a foreground label of its own; what is not an object becomes 0.
    let shifted: Vec<u16> = values
        .iter()
        .map(|&v| if is_object(v) { u16::from(v) + 1 } else { 0 })
        .collect();
    let grey: ImageBuffer<Luma<u16>, Vec<u16>> = ImageBuffer::from_raw(w as u32, h as u32, shifted)
        .expect("buffer length matches dimensions");
    let regions = connected_components(&grey, Connectivity::Eight, Luma([0u16]));
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

/// `mask` resized to `w × h` by nearest neighbour.
fn resized(mask: &Mask, w: usize, h: usize) -> Mask {
    let full = Window::from_rect(Rect::new(0, 0, mask.width(), mask.height()));
    crop_mask(mask, &full, w, h)
}

impl Source for MaskFolderSource {
    fn len(&self) -> usize {
        self.ids.len()
    }

    fn unit_id(&self, index: usize) -> &str {
        &self.ids[index]
    }

    fn split_key(&self, index: usize) -> &str {
        &self.split_keys[index]
    }

    fn load(&self, index: usize) -> Result<Vec<Sample>> {
        let pair = &self.pairs[index];
        let id = &self.ids[index];
        let image_path = match pair.images.as_slice() {
            [one] => one,
            [] => {
                let mask = self.mask_path(pair).cloned();
                return Err(Error::MissingPair {
                    path: mask.unwrap_or_else(|| PathBuf::from(id)),
                    reason: "mask has no image".into(),
                });
            }
            [first, second, ..] => {
                return Err(Error::invalid(
                    first,
                    format!(
                        "{} images pair with the same masks (also {})",
                        pair.images.len(),
                        second.display()
                    ),
                ))
            }
        };
        let Some(mask_path) = self.mask_path(pair).cloned() else {
            return Err(Error::MissingPair {
                path: image_path.clone(),
                reason: "image has no mask".into(),
            });
        };
        let (mut objects, mut ignore) = match &pair.whole {
            Some(path) => self.decode_whole(path)?,
            None => (Vec::new(), None),
        };
        for (label, path) in &pair.parts {
            let (mask, part_ignore) = read_binary(path, BinaryThreshold::WithIgnoreBand)?;
            objects.push(Object {
                mask,
                label: label.clone(),
            });
            if let Some(pi) = part_ignore {
                ignore = Some(ignore.map_or_else(|| pi.clone(), |i| union(&i, &pi)));
            }
        }
        let image = read_rgb(image_path)?;
        let (w, h) = (image.width() as usize, image.height() as usize);
        for m in objects.iter_mut().map(|o| &mut o.mask).chain(&mut ignore) {
            if (m.width(), m.height()) == (w, h) {
                continue;
            }
            if !self.options.resize_masks {
                return Err(Error::invalid(
                    &mask_path,
                    format!("mask is {}x{}, image is {w}x{h}", m.width(), m.height()),
                ));
            }
            *m = resized(m, w, h);
        }
        objects.retain(|o| !o.mask.is_empty());
        if objects.is_empty() {
            return Err(Error::EmptyLabel { path: mask_path });
        }
        Ok(vec![Sample {
            id: id.clone(),
            group: id.clone(),
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
        let mut options =
            MaskFolderOptions::binary_folders(dir.path().join("images"), dir.path().join("masks"));
        options.encoding = encoding;
        options.components = components;
        (dir, options)
    }

    fn folders(o: &MaskFolderOptions) -> (&Path, &Path) {
        match &o.layout {
            Layout::Folders { images, masks } => (images, masks),
            Layout::Patterns { .. } => panic!("a folders layout"),
        }
    }

    fn write_image(o: &MaskFolderOptions, name: &str, w: u32, h: u32) {
        save_rgb(&folders(o).0.join(name), w, h);
    }

    fn write_grey(o: &MaskFolderOptions, name: &str, w: u32, h: u32, f: impl Fn(u32, u32) -> u8) {
        save_grey(&folders(o).1.join(name), w, h, f);
    }

    fn save_rgb(path: &Path, w: u32, h: u32) {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        image::RgbImage::from_pixel(w, h, image::Rgb([1, 2, 3]))
            .save(path)
            .expect("write image");
    }

    fn save_grey(path: &Path, w: u32, h: u32, f: impl Fn(u32, u32) -> u8) {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        image::GrayImage::from_fn(w, h, |x, y| Luma([f(x, y)]))
            .save(path)
            .expect("write mask");
    }

    fn patterns(root: &Path, images: &str, masks: &str) -> MaskFolderOptions {
        let parse = |p| PathPattern::parse(p, Path::new("c.toml")).expect("pattern");
        let mut o = MaskFolderOptions::binary_folders(PathBuf::new(), PathBuf::new());
        o.layout = Layout::Patterns {
            root: root.to_path_buf(),
            images: parse(images),
            masks: parse(masks),
        };
        o
    }

    fn load_one(o: MaskFolderOptions) -> Sample {
        let source = MaskFolderSource::open(o).expect("opens");
        assert_eq!(source.len(), 1);
        source.load(0).expect("loads").remove(0)
    }

    #[test]
    fn nuclei_layout_one_folder_per_image_one_file_per_object() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        save_rgb(&root.join("train/abc/images/abc.png"), 8, 6);
        save_grey(&root.join("train/abc/masks/f00.png"), 8, 6, |x, _| {
            if x < 2 {
                255
            } else {
                0
            }
        });
        save_grey(&root.join("train/abc/masks/e11.png"), 8, 6, |x, _| {
            if x > 4 {
                255
            } else {
                0
            }
        });
        let s = load_one(patterns(
            root,
            "train/{id}/images/{id}.png",
            "train/{id}/masks/*.png",
        ));
        assert_eq!(s.id, "abc");
        let objects: Vec<(&str, usize)> = s
            .objects
            .iter()
            .map(|o| (o.label.as_str(), o.mask.area()))
            .collect();
        assert_eq!(objects, [("e11", 18), ("f00", 12)]);
    }

    /// A 1-bit BMP (as most of PH2's lesion masks are): `on(x, y)` white.
    fn save_one_bit_bmp(path: &Path, w: u32, h: u32, on: impl Fn(u32, u32) -> bool) {
        let row = (w as usize).div_ceil(32) * 4;
        let size = 14 + 40 + 8 + row * h as usize;
        let mut b = Vec::with_capacity(size);
        b.extend(b"BM");
        b.extend((size as u32).to_le_bytes());
        b.extend([0u8; 4]);
        b.extend(62u32.to_le_bytes());
        b.extend(40u32.to_le_bytes());
        b.extend((w as i32).to_le_bytes());
        b.extend((h as i32).to_le_bytes()); // bottom-up rows
        b.extend(1u16.to_le_bytes());
        b.extend(1u16.to_le_bytes());
        b.extend([0u8; 24]);
        b.extend([0, 0, 0, 0, 255, 255, 255, 0]); // palette: black, white
        for y in (0..h).rev() {
            let mut bits = vec![0u8; row];
            for x in 0..w {
                if on(x, y) {
                    bits[x as usize / 8] |= 0x80 >> (x % 8);
                }
            }
            b.extend(bits);
        }
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, b).expect("write bmp");
    }

    #[test]
    fn dermoscopy_layout_reads_bmp_images_and_one_bit_masks() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        save_rgb(
            &root.join("IMD002/IMD002_Dermoscopic_Image/IMD002.bmp"),
            9,
            5,
        );
        save_one_bit_bmp(
            &root.join("IMD002/IMD002_lesion/IMD002_lesion.bmp"),
            9,
            5,
            |x, y| x >= 3 && y >= 1,
        );
        // A JPEG copy of the mask beside it is not the mask.
        save_grey(
            &root.join("IMD002/IMD002_lesion/IMD002_lesion.jpg"),
            9,
            5,
            |_, _| 255,
        );
        let s = load_one(patterns(
            root,
            "{id}/{id}_Dermoscopic_Image/{id}.bmp",
            "{id}/{id}_lesion/{id}_lesion.bmp",
        ));
        assert_eq!((s.id.as_str(), s.objects.len()), ("IMD002", 1));
        assert_eq!(s.objects[0].mask.area(), 6 * 4);
        assert!(s.objects[0].mask.get(3, 1), "rows are read bottom-up");
        assert!(!s.objects[0].mask.get(2, 0));
    }

    #[test]
    fn soft_salient_masks_cut_at_half_without_ignore() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        save_rgb(&root.join("Image/s1.jpg"), 4, 1);
        save_grey(&root.join("Mask/s1.png"), 4, 1, |x, _| {
            [0, 127, 128, 255][x as usize]
        });
        let mut o = patterns(root, "Image/{id}.jpg", "Mask/{id}.png");
        o.encoding = MaskEncoding::Soft;
        let s = load_one(o);
        assert_eq!(s.objects[0].mask.as_slice(), [0, 0, 1, 1]);
        assert!(s.ignore.is_none(), "a soft edge is not an ignore band");
    }

    #[test]
    fn smaller_masks_are_resized_on_request() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        save_rgb(&root.join("img/1.jpg"), 8, 8);
        save_grey(
            &root.join("gt/1.png"),
            4,
            4,
            |x, _| if x < 2 { 255 } else { 0 },
        );
        let o = patterns(root, "img/{id}.jpg", "gt/{id}.png");
        let err = MaskFolderSource::open(o.clone())
            .expect("opens")
            .load(0)
            .expect_err("4x4");
        assert!(
            err.to_string().contains("mask is 4x4, image is 8x8"),
            "{err}"
        );
        let mut o = o;
        o.resize_masks = true;
        let s = load_one(o);
        assert_eq!(
            (s.objects[0].mask.width(), s.objects[0].mask.area()),
            (8, 32)
        );
    }

    #[test]
    fn label_maps_name_their_background_and_ignore_values() {
        // CamVid: 0 is sky, a class; 11 is void.
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        save_rgb(&root.join("train/a_1.png"), 6, 1);
        save_grey(&root.join("trainannot/a_1.png"), 6, 1, |x, _| {
            [0, 0, 11, 3, 3, 0][x as usize]
        });
        save_rgb(&root.join("train/b_2.png"), 6, 1);
        save_grey(&root.join("trainannot/b_2.png"), 6, 1, |_, _| 4);
        let mut o = patterns(
            root,
            "{set}/{group}_{frame}.png",
            "{set}annot/{group}_{frame}.png",
        );
        o.encoding = MaskEncoding::Labels;
        o.components = true;
        o.background_values = Some(Vec::new());
        o.ignore_values = Some(vec![11]);
        let source = MaskFolderSource::open(o).expect("opens");
        assert_eq!(source.len(), 2, "annotation files are not images");
        assert_eq!(source.unit_id(1), "train/b/2");
        assert_eq!(source.split_key(1), "b", "frames split by sequence");
        let s = source.load(0).expect("loads").remove(0);
        assert_eq!(s.id, "train/a/1");
        let objects: Vec<(&str, usize)> = s
            .objects
            .iter()
            .map(|o| (o.label.as_str(), o.mask.area()))
            .collect();
        assert_eq!(objects, [("0", 2), ("3", 2), ("0", 1)]);
        assert_eq!(s.ignore.expect("void").as_slice(), [0, 0, 1, 0, 0, 0]);
    }

    #[test]
    fn label_maps_read_from_mat_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        save_rgb(&root.join("photos/0001.jpg"), 4, 2);
        let labels = [0, 5, 5, 19, 0, 41, 41, 19];
        std::fs::create_dir_all(root.join("pixel-level")).expect("mkdir");
        let mat = crate::mat::tests::mat_file("groundtruth", 2, 4, &labels, true);
        std::fs::write(root.join("pixel-level/0001.mat"), mat).expect("write");
        let mut o = patterns(root, "photos/{id}.jpg", "pixel-level/{id}.mat");
        o.encoding = MaskEncoding::Labels;
        let s = load_one(o);
        let objects: Vec<(&str, usize)> = s
            .objects
            .iter()
            .map(|o| (o.label.as_str(), o.mask.area()))
            .collect();
        assert_eq!(objects, [("5", 2), ("19", 2), ("41", 2)]);
    }

    #[test]
    fn two_images_for_one_unit_are_an_error() {
        let (_dir, o) = folder(MaskEncoding::Binary, false);
        write_image(&o, "a.jpg", 4, 4);
        write_image(&o, "a.png", 4, 4);
        write_grey(&o, "a.png", 4, 4, |_, _| 255);
        let err = MaskFolderSource::open(o)
            .expect("opens")
            .load(0)
            .expect_err("ambiguous");
        assert!(err.to_string().contains("2 images pair"), "{err}");
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

//! COCO instances JSON: polygons, uncompressed RLE and compressed RLE.
//!
//! Each image is one unit. Non-crowd annotations become target objects;
//! `iscrowd` annotations are merged into the sample's ignore mask, so they
//! are never targets and never count as background errors. An annotation
//! that fails to decode (malformed segmentation, wrong size, empty mask)
//! fails its image with an [`Error::Annotation`] naming the annotation id.

mod polygon;
mod rle;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use scribseg_sim::Mask;
use serde::Deserialize;

pub use polygon::polygon_to_rle;
pub use rle::Rle;

use crate::error::{Error, Result};
use crate::mask_ops::union;
use crate::sample::{Modality, Object, Sample};
use crate::source::{read_rgb, Source};

#[derive(Deserialize)]
struct CocoFile {
    images: Vec<CocoImage>,
    annotations: Vec<CocoAnnotation>,
    #[serde(default)]
    categories: Vec<CocoCategory>,
}

#[derive(Deserialize)]
struct CocoImage {
    id: u64,
    file_name: String,
    width: usize,
    height: usize,
}

#[derive(Deserialize)]
struct CocoCategory {
    id: u64,
    name: String,
}

#[derive(Deserialize, Clone)]
struct CocoAnnotation {
    id: u64,
    image_id: u64,
    #[serde(default)]
    category_id: u64,
    #[serde(default)]
    iscrowd: u8,
    /// Parsed per annotation so that one bad segmentation fails one image only.
    segmentation: serde_json::Value,
}

/// The three shapes COCO's `segmentation` field takes.
#[derive(Deserialize)]
#[serde(untagged)]
enum Segmentation {
    Polygons(Vec<Vec<f64>>),
    Rle { counts: Counts, size: [usize; 2] },
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Counts {
    Uncompressed(Vec<u32>),
    Compressed(String),
}

/// One COCO image with its annotations.
struct Entry {
    stem: String,
    image: CocoImage,
    annotations: Vec<CocoAnnotation>,
}

/// A COCO instances file plus its image folder.
pub struct CocoSource {
    json: PathBuf,
    images: PathBuf,
    entries: Vec<Entry>,
    categories: HashMap<u64, String>,
}

impl CocoSource {
    /// Parses `annotations` (a COCO instances JSON) with images under `images`.
    ///
    /// Images without any annotation are kept as units; they fail with
    /// [`Error::EmptyLabel`] when loaded, so the count shows up in statistics.
    pub fn open(annotations: &Path, images: &Path) -> Result<Self> {
        let text = std::fs::read(annotations).map_err(|e| Error::io(annotations, e))?;
        let file: CocoFile = serde_json::from_slice(&text).map_err(|source| Error::Json {
            path: annotations.to_path_buf(),
            source,
        })?;
        let mut by_image: HashMap<u64, Vec<CocoAnnotation>> = HashMap::new();
        for a in file.annotations {
            by_image.entry(a.image_id).or_default().push(a);
        }
        let mut entries: Vec<Entry> = file
            .images
            .into_iter()
            .map(|image| Entry {
                stem: Path::new(&image.file_name).file_stem().map_or_else(
                    || image.id.to_string(),
                    |s| s.to_string_lossy().into_owned(),
                ),
                annotations: by_image.remove(&image.id).unwrap_or_default(),
                image,
            })
            .collect();
        entries.sort_by(|a, b| a.stem.cmp(&b.stem));
        Ok(CocoSource {
            json: annotations.to_path_buf(),
            images: images.to_path_buf(),
            entries,
            categories: file
                .categories
                .into_iter()
                .map(|c| (c.id, c.name))
                .collect(),
        })
    }

    fn decode(&self, a: &CocoAnnotation, height: usize, width: usize) -> Result<Mask> {
        let bad = |reason: String| Error::Annotation {
            path: self.json.clone(),
            id: a.id,
            reason,
        };
        let segmentation: Segmentation = serde_json::from_value(a.segmentation.clone())
            .map_err(|_| bad("unknown segmentation encoding".into()))?;
        let mask = decode_segmentation(&segmentation, height, width).map_err(bad)?;
        if mask.is_empty() {
            return Err(bad("empty mask".into()));
        }
        Ok(mask)
    }
}

/// Decodes any COCO segmentation to a mask of `width × height`.
fn decode_segmentation(
    segmentation: &Segmentation,
    height: usize,
    width: usize,
) -> std::result::Result<Mask, String> {
    match segmentation {
        Segmentation::Polygons(polygons) => {
            let mut mask = Mask::new(width, height);
            for p in polygons {
                if p.len() < 6 || p.len() % 2 != 0 {
                    return Err(format!("polygon with {} coordinates", p.len()));
                }
                let part = polygon_to_rle(p, height, width)
                    .to_mask()
                    .ok_or("polygon rasterisation out of bounds")?;
                mask = union(&mask, &part);
            }
            Ok(mask)
        }
        Segmentation::Rle { counts, size } => {
            if *size != [height, width] {
                return Err(format!(
                    "RLE size {}x{} differs from image {height}x{width}",
                    size[0], size[1]
                ));
            }
            let rle = match counts {
                Counts::Uncompressed(c) => Rle {
                    height,
                    width,
                    counts: c.clone(),
                },
                Counts::Compressed(s) => {
                    Rle::from_compressed(s, height, width).ok_or("corrupt compressed RLE string")?
                }
            };
            rle.to_mask()
                .ok_or_else(|| "RLE counts do not add up to the image size".into())
        }
    }
}

impl Source for CocoSource {
    fn len(&self) -> usize {
        self.entries.len()
    }

    fn unit_id(&self, index: usize) -> &str {
        &self.entries[index].stem
    }

    fn load(&self, index: usize) -> Result<Vec<Sample>> {
        let entry = &self.entries[index];
        let path = self.images.join(&entry.image.file_name);
        let (w, h) = (entry.image.width, entry.image.height);
        let mut objects = Vec::new();
        let mut ignore: Option<Mask> = None;
        for a in &entry.annotations {
            let mask = self.decode(a, h, w)?;
            if a.iscrowd != 0 {
                ignore = Some(match ignore {
                    Some(m) => union(&m, &mask),
                    None => mask,
                });
            } else {
                let label = self
                    .categories
                    .get(&a.category_id)
                    .cloned()
                    .unwrap_or_else(|| a.category_id.to_string());
                objects.push(Object { mask, label });
            }
        }
        if objects.is_empty() {
            return Err(Error::EmptyLabel { path });
        }
        let image = read_rgb(&path)?;
        if (image.width() as usize, image.height() as usize) != (w, h) {
            return Err(Error::invalid(
                &path,
                format!(
                    "image is {}x{}, annotations say {w}x{h}",
                    image.width(),
                    image.height()
                ),
            ));
        }
        Ok(vec![Sample {
            id: entry.stem.clone(),
            group: entry.stem.clone(),
            source: path,
            modality: Modality::Photo,
            image,
            objects,
            ignore,
        }])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes a 20×10 image and a COCO file with a polygon, an uncompressed
    /// RLE, a compressed RLE, a crowd region and (optionally) a bad annotation.
    fn fixture(dir: &Path, extra: &str) -> PathBuf {
        image::RgbImage::from_pixel(20, 10, image::Rgb([9, 8, 7]))
            .save(dir.join("a.png"))
            .expect("write image");
        let square = Rle::from_mask(&Mask::from_fn(20, 10, |x, y| x >= 15 && y < 4));
        let json = format!(
            r#"{{
            "images": [{{"id": 1, "file_name": "a.png", "width": 20, "height": 10}},
                       {{"id": 2, "file_name": "missing.png", "width": 20, "height": 10}}],
            "categories": [{{"id": 3, "name": "cat"}}],
            "annotations": [
              {{"id": 10, "image_id": 1, "category_id": 3, "iscrowd": 0,
                "segmentation": [[1, 1, 5, 1, 5, 5, 1, 5]]}},
              {{"id": 11, "image_id": 1, "category_id": 3, "iscrowd": 0,
                "segmentation": {{"counts": [150, 20, 30], "size": [10, 20]}}}},
              {{"id": 12, "image_id": 1, "category_id": 4, "iscrowd": 0,
                "segmentation": {{"counts": "{}", "size": [10, 20]}}}},
              {{"id": 13, "image_id": 1, "category_id": 3, "iscrowd": 1,
                "segmentation": {{"counts": [190, 10], "size": [10, 20]}}}},
              {{"id": 14, "image_id": 2, "category_id": 3, "iscrowd": 0,
                "segmentation": [[1, 1, 5, 1, 5, 5]]}}
              {extra}
            ]}}"#,
            square.to_compressed()
        );
        let path = dir.join("instances.json");
        std::fs::write(&path, json).expect("write json");
        path
    }

    #[test]
    fn reads_polygons_rles_and_crowds() {
        let dir = tempfile::tempdir().expect("tempdir");
        let source = CocoSource::open(&fixture(dir.path(), ""), dir.path()).expect("parses");
        assert_eq!(source.len(), 2);
        let samples = source.load(0).expect("image 1 loads");
        let s = &samples[0];
        assert_eq!(s.objects.len(), 3);
        assert_eq!(s.objects[0].label, "cat");
        assert_eq!(s.objects[0].mask.area(), 16);
        // Column-major: 150 background pixels skip 15 columns, then 2 full columns.
        assert_eq!(s.objects[1].mask.area(), 20);
        assert!(s.objects[1].mask.get(15, 0) && s.objects[1].mask.get(16, 9));
        assert_eq!(
            s.objects[2].label, "4",
            "unknown category falls back to its id"
        );
        assert_eq!(s.objects[2].mask.area(), 20);
        let ignore = s.ignore.as_ref().expect("crowd becomes ignore");
        assert_eq!(ignore.area(), 10);
        assert!(ignore.get(19, 0));
    }

    #[test]
    fn missing_image_names_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let source = CocoSource::open(&fixture(dir.path(), ""), dir.path()).expect("parses");
        let err = source.load(1).expect_err("image 2 has no file");
        assert_eq!(err.reason(), "unreadable file");
        assert!(err.to_string().contains("missing.png"), "{err}");
    }

    #[test]
    fn bad_annotation_names_its_id() {
        let dir = tempfile::tempdir().expect("tempdir");
        let extra = r#", {"id": 77, "image_id": 1, "iscrowd": 0,
            "segmentation": {"counts": "!!", "size": [10, 20]}}"#;
        let source = CocoSource::open(&fixture(dir.path(), extra), dir.path()).expect("parses");
        let err = source.load(0).expect_err("annotation 77 is corrupt");
        assert!(matches!(err, Error::Annotation { id: 77, .. }), "{err}");
        assert!(err.to_string().contains("instances.json"), "{err}");
    }

    #[test]
    fn malformed_json_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bad.json");
        std::fs::write(&path, "{\"images\": [").expect("write");
        let err = CocoSource::open(&path, dir.path()).err().expect("fails");
        assert_eq!(err.reason(), "malformed JSON");
    }
}

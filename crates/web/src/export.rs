//! Exports: label-map PNG, one PNG per label, COCO JSON with RLE, and the
//! NIfTI label volume of a volume.
//!
//! Label maps and label volumes store `position + 1` of each label in the
//! project's label order (the order `GET /api/projects/{id}/labels` lists),
//! 0 for unlabelled.

use image::{GrayImage, ImageFormat};
use scribseg_data::Rle;
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::predict::LabelMap;
use crate::state::AppState;
use crate::store::{ImageInfo, Label, NewStroke};

/// An image's stored annotation, predicted.
pub struct Annotated {
    /// The image.
    pub image: ImageInfo,
    /// The project's labels, in label-map order.
    pub labels: Vec<Label>,
    /// The prediction from the stored strokes, pins applied.
    pub map: LabelMap,
}

impl Annotated {
    /// Predicts the image from its stored strokes (blocking).
    pub fn predict(state: &AppState, image_id: i64) -> Result<Self> {
        let image = state.store.image(image_id)?;
        let labels = state.store.labels(image.project_id)?;
        let (strokes, _) = state.store.strokes(image_id, "")?;
        let strokes: Vec<NewStroke> = strokes.iter().map(NewStroke::from).collect();
        let pixels = state.decoded(image_id)?;
        let ids: Vec<i64> = labels.iter().map(|l| l.id).collect();
        let map = state.model.predict(&pixels, &ids, &strokes);
        Ok(Self { image, labels, map })
    }

    /// The label map as an 8-bit grey PNG.
    pub fn label_map_png(&self) -> Result<Vec<u8>> {
        png(&self.map.data, &self.map)
    }

    /// One label's mask as a PNG, 255 inside and 0 outside.
    pub fn label_png(&self, label_id: i64) -> Result<Vec<u8>> {
        let k = self.position(label_id)?;
        let value = k as u8 + 1;
        let data: Vec<u8> = self
            .map
            .data
            .iter()
            .map(|&v| if v == value { 255 } else { 0 })
            .collect();
        png(&data, &self.map)
    }

    fn position(&self, label_id: i64) -> Result<usize> {
        self.labels
            .iter()
            .position(|l| l.id == label_id)
            .ok_or(Error::NotFound {
                what: "label",
                id: label_id,
            })
    }

    /// The COCO annotations of this image, one per non-empty label.
    fn coco_annotations(&self, next_id: &mut u64) -> Vec<Value> {
        let mut out = Vec::new();
        for (k, label) in self.labels.iter().enumerate() {
            let mask = self.map.mask_of(k);
            let Some(bbox) = mask.bounding_box() else {
                continue;
            };
            let rle = Rle::from_mask(&mask);
            *next_id += 1;
            out.push(json!({
                "id": *next_id,
                "image_id": self.image.id,
                "category_id": label.id,
                "segmentation": { "size": [rle.height, rle.width], "counts": rle.counts },
                "area": mask.area(),
                "bbox": [bbox.x0, bbox.y0, bbox.width(), bbox.height()],
                "iscrowd": 0,
            }));
        }
        out
    }
}

/// The label volume of a volume as a gzipped NIfTI-1 file with the
/// source's geometry, filled from the predicted label map of every slice
/// that has strokes (blocking).
///
/// Where slices disagree on a voxel, a label beats unlabelled, and among
/// labels the most recently edited slice wins: slices are painted in the
/// order of their newest stroke action, each writing only its labelled
/// pixels. Voxels of no annotated slice are 0.
pub fn label_volume(state: &AppState, volume_id: i64) -> Result<Vec<u8>> {
    let volume = state.volume(volume_id)?;
    let mut labels = vec![0u8; volume.voxels()];
    for slice in state.store.annotated_slices(volume_id)? {
        let annotated = Annotated::predict(state, slice.image_id)?;
        volume.paint(&mut labels, slice.axis, slice.index, &annotated.map)?;
    }
    volume.label_nifti(&labels)
}

/// COCO instances JSON (uncompressed RLE) for `images`, which share `labels`.
pub fn coco(labels: &[Label], images: &[Annotated]) -> Value {
    let mut next_id = 0;
    let annotations: Vec<Value> = images
        .iter()
        .flat_map(|a| a.coco_annotations(&mut next_id))
        .collect();
    json!({
        "info": { "description": "scribseg export", "version": env!("CARGO_PKG_VERSION") },
        "images": images.iter().map(|a| json!({
            "id": a.image.id,
            "file_name": a.image.name,
            "width": a.image.width,
            "height": a.image.height,
        })).collect::<Vec<_>>(),
        "categories": labels.iter().map(|l| json!({
            "id": l.id,
            "name": l.name,
            "color": l.color,
        })).collect::<Vec<_>>(),
        "annotations": annotations,
    })
}

fn png(data: &[u8], map: &LabelMap) -> Result<Vec<u8>> {
    let image = GrayImage::from_raw(map.width as u32, map.height as u32, data.to_vec())
        .ok_or_else(|| Error::Internal("label map size mismatch".into()))?;
    let mut out = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut out, ImageFormat::Png)
        .map_err(|e| Error::Internal(format!("png encoding: {e}")))?;
    Ok(out.into_inner())
}

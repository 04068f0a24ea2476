//! COCO decoding against pycocotools' own output on the real annotations.

use scribseg_data::{polygon_to_rle, CocoSource, Error, Rle, Source};
use scribseg_sim::Mask;
use serde_json::Value;

use crate::util::dataset;

fn iou(a: &Mask, b: &Mask) -> f64 {
    let inter = a.and(b).area();
    let union = a.area() + b.area() - inter;
    inter as f64 / union.max(1) as f64
}

/// Rasterises a `segmentation` field with our code (polygons or uncompressed RLE).
fn our_mask(segmentation: &Value, height: usize, width: usize) -> Mask {
    if let Some(polygons) = segmentation.as_array() {
        let mut mask = Mask::new(width, height);
        for p in polygons {
            let xy: Vec<f64> = p
                .as_array()
                .expect("polygon")
                .iter()
                .map(|v| v.as_f64().expect("number"))
                .collect();
            let part = polygon_to_rle(&xy, height, width).to_mask().expect("fits");
            mask = Mask::from_fn(width, height, |x, y| {
                mask.get(x as isize, y as isize) || part.get(x as isize, y as isize)
            });
        }
        mask
    } else {
        let counts = segmentation["counts"]
            .as_array()
            .expect("uncompressed counts")
            .iter()
            .map(|v| v.as_u64().expect("count") as u32)
            .collect();
        Rle {
            height,
            width,
            counts,
        }
        .to_mask()
        .expect("counts add up")
    }
}

/// `tests/fixtures/coco_rle.json` holds pycocotools' compressed RLE of every
/// 10th real annotation and of every crowd (see `make_coco_rle.py`). Decoding
/// those strings must agree with our rasterisation of the same objects.
#[test]
fn compressed_rle_matches_our_polygons_on_real_annotations() {
    let Some(coco) = dataset("natural/coco/instances.json") else {
        return;
    };
    let data: Value =
        serde_json::from_slice(&std::fs::read(coco).expect("read")).expect("valid JSON");
    let fixture: Value = serde_json::from_str(include_str!("fixtures/coco_rle.json"))
        .expect("fixture is valid JSON");
    let annotations = data["annotations"].as_array().expect("annotations");
    let mut exact = 0;
    let fixture = fixture.as_array().expect("list");
    for entry in fixture {
        let id = entry["id"].as_u64().expect("id");
        let (h, w) = (
            entry["size"][0].as_u64().expect("h") as usize,
            entry["size"][1].as_u64().expect("w") as usize,
        );
        let theirs = Rle::from_compressed(entry["counts"].as_str().expect("counts"), h, w)
            .expect("valid string")
            .to_mask()
            .expect("counts add up");
        assert_eq!(theirs.area() as u64, entry["area"].as_u64().expect("area"));
        let ann = annotations
            .iter()
            .find(|a| a["id"].as_u64() == Some(id))
            .expect("fixture annotation is in the dataset");
        let ours = our_mask(&ann["segmentation"], h, w);
        let score = iou(&ours, &theirs);
        assert!(score > 0.95, "annotation {id}: IoU {score}");
        exact += usize::from(ours == theirs);
    }
    assert!(fixture.len() > 80);
    assert_eq!(
        exact,
        fixture.len(),
        "our polygons match pycocotools pixel for pixel"
    );
}

#[test]
fn every_real_coco_image_loads() {
    let Some(root) = dataset("natural/coco") else {
        return;
    };
    let source =
        CocoSource::open(&root.join("instances.json"), &root.join("images")).expect("opens");
    assert_eq!(source.len(), 96);
    let (mut objects, mut with_crowd, mut unannotated) = (0, 0, 0);
    for i in 0..source.len() {
        let samples = match source.load(i) {
            Ok(samples) => samples,
            // An image without any annotation has no target.
            Err(Error::EmptyLabel { .. }) => {
                unannotated += 1;
                continue;
            }
            Err(e) => panic!("{e}"),
        };
        for s in samples {
            objects += s.objects.len();
            with_crowd += usize::from(s.ignore.is_some());
            assert!(s.objects.iter().all(|o| o.mask.width() == s.width()));
        }
    }
    assert_eq!(objects, 824 - 10, "824 annotations, 10 of them crowds");
    assert_eq!(with_crowd, 9, "the 10 crowds sit on 9 images");
    assert_eq!(unannotated, 3, "three images have no annotation at all");
}

//! `scribseg data check`'s rule on a real evaluation photo: a resized,
//! re-encoded copy of a GrabCut photo hidden in a training set is found,
//! packing refuses it, and excluding it lets the pack through.

use std::path::Path;

use image::imageops::FilterType;
use scribseg_data::{find_leaks, pack, Config, PackOptions, References, Split, MATCH_SIMILARITY};

use crate::util::dataset;

/// A training folder of `images/` and `masks/`: a copy of `photo` at 60%
/// size as JPEG quality 75 under the id `copy`, and `others` unrelated
/// photos.
fn training_folder(root: &Path, photo: &Path, others: &[&Path]) {
    for sub in ["images", "masks"] {
        std::fs::create_dir_all(root.join(sub)).expect("mkdir");
    }
    let write = |id: &str, image: image::RgbImage| {
        let mut bytes = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 75)
            .encode_image(&image)
            .expect("encode");
        std::fs::write(root.join(format!("images/{id}.jpg")), bytes).expect("write");
        let (w, h) = image.dimensions();
        image::GrayImage::from_fn(w, h, |x, y| {
            image::Luma([if x > w / 4 && x < w / 2 && y > h / 4 {
                255
            } else {
                0
            }])
        })
        .save(root.join(format!("masks/{id}.png")))
        .expect("write mask");
    };
    let original = image::open(photo).expect("eval photo").to_rgb8();
    let (w, h) = original.dimensions();
    write(
        "copy",
        image::imageops::resize(&original, w * 3 / 5, h * 3 / 5, FilterType::CatmullRom),
    );
    for (i, other) in others.iter().enumerate() {
        write(
            &format!("other{i}"),
            image::open(other).expect("photo").to_rgb8(),
        );
    }
}

#[test]
fn a_resized_reencoded_eval_photo_is_found_and_refused_until_excluded() {
    let (Some(grabcut), Some(pascal)) = (dataset("eval/grabcut"), dataset("natural/pascal_s"))
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut photos: Vec<_> = std::fs::read_dir(pascal.join("images"))
        .expect("pascal_s images")
        .map(|e| e.expect("entry").path())
        .collect();
    photos.sort();
    let others: Vec<&Path> = photos.iter().take(12).map(|p| p.as_path()).collect();
    training_folder(
        &dir.path().join("train"),
        &grabcut.join("images/106024.jpg"),
        &others,
    );
    let text = |exclude: &str| {
        format!(
            "data_root = '{}'\n[split]\ntrain = 1.0\nval = 0.0\n\
             [[dataset]]\nname = 'mine'\nkind = 'masks'\npath = 'train'\nweight = 1\n{exclude}\n\
             [[dataset]]\nname = 'grabcut'\nkind = 'masks'\npath = '{}'\ntest_only = true\n",
            dir.path().display(),
            grabcut.display()
        )
    };
    let config = Config::parse(&text(""), &dir.path().join("c.toml")).expect("valid");

    let references = References::of_config(&config);
    assert_eq!(references.len(), 50, "every GrabCut photo");
    let leaks = find_leaks(&config, &references, MATCH_SIMILARITY, |_, _| {});
    let found: Vec<(&str, &str, Split)> = leaks
        .iter()
        .map(|l| (l.image.id.as_str(), l.reference.id.as_str(), l.image.split))
        .collect();
    assert_eq!(found, [("copy", "106024", Split::Train)], "{leaks:?}");

    let out = dir.path().join("shards");
    let err = pack(&config, &out, &PackOptions::default(), |_, _| {}).expect_err("refused");
    assert!(
        err.to_string()
            .contains("mine copy (train) is grabcut 106024"),
        "{err}"
    );
    assert!(!out.join("train.shard").exists(), "no shard is left behind");

    let config =
        Config::parse(&text("exclude = ['copy']"), &dir.path().join("c.toml")).expect("valid");
    let report = pack(&config, &out, &PackOptions::default(), |_, _| {}).expect("packs");
    let (_, _, train) = &report.shards[0];
    assert_eq!(*train, 12, "the twelve other photos, not the copy");
}

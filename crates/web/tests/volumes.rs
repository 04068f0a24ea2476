//! NIfTI volumes through the JSON API: upload, slices along three axes,
//! strokes on slices, the label volume export, and bad files.

use std::io::Read;

use image::DynamicImage;
use nifti::{InMemNiftiObject, IntoNdArray, NiftiObject};
use serde_json::{json, Value};

use crate::util::{cube_volume, decode_gray, png, shapes, Server, CUBE_DIMS};

/// Reads a gzipped NIfTI label volume: its header and voxels indexed [x, y, z].
fn read_labels(bytes: &[u8]) -> (nifti::NiftiHeader, ndarray::ArrayD<u8>) {
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut raw)
        .expect("gzip");
    let object = InMemNiftiObject::from_reader(&raw[..]).expect("a NIfTI file");
    let header = object.header().clone();
    let data = object
        .into_volume()
        .into_ndarray::<u8>()
        .expect("u8 voxels");
    (header, data)
}

async fn open_slice(server: &Server, volume: i64, axis: usize, index: usize) -> Value {
    server
        .post_json(
            &format!("/api/volumes/{volume}/slices/{axis}/{index}"),
            json!(null),
        )
        .await
        .ok_json()
}

async fn label_map(server: &Server, image: i64) -> (u32, u32, Vec<u8>) {
    let map = server
        .get(&format!("/api/images/{image}/export/labelmap.png"))
        .await;
    decode_gray(&map.body)
}

fn pin(label: i64, x: f32, y: f32, radius: f32) -> Value {
    json!({"label_id": label, "kind": "pin", "radius": radius, "points": [[x, y]]})
}

#[tokio::test]
async fn volumes_slice_annotate_export_and_refuse_bad_files() {
    let server = Server::start(|_| {}).await;
    let (pid, [cat, dog], _) = server
        .project_with_image(&png(DynamicImage::ImageRgb8(shapes())))
        .await;
    let bytes = cube_volume(server.dir.path(), "cube.nii.gz");
    let upload = |name: &str| format!("/api/projects/{pid}/volumes?name={name}");
    let info = server
        .send("POST", &upload("cube.nii.gz"), &[], &bytes)
        .await
        .ok_json();
    let vid = info["id"].as_i64().expect("volume id");
    assert_eq!(info["dims"], json!(CUBE_DIMS));
    assert_eq!(info["spacing"], json!([1.0, 1.0, 2.0]));
    assert_eq!(info["axes"], json!(["sagittal", "coronal", "axial"]));
    assert_eq!(info["modality"], "CT");

    // Slices along the three axes: z (2 mm) is stretched to its physical size.
    for (axis, index, size) in [(0, 12, (20, 32)), (1, 10, (24, 32)), (2, 8, (24, 20))] {
        let slice = open_slice(&server, vid, axis, index).await;
        let image = &slice["image"];
        assert_eq!(
            (image["width"].as_u64(), image["height"].as_u64()),
            (Some(size.0), Some(size.1)),
            "axis {axis}"
        );
        assert_eq!(
            image["slice"],
            json!({"volume_id": vid, "axis": axis, "index": index})
        );
        let shown = server
            .get(&format!("/api/images/{}/display.png", image["id"]))
            .await;
        let (w, h, grey) = decode_gray(&shown.body);
        assert_eq!((w as u64, h as u64), size);
        let centre = grey[(h / 2 * w + w / 2) as usize];
        assert!(
            centre > 100 && grey[0] == 0,
            "cube {centre}, air {}",
            grey[0]
        );
    }
    let again = open_slice(&server, vid, 2, 8).await;
    let axial = again["image"]["id"].as_i64().expect("the same image");
    let unvisited = server
        .get(&format!("/api/volumes/{vid}/slices/2/3"))
        .await
        .ok_json();
    assert_eq!(unvisited["image"], Value::Null);
    assert_eq!(unvisited["width"], 24);
    assert!(server
        .get(&format!("/api/volumes/{vid}/slices/2/16"))
        .await
        .error(400)
        .contains("outside axis 2"));
    assert!(server
        .get(&format!("/api/volumes/{vid}/slices/3/0"))
        .await
        .error(400)
        .contains("axis must be"));
    let images = server
        .get(&format!("/api/projects/{pid}/images"))
        .await
        .ok_json();
    assert_eq!(
        images.as_array().map(Vec::len),
        Some(1),
        "slices are not listed as images"
    );

    // Pins on the axial slice z 8 (cat), then on the coronal slice y 10 (dog).
    // The axial slice shows voxel (x, y) at pixel (x, y): both axes run towards
    // patient right and anterior, so neither is flipped for display.
    let axial_strokes = format!("/api/images/{axial}/strokes");
    server
        .post_json(&axial_strokes, pin(cat, 12.0, 10.0, 3.0))
        .await
        .ok_json();
    let coronal = open_slice(&server, vid, 1, 10).await["image"]["id"]
        .as_i64()
        .expect("id");
    // Coronal rows run from superior (z 15) down; z 8 is rows 14–15 at 2 px a voxel.
    server
        .post_json(
            &format!("/api/images/{coronal}/strokes"),
            pin(dog, 12.0, 14.5, 1.0),
        )
        .await
        .ok_json();
    let detail = server.get(&format!("/api/volumes/{vid}")).await.ok_json();
    assert_eq!(detail["slices_annotated"], 2);
    assert_eq!(detail["labels_annotated"], 2);
    let annotated: Vec<(u64, u64)> = detail["annotated"]
        .as_array()
        .expect("annotated")
        .iter()
        .map(|a| {
            (
                a["axis"].as_u64().expect("axis"),
                a["index"].as_u64().expect("index"),
            )
        })
        .collect();
    assert_eq!(annotated, [(2, 8), (1, 10)], "least recently edited first");

    let export = server
        .get(&format!("/api/volumes/{vid}/export/labels.nii.gz"))
        .await;
    assert_eq!(export.status, 200);
    assert!(export
        .header("content-disposition")
        .is_some_and(|d| d.contains("cube.labels.nii.gz")));
    let (header, labels) = read_labels(&export.body);
    assert_eq!(labels.shape(), CUBE_DIMS);
    assert_eq!(header.datatype, 2, "uint8");
    assert_eq!(header.sform_code, 1);
    assert_eq!(header.srow_x, [-1.0, 0.0, 0.0, 10.0]);
    assert_eq!(header.srow_z, [0.0, 0.0, 2.0, -30.0]);
    assert_eq!(header.pixdim[3], 2.0);
    assert_eq!(labels[[12, 9, 8]], 1, "cat's pin on the axial slice");
    assert_eq!(
        labels[[12, 10, 8]],
        2,
        "both slices label it: the later (dog) wins"
    );
    // Elsewhere each voxel is its slice's label map at the voxel's centre.
    let (aw, _, axial_map) = label_map(&server, axial).await;
    let (cw, _, coronal_map) = label_map(&server, coronal).await;
    let [nx, ny, nz] = CUBE_DIMS;
    for x in 0..nx {
        for y in 0..ny {
            for z in 0..nz {
                let v = labels[[x, y, z]];
                let expected = if y == 10 && z != 8 {
                    coronal_map[(2 * (15 - z) + 1) * cw as usize + x]
                } else if z == 8 && y != 10 {
                    axial_map[y * aw as usize + x]
                } else if y != 10 && z != 8 {
                    0
                } else {
                    continue;
                };
                assert_eq!(v, expected, "voxel ({x}, {y}, {z})");
            }
        }
    }

    // Editing the axial slice again makes it the most recent: cat wins now.
    server
        .post_json(&axial_strokes, pin(cat, 12.0, 10.0, 1.0))
        .await
        .ok_json();
    let export = server
        .get(&format!("/api/volumes/{vid}/export/labels.nii.gz"))
        .await;
    assert_eq!(read_labels(&export.body).1[[12, 10, 8]], 1);

    // Bad files: clear errors naming the file and the problem; nothing stored.
    let truncated_gz = &bytes[..bytes.len() / 2];
    let message = server
        .send("POST", &upload("broken.nii.gz"), &[], truncated_gz)
        .await
        .error(400);
    assert!(
        message.contains("broken.nii.gz") && message.contains("truncated"),
        "{message}"
    );
    let plain = cube_volume(server.dir.path(), "plain.nii");
    let short = &plain[..plain.len() - 100];
    let message = server
        .send("POST", &upload("short.nii"), &[], short)
        .await
        .error(400);
    assert!(
        message.contains("short.nii") && message.contains("voxel data is truncated"),
        "{message}"
    );
    let message = server
        .send("POST", &upload("text.nii"), &[], &[b'x'; 400])
        .await
        .error(400);
    assert!(message.contains("not a NIfTI-1 file"), "{message}");
    let message = server
        .send(
            "POST",
            &format!("/api/projects/{pid}/images?name=cube.nii.gz"),
            &[],
            &bytes,
        )
        .await
        .error(400);
    assert!(message.contains("/volumes"), "{message}");
    assert!(server
        .send("POST", &upload("cube.nii.gz"), &[], &bytes)
        .await
        .error(409)
        .contains("cube.nii.gz"));

    // A restarted server finds the volume, its slices and their strokes.
    let restarted = Server::start_in(server.dir, |_| {}).await;
    let volumes = restarted
        .get(&format!("/api/projects/{pid}/volumes"))
        .await
        .ok_json();
    let names: Vec<&str> = volumes
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|v| v["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["cube.nii.gz"],
        "refused uploads left nothing behind"
    );
    assert_eq!(volumes[0]["strokes"], 3);
    let stored = restarted.get(&axial_strokes).await.ok_json();
    assert_eq!(stored["strokes"].as_array().map(Vec::len), Some(2));
    let (w, h, values) = label_map(&restarted, axial).await;
    assert_eq!((w, h), (24, 20));
    assert_eq!(values[10 * 24 + 12], 1);

    // Deleting the volume takes its slices with it.
    assert_eq!(
        restarted
            .send("DELETE", &format!("/api/volumes/{vid}"), &[], b"")
            .await
            .status,
        204
    );
    assert!(restarted
        .get(&format!("/api/images/{axial}"))
        .await
        .error(404)
        .contains("image"));
    assert!(restarted
        .get(&format!("/api/volumes/{vid}"))
        .await
        .error(404)
        .contains("volume"));
}

#[tokio::test]
async fn a_display_window_is_kept_per_volume_and_only_changes_the_picture() {
    let server = Server::start(|_| {}).await;
    let (pid, _, image) = server
        .project_with_image(&png(DynamicImage::ImageRgb8(shapes())))
        .await;
    let bytes = cube_volume(server.dir.path(), "cube.nii.gz");
    let vid = server
        .send(
            "POST",
            &format!("/api/projects/{pid}/volumes?name=cube.nii.gz"),
            &[],
            &bytes,
        )
        .await
        .ok_json()["id"]
        .as_i64()
        .expect("volume id");
    // The default window is the one the model sees (CT: soft tissue), and
    // the range spans air to the cube.
    let detail = server.get(&format!("/api/volumes/{vid}")).await.ok_json();
    assert_eq!(detail["window"], Value::Null);
    assert_eq!(
        detail["intensities"]["default"],
        json!({"level": 40.0, "width": 400.0})
    );
    assert_eq!(detail["intensities"]["range"], json!([-1000.0, 60.0]));

    let slice = open_slice(&server, vid, 2, 8).await["image"]["id"]
        .as_i64()
        .expect("slice id");
    let centre_and_corner = |query: &'static str| {
        let server = &server;
        async move {
            let shown = server
                .get(&format!("/api/images/{slice}/display.png{query}"))
                .await;
            let (w, h, grey) = decode_gray(&shown.body);
            (grey[(h / 2 * w + w / 2) as usize], grey[0])
        }
    };
    // The cube (60 HU) and air (-1000 HU) through three windows.
    assert_eq!(centre_and_corner("").await, (140, 0), "soft tissue");
    assert_eq!(
        centre_and_corner("?level=500&width=100").await,
        (0, 0),
        "a bone window leaves the cube black"
    );
    assert_eq!(
        centre_and_corner("?level=-1000&width=10").await,
        (255, 128),
        "an air window shows air mid-grey"
    );
    // The model's picture is unchanged after other windows; a token in the
    // query (any URL may carry one) is no window.
    assert_eq!(centre_and_corner("?token=x").await, (140, 0));

    for (query, message) in [
        ("?level=40", "both level and width"),
        ("?level=40&width=0", "positive finite width"),
        ("?level=40&width=-3", "positive finite width"),
        ("?level=x&width=3", "level"),
    ] {
        let error = server
            .get(&format!("/api/images/{slice}/display.png{query}"))
            .await
            .error(400);
        assert!(error.contains(message), "{query}: {error}");
    }
    let plain = image["id"].as_i64().expect("image id");
    assert!(server
        .get(&format!("/api/images/{plain}/display.png?level=0&width=10"))
        .await
        .error(400)
        .contains("volumes only"));

    // The chosen window is kept with the volume, listed, and reset by null.
    let volume = format!("/api/volumes/{vid}");
    let patch = |body: &'static [u8]| {
        server.send(
            "PATCH",
            &volume,
            &[("Content-Type", "application/json")],
            body,
        )
    };
    let kept = patch(br#"{"window":{"level":-600,"width":1500}}"#)
        .await
        .ok_json();
    assert_eq!(kept["window"], json!({"level": -600.0, "width": 1500.0}));
    let listed = server
        .get(&format!("/api/projects/{pid}/volumes"))
        .await
        .ok_json();
    assert_eq!(listed[0]["window"], kept["window"]);
    assert!(patch(br#"{"window":{"level":0,"width":0}}"#)
        .await
        .error(400)
        .contains("positive finite width"));
    assert!(patch(br#"{"window":{"level":0}}"#)
        .await
        .error(400)
        .contains("width"));
    assert!(patch(br#"{"level":0}"#)
        .await
        .error(400)
        .contains("unknown field"));
    assert_eq!(
        patch(br#"{"window":null}"#).await.ok_json()["window"],
        Value::Null
    );
    assert!(server
        .send(
            "PATCH",
            "/api/volumes/999",
            &[("Content-Type", "application/json")],
            br#"{"window":null}"#,
        )
        .await
        .error(404)
        .contains("volume"));
}

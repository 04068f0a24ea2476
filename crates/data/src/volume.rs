//! NIfTI volumes in the Medical Segmentation Decathlon layout, sliced along all three axes.
//!
//! A set is a folder with `dataset.json` (its `modality` and `labels`, and
//! the `training` list of image/label pairs), `imagesTr/` and `labelsTr/`.
//! Each volume is one unit (so the split is by volume, never by slice) and
//! loads into one [`Sample`] per slice that holds a label, along each of the
//! three axes, every `slice_stride`-th slice.
//!
//! - **Objects:** each label value present in a slice is one object, named
//!   from `dataset.json:labels`.
//! - **Intensities:** CT is clipped to a Hounsfield window (default −160 to
//!   240 HU, the abdominal soft-tissue window) and MRI to the volume's 0.5th
//!   to 99.5th percentile; both are then mapped linearly to 0–255 grey.
//! - **Spacing:** slices are resized to their physical aspect (from the
//!   header's `pixdim`) so that anisotropic voxels do not squash anatomy:
//!   the finer axis keeps its pixel count, the coarser one is stretched
//!   (bilinear for the image, nearest for the labels).
//! - **4D images** (several modalities) use the first channel.
//!
//! DICOM (CHAOS ships DICOM) is not read: none of the data here uses it,
//! and a well-kept pure-Rust reader (`dicom-object`) would add a large
//! dependency tree; converting a series to NIfTI first (e.g. `dcm2niix`) is
//! the supported route.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use image::imageops::{resize, FilterType};
use image::{GrayImage, RgbImage};
use nifti::{InMemNiftiVolume, IntoNdArray, NiftiHeader, NiftiObject, ReaderOptions};
use scribseg_sim::Mask;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::mask_ops::select;
use crate::sample::{Modality, Object, Sample};
use crate::source::Source;

/// Options for a [`DecathlonSource`].
#[derive(Clone, Debug)]
pub struct VolumeOptions {
    /// Keep every n-th slice along each axis (1 keeps all).
    pub slice_stride: usize,
    /// CT window in Hounsfield units, `(low, high)`.
    pub ct_window: (f32, f32),
    /// MRI percentile clip, `(low, high)` in percent.
    pub mri_percentiles: (f32, f32),
    /// Voxel spacing `(x, y, z)` in mm that replaces the header's, for sets
    /// whose header lost it (ACDC here: identity affine, true z spacing 5–10 mm).
    pub spacing: Option<[f32; 3]>,
}

impl Default for VolumeOptions {
    fn default() -> Self {
        VolumeOptions {
            slice_stride: 1,
            ct_window: (-160.0, 240.0),
            mri_percentiles: (0.5, 99.5),
            spacing: None,
        }
    }
}

#[derive(Deserialize)]
struct DatasetJson {
    #[serde(default)]
    modality: BTreeMap<String, String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    training: Vec<TrainingPair>,
}

#[derive(Deserialize)]
struct TrainingPair {
    image: String,
    label: String,
}

struct Case {
    id: String,
    image: PathBuf,
    label: PathBuf,
}

/// A Decathlon-layout folder of NIfTI volumes.
pub struct DecathlonSource {
    modality: Modality,
    labels: BTreeMap<u8, String>,
    cases: Vec<Case>,
    options: VolumeOptions,
}

/// A scalar volume as floats, x fastest (NIfTI's own order), with its voxel
/// spacing in mm.
#[derive(Clone, Debug, PartialEq)]
pub struct Volume {
    /// Voxels along x, y and z.
    pub dims: [usize; 3],
    /// Voxel size along x, y and z (the header's `pixdim`; 1 where it is
    /// missing or invalid).
    pub spacing: [f32; 3],
    /// `dims[0] × dims[1] × dims[2]` values, x fastest.
    pub data: Vec<f32>,
}

impl DecathlonSource {
    /// Reads `root/dataset.json` and lists its training pairs.
    pub fn open(root: &Path, options: VolumeOptions) -> Result<Self> {
        let json_path = root.join("dataset.json");
        let text = std::fs::read(&json_path).map_err(|e| Error::io(&json_path, e))?;
        let json: DatasetJson = serde_json::from_slice(&text).map_err(|source| Error::Json {
            path: json_path.clone(),
            source,
        })?;
        let modality = match json.modality.get("0").map(|m| m.to_uppercase()) {
            Some(m) if m.contains("CT") => Modality::Ct,
            Some(m) if m.contains("MR") => Modality::Mri,
            other => {
                return Err(Error::invalid(
                    &json_path,
                    format!("unknown modality {other:?} (need CT or MRI)"),
                ))
            }
        };
        let labels = json
            .labels
            .into_iter()
            .filter_map(|(k, v)| Some((k.parse().ok()?, v)))
            .collect();
        let mut cases: Vec<Case> = json
            .training
            .into_iter()
            .map(|p| {
                let image = root.join(&p.image);
                let name = image.file_name().map(|n| n.to_string_lossy().into_owned());
                let name = name.unwrap_or_default();
                let id = name.trim_end_matches(".gz").trim_end_matches(".nii");
                Case {
                    id: id.to_string(),
                    label: root.join(&p.label),
                    image,
                }
            })
            .collect();
        cases.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(DecathlonSource {
            modality,
            labels,
            cases,
            options,
        })
    }

    /// The set's modality, from `dataset.json`.
    pub fn modality(&self) -> Modality {
        self.modality
    }

    fn label_name(&self, value: u8) -> String {
        self.labels
            .get(&value)
            .cloned()
            .unwrap_or_else(|| value.to_string())
    }
}

/// Maps intensities to 0–255 grey the way training sees them: CT through
/// `options.ct_window` (Hounsfield units), MRI (and anything else that is
/// not CT) clipped at the volume's `options.mri_percentiles`; both linearly.
pub fn to_grey(data: &[f32], modality: Modality, options: &VolumeOptions) -> Vec<u8> {
    grey_through(data, grey_window(data, modality, options))
}

/// The intensities [`to_grey`] maps to black and white: `options.ct_window`
/// for CT, the volume's `options.mri_percentiles` for anything else.
pub fn grey_window(data: &[f32], modality: Modality, options: &VolumeOptions) -> (f32, f32) {
    match modality {
        Modality::Ct => options.ct_window,
        _ => {
            let (p0, p1) = options.mri_percentiles;
            (percentile(data, p0), percentile(data, p1))
        }
    }
}

/// Maps `lo` to black and `hi` to white, linearly, clipping beyond.
pub fn grey_through(data: &[f32], (lo, hi): (f32, f32)) -> Vec<u8> {
    let scale = 255.0 / (hi - lo).max(f32::EPSILON);
    data.iter()
        .map(|&v| ((v - lo) * scale).clamp(0.0, 255.0).round() as u8)
        .collect()
}

/// The `p`-th percentile (0–100) of the finite values of `data`, from a
/// strided subsample of about 100,000 values for speed; 0 when none is finite.
pub fn percentile(data: &[f32], p: f32) -> f32 {
    let step = (data.len() / 100_000).max(1);
    let mut sample: Vec<f32> = data
        .iter()
        .step_by(step)
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    if sample.is_empty() {
        return 0.0;
    }
    let k = ((p / 100.0) * (sample.len() - 1) as f32).round() as usize;
    let k = k.min(sample.len() - 1);
    *sample.select_nth_unstable_by(k, f32::total_cmp).1
}

fn read_volume(path: &Path) -> Result<Volume> {
    let object = ReaderOptions::new()
        .read_file(path)
        .map_err(|source| Error::Nifti {
            path: path.to_path_buf(),
            source,
        })?;
    let header = object.header().clone();
    Volume::from_nifti(path, &header, object.into_volume())
}

impl Volume {
    /// Converts the first 3D volume of a NIfTI image to floats: any stored
    /// scalar type, `scl_slope`/`scl_inter` applied, spacing from `pixdim`.
    /// `path` only names the file in errors.
    pub fn from_nifti(path: &Path, header: &NiftiHeader, volume: InMemNiftiVolume) -> Result<Self> {
        let rank = usize::from(header.dim[0]);
        if !(3..=7).contains(&rank) {
            return Err(Error::invalid(
                path,
                format!("volume has {rank} dimensions, need 3 or 4"),
            ));
        }
        let dims = [0, 1, 2].map(|i| usize::from(header.dim[i + 1]));
        let spacing = [0, 1, 2].map(|i| {
            let s = header.pixdim[i + 1].abs();
            if s.is_finite() && s > 0.0 {
                s
            } else {
                1.0
            }
        });
        let voxels = dims.iter().product::<usize>();
        // `into_ndarray` converts any stored type to f32 and applies scl_slope/inter;
        // the transposed view iterates x fastest (NIfTI's own order).
        let array = volume
            .into_ndarray::<f32>()
            .map_err(|source| Error::Nifti {
                path: path.to_path_buf(),
                source,
            })?;
        let mut data: Vec<f32> = array.t().iter().copied().collect();
        if data.len() < voxels || voxels == 0 {
            return Err(Error::invalid(
                path,
                "volume data shorter than its header says",
            ));
        }
        data.truncate(voxels);
        Ok(Volume {
            dims,
            spacing,
            data,
        })
    }
}

/// Names of the axes a slice is taken along.
const AXIS_NAMES: [char; 3] = ['x', 'y', 'z'];

/// The axes that run along a slice's columns and rows when slicing along `axis`.
fn plane_axes(axis: usize) -> (usize, usize) {
    match axis {
        0 => (1, 2),
        1 => (0, 2),
        _ => (0, 1),
    }
}

/// Extracts slice `k` along `axis` of a raster stored x fastest.
///
/// The slice's columns run along the first remaining axis and its rows along
/// the second: `(y, z)` for an x slice, `(x, z)` for y, `(x, y)` for z.
fn extract<T: Copy>(data: &[T], dims: [usize; 3], axis: usize, k: usize) -> (usize, usize, Vec<T>) {
    let [nx, ny, _] = dims;
    let index = |x: usize, y: usize, z: usize| x + nx * (y + ny * z);
    let (u, v) = plane_axes(axis);
    let (w, h) = (dims[u], dims[v]);
    let mut out = Vec::with_capacity(w * h);
    for j in 0..h {
        for i in 0..w {
            let mut c = [0; 3];
            c[axis] = k;
            c[u] = i;
            c[v] = j;
            out.push(data[index(c[0], c[1], c[2])]);
        }
    }
    (w, h, out)
}

/// The pixel size that gives a `w × h` slice of spacings `(su, sv)` its
/// physical aspect: the finer axis keeps its pixel count, the coarser one is
/// stretched (never shrunk).
pub fn physical_size(w: usize, h: usize, su: f32, sv: f32) -> (u32, u32) {
    let unit = su.min(sv);
    let scale = |n: usize, s: f32| ((n as f32 * s / unit).round() as u32).max(1);
    (scale(w, su), scale(h, sv))
}

impl Source for DecathlonSource {
    fn len(&self) -> usize {
        self.cases.len()
    }

    fn unit_id(&self, index: usize) -> &str {
        &self.cases[index].id
    }

    fn load(&self, index: usize) -> Result<Vec<Sample>> {
        let case = &self.cases[index];
        let mut image = read_volume(&case.image)?;
        if let Some(spacing) = self.options.spacing {
            image.spacing = spacing;
        }
        let label = read_volume(&case.label)?;
        if label.dims != image.dims {
            return Err(Error::invalid(
                &case.label,
                format!(
                    "label shape {:?} differs from image {:?}",
                    label.dims, image.dims
                ),
            ));
        }
        if label
            .data
            .iter()
            .any(|&v| !(0.0..=255.0).contains(&v) || v.fract() != 0.0)
        {
            return Err(Error::invalid(
                &case.label,
                "label values are not integers 0-255",
            ));
        }
        let labels: Vec<u8> = label.data.iter().map(|&v| v as u8).collect();
        if labels.iter().all(|&v| v == 0) {
            return Err(Error::EmptyLabel {
                path: case.label.clone(),
            });
        }
        let grey = to_grey(&image.data, self.modality, &self.options);
        let stride = self.options.slice_stride.max(1);
        let mut samples = Vec::new();
        for (axis, axis_name) in AXIS_NAMES.iter().enumerate() {
            let (u, v) = plane_axes(axis);
            for k in (0..image.dims[axis]).step_by(stride) {
                let (w, h, slice_labels) = extract(&labels, image.dims, axis, k);
                if slice_labels.iter().all(|&l| l == 0) {
                    continue;
                }
                let (_, _, slice_grey) = extract(&grey, image.dims, axis, k);
                let (pw, ph) = physical_size(w, h, image.spacing[u], image.spacing[v]);
                let to_image = |data: Vec<u8>| {
                    GrayImage::from_raw(w as u32, h as u32, data).expect("slice is w × h")
                };
                let (mut g, mut l) = (to_image(slice_grey), to_image(slice_labels));
                if (pw, ph) != (w as u32, h as u32) {
                    g = resize(&g, pw, ph, FilterType::Triangle);
                    l = resize(&l, pw, ph, FilterType::Nearest);
                }
                let mut present = [false; 256];
                l.as_raw().iter().for_each(|&v| present[v as usize] = true);
                let objects = (1..=255u8)
                    .filter(|&value| present[value as usize])
                    .map(|value| Object {
                        mask: select(pw as usize, ph as usize, l.as_raw(), |x| x == value),
                        label: self.label_name(value),
                    })
                    .collect();
                samples.push(Sample {
                    id: format!("{}/{axis_name}{k:03}", case.id),
                    group: case.id.clone(),
                    source: case.image.clone(),
                    modality: self.modality,
                    image: grey_to_rgb(&g),
                    objects,
                    ignore: None::<Mask>,
                });
            }
        }
        Ok(samples)
    }
}

fn grey_to_rgb(g: &GrayImage) -> RgbImage {
    let data = g.as_raw().iter().flat_map(|&v| [v, v, v]).collect();
    RgbImage::from_raw(g.width(), g.height(), data).expect("three bytes per pixel")
}

#[cfg(test)]
mod tests {
    use super::*;
    use nifti::writer::WriterOptions;
    use nifti::NiftiHeader;

    /// Writes a 6×4×3 CT set (spacing 1 × 1 × 2 mm) with labels 1 (a bar
    /// along x at y = 1, z = 0) and 2 (voxel (5, 3, 2)).
    fn write_set(dir: &Path) {
        for sub in ["imagesTr", "labelsTr"] {
            std::fs::create_dir_all(dir.join(sub)).expect("mkdir");
        }
        let header = NiftiHeader {
            pixdim: [1.0, 1.0, 1.0, 2.0, 1.0, 1.0, 1.0, 1.0],
            ..NiftiHeader::default()
        };
        let image = ndarray::Array3::<i16>::from_shape_fn((6, 4, 3), |(x, _, z)| {
            -200 + 100 * x as i16 + z as i16
        });
        let mut label = ndarray::Array3::<u8>::zeros((6, 4, 3));
        for x in 0..6 {
            label[[x, 1, 0]] = 1;
        }
        label[[5, 3, 2]] = 2;
        WriterOptions::new(dir.join("imagesTr/c1.nii.gz"))
            .reference_header(&header)
            .write_nifti(&image)
            .expect("write image");
        WriterOptions::new(dir.join("labelsTr/c1.nii.gz"))
            .reference_header(&header)
            .write_nifti(&label)
            .expect("write label");
        let json = r#"{"modality": {"0": "CT"}, "labels": {"0": "background", "1": "bar"},
            "training": [{"image": "./imagesTr/c1.nii.gz", "label": "./labelsTr/c1.nii.gz"},
                         {"image": "./imagesTr/gone.nii.gz", "label": "./labelsTr/gone.nii.gz"}]}"#;
        std::fs::write(dir.join("dataset.json"), json).expect("write json");
    }

    #[test]
    fn slices_along_three_axes_with_physical_aspect() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_set(dir.path());
        let source = DecathlonSource::open(dir.path(), VolumeOptions::default()).expect("opens");
        assert_eq!(source.modality(), Modality::Ct);
        assert_eq!(source.len(), 2);
        let samples = source.load(0).expect("c1 loads");
        let ids: Vec<&str> = samples.iter().map(|s| s.id.as_str()).collect();
        // Label 1 lies in every x slice, y slice 1, z slice 0; label 2 in x5, y3, z2.
        assert_eq!(
            ids,
            [
                "c1/x000", "c1/x001", "c1/x002", "c1/x003", "c1/x004", "c1/x005", "c1/y001",
                "c1/y003", "c1/z000", "c1/z002"
            ]
        );
        let z0 = &samples[8];
        assert_eq!(
            (z0.width(), z0.height()),
            (6, 4),
            "z slices are x × y, 1 mm both ways"
        );
        assert_eq!(z0.objects.len(), 1);
        assert_eq!(z0.objects[0].label, "bar");
        assert_eq!(z0.objects[0].mask.area(), 6);
        assert!(z0.objects[0].mask.get(0, 1));
        // -200 HU is below the window: black; x = 4 → 200 HU → (200 + 160) / 400 · 255.
        assert_eq!(z0.image.get_pixel(0, 0).0, [0, 0, 0]);
        assert_eq!(z0.image.get_pixel(4, 0).0[0], 230);
        let y1 = &samples[6];
        assert_eq!(
            (y1.width(), y1.height()),
            (6, 6),
            "y slices: z (2 mm) stretched to 6 rows"
        );
        let x5 = &samples[5];
        assert_eq!(x5.objects.len(), 2);
        assert_eq!(x5.objects[1].label, "2", "unnamed labels keep their value");
        assert!(samples.iter().all(|s| s.group == "c1"));
    }

    #[test]
    fn missing_and_corrupt_volumes_are_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_set(dir.path());
        let source = DecathlonSource::open(dir.path(), VolumeOptions::default()).expect("opens");
        let err = source.load(1).expect_err("gone.nii.gz is missing");
        assert!(err.to_string().contains("gone.nii.gz"), "{err}");
        let path = dir.path().join("imagesTr/c1.nii.gz");
        let bytes = std::fs::read(&path).expect("read");
        std::fs::write(&path, &bytes[..bytes.len() / 2]).expect("truncate");
        let err = source.load(0).expect_err("truncated");
        assert!(err.to_string().contains("c1.nii.gz"), "{err}");
    }

    #[test]
    fn mri_is_clipped_at_percentiles() {
        let data: Vec<f32> = (0..1000).map(|v| v as f32).collect();
        assert_eq!(percentile(&data, 0.0), 0.0);
        assert_eq!(percentile(&data, 50.0), 500.0);
        assert_eq!(percentile(&data, 100.0), 999.0);
    }
}

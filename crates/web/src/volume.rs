//! NIfTI volumes in the annotator: reading an upload (refusing bad files
//! with a message that says what is wrong), how the voxel axes lie in the
//! patient, rendering one slice as a picture, and writing the label volume.
//!
//! - **Intensities** (the rule of [`scribseg_data::to_grey`], as in
//!   training): a volume whose lowest value is below −500 is taken for CT
//!   and shown through the −160 to 240 HU soft-tissue window; anything else
//!   (MRI) is clipped to its own 0.5th–99.5th percentile. The model always
//!   sees that picture. The page may show the slice through another
//!   [`Windowing`] (lung, bone, a level dragged by hand): a display choice
//!   only, rendered from intensities kept at 16 bits over the volume's
//!   0.01th–99.99th percentile (finer than 0.07 HU over a CT's range).
//! - **Orientation:** each voxel axis is named after the patient axis it
//!   runs closest to (sform, else qform, else the identity): slicing across
//!   x is sagittal, across y coronal, across z axial. Slices are shown in
//!   the radiological convention: patient right on the left of the screen,
//!   anterior up in axial, superior up in coronal and sagittal, anterior on
//!   the left in sagittal. An oblique affine that maps two voxel axes to one
//!   patient axis falls back to "axis 0/1/2", unflipped.
//! - **Spacing:** a slice is stretched along its coarser axis to its
//!   physical aspect (never shrunk), so every voxel covers at least one
//!   pixel; the label volume takes each voxel from the pixel under its
//!   centre.

use std::io::{Read, Write};
use std::path::Path;

use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use image::imageops::{resize, FilterType};
use image::{DynamicImage, GrayImage, RgbImage};
use nifti::{Endianness, InMemNiftiVolume, NiftiHeader, NiftiType};
use scribseg_data::{
    grey_through, grey_window, percentile, physical_size, Modality, Volume, VolumeOptions,
};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::predict::LabelMap;
use crate::store::{VolumeMeta, Windowing};

/// The largest volume accepted, in voxels (a 512 × 512 × 1024 CT).
pub const MAX_VOXELS: usize = 1 << 28;

/// The most voxel data accepted, in bytes (that CT in 32-bit floats): a
/// header declaring more is refused before any voxel is inflated.
pub const MAX_VOXEL_BYTES: usize = 1 << 30;

/// A slice picture larger than this (in pixels) keeps its voxel grid
/// instead of its physical aspect.
const MAX_SLICE_PIXELS: u64 = 16 << 20;

/// The NIfTI-1 header size; the voxel data of a `.nii` follows it.
const HEADER_BYTES: usize = 348;

/// The patient-axis names of slices across x, y and z.
const VIEWS: [&str; 3] = ["sagittal", "coronal", "axial"];

/// Whether an upload is a NIfTI volume: by its name, or by the `n+1` magic.
pub fn is_nifti(name: &str, bytes: &[u8]) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".nii") || lower.ends_with(".nii.gz") || bytes.get(344..348) == Some(b"n+1\0")
}

/// The percentiles of a volume's intensities that its 16-bit display copy
/// spans: a few stray voxels (metal, a corrupt value) do not coarsen it.
const DISPLAY_PERCENTILES: (f32, f32) = (0.01, 99.99);

/// How a volume's intensities can be shown: the page's window controls.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Intensities {
    /// The window the model sees the volume through (the training rule).
    pub default: Windowing,
    /// The lowest and highest intensities a window can tell apart (the
    /// 16-bit display copy's span).
    pub range: [f32; 2],
}

/// A volume ready to be sliced: grey levels, geometry and the source header.
#[derive(Debug)]
pub struct Loaded {
    /// Voxels along the three axes.
    pub dims: [usize; 3],
    spacing: [f32; 3],
    /// The picture the model sees, one byte per voxel.
    grey: Vec<u8>,
    /// The intensities for display windows, quantised to 16 bits over `intensities.range`.
    display: Vec<u16>,
    /// The default window and the display copy's span.
    pub intensities: Intensities,
    orientation: Orientation,
    /// The source's 348 header bytes, the template of the label volume.
    head: Vec<u8>,
    endianness: Endianness,
    /// What the store and the API show.
    pub meta: VolumeMeta,
}

/// How the voxel axes lie in the patient.
#[derive(Clone, Copy, Debug)]
struct Orientation {
    /// The patient axis (0 x, 1 y, 2 z) each voxel axis runs closest to.
    world: [usize; 3],
    /// Whether the voxel index grows towards + on that patient axis.
    positive: [bool; 3],
    /// Whether `world` is a permutation (not an oblique degenerate case).
    known: bool,
}

/// The voxel axes along a slice's columns and rows, and whether each is reversed.
#[derive(Clone, Copy, Debug)]
struct SliceAxes {
    cols: usize,
    rows: usize,
    flip_cols: bool,
    flip_rows: bool,
}

impl Loaded {
    /// The memory its voxels take, in bytes.
    pub(crate) fn bytes(&self) -> usize {
        self.grey.len() + 2 * self.display.len()
    }

    /// Reads an uploaded `.nii` or `.nii.gz` (`name` is only for messages):
    /// checks the header, the data type and that the voxel data is all there.
    pub fn parse(name: &str, bytes: &[u8]) -> Result<Self> {
        let bad = |what: String| Error::bad_request(format!("{name}: {what}"));
        let corrupt = |e: std::io::Error| {
            bad(format!(
                "the gzip stream is truncated or corrupt ({e}); upload the complete .nii.gz"
            ))
        };
        // A gzip file is inflated as it is read: the header first, checked,
        // then no further than the voxel data it declares. A small file that
        // inflates to gigabytes stops there; a header that declares too much
        // stops after its 348 bytes.
        let mut reader: Box<dyn Read + '_> = if bytes.starts_with(&[0x1f, 0x8b]) {
            Box::new(GzDecoder::new(bytes))
        } else {
            Box::new(bytes)
        };
        let mut raw = Vec::new();
        (&mut reader)
            .take(HEADER_BYTES as u64)
            .read_to_end(&mut raw)
            .map_err(corrupt)?;
        check_magic(&raw).map_err(bad)?;
        let mut header = NiftiHeader::from_reader(&raw[..HEADER_BYTES])
            .map_err(|e| bad(format!("unreadable NIfTI-1 header ({e})")))?;
        if header.sizeof_hdr != HEADER_BYTES as i32 {
            return Err(bad(format!(
                "the header says it is {} bytes long; a NIfTI-1 header is {HEADER_BYTES}",
                header.sizeof_hdr
            )));
        }
        let scaling = [header.scl_slope, header.scl_inter];
        let spacing = &header.pixdim[1..4];
        if scaling.iter().chain(spacing).any(|v| !v.is_finite()) {
            return Err(bad(format!(
                "the header holds a value that is not a number: scaling {scaling:?}, \
                 voxel size {spacing:?}"
            )));
        }
        let rank = header.dim[0];
        if !(3..=7).contains(&rank) {
            return Err(bad(format!(
                "the header declares {rank} dimensions; a volume needs 3 (of a 4D image the first volume is used)"
            )));
        }
        let dims = [1, 2, 3].map(|i| usize::from(header.dim[i]));
        let shape = format!("{}×{}×{}", dims[0], dims[1], dims[2]);
        if dims.contains(&0) {
            return Err(bad(format!("the header declares an empty {shape} volume")));
        }
        let voxels: usize = dims.iter().product();
        if voxels > MAX_VOXELS {
            return Err(bad(format!(
                "{shape} is {voxels} voxels, over the limit of {MAX_VOXELS}"
            )));
        }
        let datatype = header
            .data_type()
            .ok()
            .filter(|t| scalar(*t))
            .ok_or_else(|| {
                bad(format!(
                    "NIfTI datatype code {} is not supported: need an integer or floating-point scalar type",
                    header.datatype
                ))
            })?;
        let offset = header.vox_offset;
        if !(offset.is_finite() && offset >= HEADER_BYTES as f32) {
            return Err(bad(format!("the header's vox_offset {offset} is invalid")));
        }
        let offset = offset as usize;
        let need = voxels * datatype.size_of();
        if need > MAX_VOXEL_BYTES {
            return Err(bad(format!(
                "{shape} {datatype:?} voxels are {need} bytes, over the limit of {} MiB \
                 (save it with a smaller data type)",
                MAX_VOXEL_BYTES >> 20
            )));
        }
        reader
            .take((offset + need - HEADER_BYTES) as u64)
            .read_to_end(&mut raw)
            .map_err(corrupt)?;
        let have = raw.len().saturating_sub(offset);
        if have < need {
            return Err(bad(format!(
                "the voxel data is truncated: the header declares {shape} {datatype:?} voxels ({need} bytes from byte {offset}), the file holds {have}"
            )));
        }
        // The first 3D volume only.
        header.dim[0] = 3;
        header.dim[4..].fill(1);
        let head = raw[..HEADER_BYTES].to_vec();
        // The voxel data in place, without a copy.
        raw.truncate(offset + need);
        raw.drain(..offset);
        let data = raw;
        let volume = InMemNiftiVolume::from_raw_fields(
            header.dim,
            datatype,
            header.scl_slope,
            header.scl_inter,
            data,
            header.endianness,
        )
        .map_err(|e| bad(format!("unreadable voxel data ({e})")))?;
        let volume = Volume::from_nifti(Path::new(name), &header, volume)
            .map_err(|e| Error::bad_request(e.to_string()))?;
        if !volume.data.iter().any(|v| v.is_finite()) {
            return Err(bad(
                "every voxel is NaN or infinite: there is no image".into()
            ));
        }
        Ok(Self::new(&header, head, volume))
    }

    fn new(header: &NiftiHeader, head: Vec<u8>, volume: Volume) -> Self {
        let lowest = volume.data.iter().copied().fold(f32::INFINITY, f32::min);
        let modality = if lowest < -500.0 {
            Modality::Ct
        } else {
            Modality::Mri
        };
        // The training rule's window, found once: the model's picture and
        // the page's default window.
        let (lo, hi) = grey_window(&volume.data, modality, &VolumeOptions::default());
        let grey = grey_through(&volume.data, (lo, hi));
        let default = Windowing::spanning(lo, hi);
        let (display, range) = quantise(&volume.data);
        let orientation = Orientation::of(header);
        let axes = [0, 1, 2].map(|a| {
            if orientation.known {
                VIEWS[orientation.world[a]].to_string()
            } else {
                format!("axis {a}")
            }
        });
        let meta = VolumeMeta {
            dims: volume.dims,
            spacing: volume.spacing,
            axes,
            modality: if modality == Modality::Ct {
                "CT"
            } else {
                "MRI"
            }
            .to_string(),
        };
        Self {
            dims: volume.dims,
            spacing: volume.spacing,
            grey,
            display,
            intensities: Intensities { default, range },
            orientation,
            head,
            endianness: header.endianness,
            meta,
        }
    }

    /// Checks a slice position and says which plane it is.
    fn plane(&self, axis: usize, index: usize) -> Result<SliceAxes> {
        if axis > 2 {
            return Err(Error::bad_request(format!(
                "axis must be 0, 1 or 2, got {axis}"
            )));
        }
        if index >= self.dims[axis] {
            return Err(Error::bad_request(format!(
                "slice {index} is outside axis {axis}, which has {} slices",
                self.dims[axis]
            )));
        }
        Ok(self.orientation.plane(axis))
    }

    /// An error unless `axis` is 0–2 and `index` lies inside it.
    pub fn check_slice(&self, axis: usize, index: usize) -> Result<()> {
        self.plane(axis, index).map(|_| ())
    }

    /// The flat index of the voxel at column `c`, row `r` of slice `index` of `plane`.
    fn voxel(&self, axis: usize, index: usize, plane: SliceAxes, c: usize, r: usize) -> usize {
        let mut at = [0; 3];
        at[axis] = index;
        at[plane.cols] = if plane.flip_cols {
            self.dims[plane.cols] - 1 - c
        } else {
            c
        };
        at[plane.rows] = if plane.flip_rows {
            self.dims[plane.rows] - 1 - r
        } else {
            r
        };
        at[0] + self.dims[0] * (at[1] + self.dims[1] * at[2])
    }

    /// The voxel grid of a slice and the picture size it is shown at.
    fn sizes(&self, plane: SliceAxes) -> ((usize, usize), (u32, u32)) {
        let (w, h) = (self.dims[plane.cols], self.dims[plane.rows]);
        let (pw, ph) = physical_size(w, h, self.spacing[plane.cols], self.spacing[plane.rows]);
        if u64::from(pw) * u64::from(ph) > MAX_SLICE_PIXELS {
            ((w, h), (w as u32, h as u32))
        } else {
            ((w, h), (pw, ph))
        }
    }

    /// The picture size of slices along `axis`.
    pub fn slice_size(&self, axis: usize) -> Result<(u32, u32)> {
        Ok(self.sizes(self.plane(axis, 0)?).1)
    }

    /// Slice `index` along `axis` as the grey picture the model sees (and
    /// the page, unless it asks for another window).
    pub fn render(&self, axis: usize, index: usize) -> Result<RgbImage> {
        self.render_with(axis, index, |voxel| self.grey[voxel])
    }

    /// Slice `index` along `axis` shown through `window`: for the eye only.
    pub fn render_window(&self, axis: usize, index: usize, window: Windowing) -> Result<RgbImage> {
        let [lo, hi] = self.intensities.range;
        let step = (hi - lo) / f32::from(u16::MAX);
        let black = window.level - 0.5 * window.width;
        let scale = 255.0 / window.width;
        // One grey per 16-bit value, then a lookup per voxel.
        let grey: Vec<u8> = (0..=u16::MAX)
            .map(|q| {
                ((lo + f32::from(q) * step - black) * scale)
                    .clamp(0.0, 255.0)
                    .round() as u8
            })
            .collect();
        self.render_with(axis, index, |voxel| grey[usize::from(self.display[voxel])])
    }

    /// The slice picture whose pixels `grey` takes from voxel indices.
    fn render_with(
        &self,
        axis: usize,
        index: usize,
        grey: impl Fn(usize) -> u8,
    ) -> Result<RgbImage> {
        let plane = self.plane(axis, index)?;
        let ((w, h), (pw, ph)) = self.sizes(plane);
        let mut data = Vec::with_capacity(w * h);
        for r in 0..h {
            for c in 0..w {
                data.push(grey(self.voxel(axis, index, plane, c, r)));
            }
        }
        let mut grey = GrayImage::from_raw(w as u32, h as u32, data)
            .ok_or_else(|| Error::Internal("slice size mismatch".into()))?;
        if (pw, ph) != (w as u32, h as u32) {
            grey = resize(&grey, pw, ph, FilterType::Triangle);
        }
        Ok(DynamicImage::ImageLuma8(grey).to_rgb8())
    }

    /// Writes the labelled pixels of a slice's label map into `labels` (one
    /// byte per voxel, x fastest): each voxel takes the pixel under its
    /// centre; unlabelled pixels leave the voxel as it was.
    pub fn paint(
        &self,
        labels: &mut [u8],
        axis: usize,
        index: usize,
        map: &LabelMap,
    ) -> Result<()> {
        let plane = self.plane(axis, index)?;
        let ((w, h), _) = self.sizes(plane);
        let centre = |i: usize, n: usize, m: usize| {
            (((i as f64 + 0.5) * m as f64 / n as f64) as usize).min(m - 1)
        };
        if map.width == 0 || map.height == 0 || labels.len() != self.grey.len() {
            return Err(Error::Internal("label map or volume size mismatch".into()));
        }
        for r in 0..h {
            let py = centre(r, h, map.height);
            for c in 0..w {
                let value = map.data[py * map.width + centre(c, w, map.width)];
                if value != 0 {
                    labels[self.voxel(axis, index, plane, c, r)] = value;
                }
            }
        }
        Ok(())
    }

    /// `labels` (one byte per voxel, x fastest) as a gzipped NIfTI-1 file
    /// with the source's header: same dimensions, spacing, qform, sform and
    /// byte order; `uint8` data, intent "label", `cal_max` the largest value.
    pub fn label_nifti(&self, labels: &[u8]) -> Result<Vec<u8>> {
        let mut head = self.head.clone();
        let big = self.endianness == Endianness::Big;
        let mut put = |at: usize, bytes: [u8; 2]| head[at..at + 2].copy_from_slice(&bytes);
        let i16_bytes = |v: i16| {
            if big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        put(40, i16_bytes(3));
        for d in 4..8 {
            put(40 + 2 * d, i16_bytes(1));
        }
        put(68, i16_bytes(1002)); // NIFTI_INTENT_LABEL
        put(70, i16_bytes(2)); // NIFTI_TYPE_UINT8
        put(72, i16_bytes(8)); // bitpix
        let max = labels.iter().copied().max().unwrap_or(0);
        for (at, value) in [
            (56, 0.0),
            (60, 0.0),
            (64, 0.0),
            (108, 352.0),
            (112, 1.0),
            (116, 0.0),
            (124, f32::from(max)),
            (128, 0.0),
        ] {
            let bytes: [u8; 4] = if big {
                f32::to_be_bytes(value)
            } else {
                f32::to_le_bytes(value)
            };
            head[at..at + 4].copy_from_slice(&bytes);
        }
        let mut descrip = [0u8; 80];
        descrip[..15].copy_from_slice(b"scribseg labels");
        head[148..228].copy_from_slice(&descrip);
        head[344..348].copy_from_slice(b"n+1\0");
        // The header, an empty extension flag, the voxels.
        gzip(&[head.as_slice(), &[0u8; 4], labels])
            .map_err(|e| Error::Internal(format!("gzip: {e}")))
    }

    /// Voxels in the volume.
    pub fn voxels(&self) -> usize {
        self.grey.len()
    }
}

/// The intensities at 16 bits over their [`DISPLAY_PERCENTILES`] span (values
/// beyond it clipped, NaN black), with that span.
fn quantise(data: &[f32]) -> (Vec<u16>, [f32; 2]) {
    let lo = percentile(data, DISPLAY_PERCENTILES.0);
    let hi = percentile(data, DISPLAY_PERCENTILES.1).max(lo);
    let scale = f32::from(u16::MAX) / (hi - lo).max(f32::EPSILON);
    let display = data
        .iter()
        .map(|&v| {
            if v.is_nan() {
                0
            } else {
                ((v - lo) * scale).clamp(0.0, f32::from(u16::MAX)).round() as u16
            }
        })
        .collect();
    (display, [lo, hi])
}

fn gzip(parts: &[&[u8]]) -> std::io::Result<Vec<u8>> {
    let mut out = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    for part in parts {
        out.write_all(part)?;
    }
    out.finish()
}

fn check_magic(raw: &[u8]) -> std::result::Result<(), String> {
    if raw.len() < HEADER_BYTES {
        return Err(format!(
            "{} bytes is shorter than a NIfTI-1 header ({HEADER_BYTES} bytes): the file is truncated or not NIfTI",
            raw.len()
        ));
    }
    match &raw[344..348] {
        b"n+1\0" => Ok(()),
        b"ni1\0" => Err(
            "a header-only NIfTI (.hdr/.img pair): convert it to a single .nii or .nii.gz".into(),
        ),
        _ if raw[..4] == 540i32.to_le_bytes() || raw[..4] == 540i32.to_be_bytes() => {
            Err("NIfTI-2 is not supported: save it as NIfTI-1".into())
        }
        _ => Err("not a NIfTI-1 file (no \"n+1\" magic at byte 344)".into()),
    }
}

/// Scalar types the conversion to floats reads.
fn scalar(t: NiftiType) -> bool {
    use NiftiType::*;
    matches!(
        t,
        Uint8 | Int8 | Uint16 | Int16 | Uint32 | Int32 | Uint64 | Int64 | Float32 | Float64
    )
}

impl Orientation {
    /// From the sform when set, else the qform, else the identity.
    fn of(header: &NiftiHeader) -> Self {
        let mut m = [[1.0f32, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
        if header.sform_code > 0 {
            for (row, srow) in m
                .iter_mut()
                .zip([header.srow_x, header.srow_y, header.srow_z])
            {
                row.copy_from_slice(&srow[..3]);
            }
        } else if header.qform_code > 0 {
            let (b, c, d) = (header.quatern_b, header.quatern_c, header.quatern_d);
            let a = (1.0 - b * b - c * c - d * d).max(0.0).sqrt();
            let qfac = if header.pixdim[0] < 0.0 { -1.0 } else { 1.0 };
            m = [
                [
                    a * a + b * b - c * c - d * d,
                    2.0 * (b * c - a * d),
                    qfac * 2.0 * (b * d + a * c),
                ],
                [
                    2.0 * (b * c + a * d),
                    a * a + c * c - b * b - d * d,
                    qfac * 2.0 * (c * d - a * b),
                ],
                [
                    2.0 * (b * d - a * c),
                    2.0 * (c * d + a * b),
                    qfac * (a * a + d * d - c * c - b * b),
                ],
            ];
        }
        // Per voxel axis: the patient axis with the largest component, and its sign.
        let dominant = [0, 1, 2].map(|axis| {
            (0..3)
                .map(|w| (w, m[w][axis]))
                .fold((0, 0.0f32), |best, (w, v)| {
                    if v.abs() > best.1.abs() {
                        (w, v)
                    } else {
                        best
                    }
                })
        });
        let world = dominant.map(|(w, _)| w);
        let positive = dominant.map(|(_, v)| v >= 0.0);
        let known = world.contains(&0) && world.contains(&1) && world.contains(&2);
        Self {
            world,
            positive,
            known,
        }
    }

    /// The columns run along the in-plane axis closest to the lower patient
    /// axis (x before y before z), each reversed when its index grows
    /// towards + (screen right is patient left or posterior, screen down is
    /// posterior or inferior).
    fn plane(&self, axis: usize) -> SliceAxes {
        let (p, q) = match axis {
            0 => (1, 2),
            1 => (0, 2),
            _ => (0, 1),
        };
        if !self.known {
            return SliceAxes {
                cols: p,
                rows: q,
                flip_cols: false,
                flip_rows: false,
            };
        }
        let (cols, rows) = if self.world[p] < self.world[q] {
            (p, q)
        } else {
            (q, p)
        };
        SliceAxes {
            cols,
            rows,
            flip_cols: self.positive[cols],
            flip_rows: self.positive[rows],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(dims: [u16; 3]) -> NiftiHeader {
        let mut h = NiftiHeader {
            dim: [3, dims[0], dims[1], dims[2], 1, 1, 1, 1],
            pixdim: [1.0, 1.0, 1.0, 2.0, 1.0, 1.0, 1.0, 1.0],
            ..NiftiHeader::default()
        };
        h.sform_code = 1;
        h.srow_x = [-1.0, 0.0, 0.0, 0.0];
        h.srow_y = [0.0, 1.0, 0.0, 0.0];
        h.srow_z = [0.0, 0.0, 2.0, 0.0];
        h
    }

    fn loaded(dims: [usize; 3]) -> Loaded {
        let n = dims.iter().product::<usize>();
        let volume = Volume {
            dims,
            spacing: [1.0, 1.0, 2.0],
            data: (0..n).map(|v| v as f32).collect(),
        };
        let h = header(dims.map(|d| d as u16));
        Loaded::new(&h, vec![0; HEADER_BYTES], volume)
    }

    #[test]
    fn axes_are_named_and_slices_have_physical_aspect() {
        let v = loaded([4, 3, 2]);
        assert_eq!(v.meta.axes, ["sagittal", "coronal", "axial"]);
        assert_eq!(v.meta.modality, "MRI");
        assert_eq!(v.slice_size(2).expect("axial"), (4, 3));
        assert_eq!(v.slice_size(1).expect("coronal"), (4, 4), "z is 2 mm");
        assert_eq!(v.slice_size(0).expect("sagittal"), (3, 4));
        assert!(v.render(2, 2).is_err());
        assert!(v.render(3, 0).is_err());
    }

    #[test]
    fn painting_a_slice_maps_pixels_back_to_voxels() {
        let v = loaded([4, 3, 2]);
        // x runs towards patient left (srow_x negative): not flipped; y is.
        let plane = v.plane(2, 1).expect("plane");
        assert!(!plane.flip_cols && plane.flip_rows);
        let map = LabelMap {
            width: 4,
            height: 3,
            data: vec![0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0],
            millis: 0,
        };
        let mut labels = vec![0u8; v.voxels()];
        v.paint(&mut labels, 2, 1, &map).expect("paint");
        // Pixel (0, 2) is x 0 and, rows flipped, y 0, in slice z 1.
        let set: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == 7).collect();
        assert_eq!(set, vec![12]);
        // A coronal slice is stretched ×2 in z: both rows of a voxel agree.
        let map = LabelMap {
            width: 4,
            height: 4,
            data: [[0u8; 4], [0; 4], [3, 0, 0, 0], [3, 0, 0, 0]].concat(),
            millis: 0,
        };
        let mut labels = vec![0u8; v.voxels()];
        v.paint(&mut labels, 1, 2, &map).expect("paint");
        let set: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == 3).collect();
        assert_eq!(set, vec![2 * 4], "x 0, y 2, z 0 (z flipped: bottom rows)");
    }

    /// Why `a.nii` holding `bytes` is refused; panics if it loads.
    fn err(bytes: &[u8]) -> String {
        Loaded::parse("a.nii", bytes)
            .expect_err("refused")
            .to_string()
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        assert!(err(b"hello").contains("shorter than a NIfTI-1 header"));
        assert!(err(&[0u8; 400]).contains("not a NIfTI-1 file"));
        let mut gz = gzip(&[&[7u8; 4000]]).expect("gzip");
        gz.truncate(gz.len() / 2);
        assert!(err(&gz).contains("gzip stream is truncated"));
    }

    /// A little-endian NIfTI-1 header (`vox_offset` 352) of `dims` voxels
    /// of NIfTI type `datatype` with `bitpix` bits.
    fn raw_header(dims: [i16; 3], datatype: i16, bitpix: i16) -> Vec<u8> {
        let mut b = vec![0u8; 352];
        b[..4].copy_from_slice(&348i32.to_le_bytes());
        let dim = [3, dims[0], dims[1], dims[2], 1, 1, 1, 1];
        for (i, d) in dim.iter().enumerate() {
            b[40 + 2 * i..42 + 2 * i].copy_from_slice(&d.to_le_bytes());
        }
        b[70..72].copy_from_slice(&datatype.to_le_bytes());
        b[72..74].copy_from_slice(&bitpix.to_le_bytes());
        for i in 0..8 {
            b[76 + 4 * i..80 + 4 * i].copy_from_slice(&1f32.to_le_bytes());
        }
        b[108..112].copy_from_slice(&352f32.to_le_bytes());
        b[344..348].copy_from_slice(b"n+1\0");
        b
    }

    #[test]
    fn a_gzip_inflates_no_further_than_its_header_declares() {
        // 8×8×8 bytes of voxels, then 64 MiB of zeros in the same stream:
        // read up to the declared end, the rest never inflated.
        let head = raw_header([8, 8, 8], 2, 8);
        let voxels = vec![9u8; 512];
        let tail = vec![0u8; 64 << 20];
        let bomb = gzip(&[&head, &voxels, &tail]).expect("gzip");
        assert!(bomb.len() < 1 << 20, "{} bytes", bomb.len());
        let v = Loaded::parse("bomb.nii.gz", &bomb).expect("the declared volume");
        assert_eq!(v.voxels(), 512);

        // A header that declares 2 GiB of float64 voxels is refused before
        // any voxel is inflated.
        let head = raw_header([512, 512, 1024], 64, 64);
        let huge = gzip(&[&head, &vec![0u8; 1 << 20]]).expect("gzip");
        let err = Loaded::parse("huge.nii.gz", &huge)
            .expect_err("refused")
            .to_string();
        assert!(err.contains("over the limit of 1024 MiB"), "{err}");
    }

    #[test]
    fn nan_in_the_header_or_only_nan_voxels_is_refused() {
        let volume = |head: Vec<u8>, voxels: &[u8]| [head, voxels.to_vec()].concat();
        let ok = raw_header([2, 2, 2], 2, 8);
        assert!(Loaded::parse("a.nii", &volume(ok.clone(), &[5; 8])).is_ok());

        let mut slope = ok.clone();
        slope[112..116].copy_from_slice(&f32::NAN.to_le_bytes());
        assert!(err(&volume(slope, &[5; 8])).contains("not a number"));
        let mut pixdim = ok.clone();
        pixdim[80..84].copy_from_slice(&f32::INFINITY.to_le_bytes());
        assert!(err(&volume(pixdim, &[5; 8])).contains("not a number"));
        let mut size = ok;
        size[..4].copy_from_slice(&540i32.to_le_bytes());
        assert!(err(&volume(size, &[5; 8])).contains("header says it is 540 bytes"));

        // Float32 voxels, every one NaN.
        let nans: Vec<u8> = (0..8).flat_map(|_| f32::NAN.to_le_bytes()).collect();
        let all_nan = volume(raw_header([2, 2, 2], 16, 32), &nans);
        assert!(err(&all_nan).contains("every voxel is NaN"));
    }

    /// A CT-like volume: air at −1000 HU, then values rising to 1,000 HU.
    fn ct(dims: [usize; 3]) -> Loaded {
        let n = dims.iter().product::<usize>();
        let volume = Volume {
            dims,
            spacing: [1.0, 1.0, 1.0],
            data: (0..n)
                .map(|v| {
                    if v == 0 {
                        -1000.0
                    } else {
                        2000.0 * v as f32 / n as f32 - 1000.0
                    }
                })
                .collect(),
        };
        Loaded::new(
            &header(dims.map(|d| d as u16)),
            vec![0; HEADER_BYTES],
            volume,
        )
    }

    #[test]
    fn a_display_window_changes_the_picture_but_not_what_the_model_sees() {
        let v = ct([16, 16, 4]);
        assert_eq!(v.meta.modality, "CT");
        let soft = Windowing {
            level: 40.0,
            width: 400.0,
        };
        assert_eq!(v.intensities.default, soft, "the training window");
        let [lo, hi] = v.intensities.range;
        assert!(lo < -900.0 && hi > 900.0, "range {lo}..{hi}");
        let model = v.render(2, 1).expect("render");
        // The default window through the 16-bit copy: the model's picture
        // within one grey level.
        let shown = v.render_window(2, 1, soft).expect("render");
        assert!(model
            .pixels()
            .zip(shown.pixels())
            .all(|(a, b)| a[0].abs_diff(b[0]) <= 1));
        // A wide window shows intensities the soft-tissue window saturates.
        let wide = Windowing {
            level: 0.0,
            width: 2000.0,
        };
        // Slice z 2 holds 0 to 500 HU: above 240 the soft-tissue window is white.
        let white = |img: &RgbImage| img.pixels().filter(|p| p[0] == 255).count();
        let model = v.render(2, 2).expect("render");
        let wide_picture = v.render_window(2, 2, wide).expect("render");
        assert!(white(&model) > 100, "{} white", white(&model));
        assert_eq!(white(&wide_picture), 0);
        // The model's picture is the same after any window was shown.
        assert_eq!(v.render(2, 2).expect("render"), model);
        assert_eq!(v.bytes(), 3 * v.voxels(), "grey plus the 16-bit copy");
    }

    #[test]
    fn a_window_needs_a_finite_level_and_a_positive_width() {
        for (level, width) in [
            (0.0, 0.0),
            (0.0, -5.0),
            (f32::NAN, 10.0),
            (0.0, f32::INFINITY),
        ] {
            let err = Windowing { level, width }.check().expect_err("refused");
            assert!(err.to_string().contains("positive finite width"), "{err}");
        }
        assert!(Windowing {
            level: -600.0,
            width: 1500.0
        }
        .check()
        .is_ok());
    }
}

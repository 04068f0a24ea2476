//! Label maps stored in MATLAB level-5 `.mat` files (Clothing Co-Parsing's
//! `annotations/pixel-level/*.mat`).
//!
//! Hand-written because the one maintained reader for these files is alpha
//! and brings its own parser and inflater; this reads only what a label map
//! needs (numeric 2-D arrays, compressed or not, either byte order) with
//! `flate2`, which the crate already uses, and bounds every size by the
//! file's and by [`MAX_BYTES`].

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};
use crate::index_png::IndexImage;

/// The largest file, and the largest inflated array, read (256 MiB).
pub const MAX_BYTES: usize = 256 << 20;

/// Data element types of the format.
const MI_INT8: u32 = 1;
const MI_UINT8: u32 = 2;
const MI_INT16: u32 = 3;
const MI_UINT16: u32 = 4;
const MI_INT32: u32 = 5;
const MI_UINT32: u32 = 6;
const MI_SINGLE: u32 = 7;
const MI_DOUBLE: u32 = 9;
const MI_INT64: u32 = 12;
const MI_UINT64: u32 = 13;
const MI_MATRIX: u32 = 14;
const MI_COMPRESSED: u32 = 15;

/// Reads the first 2-D numeric array of a `.mat` file as a row-major label
/// map of values 0–255 (MATLAB stores columns first).
pub(crate) fn read_mat_labels(path: &Path) -> Result<IndexImage> {
    let bad = |why: String| Error::invalid(path, format!("MAT file: {why}"));
    let size = std::fs::metadata(path)
        .map_err(|e| Error::io(path, e))?
        .len();
    if size > MAX_BYTES as u64 {
        return Err(bad(format!("{size} bytes, more than the {MAX_BYTES} read")));
    }
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    if bytes.len() < 128 {
        return Err(bad("shorter than the 128-byte header".into()));
    }
    let big_endian = match &bytes[126..128] {
        b"IM" => false,
        b"MI" => true,
        _ => return Err(bad("not a level-5 MAT file (no endian mark)".into())),
    };
    let mut reader = Reader {
        bytes: &bytes[128..],
        big_endian,
    };
    while !reader.bytes.is_empty() {
        let (kind, body) = reader.element().map_err(bad)?;
        let matrix = match kind {
            MI_COMPRESSED => inflate(body).map_err(bad)?,
            MI_MATRIX => body.to_vec(),
            _ => continue,
        };
        let mut inner = Reader {
            bytes: &matrix,
            big_endian,
        };
        let (kind, body) = if kind == MI_COMPRESSED {
            inner.element().map_err(bad)?
        } else {
            (MI_MATRIX, matrix.as_slice())
        };
        if kind != MI_MATRIX {
            continue;
        }
        if let Some(image) = label_matrix(body, big_endian).map_err(bad)? {
            return Ok(image);
        }
    }
    Err(bad("no 2-D numeric array".into()))
}

/// Inflates a compressed element, at most [`MAX_BYTES`].
fn inflate(body: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(body)
        .take(MAX_BYTES as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("corrupt compressed element: {e}"))?;
    if out.len() > MAX_BYTES {
        return Err(format!(
            "a compressed element inflates past {MAX_BYTES} bytes"
        ));
    }
    Ok(out)
}

/// Reads a matrix element's sub-elements; `None` when it is not a 2-D
/// numeric array (a struct, a cell, a string, a 3-D array).
fn label_matrix(body: &[u8], big_endian: bool) -> std::result::Result<Option<IndexImage>, String> {
    let mut r = Reader {
        bytes: body,
        big_endian,
    };
    let (_, flags) = r.element()?;
    let class = flags.first().copied().unwrap_or(0);
    let numeric = (6..=15).contains(&class); // mxDOUBLE_CLASS … mxUINT64_CLASS
    let (dim_kind, dims) = r.element()?;
    if !numeric || dim_kind != MI_INT32 || dims.len() != 8 {
        return Ok(None);
    }
    let rows = r.u32_at(dims, 0) as usize;
    let cols = r.u32_at(dims, 4) as usize;
    let _name = r.element()?;
    let (kind, data) = r.element()?;
    let width = element_width(kind).ok_or_else(|| format!("unknown data type {kind}"))?;
    let count = rows
        .checked_mul(cols)
        .filter(|&n| n > 0 && n.saturating_mul(width) == data.len())
        .ok_or_else(|| {
            format!(
                "a {rows}×{cols} array holds {} bytes of type {kind}",
                data.len()
            )
        })?;
    let mut values = vec![0u8; count];
    for (i, chunk) in data.chunks_exact(width).enumerate() {
        let v = r.number(kind, chunk);
        if !(v.is_finite() && v.fract() == 0.0 && (0.0..=255.0).contains(&v)) {
            return Err(format!("label {v} is not an integer in 0–255"));
        }
        let (row, col) = (i % rows, i / rows);
        values[row * cols + col] = v as u8;
    }
    Ok(Some(IndexImage {
        width: cols,
        height: rows,
        values,
    }))
}

/// Bytes per value of a numeric data type.
fn element_width(kind: u32) -> Option<usize> {
    match kind {
        MI_INT8 | MI_UINT8 => Some(1),
        MI_INT16 | MI_UINT16 => Some(2),
        MI_INT32 | MI_UINT32 | MI_SINGLE => Some(4),
        MI_DOUBLE | MI_INT64 | MI_UINT64 => Some(8),
        _ => None,
    }
}

/// A cursor over data elements.
struct Reader<'a> {
    bytes: &'a [u8],
    big_endian: bool,
}

impl<'a> Reader<'a> {
    fn u32_at(&self, bytes: &[u8], at: usize) -> u32 {
        let b: [u8; 4] = bytes[at..at + 4].try_into().expect("four bytes");
        if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    }

    /// The next element's type and body; uncompressed elements are padded
    /// to 8 bytes, small ones packed into their tag.
    fn element(&mut self) -> std::result::Result<(u32, &'a [u8]), String> {
        if self.bytes.len() < 8 {
            return Err("truncated element tag".into());
        }
        let first = self.u32_at(self.bytes, 0);
        // A small data element packs its length into the first word's high half (in either
        // byte order, read in the file's order).
        let (small_kind, small_len) = (first & 0xffff, first >> 16);
        if small_len != 0 {
            let len = small_len as usize;
            if len > 4 {
                return Err("malformed small element".into());
            }
            let body = &self.bytes[4..4 + len];
            self.bytes = &self.bytes[8..];
            return Ok((small_kind, body));
        }
        let len = self.u32_at(self.bytes, 4) as usize;
        let rest = &self.bytes[8..];
        if len > rest.len() {
            return Err(format!(
                "an element of {len} bytes where {} remain (truncated?)",
                rest.len()
            ));
        }
        let padded = if first == MI_COMPRESSED {
            len
        } else {
            len.next_multiple_of(8).min(rest.len())
        };
        self.bytes = &rest[padded..];
        Ok((first, &rest[..len]))
    }

    /// Value `bytes` of data type `kind` as a float.
    fn number(&self, kind: u32, bytes: &[u8]) -> f64 {
        let mut b = [0u8; 8];
        b[..bytes.len()].copy_from_slice(bytes);
        if self.big_endian {
            b[..bytes.len()].reverse();
        }
        match kind {
            MI_INT8 => f64::from(b[0] as i8),
            MI_UINT8 => f64::from(b[0]),
            MI_INT16 => f64::from(i16::from_le_bytes([b[0], b[1]])),
            MI_UINT16 => f64::from(u16::from_le_bytes([b[0], b[1]])),
            MI_INT32 => f64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            MI_UINT32 => f64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            MI_SINGLE => f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            MI_DOUBLE => f64::from_le_bytes(b),
            MI_INT64 => i64::from_le_bytes(b) as f64,
            _ => u64::from_le_bytes(b) as f64,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;

    /// One element: tag, body, padding to 8 bytes.
    fn element(kind: u32, body: &[u8]) -> Vec<u8> {
        let mut out = kind.to_le_bytes().to_vec();
        out.extend((body.len() as u32).to_le_bytes());
        out.extend(body);
        out.resize(out.len().next_multiple_of(8), 0);
        out
    }

    /// A level-5 MAT file holding `name`, a `rows × cols` uint8 array given
    /// row-major, optionally compressed (as MATLAB's `save` writes it).
    pub(crate) fn mat_file(
        name: &str,
        rows: usize,
        cols: usize,
        row_major: &[u8],
        compress: bool,
    ) -> Vec<u8> {
        let mut column_major = vec![0u8; rows * cols];
        for r in 0..rows {
            for c in 0..cols {
                column_major[c * rows + r] = row_major[r * cols + c];
            }
        }
        let flags = [9u8, 0, 0, 0, 0, 0, 0, 0]; // mxUINT8_CLASS
        let mut dims = (rows as i32).to_le_bytes().to_vec();
        dims.extend((cols as i32).to_le_bytes());
        let mut matrix = element(MI_UINT32, &flags);
        matrix.extend(element(MI_INT32, &dims));
        matrix.extend(element(MI_INT8, name.as_bytes()));
        matrix.extend(element(MI_UINT8, &column_major));
        let matrix = element(MI_MATRIX, &matrix);
        let mut header = b"MATLAB 5.0 MAT-file, written by a scribseg test".to_vec();
        header.resize(124, b' ');
        header.extend([0x00, 0x01]);
        header.extend(b"IM");
        if compress {
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            z.write_all(&matrix).expect("deflate");
            let z = z.finish().expect("deflate");
            let mut tag = MI_COMPRESSED.to_le_bytes().to_vec();
            tag.extend((z.len() as u32).to_le_bytes());
            header.extend(tag);
            header.extend(z);
        } else {
            header.extend(matrix);
        }
        header
    }

    #[test]
    fn compressed_and_plain_uint8_arrays_read_row_major() {
        let dir = tempfile::tempdir().expect("tempdir");
        let values: Vec<u8> = (0..12).map(|i| (i * 7 % 41) as u8).collect();
        for compress in [false, true] {
            let path = dir.path().join(format!("g{compress}.mat"));
            std::fs::write(&path, mat_file("groundtruth", 3, 4, &values, compress)).expect("write");
            let image = read_mat_labels(&path).expect("reads");
            assert_eq!((image.width, image.height), (4, 3));
            assert_eq!(image.values, values, "compressed: {compress}");
        }
    }

    #[test]
    fn damaged_files_are_named_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let good = mat_file("groundtruth", 8, 8, &[1; 64], true);
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("short.mat", good[..60].to_vec()),
            ("cut.mat", good[..good.len() - 10].to_vec()),
            ("text.mat", b"not a mat file at all".repeat(10)),
        ];
        for (name, bytes) in cases {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).expect("write");
            let err = read_mat_labels(&path).expect_err(name).to_string();
            assert!(err.contains(name) && err.contains("MAT file"), "{err}");
        }
    }
}

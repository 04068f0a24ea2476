//! Byte-level coding for shard records: LEB128 varints, strings, byte blobs and masks.

use scribseg_sim::Mask;

use crate::runs::{decode_runs, encode_runs};

/// Appends `v` as an unsigned LEB128 varint.
pub(super) fn put_varint(out: &mut Vec<u8>, mut v: u32) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends a length-prefixed byte blob.
pub(super) fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_varint(out, bytes.len() as u32);
    out.extend_from_slice(bytes);
}

/// Appends a mask as row-major run lengths (background first).
pub(super) fn put_mask(out: &mut Vec<u8>, mask: &Mask) {
    let runs = encode_runs(mask.as_slice().iter().map(|&v| v != 0));
    put_varint(out, runs.len() as u32);
    for r in runs {
        put_varint(out, r);
    }
}

/// A read position in a record; every getter returns `None` when the record is truncated.
pub(super) struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Cursor { bytes, pos: 0 }
    }

    pub(super) fn varint(&mut self) -> Option<u32> {
        let mut v = 0u32;
        for shift in (0..35).step_by(7) {
            let b = *self.bytes.get(self.pos)?;
            self.pos += 1;
            v |= u32::from(b & 0x7f).checked_shl(shift)?;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }

    pub(super) fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.varint()? as usize;
        let out = self.bytes.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(out)
    }

    pub(super) fn string(&mut self) -> Option<String> {
        Some(String::from_utf8_lossy(self.bytes()?).into_owned())
    }

    pub(super) fn mask(&mut self, width: usize, height: usize) -> Option<Mask> {
        let n = self.varint()? as usize;
        let mut runs = Vec::with_capacity(n.min(width * height + 1));
        for _ in 0..n {
            runs.push(self.varint()?);
        }
        Mask::from_vec(width, height, decode_runs(&runs, width * height)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_blobs_and_masks_round_trip() {
        let mask = Mask::from_fn(7, 5, |x, y| (x + y) % 3 == 0);
        let mut buf = Vec::new();
        for v in [0, 1, 127, 128, 300, u32::MAX] {
            put_varint(&mut buf, v);
        }
        put_bytes(&mut buf, b"hello");
        put_mask(&mut buf, &mask);
        let mut c = Cursor::new(&buf);
        for v in [0, 1, 127, 128, 300, u32::MAX] {
            assert_eq!(c.varint(), Some(v));
        }
        assert_eq!(c.string().as_deref(), Some("hello"));
        assert_eq!(c.mask(7, 5), Some(mask));
        assert_eq!(c.varint(), None, "end of record");
    }

    #[test]
    fn truncation_is_detected() {
        let mut buf = Vec::new();
        put_bytes(&mut buf, b"hello");
        assert_eq!(Cursor::new(&buf[..4]).bytes(), None);
        let mut buf = Vec::new();
        put_mask(&mut buf, &Mask::from_fn(4, 4, |x, _| x == 1));
        assert_eq!(
            Cursor::new(&buf).mask(4, 3),
            None,
            "runs must cover the size"
        );
    }
}

//! COCO run-length encoding: column-major runs, plain or in COCO's compressed string form.

use scribseg_sim::Mask;

use crate::runs::{decode_runs, encode_runs};

/// A COCO RLE: run lengths over the pixels in column-major (Fortran) order,
/// starting with a run of background.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rle {
    /// Image height.
    pub height: usize,
    /// Image width.
    pub width: usize,
    /// Alternating run lengths, background first.
    pub counts: Vec<u32>,
}

impl Rle {
    /// Encodes a mask.
    pub fn from_mask(mask: &Mask) -> Self {
        let (w, h) = (mask.width(), mask.height());
        let column_major = (0..w).flat_map(|x| (0..h).map(move |y| (x, y)));
        let counts = encode_runs(column_major.map(|(x, y)| mask.get(x as isize, y as isize)));
        Rle {
            height: h,
            width: w,
            counts,
        }
    }

    /// Decodes to a mask; `None` when the runs do not cover exactly `width × height` pixels.
    pub fn to_mask(&self) -> Option<Mask> {
        let (w, h) = (self.width, self.height);
        let column_major = decode_runs(&self.counts, w * h)?;
        let mut row_major = vec![0u8; w * h];
        for (x, column) in column_major.chunks_exact(h.max(1)).enumerate().take(w) {
            for (y, &v) in column.iter().enumerate() {
                row_major[y * w + x] = v;
            }
        }
        Mask::from_vec(w, h, row_major)
    }

    /// Parses COCO's compressed string (pycocotools `rleFrString`): each count
    /// is delta-coded against the count two places back (from the third on)
    /// and written as 5-bit groups with a continuation bit, offset by `'0'`.
    ///
    /// Returns `None` for characters outside the alphabet, a truncated group
    /// or a count that goes negative.
    pub fn from_compressed(s: &str, height: usize, width: usize) -> Option<Self> {
        let bytes = s.as_bytes();
        let mut counts: Vec<u32> = Vec::new();
        let mut p = 0;
        while p < bytes.len() {
            let mut x: i64 = 0;
            let mut k = 0;
            loop {
                let c = i64::from(bytes.get(p)?.checked_sub(48).filter(|&c| c < 64)?);
                x |= (c & 0x1f) << (5 * k);
                p += 1;
                k += 1;
                if c & 0x20 == 0 {
                    if c & 0x10 != 0 {
                        x |= -1i64 << (5 * k);
                    }
                    break;
                }
                if k > 7 {
                    return None;
                }
            }
            if counts.len() > 2 {
                x += i64::from(counts[counts.len() - 2]);
            }
            counts.push(u32::try_from(x).ok()?);
        }
        Some(Rle {
            height,
            width,
            counts,
        })
    }

    /// Writes COCO's compressed string (pycocotools `rleToString`).
    pub fn to_compressed(&self) -> String {
        let mut s = String::new();
        for (i, &c) in self.counts.iter().enumerate() {
            let mut x = i64::from(c);
            if i > 2 {
                x -= i64::from(self.counts[i - 2]);
            }
            loop {
                let mut c = (x & 0x1f) as u8;
                x >>= 5;
                let more = if c & 0x10 != 0 { x != -1 } else { x != 0 };
                if more {
                    c |= 0x20;
                }
                s.push(char::from(c + 48));
                if !more {
                    break;
                }
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3×4 (h × w) mask, column-major `0 1 1 | 0 0 0 | 1 1 1 | 0 0 1`.
    fn small() -> Mask {
        let cols = [[0, 1, 1], [0, 0, 0], [1, 1, 1], [0, 0, 1]];
        Mask::from_fn(4, 3, |x, y| cols[x][y] == 1)
    }

    #[test]
    fn uncompressed_counts_are_column_major() {
        let rle = Rle::from_mask(&small());
        assert_eq!(rle.counts, vec![1, 2, 3, 3, 2, 1]);
        assert_eq!(rle.to_mask().expect("valid"), small());
    }

    #[test]
    fn hand_made_strings_decode() {
        // Strings produced by pycocotools.mask.encode on the arrays noted.
        let cases: &[(&str, usize, usize, &[u32])] = &[
            // np.zeros((2, 2)), all background
            ("4", 2, 2, &[4]),
            // 3×4 `small()` above
            ("1231ON", 3, 4, &[1, 2, 3, 3, 2, 1]),
            // runs [0, 100, 28]: big counts use several groups
            ("0T3l0", 8, 16, &[0, 100, 28]),
            // runs with negative deltas against the count two back
            ("5\\92nFRl0GhIa2", 50, 40, &[5, 300, 2, 10, 900, 1, 700, 82]),
        ];
        for &(s, h, w, counts) in cases {
            let rle = Rle::from_compressed(s, h, w).expect(s);
            assert_eq!(rle.counts, counts, "{s}");
        }
    }

    #[test]
    fn compressed_round_trip_with_negative_deltas() {
        let rle = Rle {
            height: 50,
            width: 40,
            counts: vec![5, 300, 2, 10, 900, 1, 700, 82],
        };
        let s = rle.to_compressed();
        assert_eq!(Rle::from_compressed(&s, 50, 40), Some(rle));
    }

    #[test]
    fn bad_strings_are_rejected() {
        assert_eq!(Rle::from_compressed("1\u{7f}", 2, 2), None);
        // A continuation bit with nothing after it.
        assert_eq!(Rle::from_compressed("P", 2, 2), None);
        let wrong_total = Rle::from_compressed("15", 2, 2).expect("parses");
        assert_eq!(wrong_total.to_mask(), None);
    }
}

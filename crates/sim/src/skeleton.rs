//! Zhang–Suen thinning ("A fast parallel algorithm for thinning digital
//! patterns", 1984), the skeleton the paper samples scribble points from.
//!
//! Hand-written: imageproc has no thinning. Two lookup tables decide, from a
//! pixel's 8-neighbourhood code, whether each sub-iteration deletes it, and
//! only pixels next to the background are ever examined, so the cost is the
//! object's area plus its boundary length per iteration rather than the
//! whole image per iteration.

use crate::mask::Mask;

/// Neighbour offsets in the order P2..P9 of the paper: N, NE, E, SE, S, SW,
/// W, NW (clockwise on screen, y down; the even ones are a step along an axis).
pub(crate) const NEIGHBOURS: [(isize, isize); 8] = [
    (0, -1),
    (1, -1),
    (1, 0),
    (1, 1),
    (0, 1),
    (-1, 1),
    (-1, 0),
    (-1, -1),
];

/// `TABLES[s][code]`: whether sub-iteration `s` deletes a pixel whose
/// neighbours P2..P9 are the bits 0..7 of `code`.
const TABLES: [[bool; 256]; 2] = [build_table(0), build_table(1)];

const fn bit(code: usize, i: usize) -> usize {
    (code >> i) & 1
}

const fn build_table(step: usize) -> [bool; 256] {
    let mut table = [false; 256];
    let mut code = 0;
    while code < 256 {
        let b = bit(code, 0)
            + bit(code, 1)
            + bit(code, 2)
            + bit(code, 3)
            + bit(code, 4)
            + bit(code, 5)
            + bit(code, 6)
            + bit(code, 7);
        let mut a = 0;
        let mut i = 0;
        while i < 8 {
            if bit(code, i) == 0 && bit(code, (i + 1) % 8) == 1 {
                a += 1;
            }
            i += 1;
        }
        // P2 = bit 0, P4 = bit 2, P6 = bit 4, P8 = bit 6.
        let (p2, p4, p6, p8) = (bit(code, 0), bit(code, 2), bit(code, 4), bit(code, 6));
        let directional = if step == 0 {
            p2 * p4 * p6 == 0 && p4 * p6 * p8 == 0
        } else {
            p2 * p4 * p8 == 0 && p2 * p6 * p8 == 0
        };
        table[code] = b >= 2 && b <= 6 && a == 1 && directional;
        code += 1;
    }
    table
}

/// The Zhang–Suen skeleton of `mask`: one-pixel-wide, 8-connected for each
/// 8-connected component. Pixels on the image border are treated as having
/// background outside.
pub fn skeletonize(mask: &Mask) -> Mask {
    let (w, h) = (mask.width(), mask.height());
    // Work on a copy with a one-pixel background border so that every
    // neighbour is a plain index: `i ± 1`, `i ± stride`.
    let stride = w + 2;
    let mut img = vec![0u8; stride * (h + 2)];
    for y in 0..h {
        img[(y + 1) * stride + 1..(y + 1) * stride + 1 + w]
            .copy_from_slice(&mask.as_slice()[y * w..(y + 1) * w]);
    }
    let offsets: [isize; 8] = NEIGHBOURS.map(|(dx, dy)| dy * stride as isize + dx);
    let code_of = |img: &[u8], i: usize| -> usize {
        offsets.iter().enumerate().fold(0, |c, (k, &o)| {
            c | (usize::from(img[(i as isize + o) as usize]) << k)
        })
    };

    // Candidates: object pixels with at least one background neighbour.
    let mut queued = vec![false; img.len()];
    let mut candidates: Vec<usize> = Vec::new();
    for y in 1..=h {
        for i in y * stride + 1..y * stride + 1 + w {
            if img[i] != 0 && code_of(&img, i) != 0xFF {
                queued[i] = true;
                candidates.push(i);
            }
        }
    }

    let mut deleted: Vec<usize> = Vec::new();
    let mut idle_steps = 0;
    let mut step = 0;
    while idle_steps < 2 {
        deleted.clear();
        deleted.extend(
            candidates
                .iter()
                .copied()
                .filter(|&i| TABLES[step][code_of(&img, i)]),
        );
        for &i in &deleted {
            img[i] = 0;
            queued[i] = false;
        }
        for &i in &deleted {
            for &o in &offsets {
                let n = (i as isize + o) as usize;
                if img[n] != 0 && !queued[n] {
                    queued[n] = true;
                    candidates.push(n);
                }
            }
        }
        candidates.retain(|&i| img[i] != 0);
        idle_steps = if deleted.is_empty() {
            idle_steps + 1
        } else {
            0
        };
        step = 1 - step;
    }
    Mask::from_fn(w, h, |x, y| img[(y + 1) * stride + x + 1] != 0)
}

/// `mask` downsampled by `factor`: each `factor × factor` block takes its
/// centre pixel (thinning a coarse copy costs a fraction of the full one).
pub(crate) fn block_centres(mask: &Mask, factor: usize) -> Mask {
    if factor <= 1 {
        return mask.clone();
    }
    Mask::from_fn(
        mask.width().div_ceil(factor),
        mask.height().div_ceil(factor),
        |x, y| {
            let cx = (x * factor + factor / 2).min(mask.width() - 1);
            let cy = (y * factor + factor / 2).min(mask.height() - 1);
            mask.get(cx as isize, cy as isize)
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook twin: scan every pixel in every sub-iteration.
    fn naive(mask: &Mask) -> Mask {
        let mut img = mask.clone();
        let (w, h) = (mask.width(), mask.height());
        let mut step = 0;
        let mut idle = 0;
        while idle < 2 {
            let mut del = Vec::new();
            for y in 0..h as isize {
                for x in 0..w as isize {
                    if !img.get(x, y) {
                        continue;
                    }
                    let code = NEIGHBOURS.iter().enumerate().fold(0, |c, (i, (dx, dy))| {
                        c | (usize::from(img.get(x + dx, y + dy)) << i)
                    });
                    if TABLES[step][code] {
                        del.push((x as usize, y as usize));
                    }
                }
            }
            for &(x, y) in &del {
                img.set(x, y, false);
            }
            idle = if del.is_empty() { idle + 1 } else { 0 };
            step = 1 - step;
        }
        img
    }

    #[test]
    fn equals_the_full_scan_on_random_blobs() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for _ in 0..30 {
            let cx = rng.random_range(5.0..25.0);
            let cy = rng.random_range(5.0..25.0);
            let r = rng.random_range(3.0..12.0f32);
            let m = Mask::from_fn(30, 30, |x, y| {
                let d = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
                d < r || (y == 15 && x > 2) || rng.random::<f32>() < 0.05
            });
            assert_eq!(skeletonize(&m), naive(&m));
        }
    }

    #[test]
    fn a_bar_thins_to_its_middle_line() {
        let m = Mask::from_fn(40, 11, |x, y| (5..35).contains(&x) && (3..8).contains(&y));
        let s = skeletonize(&m);
        assert!(s.area() > 15, "skeleton too short: {}", s.area());
        for y in 0..11 {
            for x in 0..40 {
                if s.get(x, y) {
                    assert!((4..=6).contains(&y), "skeleton pixel off centre at {x},{y}");
                }
            }
        }
    }

    #[test]
    fn one_pixel_and_empty_survive() {
        let mut m = Mask::new(5, 5);
        assert!(skeletonize(&m).is_empty());
        m.set(2, 2, true);
        assert_eq!(skeletonize(&m).area(), 1);
    }
}

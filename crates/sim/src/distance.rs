//! Euclidean distance fields and dilation by any radius.
//!
//! Hand-written exact squared Euclidean distance transform
//! (Felzenszwalb & Huttenlocher, "Distance Transforms of Sampled Functions",
//! linear time) in `f32` with reused buffers. imageproc has the same
//! algorithm, but in `f64` over an `ImageBuffer` with an allocation per row;
//! it was a seventh of the simulator's time, and the simulator runs three
//! transforms per label inside the training loop.

use crate::mask::Mask;

/// A stand-in for "infinitely far" that survives additions.
const FAR: f32 = 1e20;

/// For each pixel, the Euclidean distance to the nearest *background* pixel
/// (0 on the background itself). Pixels outside the mask count as background
/// only if the mask has a background border; cut-outs from
/// [`components`](crate::components) always do.
pub fn distance_to_background(mask: &Mask) -> Vec<f32> {
    let mut d = squared_distance_to(mask.width(), mask.height(), |i| mask.as_slice()[i] == 0);
    for v in &mut d {
        *v = v.sqrt();
    }
    d
}

/// Pixels within Euclidean distance `radius` of an object pixel.
pub fn dilate(mask: &Mask, radius: f32) -> Mask {
    if mask.is_empty() || radius <= 0.0 {
        return mask.clone();
    }
    let r2 = radius * radius;
    let d2 = squared_distance_to(mask.width(), mask.height(), |i| mask.as_slice()[i] != 0);
    Mask::from_vec(
        mask.width(),
        mask.height(),
        d2.into_iter().map(|d| u8::from(d <= r2)).collect(),
    )
    .expect("same size")
}

/// Squared distance of each pixel to the nearest pixel `i` with `target(i)`
/// (`FAR` everywhere when there is none).
fn squared_distance_to(width: usize, height: usize, target: impl Fn(usize) -> bool) -> Vec<f32> {
    let mut grid: Vec<f32> = (0..width * height)
        .map(|i| if target(i) { 0.0 } else { FAR })
        .collect();
    let n = width.max(height);
    let mut scratch = Envelope::new(n);
    let mut line = vec![0.0f32; n];
    // Columns, then rows.
    for x in 0..width {
        for y in 0..height {
            line[y] = grid[y * width + x];
        }
        scratch.transform(&mut line[..height]);
        for y in 0..height {
            grid[y * width + x] = line[y];
        }
    }
    for row in grid.chunks_exact_mut(width) {
        scratch.transform(row);
    }
    grid
}

/// Buffers of the one-dimensional transform: the lower envelope of the
/// parabolas rooted at each sample.
struct Envelope {
    /// Roots of the parabolas in the envelope.
    roots: Vec<usize>,
    /// Boundaries between consecutive parabolas.
    bounds: Vec<f32>,
    /// The input line, copied.
    input: Vec<f32>,
}

impl Envelope {
    fn new(n: usize) -> Self {
        Self {
            roots: vec![0; n],
            bounds: vec![0.0; n + 1],
            input: vec![0.0; n],
        }
    }

    /// Replaces `f` by `min_q (p − q)² + f(q)` at every `p`.
    fn transform(&mut self, f: &mut [f32]) {
        let n = f.len();
        if n == 0 {
            return;
        }
        self.input[..n].copy_from_slice(f);
        let g = &self.input;
        let (v, z) = (&mut self.roots, &mut self.bounds);
        let mut k = 0usize;
        v[0] = 0;
        z[0] = f32::NEG_INFINITY;
        z[1] = f32::INFINITY;
        for q in 1..n {
            if g[q] >= FAR {
                continue;
            }
            if g[v[0]] >= FAR {
                // The envelope so far holds only "far" samples: restart at q.
                v[0] = q;
                continue;
            }
            // z[0] is −∞, so this pops at most down to k = 0.
            let s = loop {
                let p = v[k];
                let s = ((g[q] + (q * q) as f32) - (g[p] + (p * p) as f32))
                    / (2.0 * (q as f32 - p as f32));
                if s > z[k] {
                    break s;
                }
                k -= 1;
            };
            k += 1;
            v[k] = q;
            z[k] = s;
            z[k + 1] = f32::INFINITY;
        }
        if g[v[0]] >= FAR {
            return; // no finite sample on this line
        }
        let mut k = 0;
        for (p, out) in f.iter_mut().enumerate() {
            while z[k + 1] < p as f32 {
                k += 1;
            }
            let r = v[k];
            let d = p as f32 - r as f32;
            *out = d * d + g[r];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The obvious O(n²) twin of [`distance_to_background`].
    fn naive_distance(mask: &Mask) -> Vec<f32> {
        let (w, h) = (mask.width(), mask.height());
        let mut out = vec![0.0; w * h];
        for y in 0..h {
            for x in 0..w {
                if !mask.get(x as isize, y as isize) {
                    continue;
                }
                let mut best = f32::INFINITY;
                for v in 0..h {
                    for u in 0..w {
                        if !mask.get(u as isize, v as isize) {
                            let d = ((x as f32 - u as f32).powi(2) + (y as f32 - v as f32).powi(2))
                                .sqrt();
                            best = best.min(d);
                        }
                    }
                }
                out[y * w + x] = best;
            }
        }
        out
    }

    #[test]
    fn matches_naive_on_random_masks() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for _ in 0..20 {
            let m = Mask::from_fn(17, 13, |x, y| {
                x > 0 && y > 0 && x < 16 && y < 12 && rng.random::<f32>() < 0.8
            });
            let fast = distance_to_background(&m);
            let slow = naive_distance(&m);
            for (a, b) in fast.iter().zip(&slow) {
                assert!((a - b).abs() < 1e-4, "{a} vs {b}");
            }
        }
    }

    #[test]
    fn dilation_grows_a_point_into_a_disk() {
        let mut m = Mask::new(21, 21);
        m.set(10, 10, true);
        let d = dilate(&m, 3.0);
        // Lattice points within distance 3 of the centre: 29.
        assert_eq!(d.area(), 29);
        assert!(d.get(13, 10) && !d.get(13, 11));
    }
}

//! Euclidean distance fields and dilation by any radius.
//!
//! Both use imageproc's exact squared Euclidean distance transform
//! (Felzenszwalb–Huttenlocher, linear time).

use image::GrayImage;
use imageproc::distance_transform::euclidean_squared_distance_transform;

use crate::mask::Mask;

/// For each pixel, the Euclidean distance to the nearest *background* pixel
/// (0 on the background itself). Pixels outside the mask count as background
/// only if the mask has a background border; cut-outs from
/// [`components`](crate::components) always do.
pub fn distance_to_background(mask: &Mask) -> Vec<f32> {
    let inverted: Vec<u8> = mask.as_slice().iter().map(|&v| 1 - v).collect();
    squared_distance_to(mask.width(), mask.height(), inverted)
        .into_iter()
        .map(f32::sqrt)
        .collect()
}

/// Pixels within Euclidean distance `radius` of an object pixel.
pub fn dilate(mask: &Mask, radius: f32) -> Mask {
    if mask.is_empty() || radius <= 0.0 {
        return mask.clone();
    }
    let r2 = radius * radius;
    let d2 = squared_distance_to(mask.width(), mask.height(), mask.as_slice().to_vec());
    Mask::from_vec(
        mask.width(),
        mask.height(),
        d2.into_iter().map(|d| u8::from(d <= r2)).collect(),
    )
    .expect("same size")
}

/// Squared distance of each pixel to the nearest non-zero byte of `targets`.
fn squared_distance_to(width: usize, height: usize, targets: Vec<u8>) -> Vec<f32> {
    let image = GrayImage::from_raw(width as u32, height as u32, targets)
        .expect("buffer length matches dimensions");
    euclidean_squared_distance_transform(&image)
        .into_raw()
        .into_iter()
        .map(|d| d as f32)
        .collect()
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

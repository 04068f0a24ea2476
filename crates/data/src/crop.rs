//! The random object-centred windows used for training; cropping itself is
//! [`scribseg_sim`]'s ([`crop_rgb`](scribseg_sim::crop_rgb) and its kin).

use rand::Rng;
use scribseg_sim::{CropRule, Rect, Window};

/// How training windows are drawn around an object.
#[derive(Clone, Debug, PartialEq)]
pub struct CropParams {
    /// Output side in pixels (the network's 128).
    pub size: usize,
    /// Context on each side, as a fraction of the object's longer side: uniform in `[lo, hi]`.
    pub margin: (f32, f32),
    /// Random shift of the window centre, as a fraction of its side.
    pub jitter: f32,
    /// Smallest window side in source pixels (tiny objects get more context).
    pub min_side: f32,
}

impl Default for CropParams {
    fn default() -> Self {
        CropParams {
            size: 128,
            margin: (0.1, 0.5),
            jitter: 0.1,
            min_side: 24.0,
        }
    }
}

/// A random square window around `bbox`: random margin, then jitter.
pub fn random_window(bbox: Rect, params: &CropParams, rng: &mut impl Rng) -> Window {
    let (lo, hi) = params.margin;
    let margin = if hi > lo {
        rng.random_range(lo..hi)
    } else {
        lo
    };
    let rule = CropRule {
        context: margin,
        min_side: params.min_side,
    };
    let mut w = rule.around_rect(bbox);
    if params.jitter > 0.0 {
        let j = params.jitter;
        w.x0 += rng.random_range(-j..j) * w.width;
        w.y0 += rng.random_range(-j..j) * w.height;
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn random_windows_hold_the_object() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let bbox = Rect::new(100, 50, 140, 70);
        for _ in 0..100 {
            let w = random_window(bbox, &CropParams::default(), &mut rng);
            assert_eq!(w.width, w.height);
            assert!(w.width >= 40.0 * 1.2 - 1e-3 && w.width <= 40.0 * 2.0 + 1e-3);
            // jitter ≤ 0.1 of the side and margin ≥ 0.1 of 40 px keep the object inside
            assert!(w.x0 <= 100.0 + 0.1 * w.width && w.x0 + w.width >= 140.0 - 0.1 * w.width);
        }
    }
}

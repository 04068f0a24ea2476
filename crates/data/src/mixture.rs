//! Mixture sampling: pick a dataset with probability proportional to its weight.

use rand::distr::weighted::WeightedIndex;
use rand::distr::Distribution;
use rand::Rng;

/// Picks dataset indices in proportion to their weights (the paper's
/// 0.6 COCO / 0.1 Pascal / 0.1 CHAOS / 0.2 Decathlon is one such list).
#[derive(Clone, Debug)]
pub struct Mixture {
    distribution: WeightedIndex<f64>,
}

impl Mixture {
    /// A mixture over `weights` (one per dataset; zero excludes a dataset).
    ///
    /// Returns `None` when no weight is positive or any is negative or not finite.
    pub fn new(weights: &[f64]) -> Option<Self> {
        if weights.iter().any(|w| !w.is_finite()) {
            return None;
        }
        WeightedIndex::new(weights)
            .ok()
            .map(|distribution| Mixture { distribution })
    }

    /// Draws a dataset index.
    pub fn sample(&self, rng: &mut impl Rng) -> usize {
        self.distribution.sample(rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn frequencies_follow_weights() {
        let m = Mixture::new(&[0.6, 0.1, 0.0, 0.3]).expect("valid");
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let mut counts = [0usize; 4];
        for _ in 0..20_000 {
            counts[m.sample(&mut rng)] += 1;
        }
        assert_eq!(counts[2], 0);
        assert!((11_500..12_500).contains(&counts[0]), "{counts:?}");
        assert!((1_700..2_300).contains(&counts[1]), "{counts:?}");
    }

    #[test]
    fn invalid_weights_are_rejected() {
        assert!(Mixture::new(&[0.0, 0.0]).is_none());
        assert!(Mixture::new(&[1.0, -1.0]).is_none());
        assert!(Mixture::new(&[f64::NAN]).is_none());
    }
}

//! The learning-rate schedule: linear warm-up, then cosine decay.

/// Linear warm-up from 0 to `peak` over `warmup` steps, then a cosine decay
/// to `floor` at step `total`; `floor` after that.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Schedule {
    /// Learning rate at the end of warm-up.
    pub peak: f64,
    /// Learning rate at and after `total`.
    pub floor: f64,
    /// Warm-up steps.
    pub warmup: usize,
    /// Step at which the decay ends.
    pub total: usize,
}

impl Schedule {
    /// The learning rate of step `step` (0-based).
    pub fn at(&self, step: usize) -> f64 {
        if step < self.warmup {
            return self.peak * (step + 1) as f64 / self.warmup as f64;
        }
        if step >= self.total || self.total <= self.warmup {
            return self.floor;
        }
        let t = (step - self.warmup) as f64 / (self.total - self.warmup) as f64;
        self.floor + 0.5 * (self.peak - self.floor) * (1.0 + (std::f64::consts::PI * t).cos())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warms_up_peaks_and_decays_to_the_floor() {
        let s = Schedule {
            peak: 1e-3,
            floor: 1e-5,
            warmup: 10,
            total: 110,
        };
        assert!((s.at(0) - 1e-4).abs() < 1e-12);
        assert!((s.at(9) - 1e-3).abs() < 1e-12);
        assert!((s.at(10) - 1e-3).abs() < 1e-12);
        assert!((s.at(60) - (1e-5 + 0.5 * (1e-3 - 1e-5))).abs() < 1e-9);
        assert_eq!(s.at(110), 1e-5);
        assert_eq!(s.at(10_000), 1e-5);
        assert!(s.at(30) > s.at(31));
    }
}

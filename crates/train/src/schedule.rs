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
        let t = if self.total <= self.warmup {
            1.0
        } else {
            step.saturating_sub(self.warmup) as f64 / (self.total - self.warmup) as f64
        };
        self.at_progress(step, t)
    }

    /// The learning rate of step `step` when the decay is `progress` of the
    /// way through (0 at its start, 1 at its end; clamped): a run with a
    /// wall-time budget decays by the time spent, not by steps. Warm-up is
    /// still counted in steps.
    pub fn at_progress(&self, step: usize, progress: f64) -> f64 {
        if step < self.warmup {
            return self.peak * (step + 1) as f64 / self.warmup as f64;
        }
        let t = progress.clamp(0.0, 1.0);
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

    #[test]
    fn decays_by_progress_after_a_warm_up_in_steps() {
        let s = Schedule {
            peak: 1e-3,
            floor: 1e-5,
            warmup: 10,
            total: 110,
        };
        // Warm-up ignores the progress.
        assert!((s.at_progress(0, 0.9) - 1e-4).abs() < 1e-12);
        assert!((s.at_progress(500, 0.0) - 1e-3).abs() < 1e-12);
        assert!((s.at_progress(500, 0.5) - s.at(60)).abs() < 1e-12);
        assert!((s.at_progress(20, 1.0) - 1e-5).abs() < 1e-12);
        assert!((s.at_progress(20, 7.0) - 1e-5).abs() < 1e-12);
    }
}

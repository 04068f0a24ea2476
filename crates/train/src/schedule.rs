//! The learning-rate schedule: linear warm-up, then cosine decay; or several
//! such phases one after another (a cosine with warm restarts at peaks of
//! one's choosing).

use serde::{Deserialize, Serialize};

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

/// One phase of a phased schedule, as a config writes it (`[[phases]]`): its
/// own warm-up from 0 to `lr` and cosine decay to `min_lr` over `steps`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    /// Steps in this phase, warm-up included.
    pub steps: usize,
    /// Learning rate at the end of its warm-up.
    pub lr: f64,
    /// Learning rate at its end.
    pub min_lr: f64,
    /// Its warm-up steps.
    pub warmup: usize,
}

/// The learning rate of every step of a run: one [`Schedule`], or phases one
/// after another, each starting where the one before ended.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// Each part's first step and its schedule, in order.
    parts: Vec<(usize, Schedule)>,
}

impl Plan {
    /// A plan of one schedule.
    pub fn single(schedule: Schedule) -> Self {
        Plan {
            parts: vec![(0, schedule)],
        }
    }

    /// A plan of `phases` in order; `None` when there are none. After the
    /// last phase the rate stays at its floor.
    pub fn phased(phases: &[Phase]) -> Option<Self> {
        let mut first = 0;
        let parts: Vec<(usize, Schedule)> = phases
            .iter()
            .map(|phase| {
                let part = (
                    first,
                    Schedule {
                        peak: phase.lr,
                        floor: phase.min_lr,
                        warmup: phase.warmup,
                        total: phase.steps,
                    },
                );
                first += phase.steps;
                part
            })
            .collect();
        (!parts.is_empty()).then_some(Plan { parts })
    }

    /// The learning rate of step `step`. `progress` (the fraction of a time
    /// budget spent) drives the decay of a single schedule instead of the
    /// step count; a phased plan always follows its steps.
    pub fn at(&self, step: usize, progress: Option<f64>) -> f64 {
        match (self.parts.as_slice(), progress) {
            ([(_, only)], Some(progress)) => only.at_progress(step, progress),
            _ => {
                let (first, schedule) = self
                    .parts
                    .iter()
                    .rev()
                    .find(|(first, _)| *first <= step)
                    .unwrap_or(&self.parts[0]);
                schedule.at(step - first)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_restart_the_warm_up_and_cosine_at_their_own_peaks() {
        let phase = |steps, lr, min_lr| Phase {
            steps,
            lr,
            min_lr,
            warmup: 10,
        };
        let plan =
            Plan::phased(&[phase(100, 1e-3, 1e-5), phase(50, 2e-4, 1e-6)]).expect("two phases");
        assert!((plan.at(9, None) - 1e-3).abs() < 1e-12);
        assert!((plan.at(99, None) - 1e-5).abs() < 1e-6);
        // The second phase warms up again from its first step.
        assert!((plan.at(100, None) - 2e-5).abs() < 1e-12);
        assert!((plan.at(109, None) - 2e-4).abs() < 1e-12);
        assert_eq!(plan.at(150, None), 1e-6);
        assert_eq!(plan.at(10_000, Some(0.1)), 1e-6, "phases follow steps");
        assert!(Plan::phased(&[]).is_none());

        let single = Plan::single(Schedule {
            peak: 1e-3,
            floor: 1e-5,
            warmup: 10,
            total: 110,
        });
        assert_eq!(
            single.at(500, Some(1.0)),
            1e-5,
            "a budget drives one schedule"
        );
        assert!((single.at(60, None) - (1e-5 + 0.5 * (1e-3 - 1e-5))).abs() < 1e-9);
    }

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

//! Figures over many records: means over objects, then mean ± standard
//! deviation over seeds.
//!
//! Each seed is one run over the dataset; a figure is first averaged over
//! the run's objects, and the spread is the sample standard deviation of
//! those run means (0 with one run, as for box, extreme points and clicks,
//! which are deterministic).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::metrics::interactions_to_reach;
use crate::record::{score_after, Method, ObjectRecord};

/// The thresholds of strokes-to-threshold and NoC.
pub const THRESHOLDS: [f64; 2] = [0.85, 0.90];

/// A mean over runs with its spread.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct MeanStd {
    /// Mean of the per-run values.
    pub mean: f64,
    /// Sample standard deviation of the per-run values (0 for one run).
    pub std: f64,
    /// Number of runs (seeds).
    pub runs: usize,
}

impl MeanStd {
    /// Mean and sample standard deviation of `values`; `None` when empty.
    pub fn of(values: &[f64]) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let std = if values.len() < 2 {
            0.0
        } else {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        };
        Some(Self {
            mean,
            std,
            runs: values.len(),
        })
    }
}

/// What the summaries need to know about the run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SummaryParams {
    /// Dataset names, in column order.
    pub datasets: Vec<String>,
    /// Length of the DICE-vs-strokes curves (strokes budget).
    pub max_strokes: usize,
    /// Click budget (NoC cap).
    pub max_clicks: usize,
    /// Strokes behind the "scribble + corrective" row (paper: 2, one correction).
    pub corrective_row_strokes: usize,
}

/// A row of Table 1: one cell per dataset.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TableRow {
    /// Row label.
    pub label: String,
    /// Mean DICE per dataset column, `None` where nothing was run.
    pub cells: Vec<Option<MeanStd>>,
}

/// Per-dataset figures of one interactive protocol (strokes or clicks).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CurveStats {
    /// Dataset name.
    pub dataset: String,
    /// Objects per run.
    pub objects: usize,
    /// Score after 1, 2, … interactions (DICE for strokes, IoU for clicks).
    pub curve: Vec<MeanStd>,
    /// Interactions to reach each of [`THRESHOLDS`], a miss counting as the cap.
    pub to_reach: Vec<MeanStd>,
    /// Objects that never reach the last threshold (0.90), per run.
    pub never_reached: MeanStd,
}

/// Latency of one method's predictor calls.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LatencyStats {
    /// The method.
    pub method: Method,
    /// Number of calls.
    pub calls: usize,
    /// Mean, milliseconds.
    pub mean_ms: f64,
    /// Median, milliseconds.
    pub median_ms: f64,
    /// 95th percentile, milliseconds.
    pub p95_ms: f64,
}

/// How much the first correction broke of what the first scribble got
/// right, on one dataset.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StabilityStats {
    /// Dataset name.
    pub dataset: String,
    /// Objects that got a correction, per run (the others were right enough).
    pub objects: usize,
    /// The median over objects of the share of right pixels turned wrong.
    pub median_broken: MeanStd,
    /// The share of objects where more than 1% turned wrong.
    pub over_one_percent: MeanStd,
}

/// Everything the reports show.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// What the summary was made with.
    pub params: SummaryParams,
    /// Table 1: scribble, box, extreme points, scribble + corrective.
    pub table: Vec<TableRow>,
    /// DICE vs strokes, per dataset.
    pub strokes: Vec<CurveStats>,
    /// IoU vs clicks and NoC, per dataset.
    pub clicks: Vec<CurveStats>,
    /// Latency per method.
    pub latency: Vec<LatencyStats>,
    /// What the first corrective scribble broke, per dataset.
    pub stability: Vec<StabilityStats>,
}

/// Groups the records of `dataset` and `method` by seed.
fn runs<'a>(
    records: &'a [ObjectRecord],
    dataset: &str,
    method: Method,
) -> BTreeMap<u64, Vec<&'a ObjectRecord>> {
    let mut runs: BTreeMap<u64, Vec<&ObjectRecord>> = BTreeMap::new();
    for r in records
        .iter()
        .filter(|r| r.dataset == dataset && r.method == method)
    {
        runs.entry(r.seed).or_default().push(r);
    }
    runs
}

/// `f` averaged over each run's objects, then mean ± std over runs.
fn over_runs(
    runs: &BTreeMap<u64, Vec<&ObjectRecord>>,
    f: impl Fn(&ObjectRecord) -> f64,
) -> Option<MeanStd> {
    let means: Vec<f64> = runs
        .values()
        .map(|objects| objects.iter().map(|r| f(r)).sum::<f64>() / objects.len() as f64)
        .collect();
    MeanStd::of(&means)
}

/// Curve, interactions-to-threshold and misses of one protocol on one dataset.
fn curve_stats(
    records: &[ObjectRecord],
    dataset: &str,
    method: Method,
    cap: usize,
    metric: fn(&ObjectRecord) -> &[f64],
) -> Option<CurveStats> {
    let runs = runs(records, dataset, method);
    let objects = runs.values().map(Vec::len).max()?;
    let curve = (1..=cap)
        .filter_map(|k| over_runs(&runs, |r| score_after(metric(r), k)))
        .collect();
    let reach = |r: &ObjectRecord, t: f64| interactions_to_reach(metric(r), t);
    let to_reach = THRESHOLDS
        .iter()
        .filter_map(|&t| over_runs(&runs, |r| reach(r, t).unwrap_or(cap) as f64))
        .collect();
    let last = THRESHOLDS[THRESHOLDS.len() - 1];
    let misses: Vec<f64> = runs
        .values()
        .map(|objects| objects.iter().filter(|r| reach(r, last).is_none()).count() as f64)
        .collect();
    Some(CurveStats {
        dataset: dataset.to_string(),
        objects,
        curve,
        to_reach,
        never_reached: MeanStd::of(&misses)?,
    })
}

/// The first correction's [`StabilityStats`] on `dataset`; `None` without
/// a corrected object.
fn stability(records: &[ObjectRecord], dataset: &str) -> Option<StabilityStats> {
    let runs = runs(records, dataset, Method::Scribble);
    let per_run: Vec<Vec<f64>> = runs
        .values()
        .map(|objects| {
            objects
                .iter()
                .filter_map(|r| r.broken.first().copied().flatten())
                .collect()
        })
        .filter(|v: &Vec<f64>| !v.is_empty())
        .collect();
    let medians: Vec<f64> = per_run.iter().map(|v| median(v)).collect();
    let over: Vec<f64> = per_run
        .iter()
        .map(|v| v.iter().filter(|&&b| b > 0.01).count() as f64 / v.len() as f64)
        .collect();
    Some(StabilityStats {
        dataset: dataset.to_string(),
        objects: per_run.iter().map(Vec::len).max()?,
        median_broken: MeanStd::of(&medians)?,
        over_one_percent: MeanStd::of(&over)?,
    })
}

/// The median of non-empty `values`.
fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

fn latency(records: &[ObjectRecord], method: Method) -> Option<LatencyStats> {
    let mut ms: Vec<f64> = records
        .iter()
        .filter(|r| r.method == method)
        .flat_map(|r| r.latency_ms.iter().copied())
        .collect();
    if ms.is_empty() {
        return None;
    }
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    Some(LatencyStats {
        method,
        calls: ms.len(),
        mean_ms: ms.iter().sum::<f64>() / ms.len() as f64,
        median_ms: at(0.5),
        p95_ms: at(0.95),
    })
}

fn dice(r: &ObjectRecord) -> &[f64] {
    &r.dice
}

fn iou(r: &ObjectRecord) -> &[f64] {
    &r.iou
}

/// Summarises `records` (any order, any mix of methods and datasets).
pub fn summarize(records: &[ObjectRecord], params: SummaryParams) -> Summary {
    let row = |label: String, method: Method, k: usize| TableRow {
        label,
        cells: params
            .datasets
            .iter()
            .map(|d| over_runs(&runs(records, d, method), |r| score_after(&r.dice, k)))
            .collect(),
    };
    let table = vec![
        row("Scribble".into(), Method::Scribble, 1),
        row("Box".into(), Method::Box, 1),
        row("Extreme points".into(), Method::Extremes, 1),
        row(
            format!(
                "Scribble + corrective ({} strokes)",
                params.corrective_row_strokes
            ),
            Method::Scribble,
            params.corrective_row_strokes,
        ),
    ];
    let per_dataset = |method, cap, metric: fn(&ObjectRecord) -> &[f64]| -> Vec<CurveStats> {
        params
            .datasets
            .iter()
            .filter_map(|d| curve_stats(records, d, method, cap, metric))
            .collect()
    };
    Summary {
        strokes: per_dataset(Method::Scribble, params.max_strokes, dice),
        clicks: per_dataset(Method::Clicks, params.max_clicks, iou),
        latency: Method::ALL
            .into_iter()
            .filter_map(|m| latency(records, m))
            .collect(),
        stability: params
            .datasets
            .iter()
            .filter_map(|d| stability(records, d))
            .collect(),
        table,
        params,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::trace::Stop;

    /// A record with the given curve (DICE and IoU alike).
    pub(crate) fn record(
        dataset: &str,
        object: &str,
        method: Method,
        seed: u64,
        curve: &[f64],
    ) -> ObjectRecord {
        ObjectRecord {
            dataset: dataset.into(),
            image: object.into(),
            object: object.into(),
            method,
            predictor: "fixture".into(),
            seed,
            width: 4,
            height: 4,
            truth_area: 4,
            ignored_area: 0,
            dice: curve.to_vec(),
            iou: curve.to_vec(),
            latency_ms: vec![2.0; curve.len()],
            strokes_added: vec![1; curve.len()],
            broken: vec![Some(0.0); curve.len().saturating_sub(1)],
            strokes: Vec::new(),
            stop: Stop::Budget,
        }
    }

    pub(crate) fn params() -> SummaryParams {
        SummaryParams {
            datasets: vec!["a".into(), "b".into()],
            max_strokes: 4,
            max_clicks: 4,
            corrective_row_strokes: 2,
        }
    }

    #[test]
    fn mean_std_is_the_sample_spread() {
        let m = MeanStd::of(&[1.0, 3.0]).expect("values");
        assert_eq!((m.mean, m.runs), (2.0, 2));
        assert!((m.std - 2f64.sqrt()).abs() < 1e-12);
        assert_eq!(MeanStd::of(&[0.5]).expect("one").std, 0.0);
        assert!(MeanStd::of(&[]).is_none());
    }

    #[test]
    fn table_rows_average_objects_then_seeds() {
        let records = vec![
            // seed 0: objects at 0.6 and 0.8 → 0.7; seed 1: 0.9 and 0.9 → 0.9.
            record("a", "x", Method::Scribble, 0, &[0.6, 0.9]),
            record("a", "y", Method::Scribble, 0, &[0.8]),
            record("a", "x", Method::Scribble, 1, &[0.9, 0.95]),
            record("a", "y", Method::Scribble, 1, &[0.9, 0.85]),
            record("b", "z", Method::Box, 0, &[0.5]),
        ];
        let s = summarize(&records, params());
        let scribble = s.table[0].cells[0].expect("a has scribbles");
        assert!((scribble.mean - 0.8).abs() < 1e-12 && scribble.runs == 2);
        assert!((scribble.std - (0.02f64).sqrt()).abs() < 1e-12);
        assert!(s.table[0].cells[1].is_none(), "b has no scribbles");
        assert_eq!(s.table[1].cells[1].expect("box on b").mean, 0.5);
        // After 2 strokes: seed 0 → (0.9 + 0.8 flat) / 2, seed 1 → 0.9.
        let corrective = s.table[3].cells[0].expect("a");
        assert!((corrective.mean - (0.85 + 0.9) / 2.0).abs() < 1e-12);
        assert!(s.table[3].label.contains("2 strokes"));
    }

    #[test]
    fn strokes_to_threshold_counts_misses_as_the_cap() {
        let records = vec![
            record("a", "x", Method::Scribble, 0, &[0.5, 0.86, 0.91]),
            record("a", "y", Method::Scribble, 0, &[0.7, 0.8]),
        ];
        let s = summarize(&records, params());
        let a = &s.strokes[0];
        assert_eq!(a.objects, 2);
        assert_eq!(a.curve.len(), 4);
        assert!((a.curve[3].mean - (0.91 + 0.8) / 2.0).abs() < 1e-12);
        // x reaches 0.85 at 2 and 0.90 at 3; y never: the cap, 4.
        assert_eq!(a.to_reach[0].mean, 3.0);
        assert_eq!(a.to_reach[1].mean, 3.5);
        assert_eq!(a.never_reached.mean, 1.0);
        assert!(s.clicks.is_empty());
        assert_eq!(s.latency[0].calls, 5);
        assert_eq!(s.latency[0].median_ms, 2.0);
    }

    #[test]
    fn stability_is_the_median_per_run_over_corrected_objects() {
        let mut records = Vec::new();
        for (seed, broken) in [(0, [0.0, 0.02, 0.004]), (1, [0.001, 0.03, 0.05])] {
            for (i, b) in broken.into_iter().enumerate() {
                let mut r = record("a", &format!("o{i}"), Method::Scribble, seed, &[0.5, 0.9]);
                r.broken = vec![Some(b)];
                records.push(r);
            }
        }
        // An object right at once (no correction) does not count.
        records.push(record("a", "done", Method::Scribble, 0, &[0.99]));
        let s = summarize(&records, params());
        let a = &s.stability[0];
        assert_eq!(a.objects, 3);
        assert!((a.median_broken.mean - (0.004 + 0.03) / 2.0).abs() < 1e-12);
        assert!((a.over_one_percent.mean - (1.0 / 3.0 + 2.0 / 3.0) / 2.0).abs() < 1e-12);
    }
}

//! The Markdown report: Table 1, strokes and clicks to threshold, latency.

use std::fmt::Write;

use crate::summary::{CurveStats, MeanStd, Summary, THRESHOLDS};

/// `0.933 ± 0.004` (the spread only with several runs), `–` when absent.
fn cell(value: Option<MeanStd>, digits: usize) -> String {
    match value {
        None => "–".into(),
        Some(m) if m.runs > 1 => format!("{:.digits$} ± {:.digits$}", m.mean, m.std),
        Some(m) => format!("{:.digits$}", m.mean),
    }
}

/// A Markdown table: header, separator, rows.
fn table(out: &mut String, header: &[String], rows: &[Vec<String>]) {
    let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
    out.push_str(&line(header));
    let rule: Vec<String> = header
        .iter()
        .enumerate()
        .map(|(i, _)| if i == 0 { "---".into() } else { "---:".into() })
        .collect();
    out.push_str(&line(&rule));
    for r in rows {
        out.push_str(&line(r));
    }
}

/// Rows of "interactions to threshold" for one protocol, one per dataset.
fn reach_rows(stats: &[CurveStats]) -> Vec<Vec<String>> {
    stats
        .iter()
        .map(|s| {
            let mut row = vec![s.dataset.clone(), s.objects.to_string()];
            row.extend(s.to_reach.iter().map(|&m| cell(Some(m), 2)));
            row.push(cell(Some(s.never_reached), 1));
            row
        })
        .collect()
}

fn reach_header(what: &str, metric: &str) -> Vec<String> {
    let mut h = vec!["Dataset".to_string(), "Objects".to_string()];
    h.extend(
        THRESHOLDS
            .iter()
            .map(|t| format!("{what}@{:.0} ({metric})", t * 100.0)),
    );
    h.push(format!(
        "Never {:.0}",
        THRESHOLDS[THRESHOLDS.len() - 1] * 100.0
    ));
    h
}

/// The whole report as Markdown.
pub fn markdown(summary: &Summary) -> String {
    let p = &summary.params;
    let mut out = String::from("# Evaluation\n\n## Mean DICE (the paper's Table 1)\n\n");
    let mut header = vec!["Input".to_string()];
    header.extend(p.datasets.iter().cloned());
    let rows: Vec<Vec<String>> = summary
        .table
        .iter()
        .map(|r| {
            let mut row = vec![r.label.clone()];
            row.extend(r.cells.iter().map(|&c| cell(c, 3)));
            row
        })
        .collect();
    table(&mut out, &header, &rows);
    out.push_str(
        "\nMean over objects at full resolution, ignored pixels excluded; ± is the standard \
         deviation over seeds (box and extreme points are deterministic). Box and extreme \
         points are placed perfectly from the ground truth, as in the paper.\n",
    );
    if !summary.strokes.is_empty() {
        let _ = write!(
            out,
            "\n## Strokes to DICE threshold\n\nA simulated scribble, then corrective \
             scribbles (the paper's rule), at most {} strokes; a miss counts as {}.\n\n",
            p.max_strokes, p.max_strokes
        );
        table(
            &mut out,
            &reach_header("Strokes", "DICE"),
            &reach_rows(&summary.strokes),
        );
    }
    if !summary.stability.is_empty() {
        out.push_str(
            "\n## Stability of the first correction\n\nOf the pixels the first scribble got \
             right (ignored pixels excluded), the share the first corrective scribble turned \
             wrong: the median over the objects that got a correction, and the share of those \
             objects where it exceeded 1%.\n\n",
        );
        let header = [
            "Dataset",
            "Objects corrected",
            "Right → wrong (median)",
            "Objects over 1%",
        ]
        .map(String::from);
        let percent = |m: MeanStd| {
            let scaled = MeanStd {
                mean: 100.0 * m.mean,
                std: 100.0 * m.std,
                runs: m.runs,
            };
            format!("{}%", cell(Some(scaled), 2))
        };
        let rows: Vec<Vec<String>> = summary
            .stability
            .iter()
            .map(|s| {
                vec![
                    s.dataset.clone(),
                    s.objects.to_string(),
                    percent(s.median_broken),
                    percent(s.over_one_percent),
                ]
            })
            .collect();
        table(&mut out, &header, &rows);
    }
    if !summary.clicks.is_empty() {
        let _ = write!(
            out,
            "\n## Clicks (NoC, the RITM protocol)\n\nAt most {} clicks; a miss counts as {}.\n\n",
            p.max_clicks, p.max_clicks
        );
        table(
            &mut out,
            &reach_header("NoC", "IoU"),
            &reach_rows(&summary.clicks),
        );
    }
    if !summary.latency.is_empty() {
        out.push_str("\n## Latency per predictor call\n\n");
        let header = ["Method", "Calls", "Mean ms", "Median ms", "p95 ms"].map(String::from);
        let rows: Vec<Vec<String>> = summary
            .latency
            .iter()
            .map(|l| {
                vec![
                    format!("{:?}", l.method).to_lowercase(),
                    l.calls.to_string(),
                    format!("{:.2}", l.mean_ms),
                    format!("{:.2}", l.median_ms),
                    format!("{:.2}", l.p95_ms),
                ]
            })
            .collect();
        table(&mut out, &header, &rows);
    }
    out
}

/// One stroke style's evaluation, for [`styles_markdown`].
#[derive(Clone, Debug)]
pub struct StyleSummary {
    /// The style's name.
    pub style: String,
    /// Whether the network was trained on it: `Some(false)` is a held-out
    /// style, `None` unknown (weights without a training record).
    pub trained: Option<bool>,
    /// Its evaluation.
    pub summary: Summary,
}

/// Mean DICE per stroke style and dataset after the first scribble and
/// after one corrective scribble: held-out styles first, each with the mean
/// over held-out styles, then the styles the network was trained on.
pub fn styles_markdown(styles: &[StyleSummary]) -> String {
    let Some(first) = styles.first() else {
        return String::new();
    };
    let datasets = &first.summary.params.datasets;
    // Datasets with objects, then "all": the mean over every object.
    let columns: Vec<&String> = datasets
        .iter()
        .filter(|d| {
            first
                .summary
                .strokes
                .iter()
                .any(|c| &c.dataset == *d && c.objects > 0)
        })
        .collect();
    let at = |s: &Summary, dataset: &str, strokes: usize| {
        s.strokes
            .iter()
            .find(|c| c.dataset == dataset)
            .and_then(|c| c.curve.get(strokes - 1).copied())
    };
    let all = |s: &Summary, strokes: usize| {
        let (mut sum, mut objects) = (0.0, 0);
        for c in &s.strokes {
            if let Some(m) = c.curve.get(strokes - 1) {
                sum += m.mean * c.objects as f64;
                objects += c.objects;
            }
        }
        (objects > 0).then(|| MeanStd {
            mean: sum / objects as f64,
            std: 0.0,
            runs: 1,
        })
    };
    let objects: usize = first.summary.strokes.iter().map(|c| c.objects).sum();
    let mut out = String::from(
        "## Mean DICE by stroke style\n\nThe first scribble in each style, then the paper's corrective scribbles; \
         one scribble / after one correction. Held out: a style the network never trained on.\n\n",
    );
    let mut header = vec!["Style".to_string()];
    header.extend(columns.iter().map(|d| d.to_string()));
    header.push(format!("all ({objects} objects)"));
    let mut rows = Vec::new();
    let groups = [
        (Some(false), "held out"),
        (None, "unknown"),
        (Some(true), "trained"),
    ];
    for (trained, tag) in groups {
        let group: Vec<&StyleSummary> = styles.iter().filter(|s| s.trained == trained).collect();
        for s in &group {
            let mut row = vec![format!("{} ({tag})", s.style)];
            row.extend(columns.iter().map(|d| {
                format!(
                    "{} / {}",
                    cell(at(&s.summary, d, 1), 3),
                    cell(at(&s.summary, d, 2), 3)
                )
            }));
            row.push(format!(
                "{} / {}",
                cell(all(&s.summary, 1), 3),
                cell(all(&s.summary, 2), 3)
            ));
            rows.push(row);
        }
        if group.len() > 1 {
            let mean = |value: &dyn Fn(&Summary) -> Option<MeanStd>| {
                let values: Vec<f64> = group
                    .iter()
                    .filter_map(|s| value(&s.summary).map(|m| m.mean))
                    .collect();
                cell(MeanStd::of(&values).map(|m| MeanStd { runs: 1, ..m }), 3)
            };
            let mut row = vec![format!("**mean, {tag}**")];
            row.extend(
                columns
                    .iter()
                    .map(|d| format!("{} / {}", mean(&|s| at(s, d, 1)), mean(&|s| at(s, d, 2)))),
            );
            row.push(format!(
                "{} / {}",
                mean(&|s| all(s, 1)),
                mean(&|s| all(s, 2))
            ));
            rows.push(row);
        }
    }
    table(&mut out, &header, &rows);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Method;
    use crate::summary::summarize;
    use crate::summary::tests::{params, record};

    #[test]
    fn table_one_from_a_tiny_fixture() {
        let records = vec![
            record("a", "x", Method::Scribble, 0, &[0.8, 0.88]),
            record("a", "x", Method::Scribble, 1, &[0.9, 0.95]),
            record("a", "x", Method::Box, 0, &[0.75]),
            record("b", "y", Method::Extremes, 0, &[0.6]),
            record("b", "y", Method::Clicks, 0, &[0.5, 0.9]),
        ];
        let md = markdown(&summarize(&records, params()));
        let expected_table = "\
| Input | a | b |
| --- | ---: | ---: |
| Scribble | 0.850 ± 0.071 | – |
| Box | 0.750 | – |
| Extreme points | – | 0.600 |
| Scribble + corrective (2 strokes) | 0.915 ± 0.049 | – |
";
        assert!(md.contains(expected_table), "{md}");
        assert!(
            md.contains("| a | 1 | 1.50 ± 0.71 | 2.50 ± 2.12 | 0.5 ± 0.7 |"),
            "{md}"
        );
        assert!(md.contains("| b | 1 | 2.00 | 2.00 | 0.0 |"), "{md}");
        assert!(md.contains("| scribble | 4 | 2.00 |"), "{md}");
    }

    #[test]
    fn styles_put_held_out_first_with_their_mean_and_weigh_all_by_objects() {
        let summary = |a: f64, b: f64| {
            let records = vec![
                record("a", "x", Method::Scribble, 0, &[a, 0.9]),
                record("b", "y", Method::Scribble, 0, &[b, 0.95]),
                record("b", "z", Method::Scribble, 0, &[b, 0.95]),
                record("b", "w", Method::Scribble, 0, &[b, 0.95]),
            ];
            summarize(&records, params())
        };
        let style = |name: &str, trained, a, b| StyleSummary {
            style: name.into(),
            trained,
            summary: summary(a, b),
        };
        let md = styles_markdown(&[
            style("paper", Some(true), 0.9, 0.9),
            style("short", Some(false), 0.5, 0.7),
            style("zigzag", Some(false), 0.7, 0.9),
        ]);
        let held_out =
            md.find("| short (held out) | 0.500 / 0.900 | 0.700 / 0.950 | 0.650 / 0.937 |");
        let mean =
            md.find("| **mean, held out** | 0.600 / 0.900 | 0.800 / 0.950 | 0.750 / 0.937 |");
        let trained = md.find("| paper (trained) |");
        assert!(
            held_out < mean && mean < trained && held_out.is_some(),
            "{md}"
        );
        assert!(md.contains("| Style | a | b | all (4 objects) |"), "{md}");
    }
}

//! `summary.json`, `table.md` and the curves of a run.

use std::path::{Path, PathBuf};

use super::files;
use crate::error::{Error, Result};
use crate::report::{markdown, write_curves, Series};
use crate::summary::{CurveStats, Summary};

/// The mean curve of each dataset as a plot series.
fn series(stats: &[CurveStats]) -> Vec<Series> {
    stats
        .iter()
        .map(|s| Series {
            label: format!("{} ({} objects)", s.dataset, s.objects),
            points: s
                .curve
                .iter()
                .enumerate()
                .map(|(i, m)| ((i + 1) as f64, m.mean))
                .collect(),
            spread: s.curve.iter().map(|m| m.std).collect(),
        })
        .collect()
}

/// `summary.json`, `table.md` and the curves.
pub(super) fn write_reports(summary: &Summary, out_dir: &Path) -> Result<Vec<PathBuf>> {
    let write = |name: &str, text: &str| -> Result<PathBuf> {
        let path = out_dir.join(name);
        std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
        Ok(path)
    };
    let json = serde_json::to_string_pretty(summary).map_err(|source| Error::Json {
        path: out_dir.join(files::SUMMARY),
        line: 0,
        source,
    })?;
    let mut written = vec![
        write(files::SUMMARY, &json)?,
        write(files::TABLE, &markdown(summary))?,
    ];
    let plots = [
        (
            &summary.strokes,
            [files::STROKE_CURVES, files::STROKE_CURVES_PNG],
            "Mean DICE vs strokes",
            "strokes",
            "DICE",
        ),
        (
            &summary.clicks,
            [files::CLICK_CURVES, files::CLICK_CURVES_PNG],
            "Mean IoU vs clicks",
            "clicks",
            "IoU",
        ),
    ];
    for (stats, names, title, x, y) in plots {
        if stats.is_empty() {
            continue;
        }
        let series = series(stats);
        for name in names {
            let path = out_dir.join(name);
            write_curves(&path, title, x, y, &series)?;
            written.push(path);
        }
    }
    Ok(written)
}

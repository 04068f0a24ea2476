//! The contact sheet of the worst objects, re-predicted from their records.

use std::path::{Path, PathBuf};

use super::{files, EvalConfig, Predictors};
use crate::dataset::EvalDataset;
use crate::error::{Error, Result};
use crate::predictor::{predict_timed, Interaction};
use crate::prompts::PromptKind;
use crate::record::{score_after, Method, ObjectRecord};
use crate::report::{contact_sheet, SheetEntry};

/// The method whose records rank the objects for the contact sheet: the
/// scribble protocol when it ran, else clicks, box, extreme points.
fn sheet_method(records: &[ObjectRecord]) -> Option<Method> {
    [
        Method::Scribble,
        Method::Clicks,
        Method::Box,
        Method::Extremes,
    ]
    .into_iter()
    .find(|&m| records.iter().any(|r| r.method == m))
}

/// The `count` lowest-scoring seed-0 records of `method` (final DICE), lowest first.
pub fn worst_records(records: &[ObjectRecord], method: Method, count: usize) -> Vec<&ObjectRecord> {
    let mut pool: Vec<&ObjectRecord> = records
        .iter()
        .filter(|r| r.method == method && r.seed == 0)
        .collect();
    let last = |r: &ObjectRecord| score_after(&r.dice, r.dice.len());
    pool.sort_by(|a, b| last(a).total_cmp(&last(b)));
    pool.truncate(count);
    pool
}

/// Re-runs the predictor on the worst objects with their recorded input
/// and writes the contact sheet.
pub(super) fn write_worst(
    config: &EvalConfig,
    predictors: &mut Predictors,
    datasets: &[EvalDataset],
    records: &[ObjectRecord],
    out_dir: &Path,
) -> Result<Option<PathBuf>> {
    let Some(method) = sheet_method(records) else {
        return Ok(None);
    };
    let Some(predictor) = predictors.get(method) else {
        return Ok(None);
    };
    let mut rows = Vec::new();
    for record in worst_records(records, method, config.worst) {
        let Some(dataset) = datasets.iter().find(|d| d.name() == record.dataset) else {
            continue;
        };
        let Some(index) = dataset.find(&record.image) else {
            continue;
        };
        let Some(object) = dataset
            .load(index)?
            .into_iter()
            .find(|o| o.id == record.object)
        else {
            continue;
        };
        let strokes = record.strokes();
        let interaction = match method {
            Method::Box => PromptKind::Box.interaction(&object),
            Method::Extremes => PromptKind::Extremes.interaction(&object),
            Method::Scribble | Method::Clicks => Some(Interaction::Strokes(strokes.clone())),
        };
        let Some(interaction) = interaction else {
            continue;
        };
        let map = predict_timed(predictor, &object.image, &interaction, &object.name())?.map;
        rows.push((object, strokes, map.threshold(predictor.threshold())));
    }
    let entries: Vec<SheetEntry> = rows
        .iter()
        .map(|(o, strokes, prediction)| SheetEntry {
            image: &o.image,
            strokes,
            prediction,
            truth: &o.truth,
            ignore: o.ignore.as_ref(),
        })
        .collect();
    let path = out_dir.join(files::WORST);
    contact_sheet(&entries, 2)
        .save(&path)
        .map_err(|source| Error::Image {
            path: path.clone(),
            source,
        })?;
    Ok(Some(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::tests::record;

    #[test]
    fn worst_ranks_seed_zero_by_final_score() {
        let records = vec![
            record("a", "good", Method::Scribble, 0, &[0.2, 0.95]),
            record("a", "bad", Method::Scribble, 0, &[0.6, 0.7]),
            record("a", "bad", Method::Scribble, 1, &[0.1]),
            record("a", "middling", Method::Scribble, 0, &[0.8]),
            record("a", "boxed", Method::Box, 0, &[0.0]),
        ];
        let names: Vec<&str> = worst_records(&records, Method::Scribble, 2)
            .iter()
            .map(|r| r.object.as_str())
            .collect();
        assert_eq!(names, ["bad", "middling"]);
        assert_eq!(sheet_method(&records), Some(Method::Scribble));
        assert_eq!(sheet_method(&records[4..]), Some(Method::Box));
        assert_eq!(sheet_method(&[]), None);
    }
}

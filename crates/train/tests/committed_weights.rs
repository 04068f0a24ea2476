//! Every committed checkpoint (`weights/*/`) says where it came from: a
//! `train.json` whose every training run records a whole training config that
//! parses, whose sample counts add up, and whose newest run trained the input
//! the checkpoint's `config.json` declares.

use std::path::{Path, PathBuf};

use scribseg_model::lineage::Origin;
use scribseg_model::{Lineage, WEIGHTS_FILE};
use scribseg_train::TrainConfig;

fn committed_checkpoints() -> Vec<PathBuf> {
    let weights = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../weights");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&weights)
        .expect("the weights folder")
        .map(|entry| entry.expect("a folder entry").path())
        .filter(|dir| dir.join(WEIGHTS_FILE).exists())
        .collect();
    dirs.sort();
    dirs
}

/// Checks the sample counts of a lineage tree: a run adds its samples to its
/// init's, an average has the most of its inputs', a copy its input's.
fn check_totals(lineage: &Lineage, at: &str) {
    let parent_total = scribseg_model::lineage::Parent::samples_total;
    let expected = match &lineage.origin {
        Origin::Train(run) => run.samples + run.init.as_ref().map_or(0, parent_total),
        Origin::Average { inputs } => inputs.iter().map(parent_total).max().unwrap_or(0),
        Origin::Half { input } => parent_total(input),
    };
    assert_eq!(
        lineage.samples_total, expected,
        "{at}: samples do not add up"
    );
    for parent in lineage.parents() {
        if let Some(inner) = &parent.lineage {
            check_totals(inner, &format!("{at} ← {}", parent.path));
        }
    }
}

#[test]
fn every_committed_checkpoint_has_a_lineage_whose_configs_parse() {
    let fields: Vec<String> = match serde_json::to_value(TrainConfig::default()) {
        Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
        other => panic!("a config serialises to an object: {other:?}"),
    };
    let dirs = committed_checkpoints();
    assert!(dirs.len() >= 3, "default, box and extremes: {dirs:?}");
    for dir in dirs {
        let name = dir.display().to_string();
        let lineage = Lineage::load(&dir)
            .unwrap_or_else(|err| panic!("{err}"))
            .unwrap_or_else(|| panic!("{name} has no train.json"));
        let runs = lineage.runs();
        assert!(!runs.is_empty(), "{name}: no training run in its lineage");
        for run in &runs {
            let keys: Vec<String> = run
                .config
                .as_object()
                .map(|map| map.keys().cloned().collect())
                .unwrap_or_default();
            for field in &fields {
                assert!(keys.contains(field), "{name}: a config lacks `{field}`");
            }
            let config: TrainConfig = serde_json::from_value(run.config.clone())
                .unwrap_or_else(|err| panic!("{name}: a run's config does not parse: {err}"));
            assert!(config.check().is_ok(), "{name}: {:?}", config.check());
            assert_eq!(run.samples, run.steps_done * config.batch as u64, "{name}");
        }
        check_totals(&lineage, &name);

        let declared = std::fs::read_to_string(dir.join("config.json")).expect("config.json");
        let declared: serde_json::Value = serde_json::from_str(&declared).expect("JSON");
        let input = declared
            .get("input")
            .and_then(|v| v.as_str())
            .unwrap_or("scribble");
        assert_eq!(
            runs[0].config.get("kind").and_then(|v| v.as_str()),
            Some(input),
            "{name}: its newest run trained another input than config.json declares"
        );
    }
}

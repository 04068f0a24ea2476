//! The committed training configurations load, and those that start from
//! committed weights name a checkpoint that is there, of the kind they train.

use std::path::Path;

use scribseg_model::lineage::Origin;
use scribseg_model::{InputKind, Lineage};
use scribseg_train::TrainConfig;

/// The dataset configurations in `configs/` (read by `pack`, `data` and `eval`).
const DATA_CONFIGS: &[&str] = &["default.toml", "more.toml"];

/// Every training configuration in `configs/` and the input kind it trains.
const CONFIGS: &[(&str, InputKind)] = &[
    ("train.toml", InputKind::Scribble),
    ("default-recipe.toml", InputKind::Scribble),
    ("finetune.toml", InputKind::Scribble),
    ("continue.toml", InputKind::Scribble),
    ("torch.toml", InputKind::Scribble),
    ("torch-tight.toml", InputKind::Scribble),
    ("torch-low.toml", InputKind::Scribble),
    ("torch-fresh.toml", InputKind::Scribble),
    ("gpu.toml", InputKind::Scribble),
    ("styles-baseline.toml", InputKind::Scribble),
    ("styles-mix.toml", InputKind::Scribble),
    ("styles2-baseline.toml", InputKind::Scribble),
    ("styles2-mix.toml", InputKind::Scribble),
    ("trainer-check.toml", InputKind::Scribble),
    ("data-baseline.toml", InputKind::Scribble),
    ("data-more.toml", InputKind::Scribble),
    ("styles4-pos.toml", InputKind::Scribble),
    ("styles4-posobj.toml", InputKind::Scribble),
    ("prompts-previous.toml", InputKind::Scribble),
    ("prompts-previous-more.toml", InputKind::Scribble),
    ("prompts-corrective.toml", InputKind::Scribble),
    ("prompts-corrective-previous.toml", InputKind::Scribble),
    ("box.toml", InputKind::Box),
    ("extremes.toml", InputKind::Extremes),
];

#[test]
fn every_training_config_is_checked() {
    let configs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs");
    let mut found: Vec<String> = std::fs::read_dir(&configs)
        .expect("configs/ is readable")
        .map(|entry| entry.expect("configs/ lists").file_name())
        .filter_map(|name| name.into_string().ok())
        .filter(|name| name.ends_with(".toml") && !DATA_CONFIGS.contains(&name.as_str()))
        .collect();
    found.sort();
    let mut listed: Vec<String> = CONFIGS.iter().map(|(n, _)| n.to_string()).collect();
    listed.sort();
    assert_eq!(found, listed, "configs/ and CONFIGS differ");
}

#[test]
fn committed_training_configs_load_and_start_from_committed_weights() {
    let configs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs");
    for &(name, kind) in CONFIGS {
        let config = TrainConfig::load(&configs.join(name))
            .unwrap_or_else(|err| panic!("configs/{name}: {err}"));
        assert_eq!(config.kind, kind, "configs/{name}");
        assert!(
            config.validation_samples > 0 && config.lr > config.min_lr,
            "configs/{name}: a run that validates and decays"
        );
        if let Some(init) = &config.init {
            assert!(
                init.join("config.json").is_file() && init.join("model.bpk").is_file(),
                "configs/{name}: init {} is not a committed checkpoint",
                init.display()
            );
        }
    }
}

/// The recipe spends, at each peak learning rate, the samples the chain of
/// rounds behind the default weights spent there (read from their lineage),
/// and as many in all as the longest branch of that chain.
#[test]
fn the_recipe_has_the_shape_of_the_default_weights_chain() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let recipe = TrainConfig::load(&root.join("configs/default-recipe.toml")).expect("recipe");
    let phase_steps: usize = recipe.phases.iter().map(|p| p.steps).sum();
    assert_eq!(phase_steps, recipe.steps, "the phases fill the run");

    let lineage = Lineage::load(&root.join("weights/default"))
        .expect("readable")
        .expect("the default weights have a lineage");
    let Origin::Average { inputs } = &lineage.origin else {
        panic!("the default weights are a mean of checkpoints");
    };
    let longest = inputs
        .iter()
        .filter_map(|input| input.lineage.as_deref())
        .max_by_key(|l| l.samples_total)
        .expect("an input with a lineage");
    assert_eq!(
        (recipe.steps * recipe.batch) as u64,
        longest.samples_total,
        "the recipe's samples"
    );
    let mut per_peak: Vec<(f64, u64)> = Vec::new();
    for run in longest.runs() {
        let lr = run.config["lr"].as_f64().expect("a run's lr");
        match per_peak.iter_mut().find(|(peak, _)| *peak == lr) {
            Some((_, samples)) => *samples += run.samples,
            None => per_peak.push((lr, run.samples)),
        }
    }
    per_peak.reverse();
    let phases: Vec<(f64, u64)> = recipe
        .phases
        .iter()
        .map(|p| (p.lr, (p.steps * recipe.batch) as u64))
        .collect();
    assert_eq!(phases, per_peak, "samples per peak, oldest first");
}

//! The committed training configurations load, and those that start from
//! committed weights name a checkpoint that is there, of the kind they train.

use std::path::Path;

use scribseg_model::InputKind;
use scribseg_train::TrainConfig;

/// Every training configuration in `configs/` (`default.toml` is the data
/// configuration) and the input kind it trains.
const CONFIGS: [(&str, InputKind); 10] = [
    ("train.toml", InputKind::Scribble),
    ("finetune.toml", InputKind::Scribble),
    ("continue.toml", InputKind::Scribble),
    ("torch.toml", InputKind::Scribble),
    ("torch-tight.toml", InputKind::Scribble),
    ("torch-low.toml", InputKind::Scribble),
    ("torch-fresh.toml", InputKind::Scribble),
    ("gpu.toml", InputKind::Scribble),
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
        .filter(|name| name.ends_with(".toml") && name != "default.toml")
        .collect();
    found.sort();
    let mut listed: Vec<String> = CONFIGS.iter().map(|(n, _)| n.to_string()).collect();
    listed.sort();
    assert_eq!(found, listed, "configs/ and CONFIGS differ");
}

#[test]
fn committed_training_configs_load_and_start_from_committed_weights() {
    let configs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs");
    for (name, kind) in CONFIGS {
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

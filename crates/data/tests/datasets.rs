//! Every dataset of `configs/default.toml` opens and reads over the real data.

use std::path::Path;

use scribseg_data::{Config, Dataset, Modality, Split};

use crate::util::dataset;

/// The default config with its data root pointed at the located data folder.
fn default_config() -> Option<Config> {
    let root = dataset("")?;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/default.toml");
    let mut config = Config::load(&path).expect("configs/default.toml is valid");
    config.data_root = root;
    Some(config)
}

fn open(config: &Config, name: &str) -> Dataset {
    let dc = config
        .datasets
        .iter()
        .find(|d| d.name == name)
        .unwrap_or_else(|| panic!("{name} is configured"));
    Dataset::open(dc, &config.data_root, config.split).unwrap_or_else(|e| panic!("{e}"))
}

/// Unit counts of every set, and the first units of each load cleanly.
#[test]
fn every_configured_dataset_opens_with_its_known_size() {
    let Some(config) = default_config() else {
        return;
    };
    let expected = [
        ("coco", 96),
        ("clothing", 502),
        ("horses", 327),
        ("pascal_s", 842),
        ("totalseg_ct", 1),
        ("left_atrium", 30),
        ("acdc", 60),
        ("kvasir_sample", 5),
        ("grabcut", 50),
        ("berkeley", 96),
        ("davis", 154),
    ];
    assert_eq!(config.datasets.len(), expected.len());
    for (name, units) in expected {
        let ds = open(&config, name);
        assert_eq!(ds.len(), units, "{name}");
        let report = ds.scan(&[0, units - 1], |s| assert!(!s.objects.is_empty()), || {});
        assert_eq!(report.skipped_total(), 0, "{name}: {:?}", report.examples);
    }
}

#[test]
fn eval_sets_are_test_only_and_whole() {
    let Some(config) = default_config() else {
        return;
    };
    for (name, objects) in [("grabcut", 50), ("berkeley", 100), ("davis", 154)] {
        let ds = open(&config, name);
        assert!(ds.units(Some(Split::Train)).is_empty() && ds.units(Some(Split::Val)).is_empty());
        let mut ignored = 0;
        let report = ds.scan(
            &ds.units(None),
            |s| ignored += usize::from(s.ignore.is_some()),
            || {},
        );
        assert_eq!(report.objects, objects, "{name}");
        assert_eq!(report.skipped_total(), 0, "{name}");
        if name == "grabcut" {
            assert_eq!(ignored, 42, "42 of 50 GrabCut masks have a 128 band");
        }
    }
}

#[test]
fn clothing_label_maps_give_several_objects_per_image() {
    let Some(config) = default_config() else {
        return;
    };
    let ds = open(&config, "clothing");
    let units: Vec<usize> = (0..10).collect();
    let report = ds.scan(&units, |_| {}, || {});
    assert_eq!(report.loaded, 10);
    assert!(
        report.objects >= 30,
        "{} objects in 10 images",
        report.objects
    );
}

#[test]
fn volumes_slice_into_medical_samples_split_by_volume() {
    let Some(config) = default_config() else {
        return;
    };
    let ds = open(&config, "left_atrium");
    let mut groups = std::collections::BTreeSet::new();
    let report = ds.scan(
        &[0, 1],
        |s| {
            assert_eq!(s.modality, Modality::Mri);
            assert!(
                s.objects.iter().all(|o| o.label == "left atrium"),
                "{:?}",
                s.objects[0].label
            );
            groups.insert(s.group.clone());
        },
        || {},
    );
    assert_eq!(groups.len(), 2, "slices keep their volume as split group");
    assert!(
        report.samples > 60,
        "{} slices from 2 volumes",
        report.samples
    );
    let ct = open(&config, "totalseg_ct");
    let report = ct.scan(&[0], |s| assert_eq!(s.modality, Modality::Ct), || {});
    assert!(
        report.objects > report.samples,
        "multi-organ slices hold several objects"
    );
}

/// `configs/more.toml` parses, its `more` datasets live under the `more`
/// root (outside the repository) and the evaluation sets stay test-only;
/// the data themselves are fetched by hand (docs/data.md), so not read here.
#[test]
fn the_more_config_names_its_sources_under_their_root() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/more.toml");
    let config = Config::load(&path).expect("configs/more.toml is valid");
    let more = &config.roots["more"];
    let under: Vec<&str> = config
        .datasets
        .iter()
        .filter(|d| d.path.starts_with(more))
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(
        under,
        ["clothing", "camvid", "duts", "ecssd", "persons", "ph2", "dsb2018"]
    );
    let eval: Vec<&str> = config
        .datasets
        .iter()
        .filter(|d| d.test_only)
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(eval, ["grabcut", "berkeley", "davis"]);
    let ecssd = config
        .datasets
        .iter()
        .find(|d| d.name == "ecssd")
        .expect("ecssd");
    assert_eq!(ecssd.exclude.len(), 38, "MORE.md's 37 and PASCAL-S's 180");
    let total: f64 = config.datasets.iter().map(|d| d.weight).sum();
    assert!((total - 1.0).abs() < 1e-9, "weights sum to {total}");
}

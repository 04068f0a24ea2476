//! Checkpoint directories: round trip and the errors of bad files.

use burn::config::Config;
use scribseg_model::{Error, InputKind, StageConfig, UNet, UNetConfig, CONFIG_FILE, WEIGHTS_FILE};

use crate::util::{device, random_input, values};

#[test]
fn round_trip_gives_the_same_output() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model = UNetConfig::new().init(&device());
    let input = random_input(1, 64, 3);
    let before = values(model.forward(input.clone()));
    model.save(dir.path()).expect("save");

    let fresh = UNetConfig::new().init(&device());
    assert_ne!(
        values(fresh.forward(input.clone())),
        before,
        "fresh weights differ"
    );

    let loaded = UNet::load(dir.path(), &device()).expect("load");
    assert_eq!(values(loaded.forward(input)), before);
    assert_eq!(loaded.config().stages, model.config().stages);
}

#[test]
fn the_input_kind_is_recorded_and_an_old_config_means_scribble() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model = UNetConfig::new().init(&device()).with_input(InputKind::Box);
    model.save(dir.path()).expect("save");
    let text = std::fs::read_to_string(dir.path().join(CONFIG_FILE)).expect("config");
    assert!(text.contains("\"input\": \"box\""), "{text}");
    assert_eq!(
        UNet::load(dir.path(), &device())
            .expect("load")
            .config()
            .input_kind(),
        InputKind::Box
    );

    // A config.json written before the field existed.
    let mut json: serde_json::Value = serde_json::from_str(&text).expect("json");
    json.as_object_mut().expect("object").remove("input");
    std::fs::write(dir.path().join(CONFIG_FILE), json.to_string()).expect("write");
    let loaded = UNet::load(dir.path(), &device()).expect("load");
    assert_eq!(loaded.config().input_kind(), InputKind::Scribble);
}

#[test]
fn a_half_precision_checkpoint_is_half_the_size_and_loads_as_f32() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model = UNetConfig::new()
        .init(&device())
        .with_input(InputKind::Extremes);
    let (full, half) = (dir.path().join("full"), dir.path().join("half"));
    model.save(&full).expect("save");
    model.save_half(&half).expect("save half");
    let size = |d: &std::path::Path| {
        std::fs::metadata(d.join(WEIGHTS_FILE))
            .expect("weights")
            .len()
    };
    assert!(
        size(&half) * 10 < size(&full) * 6,
        "{} bytes against {}",
        size(&half),
        size(&full)
    );
    let loaded = UNet::load(&half, &device()).expect("load");
    assert_eq!(loaded.config().input_kind(), InputKind::Extremes);
    let input = random_input(1, 64, 5);
    let expected = values(model.forward(input.clone()));
    let got = values(loaded.forward(input));
    let max_diff = got
        .iter()
        .zip(&expected)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(max_diff > 0.0, "f16 rounding changed nothing");
    assert!(max_diff < 0.05, "max |Δ logit| {max_diff}");
}

#[test]
fn default_weights_fit_in_ten_megabytes() {
    let dir = tempfile::tempdir().expect("temp dir");
    UNetConfig::new()
        .init(&device())
        .save(dir.path())
        .expect("save");
    let size = std::fs::metadata(dir.path().join(WEIGHTS_FILE))
        .expect("weights")
        .len();
    assert!(size <= 10 << 20, "{size} bytes");
}

#[test]
fn weights_of_another_network_are_a_mismatch() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut stages = StageConfig::efficient_unet_v2();
    stages[4].width = 72;
    UNetConfig::new()
        .with_stages(stages)
        .init(&device())
        .save(dir.path())
        .expect("save");
    // Put the default configuration beside the other network's weights.
    UNetConfig::new()
        .save(dir.path().join(CONFIG_FILE))
        .expect("config");

    match UNet::load(dir.path(), &device()) {
        Err(err @ Error::WeightsMismatch { .. }) => {
            let message = err.to_string();
            assert!(message.contains("shape mismatch"), "{message}");
            assert!(message.contains("encoder.stages.4"), "{message}");
        }
        other => panic!("expected WeightsMismatch, got {other:?}"),
    }
}

#[test]
fn a_file_that_is_not_weights_is_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    UNetConfig::new()
        .init(&device())
        .save(dir.path())
        .expect("save");
    std::fs::write(dir.path().join(WEIGHTS_FILE), b"{\"not\": \"weights\"}").expect("write");
    match UNet::load(dir.path(), &device()) {
        Err(err @ Error::Weights { .. }) => assert!(err.to_string().contains(WEIGHTS_FILE)),
        other => panic!("expected Weights, got {other:?}"),
    }
}

#[test]
fn a_missing_or_bad_config_is_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    assert!(matches!(
        UNet::load(dir.path(), &device()),
        Err(Error::Config { .. })
    ));
    std::fs::write(dir.path().join(CONFIG_FILE), "{\"stages\": 3}").expect("write");
    assert!(matches!(
        UNet::load(dir.path(), &device()),
        Err(Error::Config { .. })
    ));
    UNetConfig::new()
        .with_stages(vec![])
        .save(dir.path().join(CONFIG_FILE))
        .expect("write");
    assert!(matches!(
        UNet::load(dir.path(), &device()),
        Err(Error::InvalidConfig(_))
    ));
}

/// Every float tensor of a network (parameters and batch-norm statistics), flattened in
/// visiting order.
fn floats(model: &UNet) -> Vec<f32> {
    struct Collect(Vec<f32>);
    impl burn::module::ModuleVisitor for Collect {
        fn visit_float<const D: usize>(
            &mut self,
            param: &burn::module::Param<burn::tensor::Tensor<D>>,
        ) {
            self.0.extend(values(param.val()));
        }
    }
    let mut collect = Collect(Vec::new());
    burn::module::Module::visit(model, &mut collect);
    collect.0
}

#[test]
fn the_average_of_checkpoints_is_their_element_wise_mean() {
    let device = device();
    let nets: Vec<UNet> = [5, 6, 7]
        .into_iter()
        .map(|seed| {
            device.seed(seed);
            UNetConfig::new().init(&device)
        })
        .collect();
    let each: Vec<Vec<f32>> = nets.iter().map(floats).collect();
    assert_ne!(each[0], each[1], "the seeds give different weights");

    let mean = floats(&UNet::average(nets).expect("average"));
    assert_eq!(mean.len(), each[0].len());
    for (i, m) in mean.iter().enumerate() {
        let expected = (each[0][i] + each[1][i] + each[2][i]) / 3.0;
        assert!(
            (m - expected).abs() <= 1e-6 + 1e-6 * expected.abs(),
            "value {i}: {m} against {expected}"
        );
    }
}

#[test]
fn averaging_nothing_or_different_networks_is_an_error() {
    assert!(matches!(
        UNet::average(Vec::new()),
        Err(Error::InvalidConfig(_))
    ));
    let scribble = UNetConfig::new().init(&device());
    let other = UNetConfig::new().with_se_divisor(2).init(&device());
    let err = UNet::average(vec![scribble, other]).expect_err("different networks");
    assert!(
        err.to_string()
            .contains("checkpoint 2 has another network configuration"),
        "{err}"
    );
}

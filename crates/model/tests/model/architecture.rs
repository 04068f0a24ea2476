//! The network's structure: parameter count, shapes, configuration checks.

use burn::module::Module;
use scribseg_model::{BlockKind, Error, StageConfig, UNetConfig};

use crate::util::{device, random_input};

#[test]
fn default_network_has_the_authors_parameter_count() {
    let model = UNetConfig::new().init(&device());
    assert_eq!(model.num_trainable_params(), 1_082_772);
    // burn's count adds the batch norms' running mean and variance: 2 × 14,056 channels
    // (PyTorch: `sum(m.num_features for m in net.modules() if isinstance(m, nn.BatchNorm2d))`).
    assert_eq!(model.num_params(), 1_082_772 + 2 * 14_056);
}

#[test]
fn forward_keeps_batch_and_size_and_gives_one_logit_channel() {
    let model = UNetConfig::new().init(&device());
    let logits = model.forward(random_input(2, 128, 1));
    assert_eq!(logits.dims(), [2, 1, 128, 128]);
    let values = crate::util::values(logits);
    assert!(values.iter().all(|v| v.is_finite()));
}

#[test]
fn size_multiple_follows_the_number_of_stages() {
    assert_eq!(UNetConfig::new().size_multiple(), 16);
    let two_stages = UNetConfig::new().with_stages(StageConfig::efficient_unet_v2()[..2].to_vec());
    assert_eq!(two_stages.size_multiple(), 2);
}

#[test]
fn a_smaller_table_builds_and_runs() {
    let stages = vec![
        StageConfig::new(BlockKind::Fused, 4, 1, 1, false),
        StageConfig::new(BlockKind::MbConv, 8, 2, 2, true),
    ];
    let model = UNetConfig::new().with_stages(stages).init(&device());
    assert_eq!(model.forward(random_input(1, 8, 2)).dims(), [1, 1, 8, 8]);
}

#[test]
fn invalid_configurations_are_named() {
    let cases = [
        (UNetConfig::new().with_stages(vec![]), "at least one stage"),
        (UNetConfig::new().with_in_channels(0), "in_channels"),
        (UNetConfig::new().with_se_divisor(0), "se_divisor"),
        (
            UNetConfig::new().with_stages(vec![StageConfig::new(BlockKind::Fused, 8, 0, 1, false)]),
            "stage 0",
        ),
        (
            UNetConfig::new().with_stages(vec![StageConfig::new(BlockKind::MbConv, 2, 1, 1, true)]),
            "too small to squeeze",
        ),
    ];
    for (config, expected) in cases {
        match config.validate() {
            Err(Error::InvalidConfig(message)) => {
                assert!(message.contains(expected), "{message:?} lacks {expected:?}")
            }
            other => panic!("{config:?}: expected InvalidConfig, got {other:?}"),
        }
    }
    assert!(UNetConfig::new().validate().is_ok());
}

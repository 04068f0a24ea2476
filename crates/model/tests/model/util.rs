//! Helpers shared by the tests.

use burn::tensor::{Device, Distribution, Tensor};

/// The device every test runs on.
pub fn device() -> Device {
    Device::flex()
}

/// A seeded standard-normal input `[batch, 4, size, size]`.
pub fn random_input(batch: usize, size: usize, seed: u64) -> Tensor<4> {
    let device = device();
    device.seed(seed);
    Tensor::random(
        [batch, 4, size, size],
        Distribution::Normal(0.0, 1.0),
        &device,
    )
}

/// Asserts `|actual - expected| <= atol + rtol * |expected|` elementwise, reporting the largest
/// difference and the first mismatched indices; returns the largest absolute difference.
pub fn assert_close(actual: &[f32], expected: &[f32], atol: f32, rtol: f32) -> f32 {
    assert_eq!(actual.len(), expected.len(), "lengths differ");
    let mismatches: Vec<usize> = (0..actual.len())
        .filter(|&i| {
            // Written so that NaN counts as a mismatch.
            let within = (actual[i] - expected[i]).abs() <= atol + rtol * expected[i].abs();
            !within
        })
        .collect();
    let max_diff = actual
        .iter()
        .zip(expected)
        .map(|(a, e)| (a - e).abs())
        .fold(0.0f32, f32::max);
    assert!(
        mismatches.is_empty(),
        "{} of {} values differ (max abs diff {max_diff}); first at {:?}",
        mismatches.len(),
        actual.len(),
        &mismatches[..mismatches.len().min(16)]
    );
    max_diff
}

/// The values of a tensor as a flat `Vec<f32>`.
pub fn values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor
        .into_data()
        .try_into_vec::<f32>()
        .expect("the model computes in f32")
}

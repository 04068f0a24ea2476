//! Each layer's forward and backward against burn's autodiff on Flex.
//!
//! burn computes `loss = Σ output ⊙ r` for a random `r`, so the gradient reaching the layer's
//! output is `r`; our backward gets the same `r`, transposed to channel-major. Errors are
//! relative Euclidean (L2) norms over a whole tensor: `‖ours − burn's‖₂ / ‖burn's‖₂`.

use burn::tensor::activation;
use burn::tensor::module::{avg_pool2d, batch_norm_train, conv2d, interpolate};
use burn::tensor::ops::{AvgPoolOptions, ConvOptions, InterpolateMode, InterpolateOptions};
use burn::tensor::{Device, Gradients, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::super::pool::Pool;
use super::*;

/// The largest relative L2 error allowed on a forward output.
const FORWARD: f64 = 1e-4;
/// The largest relative L2 error allowed on a gradient.
const GRADIENT: f64 = 1e-3;

/// `len` values drawn uniformly from `range`.
fn random(rng: &mut ChaCha8Rng, len: usize, range: std::ops::Range<f32>) -> Vec<f32> {
    (0..len).map(|_| rng.random_range(range.clone())).collect()
}

/// Swaps the two outer axes of `[a][b][rest…]`, giving `[b][a][rest…]`.
fn swap_outer(v: &[f32], a: usize, b: usize) -> Vec<f32> {
    let rest = v.len() / (a * b);
    let mut out = vec![0.0; v.len()];
    for i in 0..a {
        for j in 0..b {
            out[(j * a + i) * rest..][..rest].copy_from_slice(&v[(i * b + j) * rest..][..rest]);
        }
    }
    out
}

/// burn's `[batch][c][h][w]` → channel-major `[c][batch][h][w]`.
fn channel_major(v: &[f32], batch: usize, c: usize) -> Vec<f32> {
    swap_outer(v, batch, c)
}

/// Channel-major `[c][batch][h][w]` → burn's `[batch][c][h][w]`.
fn batch_major(v: &[f32], batch: usize, c: usize) -> Vec<f32> {
    swap_outer(v, c, batch)
}

/// `‖a − b‖₂ / max(‖b‖₂, 1e-6)`, in `f64`.
fn relative_error(a: &[f32], b: &[f32]) -> f64 {
    let diff: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum();
    let norm: f64 = b.iter().map(|&y| f64::from(y).powi(2)).sum();
    diff.sqrt() / norm.sqrt().max(1e-6)
}

/// Asserts, for each `(quantity, ours, burn's, tolerance)` of `layer`, that the relative L2
/// error is within the tolerance, and prints it.
fn check(layer: &str, cases: &[(&str, &[f32], &[f32], f64)]) {
    for &(what, ours, burns, tolerance) in cases {
        assert_eq!(ours.len(), burns.len(), "{layer}: {what}: lengths differ");
        let error = relative_error(ours, burns);
        eprintln!("{layer}: {what}: relative error {error:.2e}");
        assert!(
            error <= tolerance,
            "{layer}: {what}: relative error {error:.2e} above {tolerance:.0e}"
        );
    }
}

/// The layout of a batch of `height`×`width` planes.
fn geo(batch: usize, height: usize, width: usize) -> Geo {
    Geo {
        batch,
        height,
        width,
    }
}

/// A tensor of `values` on `device`.
fn tensor<const D: usize>(values: &[f32], shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(values.to_vec(), shape), device)
}

/// A tensor's values.
fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec::<f32>().expect("f32 values")
}

/// The gradient of a leaf tensor.
fn grad<const D: usize>(t: &Tensor<D>, grads: &Gradients) -> Vec<f32> {
    values(t.grad(grads).expect("the leaf has a gradient"))
}

/// burn's `output` and the gradients of `Σ output ⊙ r`.
fn backward<const D: usize>(output: Tensor<D>, r: &[f32]) -> (Vec<f32>, Gradients) {
    let r = tensor(r, output.dims(), &output.device());
    (values(output.clone()), (output * r).sum().backward())
}

/// A pool whose kept buffers (every length below 2,048) hold garbage, so that a kernel that
/// reads a buffer it should have overwritten shows.
fn dirty_pool() -> Pool {
    let mut pool = Pool::default();
    (1..2048).for_each(|len| pool.give(vec![1e3; len]));
    pool
}

/// A dense `kernel`×`kernel` convolution, with or without bias.
fn convolution_case(kernel: usize, with_bias: bool, seed: u64) {
    let (b, cin, cout, h, w) = (2, 3, 5, 5, 7);
    let shape = ConvShape { cin, cout, kernel };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x = random(&mut rng, b * cin * h * w, -1.0..1.0);
    let weight = random(&mut rng, cout * cin * kernel * kernel, -0.5..0.5);
    let bias = random(&mut rng, cout, -1.0..1.0);
    let r = random(&mut rng, b * cout * h * w, -1.0..1.0);

    let device = Device::flex().autodiff();
    let xt = tensor(&x, [b, cin, h, w], &device).require_grad();
    let wt = tensor(&weight, [cout, cin, kernel, kernel], &device).require_grad();
    let bt = tensor(&bias, [cout], &device).require_grad();
    let pad = kernel / 2;
    let options = ConvOptions::new([1, 1], [pad, pad], [1, 1], 1);
    let bias_t = with_bias.then(|| bt.clone());
    let (y, grads) = backward(conv2d(xt.clone(), wt.clone(), bias_t, options), &r);

    let mut pool = dirty_pool();
    let (xs, rs) = (channel_major(&x, b, cin), channel_major(&r, b, cout));
    let bias_s = with_bias.then_some(&bias[..]);
    let ours = conv(shape, geo(b, h, w), &xs, &weight, bias_s, &mut pool);
    let (mut dw, mut db) = (vec![0.0; weight.len()], vec![0.0; cout]);
    let dbias = with_bias.then_some(&mut db[..]);
    let dx = conv_backward(
        shape,
        geo(b, h, w),
        &xs,
        &weight,
        &rs,
        &mut dw,
        dbias,
        true,
        &mut pool,
    );
    let name = format!("{kernel}×{kernel} convolution (bias: {with_bias})");
    check(
        &name,
        &[
            ("output", &batch_major(&ours, b, cout), &y, FORWARD),
            (
                "dx",
                &batch_major(&dx.expect("dx"), b, cin),
                &grad(&xt, &grads),
                GRADIENT,
            ),
            ("dweight", &dw, &grad(&wt, &grads), GRADIENT),
        ],
    );
    if with_bias {
        check(&name, &[("dbias", &db, &grad(&bt, &grads), GRADIENT)]);
    }
}

#[test]
fn a_dense_3x3_convolution_with_or_without_bias_matches_burn() {
    convolution_case(3, true, 1);
    convolution_case(3, false, 2);
}

#[test]
fn a_1x1_convolution_with_bias_matches_burn() {
    convolution_case(1, true, 3);
}

#[test]
fn a_depthwise_convolutions_output_and_gradients_are_burns() {
    let (b, c, h, w) = (3, 4, 5, 7);
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let x = random(&mut rng, b * c * h * w, -1.0..1.0);
    let weight = random(&mut rng, c * 9, -0.5..0.5);
    let r = random(&mut rng, b * c * h * w, -1.0..1.0);

    let device = Device::flex().autodiff();
    let xt = tensor(&x, [b, c, h, w], &device).require_grad();
    let wt = tensor(&weight, [c, 1, 3, 3], &device).require_grad();
    let options = ConvOptions::new([1, 1], [1, 1], [1, 1], c);
    let (y, grads) = backward(conv2d(xt.clone(), wt.clone(), None, options), &r);

    let mut pool = dirty_pool();
    let (xs, rs) = (channel_major(&x, b, c), channel_major(&r, b, c));
    let ours = depthwise(geo(b, h, w), &xs, &weight, &mut pool);
    let mut dw = vec![0.0; weight.len()];
    let dx = depthwise_backward(geo(b, h, w), &xs, &weight, &rs, &mut dw, &mut pool);
    check(
        "depthwise convolution",
        &[
            ("output", &batch_major(&ours, b, c), &y, FORWARD),
            ("dx", &batch_major(&dx, b, c), &grad(&xt, &grads), GRADIENT),
            ("dweight", &dw, &grad(&wt, &grads), GRADIENT),
        ],
    );
}

/// Batch norm in training mode, then SiLU when `silu`, and the running statistics' update.
fn batch_norm_case(silu: bool, seed: u64) {
    let (b, c, h, w) = (3, 4, 5, 7);
    let n = b * h * w;
    let k = BnConstants {
        epsilon: 1e-5,
        momentum: 0.1,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x = random(&mut rng, b * c * h * w, -1.0..3.0);
    let gamma = random(&mut rng, c, 0.5..1.5);
    let beta = random(&mut rng, c, -0.5..0.5);
    let mut running_mean = random(&mut rng, c, -1.0..1.0);
    let mut running_var = random(&mut rng, c, 0.5..2.0);
    let r = random(&mut rng, b * c * h * w, -1.0..1.0);

    let device = Device::flex().autodiff();
    let xt = tensor(&x, [b, c, h, w], &device).require_grad();
    let gt = tensor(&gamma, [c], &device).require_grad();
    let bt = tensor(&beta, [c], &device).require_grad();
    let out = batch_norm_train(xt.clone(), gt.clone(), bt.clone(), f64::from(k.epsilon)).output;
    let out = if silu { activation::silu(out) } else { out };
    let (y, grads) = backward(out, &r);

    let (xs, rs) = (channel_major(&x, b, c), channel_major(&r, b, c));
    // The running statistics expected: 0.9·running + 0.1·batch, biased variance, in f64.
    let (mut expected_mean, mut expected_var) = (Vec::new(), Vec::new());
    for (ch, row) in xs.chunks(n).enumerate() {
        let mean = row.iter().map(|&v| f64::from(v)).sum::<f64>() / n as f64;
        let var = row
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / n as f64;
        expected_mean.push((0.9 * f64::from(running_mean[ch]) + 0.1 * mean) as f32);
        expected_var.push((0.9 * f64::from(running_var[ch]) + 0.1 * var) as f32);
    }
    let mut pool = dirty_pool();
    let p = BnParams {
        gamma: &gamma,
        beta: &beta,
    };
    let running = (&mut running_mean[..], &mut running_var[..]);
    let (ours, stats) = batch_norm(geo(b, h, w), &xs, &p, running, k, silu, &mut pool);
    let (mut dgamma, mut dbeta) = (vec![0.0; c], vec![0.0; c]);
    let (dg, db) = (&mut dgamma[..], &mut dbeta[..]);
    let dx = batch_norm_backward(geo(b, h, w), &xs, &stats, &p, silu, &rs, dg, db, &mut pool);
    check(
        &format!("batch norm (SiLU: {silu})"),
        &[
            ("output", &batch_major(&ours, b, c), &y, FORWARD),
            ("running mean", &running_mean, &expected_mean, FORWARD),
            ("running variance", &running_var, &expected_var, FORWARD),
            ("dx", &batch_major(&dx, b, c), &grad(&xt, &grads), GRADIENT),
            ("dgamma", &dgamma, &grad(&gt, &grads), GRADIENT),
            ("dbeta", &dbeta, &grad(&bt, &grads), GRADIENT),
        ],
    );
}

#[test]
fn batch_norm_in_training_mode_with_and_without_silu_matches_burn() {
    batch_norm_case(false, 5);
    batch_norm_case(true, 6);
}

#[test]
fn squeeze_excitation_matches_burn() {
    let (b, c, s, h, w) = (3, 6, 2, 5, 7);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let x = random(&mut rng, b * c * h * w, -1.0..2.0);
    let (rw, rb) = (
        random(&mut rng, c * s, -1.0..1.0),
        random(&mut rng, s, -0.5..0.5),
    );
    let (ew, eb) = (
        random(&mut rng, s * c, -1.0..1.0),
        random(&mut rng, c, -0.5..0.5),
    );
    let r = random(&mut rng, b * c * h * w, -1.0..1.0);

    let device = Device::flex().autodiff();
    let xt = tensor(&x, [b, c, h, w], &device).require_grad();
    let rwt = tensor(&rw, [c, s], &device).require_grad();
    let rbt = tensor(&rb, [s], &device).require_grad();
    let ewt = tensor(&ew, [s, c], &device).require_grad();
    let ebt = tensor(&eb, [c], &device).require_grad();
    let pooled = xt.clone().mean_dim(3).mean_dim(2).reshape([b, c]);
    let squeezed = activation::silu(pooled.matmul(rwt.clone()) + rbt.clone().unsqueeze::<2>());
    let scale = activation::sigmoid(squeezed.matmul(ewt.clone()) + ebt.clone().unsqueeze::<2>());
    let (y, grads) = backward(xt.clone() * scale.reshape([b, c, 1, 1]), &r);

    let mut pool = dirty_pool();
    let (xs, rs) = (channel_major(&x, b, c), channel_major(&r, b, c));
    let p = SeParams {
        reduce_weight: &rw,
        reduce_bias: &rb,
        expand_weight: &ew,
        expand_bias: &eb,
    };
    let (ours, tape) = squeeze_excite(geo(b, h, w), c, &xs, &p, &mut pool);
    let (mut drw, mut drb) = (vec![0.0; c * s], vec![0.0; s]);
    let (mut dew, mut deb) = (vec![0.0; s * c], vec![0.0; c]);
    let g = SeGrads {
        reduce_weight: &mut drw,
        reduce_bias: &mut drb,
        expand_weight: &mut dew,
        expand_bias: &mut deb,
    };
    let dx = squeeze_excite_backward(geo(b, h, w), c, &xs, &tape, &p, &rs, g, &mut pool);
    check(
        "squeeze-excitation",
        &[
            ("output", &batch_major(&ours, b, c), &y, FORWARD),
            ("dx", &batch_major(&dx, b, c), &grad(&xt, &grads), GRADIENT),
            ("d reduce weight", &drw, &grad(&rwt, &grads), GRADIENT),
            ("d reduce bias", &drb, &grad(&rbt, &grads), GRADIENT),
            ("d expand weight", &dew, &grad(&ewt, &grads), GRADIENT),
            ("d expand bias", &deb, &grad(&ebt, &grads), GRADIENT),
        ],
    );
}

#[test]
fn average_pooling_matches_burn() {
    let (b, c, h, w) = (2, 3, 6, 10);
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let x = random(&mut rng, b * c * h * w, -1.0..1.0);
    let r = random(&mut rng, b * c * h * w / 4, -1.0..1.0);

    let device = Device::flex().autodiff();
    let xt = tensor(&x, [b, c, h, w], &device).require_grad();
    let (y, grads) = backward(avg_pool2d(xt.clone(), AvgPoolOptions::new([2, 2])), &r);

    let mut pool = dirty_pool();
    let ours = avg_pool(geo(b, h, w), &channel_major(&x, b, c), &mut pool);
    let dx = avg_pool_backward(geo(b, h, w), &channel_major(&r, b, c), &mut pool);
    check(
        "2×2 average pooling",
        &[
            ("output", &batch_major(&ours, b, c), &y, FORWARD),
            ("dx", &batch_major(&dx, b, c), &grad(&xt, &grads), GRADIENT),
        ],
    );
}

#[test]
fn bilinear_upsampling_matches_burn() {
    let (b, c, h, w) = (2, 3, 5, 7);
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let x = random(&mut rng, b * c * h * w, -1.0..1.0);
    let r = random(&mut rng, b * c * h * w * 4, -1.0..1.0);

    let device = Device::flex().autodiff();
    let xt = tensor(&x, [b, c, h, w], &device).require_grad();
    let options = InterpolateOptions::new(InterpolateMode::Bilinear)
        .with_align_corners(false)
        .with_output_size([2 * h, 2 * w]);
    let (y, grads) = backward(interpolate(xt.clone(), options), &r);

    let mut pool = dirty_pool();
    let mut ours = pool.zeros(x.len() * 4);
    upsample(geo(b, h, w), &channel_major(&x, b, c), &mut ours);
    let dx = upsample_backward(geo(b, h, w), &channel_major(&r, b, c), &mut pool);
    check(
        "×2 bilinear upsampling",
        &[
            ("output", &batch_major(&ours, b, c), &y, FORWARD),
            ("dx", &batch_major(&dx, b, c), &grad(&xt, &grads), GRADIENT),
        ],
    );
}

#[test]
fn the_weighted_binary_cross_entropy_and_its_gradient_match_burn() {
    let len = 2 * 6 * 10;
    let mut rng = ChaCha8Rng::seed_from_u64(10);
    let logits = random(&mut rng, len, -6.0..6.0);
    let target = random(&mut rng, len, 0.0..1.0);
    // Weights (a quarter of them 0) summing to far more than 1, then to less than 1, where the
    // divisor is 1.
    for scale in [1.0, 1e-3] {
        let weight: Vec<f32> = random(&mut rng, len, -0.5..1.5)
            .into_iter()
            .map(|v| v.max(0.0) * scale)
            .collect();
        let device = Device::flex().autodiff();
        let x = tensor(&logits, [len], &device).require_grad();
        let y = tensor(&target, [len], &device);
        let per_pixel =
            x.clone().clamp_min(0.0) - x.clone() * y + (x.clone().abs().neg().exp() + 1.0).log();
        let total = weight.iter().map(|&v| f64::from(v)).sum::<f64>().max(1.0);
        let loss = (per_pixel * tensor(&weight, [len], &device))
            .sum()
            .div_scalar(total);
        let burn_loss = values(loss.clone());
        let grads = loss.backward();

        let (ours, dx) = bce_with_logits(&logits, &target, &weight, &mut dirty_pool());
        check(
            &format!("binary cross-entropy (weights ×{scale})"),
            &[
                ("loss", &[ours], &burn_loss, FORWARD),
                ("dlogits", &dx, &grad(&x, &grads), GRADIENT),
            ],
        );
    }
}

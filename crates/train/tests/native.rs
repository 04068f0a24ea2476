//! The CPU trainer against burn's autodiff: the same gradients for the whole network, the same
//! Adam steps, and weights that go back into a burn record.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Gradients, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use scribseg_model::{UNet, UNetConfig};
use scribseg_train::{bce_with_logits, Batch, NativeTrainer};

/// Every parameter's gradient by path, read from burn's autodiff.
struct GradCollector<'a> {
    grads: &'a Gradients,
    path: Vec<String>,
    out: Vec<(String, Vec<f32>)>,
}

impl ModuleVisitor for GradCollector<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_owned());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = param.val().grad(self.grads) {
            let values = grad.into_data().try_into_vec::<f32>().expect("f32");
            self.out.push((self.path.join("."), values));
        }
    }
}

/// A random batch: inputs in the network's range, a target blob, a few ignored pixels.
fn batch(batch: usize, side: usize, seed: u64) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let input = (0..batch * 4 * side * side)
        .map(|_| rng.random_range(-2.0..2.0))
        .collect();
    let target = (0..batch * side * side)
        .map(|i| {
            let (y, x) = ((i / side) % side, i % side);
            f32::from(u8::from(x + y < side))
        })
        .collect();
    let weight = (0..batch * side * side)
        .map(|_| f32::from(u8::from(rng.random::<f32>() > 0.1)))
        .collect();
    (input, target, weight)
}

fn tensor(values: &[f32], shape: [usize; 4], device: &Device) -> Tensor<4> {
    Tensor::from_data(TensorData::new(values.to_vec(), shape), device)
}

/// `‖a − b‖ / max(‖b‖, floor)`, Euclidean norms over the whole tensor.
fn relative_error(a: &[f32], b: &[f32], floor: f64) -> f64 {
    let diff: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2))
        .sum();
    let norm: f64 = b.iter().map(|y| f64::from(*y).powi(2)).sum();
    diff.sqrt() / norm.sqrt().max(floor)
}

/// A network whose batch norms are not at their initial identity, so their gradients and
/// running statistics are exercised off the trivial point.
fn network(device: &Device) -> UNet {
    let model = UNetConfig::new().init(device);
    let mut trainer = NativeTrainer::new(&model, 0.0);
    let (b, side) = (4, 32);
    let (input, target, weight) = batch(b, side, 7);
    let data = Batch {
        input: &input,
        target: &target,
        weight: &weight,
        batch: b,
        side,
    };
    for _ in 0..3 {
        trainer.step(&data, 1e-2);
    }
    trainer.write_into(model)
}

#[test]
fn the_whole_networks_gradients_are_burns() {
    let device = Device::flex().autodiff();
    let model = network(&device);
    let (b, side) = (4, 32);
    let (input, target, weight) = batch(b, side, 11);

    let loss = bce_with_logits(
        model.forward(tensor(&input, [b, 4, side, side], &device)),
        tensor(&target, [b, 1, side, side], &device),
        tensor(&weight, [b, 1, side, side], &device),
    );
    let burn_loss = loss.clone().into_scalar::<f32>();
    let grads = loss.backward();
    let mut collector = GradCollector {
        grads: &grads,
        path: Vec::new(),
        out: Vec::new(),
    };
    model.visit(&mut collector);

    let mut trainer = NativeTrainer::new(&model, 0.0);
    let ours = trainer.loss_and_gradients(&Batch {
        input: &input,
        target: &target,
        weight: &weight,
        batch: b,
        side,
    });
    assert!(
        (ours - burn_loss).abs() <= 1e-5 * burn_loss.abs().max(1.0),
        "{ours} vs {burn_loss}"
    );
    let ours: Vec<(String, Vec<f32>)> = trainer
        .gradients()
        .map(|(name, g)| (name.to_owned(), g.to_vec()))
        .collect();
    assert_eq!(
        ours.len(),
        collector.out.len(),
        "one gradient per parameter"
    );
    // Some gradients are zero but for rounding (a bias or a batch norm's shift followed by
    // another batch norm, whose mean removes it: norms ~1e-9 here); relative to themselves they
    // are noise, so the denominator is at least 1e-4 of the largest gradient's norm.
    let largest = collector
        .out
        .iter()
        .map(|(_, g)| g.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>().sqrt())
        .fold(0.0, f64::max);
    let floor = 1e-4 * largest;
    let mut worst = (0.0, String::new());
    for ((name, grad), (burn_name, burn_grad)) in ours.iter().zip(&collector.out) {
        assert_eq!(name, burn_name);
        let error = relative_error(grad, burn_grad, floor);
        if error > worst.0 {
            worst = (error, name.clone());
        }
    }
    assert!(
        worst.0 <= 1e-3,
        "largest relative error {:.2e} at {}",
        worst.0,
        worst.1
    );
}

#[test]
fn steps_follow_burns_adam_with_weight_decay() {
    let device = Device::flex().autodiff();
    let start = network(&device);
    let (b, side) = (2, 32);
    let decay = 1e-4;
    let mut trainer = NativeTrainer::new(&start, decay);
    let mut model = start.clone();
    let mut optim = AdamConfig::new()
        .with_weight_decay(Some(WeightDecayConfig::new(decay)))
        .init();
    for step in 0..4 {
        let (input, target, weight) = batch(b, side, 100 + step);
        let loss = bce_with_logits(
            model.forward(tensor(&input, [b, 4, side, side], &device)),
            tensor(&target, [b, 1, side, side], &device),
            tensor(&weight, [b, 1, side, side], &device),
        );
        let burn_loss = loss.clone().into_scalar::<f32>();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(1e-3, model, grads);
        let ours = trainer.step(
            &Batch {
                input: &input,
                target: &target,
                weight: &weight,
                batch: b,
                side,
            },
            1e-3,
        );
        assert!(
            (ours - burn_loss).abs() <= 1e-4 * burn_loss.abs().max(1.0),
            "step {step}: loss {ours} vs burn's {burn_loss}"
        );
    }
    // The weights and running statistics after the steps, through burn records' structure.
    let ours = trainer.write_into(start);
    let probe = batch(1, side, 999).0;
    let eval = |m: &UNet| {
        m.valid()
            .forward(tensor(&probe, [1, 4, side, side], &Device::flex()))
            .into_data()
            .try_into_vec::<f32>()
            .expect("f32")
    };
    let (a, b) = (eval(&ours), eval(&model));
    assert!(
        relative_error(&a, &b, 1e-6) <= 1e-3,
        "{}",
        relative_error(&a, &b, 1e-6)
    );
}

#[test]
fn the_optimizer_state_round_trips_and_a_foreign_file_is_refused() {
    let device = Device::flex();
    let model = UNetConfig::new().init(&device);
    let mut trainer = NativeTrainer::new(&model, 0.0);
    let (input, target, weight) = batch(2, 16, 3);
    let data = Batch {
        input: &input,
        target: &target,
        weight: &weight,
        batch: 2,
        side: 16,
    };
    trainer.step(&data, 1e-3);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("optimizer.native");
    trainer.save_optimizer(&path).expect("saved");

    // A copy that loads the state takes the same next step as the original.
    let mut copy = NativeTrainer::new(&trainer.write_into(model.clone()), 0.0);
    copy.load_optimizer(&path).expect("loaded");
    trainer.step(&data, 1e-3);
    copy.step(&data, 1e-3);
    let (a, b) = (
        trainer.write_into(model.clone()),
        copy.write_into(model.clone()),
    );
    let probe = tensor(&input[..4 * 256], [1, 4, 16, 16], &device);
    let (a, b) = (
        a.forward(probe.clone())
            .into_data()
            .try_into_vec::<f32>()
            .expect("f32"),
        b.forward(probe)
            .into_data()
            .try_into_vec::<f32>()
            .expect("f32"),
    );
    assert_eq!(a, b);

    let bytes = std::fs::read(&path).expect("read");
    std::fs::write(&path, &bytes[..bytes.len() - 3]).expect("write");
    let err = copy.load_optimizer(&path).expect_err("truncated");
    assert!(err.to_string().contains("truncated"), "{err}");
    std::fs::write(&path, b"{}").expect("write");
    let err = copy.load_optimizer(&path).expect_err("not ours");
    assert!(err.to_string().contains("not an optimizer state"), "{err}");
}

#[test]
fn the_memory_kept_between_steps_does_not_grow() {
    let model = network(&Device::flex().autodiff());
    let mut trainer = NativeTrainer::new(&model, 0.0);
    let (b, side) = (2, 32);
    let mut kept = Vec::new();
    for step in 0..4 {
        let (input, target, weight) = batch(b, side, 500 + step);
        let batch = Batch {
            input: &input,
            target: &target,
            weight: &weight,
            batch: b,
            side,
        };
        trainer.step(&batch, 1e-4);
        kept.push(trainer.kept_values());
    }
    assert!(kept[0] > 0, "the pool keeps the step's buffers");
    assert!(
        kept.windows(2).all(|w| w[0] == w[1]),
        "kept values per step: {kept:?}"
    );
}

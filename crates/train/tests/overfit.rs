//! The trainer's pieces learn: a handful of generated examples are overfit on
//! the CPU, through burn and by the CPU trainer, each in well under a minute
//! (at 64×64, a quarter of the work of the 128×128 crops; the network is fully
//! convolutional).

use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Tensor};
use image::{Rgb, RgbImage};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use scribseg_data::{Modality, ObjectSample};
use scribseg_model::UNetConfig;
use scribseg_sim::Mask;
use scribseg_train::{
    batch_tensors, bce_with_logits, make_example, Batch, Example, ExampleParams, NativeTrainer,
};

/// A bright ellipse on a dark, striped backdrop.
fn sample(cx: f32, cy: f32, a: f32, b: f32) -> ObjectSample {
    let inside =
        |x: u32, y: u32| ((x as f32 - cx) / a).powi(2) + ((y as f32 - cy) / b).powi(2) <= 1.0;
    ObjectSample {
        image: RgbImage::from_fn(160, 160, |x, y| {
            if inside(x, y) {
                Rgb([220, 150, 60])
            } else {
                Rgb([40, 60 + (x % 16) as u8 * 4, 90])
            }
        }),
        target: Mask::from_fn(160, 160, |x, y| inside(x as u32, y as u32)),
        others: Vec::new(),
        ignore: None,
        modality: Modality::Photo,
        label: "ellipse".into(),
    }
}

/// The side of the training crops of this test.
const SIDE: usize = 64;

/// Four generated examples at [`SIDE`].
fn examples() -> Vec<Example> {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let params = ExampleParams::default();
    [
        (80.0, 80.0, 40.0, 25.0),
        (60.0, 90.0, 30.0, 45.0),
        (90.0, 70.0, 50.0, 20.0),
        (70.0, 70.0, 25.0, 25.0),
    ]
    .into_iter()
    .map(|(cx, cy, a, b)| {
        make_example(&sample(cx, cy, a, b), &params, SIDE, &mut rng).expect("object present")
    })
    .collect()
}

/// Thirty steps of `step` (which returns the step's loss) take a random network from about
/// ln 2 to a quarter of it.
fn assert_overfits(mut step: impl FnMut() -> f32) {
    let first = step();
    let mut last = first;
    for _ in 1..30 {
        last = step();
    }
    assert!(
        first > 0.4,
        "a random network starts near ln 2, got {first}"
    );
    assert!(
        last < 0.25,
        "loss only fell from {first} to {last} in 30 steps"
    );
}

#[test]
fn a_few_examples_are_overfit_through_burn() {
    let device = Device::flex().autodiff();
    let examples = examples();
    let mut model = UNetConfig::new().init(&device);
    let mut optim = AdamConfig::new().init();
    assert_overfits(|| {
        let (input, target, weight) = batch_tensors(&examples, 4, &device);
        let loss = bce_with_logits(model.forward(input), target, weight);
        let value = loss.clone().into_scalar::<f32>();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(3e-3, model.clone(), grads);
        value
    });
}

#[test]
fn a_few_examples_are_overfit_by_the_cpu_trainer() {
    let device = Device::flex();
    let examples = examples();
    let values = |t: Tensor<4>| t.into_data().try_into_vec::<f32>().expect("f32");
    let (input, target, weight) = batch_tensors(&examples, 4, &device);
    let (input, target, weight) = (values(input), values(target), values(weight));
    let mut trainer = NativeTrainer::new(&UNetConfig::new().init(&device), 0.0);
    assert_overfits(|| {
        trainer.step(
            &Batch {
                input: &input,
                target: &target,
                weight: &weight,
                batch: examples.len(),
                side: SIDE,
            },
            3e-3,
        )
    });
}

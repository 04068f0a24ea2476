//! The trainer's pieces learn: a handful of generated examples are overfit
//! on the CPU in well under a minute (at 64×64, a quarter of the work of the
//! 128×128 crops; the network is fully convolutional).

use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::Device;
use image::{Rgb, RgbImage};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use scribseg_data::{Modality, ObjectSample};
use scribseg_model::UNetConfig;
use scribseg_sim::Mask;
use scribseg_train::{batch_tensors, bce_with_logits, make_example, ExampleParams};

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

#[test]
fn a_few_examples_are_overfit() {
    let device = Device::flex().autodiff();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let params = ExampleParams::default();
    let examples: Vec<_> = [
        (80.0, 80.0, 40.0, 25.0),
        (60.0, 90.0, 30.0, 45.0),
        (90.0, 70.0, 50.0, 20.0),
        (70.0, 70.0, 25.0, 25.0),
    ]
    .into_iter()
    .map(|(cx, cy, a, b)| {
        make_example(&sample(cx, cy, a, b), &params, SIDE, &mut rng).expect("object present")
    })
    .collect();
    let mut model = UNetConfig::new().init(&device);
    let mut optim = AdamConfig::new().init();
    let mut first = None;
    let mut last = f32::MAX;
    for _ in 0..30 {
        let (input, target, weight) = batch_tensors(&examples, &device);
        let loss = bce_with_logits(model.forward(input), target, weight);
        last = loss.clone().into_scalar::<f32>();
        first.get_or_insert(last);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(3e-3, model, grads);
    }
    let first = first.unwrap();
    assert!(
        first > 0.4,
        "a random network starts near ln 2, got {first}"
    );
    assert!(
        last < 0.25,
        "loss only fell from {first} to {last} in 30 steps"
    );
}

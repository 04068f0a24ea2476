//! `scribseg bench`: the speed figures of this machine — the network's
//! forward pass (burn's CPU backend and the fast CPU path in fp32 and in the
//! precision asked for, batch 1 and 4), full `Segmenter` calls (with the
//! test-time flip, and one without) and the scribble simulator's rate; with
//! `--train`, the rate of training steps instead (the CPU trainer and burn's
//! Flex backend side by side).

use std::time::{Duration, Instant};

use anyhow::Result;
use burn::module::Module;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Tensor, TensorData};
use image::{Rgb, RgbImage};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use scribseg_model::fast::{FastUNet, Precision};
use scribseg_model::{Backend, Segmenter, SegmenterConfig, UNet};
use scribseg_sim::{simulate_scribble, Mask, Point, Polarity, ScribbleParams, Stroke};
use scribseg_train::{bce_with_logits, Batch, NativeTrainer};

use crate::weights::{self, PrecisionArg};

/// Flags of `scribseg bench`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The checkpoint to time [default: weights/default] (timing does not
    /// depend on the weights' values).
    #[arg(long)]
    weights: Option<std::path::PathBuf>,
    /// Timed repetitions of each case (the median is reported).
    #[arg(long, default_value_t = 30)]
    runs: usize,
    /// The fast path's arithmetic for the headline figures (`auto`: bf16
    /// where the CPU has AVX-512 BF16); fp32 is timed beside it.
    #[arg(long, value_enum, default_value_t = PrecisionArg::Auto)]
    precision: PrecisionArg,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// Also time burn's forward pass on this GPU backend at batch 1 and 64
    /// (`vulkan`, in a build with `--features vulkan`), data transfer
    /// included.
    #[arg(long, value_name = "BACKEND")]
    gpu: Option<Backend>,
    /// Time training steps instead: batch 16 of 128×128 crops, each step with
    /// the corrective pass (the weights taken into the fast path, its forward
    /// pass over the batch) and a training step (forward, backward, Adam), on
    /// the CPU trainer (`train_samples_per_s`) and on burn's Flex backend.
    #[arg(long)]
    train: bool,
}

/// Runs the subcommand.
pub fn run(args: Args) -> Result<()> {
    let dir = weights::resolve(args.weights)?;
    let device = Device::flex();
    let model = UNet::load(&dir, &device)?;
    let runs = args.runs.max(1);
    let precision = args.precision.resolve();
    let mut fast = FastUNet::from_model(&model);
    if args.train {
        let figures = train_figures(&model, &UNet::load(&dir, &device.clone().autodiff())?, runs);
        print_figures(&figures, args.json, || {
            println!("threads: {}, batch {TRAIN_BATCH}", fast.threads());
        });
        return Ok(());
    }

    let mut figures: Vec<(&str, f64)> = Vec::new();
    for (batch, keys) in [
        (
            1usize,
            [
                "forward_batch1_burn_ms_median",
                "forward_batch1_fp32_ms_median",
                "forward_batch1_ms_median",
            ],
        ),
        (
            4,
            [
                "forward_batch4_burn_ms_median",
                "forward_batch4_fp32_ms_median",
                "forward_batch4_ms_median",
            ],
        ),
    ] {
        let dims = [batch, 4, 128, 128];
        let input = input(dims);
        figures.push((keys[0], burn_forward_ms(&model, &device, dims, runs)));
        let mut out = vec![0.0; batch * 128 * 128];
        fast.set_precision(Precision::F32)?;
        let fp32 = median_ms(runs, || fast.forward(&input, dims, &mut out));
        figures.push((keys[1], fp32));
        fast.set_precision(precision)?;
        let headline = if precision == Precision::F32 {
            fp32
        } else {
            median_ms(runs, || fast.forward(&input, dims, &mut out))
        };
        figures.push((keys[2], headline));
    }

    // Without the crop cache: every call computes every label.
    let segmenter = Segmenter::fast(model.clone(), SegmenterConfig::default())
        .with_cache_capacity(0)
        .with_precision(precision)?;
    let image = RgbImage::from_fn(1024, 768, |x, y| {
        Rgb([(x % 251) as u8, (y % 241) as u8, ((x ^ y) % 256) as u8])
    });
    let line = |x0: f32, y0: f32, x1: f32, y1: f32| Stroke {
        points: vec![Point::new(x0, y0), Point::new(x1, y1)],
        polarity: Polarity::Positive,
    };
    let labels = vec![
        vec![line(100.0, 120.0, 300.0, 200.0)],
        vec![line(600.0, 400.0, 700.0, 650.0)],
        vec![line(850.0, 100.0, 900.0, 160.0)],
    ];
    figures.push((
        "segmenter_ms_median",
        median_ms(runs, || {
            segmenter.segment(&image, &labels);
        }),
    ));
    // As in the annotator while one label is drawn: its stroke changes at
    // every call (64 distinct strokes in turn, more than the cache holds),
    // the other two labels come from the crop cache. With the test-time flip
    // (the default) and without it.
    let mut labels = labels;
    for (flip, key) in [
        (true, "segmenter_one_label_changed_ms_median"),
        (false, "segmenter_one_label_changed_no_flip_ms_median"),
    ] {
        let cached = Segmenter::fast(model.clone(), SegmenterConfig::default())
            .with_precision(precision)?
            .with_flip(flip);
        let mut call = 0u16;
        figures.push((
            key,
            median_ms(runs, || {
                call += 1;
                labels[0][0] = line(100.0 + f32::from(call % 64), 120.0, 300.0, 200.0);
                cached.segment(&image, &labels);
            }),
        ));
    }

    if let Some(backend) = args.gpu {
        let gpu = backend.device()?;
        let model = UNet::load(&dir, &gpu)?;
        for (batch, key) in [
            (1, "forward_batch1_gpu_ms_median"),
            (64, "forward_batch64_gpu_ms_median"),
        ] {
            figures.push((
                key,
                burn_forward_ms(&model, &gpu, [batch, 4, 128, 128], runs),
            ));
        }
    }

    let mask = Mask::from_fn(128, 128, |x, y| {
        ((x as f32 - 64.0) / 45.0).powi(2) + ((y as f32 - 60.0) / 30.0).powi(2) <= 1.0
    });
    let params = ScribbleParams::default();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let count = 200;
    let start = Instant::now();
    for _ in 0..count {
        simulate_scribble(&mask, &params, &mut rng);
    }
    figures.push((
        "simulate_128_per_s",
        f64::from(count) / start.elapsed().as_secs_f64(),
    ));

    print_figures(&figures, args.json, || {
        println!("threads: {}, precision: {precision}", fast.threads());
    });
    Ok(())
}

/// Prints the figures as one JSON object, or as a table under `heading`.
fn print_figures(figures: &[(&str, f64)], json: bool, heading: impl FnOnce()) {
    if json {
        let fields: Vec<String> = figures
            .iter()
            .map(|(k, v)| format!("\"{k}\": {v:.3}"))
            .collect();
        println!("{{{}}}", fields.join(", "));
    } else {
        heading();
        for (k, v) in figures {
            println!("{k:48} {v:10.2}");
        }
    }
}

/// The batch of `scribseg bench --train`.
const TRAIN_BATCH: usize = 16;

/// Training steps per second, as samples per second: each step takes the
/// current weights into the fast path and predicts the batch (the corrective
/// pass), then trains on it. burn's Flex backend (`tracked`: the same weights
/// on its autodiff device) is timed over fewer runs (a step takes seconds).
fn train_figures(model: &UNet, tracked: &UNet, runs: usize) -> Vec<(&'static str, f64)> {
    let side = 128;
    let plane = side * side;
    let dims = [TRAIN_BATCH, 4, side, side];
    let input = input(dims);
    // An object where the interaction channel is positive; every pixel counts.
    let target: Vec<f32> = input
        .chunks_exact(4 * plane)
        .flat_map(|sample| {
            sample[3 * plane..]
                .iter()
                .map(|&v| f32::from(u8::from(v > 0.0)))
        })
        .collect();
    let weight = vec![1.0; TRAIN_BATCH * plane];
    let batch = Batch {
        input: &input,
        target: &target,
        weight: &weight,
        batch: TRAIN_BATCH,
        side,
    };
    let mut probs = vec![0.0; TRAIN_BATCH * plane];
    let mut trainer = NativeTrainer::new(model, 1e-5);
    let mut fast = FastUNet::from_model(model);
    let native_ms = median_ms(runs, || {
        fast.load_weights(&trainer.write_into(model.clone()));
        fast.forward(&input, dims, &mut probs);
        trainer.step(&batch, 1e-6);
    });

    let mut burn_model = tracked.clone();
    let ad_device = Device::flex().autodiff();
    let mut optim = AdamConfig::new()
        .with_weight_decay(Some(WeightDecayConfig::new(1e-5)))
        .init();
    let tensor = |values: &[f32], channels: usize| {
        Tensor::<4>::from_data(
            TensorData::new(values.to_vec(), [TRAIN_BATCH, channels, side, side]),
            &ad_device,
        )
    };
    let burn_ms = median_ms(runs.min(3), || {
        burn_model
            .valid()
            .forward(tensor(&input, 4).inner())
            .into_data();
        let loss = bce_with_logits(
            burn_model.forward(tensor(&input, 4)),
            tensor(&target, 1),
            tensor(&weight, 1),
        );
        let grads = GradientsParams::from_grads(loss.backward(), &burn_model);
        burn_model = optim.step(1e-6, burn_model.clone(), grads);
    });
    let per_s = |ms: f64| TRAIN_BATCH as f64 / (ms / 1e3);
    vec![
        ("train_step_b16_ms_median", native_ms),
        ("train_samples_per_s", per_s(native_ms)),
        ("train_step_b16_flex_ms_median", burn_ms),
        ("train_flex_samples_per_s", per_s(burn_ms)),
    ]
}

/// A deterministic input of shape `dims`.
fn input(dims: [usize; 4]) -> Vec<f32> {
    (0..dims.iter().product::<usize>())
        .map(|i| ((i as f32) * 0.731).sin())
        .collect()
}

/// The median time of burn's forward pass on `device`, from host input to
/// host output.
fn burn_forward_ms(model: &UNet, device: &Device, dims: [usize; 4], runs: usize) -> f64 {
    let input = input(dims);
    median_ms(runs, || {
        let x = Tensor::<4>::from_data(TensorData::new(input.clone(), dims), device);
        model.forward(x).into_data();
    })
}

/// The median wall time of `runs` calls of `f`, in milliseconds, after one
/// warm-up call.
fn median_ms(runs: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1e3
}

//! The training loop: batches of simulated interactions, an optional
//! corrective second pass, BCE with logits, Adam, periodic validation and
//! resumable checkpoints.

use std::borrow::Borrow;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use burn::tensor::{Device, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use scribseg_data::{copy_paste, shard_name, ObjectSample, ShardReader, ShardSampler, Split};
use scribseg_model::input::{batch_tensor, INPUT_SIZE, PREVIOUS_CHANNELS};
use scribseg_model::{InputKind, UNet, UNetConfig};
use scribseg_sim::{dice, Plane, OBJECT_THRESHOLD};
use serde::{Deserialize, Serialize};

use crate::example::{corrected, make_example, Example, ExampleParams};
use crate::learner::{BatchValues, Learner};
use crate::log::{LOG_FILE, LOG_HEADER};
use crate::provenance::{Provenance, RunRecord};
use crate::{Error, TrainConfig};

/// A paste may hide at most this fraction of the target it lands on.
const MAX_PASTE_OCCLUSION: f32 = 0.5;

/// Where a run stands; written to `state.json` at every checkpoint.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    /// Steps done.
    pub step: usize,
    /// Samples seen.
    pub samples: usize,
    /// Best validation DICE (one interaction) so far.
    pub best_dice: f32,
}

/// One progress report, sent after every step (and, for a run that starts
/// from `init` weights, once before the first, with `step` 0 and a NaN loss).
#[derive(Clone, Debug)]
pub struct Progress {
    /// Steps done.
    pub step: usize,
    /// Steps in all.
    pub steps: usize,
    /// The step's mean loss.
    pub loss: f32,
    /// Training samples per second over the run so far.
    pub samples_per_second: f32,
    /// Validation after this step, if it ran.
    pub validation: Option<Validation>,
}

/// Mean DICE on the validation examples, at 128×128.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Validation {
    /// With the first interaction only.
    pub dice: f32,
    /// After one corrective scribble (scribble models; equal to `dice` otherwise).
    pub dice_corrected: f32,
}

/// Trains as `config` says on `provenance.device` (scribseg's own CPU trainer,
/// or burn's Flex, LibTorch or a GPU: see [`crate::TrainDevice`]), resuming from
/// `config.out` when it holds a run. Every checkpoint (`last/`, `best/`) gets
/// its lineage (`train.json`) beside it.
///
/// `report` is called after every step.
pub fn train(
    config: &TrainConfig,
    provenance: &Provenance,
    mut report: impl FnMut(&Progress),
) -> Result<RunState, Error> {
    // The time budget counts from here: loading and the first validation
    // (a GPU's kernel tuning among them) spend the lent minutes too.
    let clock = Instant::now();
    let model_device = provenance.device.model_device()?;
    let train_path = config.shards.join(shard_name(Split::Train));
    let train_shard = ShardReader::open(&train_path)?;
    let val_shard = ShardReader::open(&config.shards.join(shard_name(Split::Val)))?;
    let sampler = train_shard
        .mixture()
        .ok_or_else(|| Error::Empty(config.shards.clone()))?;
    let params = ExampleParams {
        kind: config.kind,
        context: config.context,
        click_probability: config.click_probability,
        object_crop_probability: config.object_crop_probability,
        styles: config.stroke_styles().map_err(|message| Error::Config {
            path: config.out.clone(),
            message,
        })?,
        ..ExampleParams::default()
    };
    let validation_set = validation_examples(&val_shard, &params, config)?;

    let state_path = config.out.join("state.json");
    let (model, mut state) = match read_state(&state_path)? {
        Some(state) => (UNet::load(config.out.join("last"), &model_device)?, state),
        None => match &config.init {
            Some(dir) => (UNet::load(dir, &model_device)?, RunState::default()),
            None => (UNetConfig::new().init(&model_device), RunState::default()),
        },
    };
    let record = RunRecord::start(
        config,
        provenance,
        &train_shard,
        &train_path,
        state.step > 0,
    )?;
    // Checkpoints record the input they were trained on (scribble weights may start a
    // baseline); a network told its previous answer reads it in a fifth channel.
    let channels = if config.previous_probability > 0.0 {
        PREVIOUS_CHANNELS
    } else {
        model.config().in_channels
    };
    let mut learner = Learner::new(
        provenance.device,
        model.with_input(config.kind).with_in_channels(channels),
        config.weight_decay,
    )?;
    // A run resumed on another device starts that device's optimizer afresh.
    let optim_path = config
        .out
        .join("last")
        .join(provenance.device.optimizer_file());
    if state.step > 0 && optim_path.exists() {
        learner.load_optimizer(&optim_path)?;
    }
    let plan = config.plan();
    let log_path = config.out.join(LOG_FILE);
    std::fs::create_dir_all(&config.out).map_err(|source| Error::Io {
        path: config.out.clone(),
        source,
    })?;
    let mut log = open_log(&log_path, state.step)?;

    if state.step == 0 && config.init.is_some() {
        // Where a fine-tune starts from, on the same validation examples.
        report(&Progress {
            step: 0,
            steps: config.steps,
            loss: f32::NAN,
            samples_per_second: 0.0,
            validation: Some(validate(
                &mut learner,
                &validation_set,
                config.kind,
                config.batch,
            )),
        });
    }
    let started = Instant::now();
    let budget = config.time_limit_minutes.map(|m| m * 60.0);
    let mut out_of_time = false;
    let first_step = state.step;
    while state.step < config.steps && !out_of_time {
        let progress = budget.map(|seconds| clock.elapsed().as_secs_f64() / seconds);
        let lr = plan.at(state.step, progress);
        let mut batch = make_batch(config, &train_shard, &sampler, &params, state.step)?;
        let mut rng = step_rng(config.seed, state.step);
        if config.kind == InputKind::Scribble && rng.random::<f32>() < config.corrective_probability
        {
            let predictions = learner.predict(&batch);
            let corrections =
                correct_all(&batch, &predictions, config.previous_probability, &mut rng);
            for (example, correction) in batch.iter_mut().zip(corrections) {
                if let Some(correction) = correction {
                    *example = correction;
                }
            }
        }
        let loss_value = learner.step(&batch, lr);
        state.step += 1;
        state.samples += batch.len();
        out_of_time = budget.is_some_and(|seconds| clock.elapsed().as_secs_f64() >= seconds);

        let validation =
            (state.step % config.validate_every == 0 || state.step == config.steps || out_of_time)
                .then(|| validate(&mut learner, &validation_set, config.kind, config.batch));
        if let Some(v) = validation {
            let lineage = record.at(&state);
            let last = config.out.join("last");
            let model = learner.model();
            model.save(&last)?;
            lineage.save(&last)?;
            learner.save_optimizer(&optim_path)?;
            let best = config.out.join("best");
            // The first validation always makes a `best`: an untrained
            // network can score exactly 0, which is not above the start.
            if v.dice > state.best_dice || !best.join(scribseg_model::LINEAGE_FILE).exists() {
                state.best_dice = v.dice;
                model.save(&best)?;
                lineage.save(&best)?;
            }
            write_state(&state_path, &state)?;
        }
        let elapsed = started.elapsed().as_secs_f32().max(1e-3);
        let progress = Progress {
            step: state.step,
            steps: config.steps,
            loss: loss_value,
            samples_per_second: ((state.step - first_step) * config.batch) as f32 / elapsed,
            validation,
        };
        writeln!(
            log,
            "{},{},{:.6},{:.3e},{},{}",
            state.step,
            state.samples,
            loss_value,
            lr,
            validation.map_or(String::new(), |v| format!("{:.4}", v.dice)),
            validation.map_or(String::new(), |v| format!("{:.4}", v.dice_corrected)),
        )
        .map_err(|source| Error::Io {
            path: log_path.clone(),
            source,
        })?;
        report(&progress);
    }
    Ok(state)
}

/// The RNG of step `step` (whether it takes a corrective pass, and that
/// pass's scribbles): a pure function of the seed and the step, so a resumed
/// run draws what an uninterrupted one would have.
fn step_rng(seed: u64, step: usize) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed ^ (step as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// The RNG of the example in slot `slot` of step `step`'s batch: a pure
/// function of the seed, the step and the slot, so the examples of a batch
/// are made in parallel and still the same on every machine and thread count.
fn slot_rng(seed: u64, step: usize, slot: usize) -> ChaCha8Rng {
    let mut rng = step_rng(seed, step);
    rng.set_stream(slot as u64 + 1);
    rng
}

/// The training examples of step `step`, made on the thread pool (a GPU
/// consumes a batch faster than one thread makes it: ~1,200 examples/s,
/// `BENCHMARKS.md`). Each slot draws a dataset and a record of it by the
/// mixture's weights, augments it, pastes another object on it when
/// copy-paste is on, and simulates its interaction; a record that yields no
/// example (an empty crop) is replaced by another draw from the same slot.
fn make_batch(
    config: &TrainConfig,
    shard: &ShardReader,
    sampler: &ShardSampler,
    params: &ExampleParams,
    step: usize,
) -> Result<Vec<Example>, Error> {
    (0..config.batch)
        .into_par_iter()
        .map(|slot| -> Result<Example, Error> {
            let mut rng = slot_rng(config.seed, step, slot);
            loop {
                let (_, mut sample) = shard.get(sampler.sample(&mut rng))?;
                // Drawn only when enabled, so runs without it draw as before.
                if config.copy_paste_probability > 0.0
                    && rng.random::<f32>() < config.copy_paste_probability
                {
                    let (_, source) = shard.get(sampler.sample(&mut rng))?;
                    // Photos onto photos, slices onto slices: an organ pasted
                    // into a street scene teaches nothing.
                    if source.modality.is_medical() == sample.modality.is_medical() {
                        copy_paste(&mut sample, &source, MAX_PASTE_OCCLUSION, &mut rng);
                    }
                }
                scribseg_data::augment(
                    &mut sample,
                    &scribseg_data::AugmentParams::default(),
                    &mut rng,
                );
                if let Some(example) = make_example(&sample, params, INPUT_SIZE, &mut rng) {
                    return Ok(example);
                }
            }
        })
        .collect()
}

/// A fixed set of validation examples (seeded, independent of training).
fn validation_examples(
    shard: &ShardReader,
    params: &ExampleParams,
    config: &TrainConfig,
) -> Result<Vec<Example>, Error> {
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed.wrapping_add(0x5EED));
    let mut out = Vec::new();
    let n = shard.len();
    for i in 0..n {
        if out.len() >= config.validation_samples {
            break;
        }
        // Spread over the shard, in a fixed order.
        let index = (i * 7919) % n;
        let (_, sample): (String, ObjectSample) = shard.get(index)?;
        if let Some(example) = make_example(&sample, params, INPUT_SIZE, &mut rng) {
            out.push(example);
        }
    }
    Ok(out)
}

/// Mean DICE of the learner's model on `examples`, with one corrective round for scribble
/// models, `batch` examples per forward pass (the training batch: a GPU backend tunes and
/// compiles its kernels once per shape, so validation adds no shapes of its own).
fn validate(
    learner: &mut Learner,
    examples: &[Example],
    kind: InputKind,
    batch: usize,
) -> Validation {
    let first = predict_in_chunks(learner, examples, batch);
    let dice = mean_dice(examples, &first);
    if kind != InputKind::Scribble {
        return Validation {
            dice,
            dice_corrected: dice,
        };
    }
    // A network that reads its previous answer is always told it, as the Segmenter tells it.
    let tell = if learner.model_config().reads_previous() {
        1.0
    } else {
        0.0
    };
    let corrections = correct_all(examples, &first, tell, &mut ChaCha8Rng::seed_from_u64(0));
    let examples: Vec<&Example> = corrections
        .iter()
        .zip(examples)
        .map(|(correction, example)| correction.as_ref().unwrap_or(example))
        .collect();
    let second = predict_in_chunks(learner, &examples, batch);
    Validation {
        dice,
        dice_corrected: mean_dice(&examples, &second),
    }
}

/// Each example with a corrective scribble for its prediction
/// ([`corrected`]), told that prediction as its previous answer with
/// probability `tell_previous`, on all cores; each example's draws from its
/// own stream, seeded from `rng` in order, so they do not depend on the
/// thread count.
fn correct_all(
    examples: &[Example],
    predictions: &[Plane],
    tell_previous: f32,
    rng: &mut impl Rng,
) -> Vec<Option<Example>> {
    let seeds: Vec<u64> = examples.iter().map(|_| rng.random()).collect();
    examples
        .par_iter()
        .zip(predictions)
        .zip(seeds)
        .map(|((example, prediction), seed)| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            // Drawn only when telling is on, so a run without it draws as before.
            let tell = tell_previous > 0.0 && rng.random::<f32>() < tell_previous;
            corrected(example, prediction, tell, &mut rng)
        })
        .collect()
}

fn predict_in_chunks<E: Borrow<Example>>(
    learner: &mut Learner,
    examples: &[E],
    batch: usize,
) -> Vec<Plane> {
    examples
        .chunks(batch)
        .flat_map(|c| learner.predict(c))
        .collect()
}

fn mean_dice<E: Borrow<Example>>(examples: &[E], predictions: &[Plane]) -> f32 {
    let total: f32 = examples
        .iter()
        .zip(predictions)
        .map(|(e, p)| {
            let e = e.borrow();
            dice(&p.threshold(OBJECT_THRESHOLD), &e.target, e.ignore.as_ref()) as f32
        })
        .sum();
    total / examples.len().max(1) as f32
}

/// Input (of `channels` channels), target and loss-weight tensors of a
/// batch of square examples, all of one side (normally [`INPUT_SIZE`]).
pub fn batch_tensors(
    batch: &[Example],
    channels: usize,
    device: &Device,
) -> (Tensor<4>, Tensor<4>, Tensor<4>) {
    let values = BatchValues::of(batch, channels);
    let shape = [values.batch, 1, values.side, values.side];
    (
        batch_tensor(values.input, values.channels, values.side, device),
        Tensor::from_data(TensorData::new(values.target, shape), device),
        Tensor::from_data(TensorData::new(values.weight, shape), device),
    )
}

/// Mean binary cross-entropy of logits `x` against targets `y`, weighted,
/// in the stable form `max(x, 0) − x·y + log(1 + e^−|x|)`.
pub fn bce_with_logits(x: Tensor<4>, y: Tensor<4>, weight: Tensor<4>) -> Tensor<1> {
    let per_pixel = x.clone().clamp_min(0.0) - x.clone() * y + (x.abs().neg().exp() + 1.0).log();
    let total = weight.clone().sum().clamp_min(1.0);
    (per_pixel * weight).sum() / total
}

fn read_state(path: &Path) -> Result<Option<RunState>, Error> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| Error::Config {
                path: path.to_owned(),
                message: e.to_string(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

fn write_state(path: &Path, state: &RunState) -> Result<(), Error> {
    let text = serde_json::to_string_pretty(state).expect("state serialises");
    std::fs::write(path, text).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })
}

/// Opens the run's log for appending, first dropping the rows past `step`
/// (the checkpoint a resumed run starts from): a run killed between
/// checkpoints logged steps that the resumed run does again.
fn open_log(path: &Path, step: usize) -> Result<std::fs::File, Error> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let kept = match std::fs::read_to_string(path) {
        Ok(text) => text
            .lines()
            .enumerate()
            .filter(|(n, line)| {
                *n == 0
                    || line
                        .split(',')
                        .next()
                        .and_then(|s| s.parse::<usize>().ok())
                        .is_some_and(|s| s <= step)
            })
            .map(|(_, line)| format!("{line}\n"))
            .collect(),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => format!("{LOG_HEADER}\n"),
        Err(err) => return Err(io(err)),
    };
    std::fs::write(path, kept).map_err(io)?;
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(io)
}

#[cfg(test)]
mod tests {
    use image::{Rgb, RgbImage};
    use scribseg_data::{Modality, ShardDataset, ShardMeta, ShardWriter};
    use scribseg_sim::Mask;

    use super::*;

    /// A shard of `count` ellipses of varied sizes, with a second object each.
    fn ellipse_shard(path: &Path, count: usize) -> ShardReader {
        let meta = ShardMeta {
            datasets: vec![ShardDataset {
                name: "ellipses".into(),
                weight: 1.0,
            }],
            store_size: 96,
            margin: 0.5,
            jpeg_quality: 90,
        };
        let mut writer = ShardWriter::create(path, meta).expect("create");
        for i in 0..count {
            let (a, b) = (12.0 + 3.0 * i as f32, 20.0 - i as f32);
            let inside = |x: u32, y: u32| {
                ((x as f32 - 48.0) / a).powi(2) + ((y as f32 - 50.0) / b).powi(2) <= 1.0
            };
            let sample = ObjectSample {
                image: RgbImage::from_fn(100, 100, |x, y| {
                    Rgb([if inside(x, y) { 210 } else { 40 }, (x * 2) as u8, 90])
                }),
                target: Mask::from_fn(100, 100, |x, y| inside(x as u32, y as u32)),
                others: vec![Mask::from_fn(100, 100, |x, y| x < 15 && y > 70)],
                ignore: None,
                modality: Modality::Photo,
                label: "ellipse".into(),
            };
            writer.push(0, &format!("e{i}"), &sample).expect("push");
        }
        writer.finish().expect("finish");
        ShardReader::open(path).expect("open")
    }

    #[test]
    fn a_batch_is_the_same_on_any_number_of_threads_and_differs_between_steps() {
        let dir = tempfile::tempdir().expect("temp dir");
        let shard = ellipse_shard(&dir.path().join("train.shard"), 6);
        let sampler = shard.mixture().expect("records");
        let config = TrainConfig {
            batch: 7,
            copy_paste_probability: 0.5,
            seed: 3,
            ..TrainConfig::default()
        };
        let params = ExampleParams::default();
        let on = |threads: usize, step: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool");
            pool.install(|| make_batch(&config, &shard, &sampler, &params, step))
                .expect("batch")
        };
        let same = |a: &[Example], b: &[Example]| {
            a.len() == b.len()
                && a.iter().zip(b).all(|(a, b)| {
                    a.rgb == b.rgb
                        && a.channel == b.channel
                        && a.target == b.target
                        && a.ignore == b.ignore
                })
        };
        let one = on(1, 5);
        assert_eq!(one.len(), 7);
        assert!(same(&one, &on(3, 5)), "3 threads made another batch");
        assert!(!same(&one, &on(1, 6)), "step 6 repeated step 5's batch");
        assert!(
            !same(&one[..1], &one[1..2]),
            "two slots of a batch drew the same example"
        );
    }

    #[test]
    fn a_time_budget_ends_the_run_with_a_checkpoint_and_a_resumed_run_logs_each_step_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        ellipse_shard(&dir.path().join(shard_name(Split::Train)), 3);
        ellipse_shard(&dir.path().join(shard_name(Split::Val)), 2);
        let config = TrainConfig {
            shards: dir.path().to_owned(),
            out: dir.path().join("run"),
            batch: 2,
            steps: 1000,
            validate_every: 1000,
            validation_samples: 2,
            // Spent before the first step ends.
            time_limit_minutes: Some(1e-6),
            ..TrainConfig::default()
        };
        let mut reports = Vec::new();
        let state = train(&config, &Provenance::default(), |p| {
            reports.push((p.step, p.validation.is_some()))
        })
        .expect("train");
        assert_eq!(state.step, 1, "the run went on past its budget");
        assert_eq!(reports, vec![(1, true)], "the last step did not validate");
        assert_eq!(
            read_state(&config.out.join("state.json")).expect("read"),
            Some(state)
        );
        assert!(config
            .out
            .join("last")
            .join(crate::TrainDevice::default().optimizer_file())
            .exists());
        let lineage = |dir: &str| {
            scribseg_model::Lineage::load(&config.out.join(dir))
                .expect("readable")
                .expect("a checkpoint has its lineage")
        };
        let first = lineage("last");
        assert_eq!(first, lineage("best"));
        assert_eq!(first.samples_total, 2);
        let scribseg_model::lineage::Origin::Train(run) = &first.origin else {
            panic!("a trained checkpoint's lineage is a run: {first:?}");
        };
        let as_run: TrainConfig =
            serde_json::from_value(run.config.clone()).expect("the config parses back");
        assert_eq!(as_run, config);
        assert_eq!(run.data.sources[0].records, Some(3));
        assert!(run.init.is_none() && run.started.is_some());

        // A run killed after logging steps past its checkpoint: the resumed
        // run logs those steps again, once.
        let log = config.out.join(LOG_FILE);
        let mut text = std::fs::read_to_string(&log).expect("log");
        text.push_str("2,4,0.5,1e-3,,\n3,6,0.5,1e-3,,\n4,8,0.5");
        std::fs::write(&log, text).expect("write log");
        let state = train(&config, &Provenance::default(), |_| {}).expect("resume");
        assert_eq!(state.step, 2);
        let resumed = lineage("last");
        assert_eq!(resumed.samples_total, 4);
        let scribseg_model::lineage::Origin::Train(again) = &resumed.origin else {
            panic!("{resumed:?}");
        };
        assert_eq!(again.started, run.started, "a resumed run keeps its start");
        assert!(again.wall_seconds >= run.wall_seconds);
        let steps: Vec<usize> = crate::read_log(&log)
            .expect("the log parses")
            .iter()
            .map(|row| row.step)
            .collect();
        assert_eq!(steps, vec![1, 2]);
    }

    #[test]
    fn a_run_told_the_previous_answer_widens_its_start_and_saves_five_channels() {
        let dir = tempfile::tempdir().expect("temp dir");
        ellipse_shard(&dir.path().join(shard_name(Split::Train)), 3);
        ellipse_shard(&dir.path().join(shard_name(Split::Val)), 2);
        // Four-channel weights to start from.
        let start = dir.path().join("start");
        UNetConfig::new()
            .init(
                &crate::TrainDevice::default()
                    .model_device()
                    .expect("a device"),
            )
            .save(&start)
            .expect("save");
        let config = TrainConfig {
            shards: dir.path().to_owned(),
            out: dir.path().join("run"),
            init: Some(start),
            batch: 2,
            steps: 2,
            validate_every: 2,
            validation_samples: 2,
            corrective_probability: 1.0,
            previous_probability: 1.0,
            ..TrainConfig::default()
        };
        train(&config, &Provenance::default(), |_| {}).expect("train");
        let saved = UNet::load(config.out.join("last"), &Device::flex()).expect("load");
        assert_eq!(saved.config().in_channels, PREVIOUS_CHANNELS);
        // And resumed from its own five-channel checkpoint.
        let more = TrainConfig { steps: 3, ..config };
        assert_eq!(
            train(&more, &Provenance::default(), |_| {})
                .expect("resume")
                .step,
            3
        );
    }
}

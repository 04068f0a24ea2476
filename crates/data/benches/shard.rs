//! Training samples per second from a shard: decode, crop + augment, and
//! scribble simulation on the 128×128 crop, on one thread and on two.
//!
//! Uses the shard named by `$SCRIBSEG_SHARD` (e.g. the `train.shard` that
//! `scribseg pack --config configs/default.toml --out DIR` writes); without
//! it, a synthetic shard of 256 generated objects is written to a temp dir.
//!
//! `SCRIBSEG_SHARD=DIR/train.shard cargo bench -p scribseg-data --bench shard`
//!
//! Before the criterion groups it prints the CPU time per sample of each
//! stage, measured with the thread's CPU clock: on a shared machine wall
//! time also counts other jobs' turns, CPU time does not.
// criterion_group! defines an undocumented public function.
#![allow(missing_docs)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use scribseg_data::{
    AugmentParams, CropParams, Modality, ObjectSample, ShardDataset, ShardMeta, ShardReader,
    ShardSampler, ShardWriter,
};
use scribseg_sim::{simulate_scribble, Mask, ScribbleParams};

/// The shard under test and the temp dir that keeps a synthetic one alive.
fn shard() -> (ShardReader, Option<tempfile::TempDir>) {
    if let Some(path) = std::env::var_os("SCRIBSEG_SHARD") {
        let reader = ShardReader::open(&PathBuf::from(path)).expect("SCRIBSEG_SHARD opens");
        return (reader, None);
    }
    eprintln!("SCRIBSEG_SHARD not set: benchmarking a synthetic shard of 256 objects");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("synthetic.shard");
    let meta = ShardMeta {
        datasets: vec![ShardDataset {
            name: "synthetic".into(),
            weight: 1.0,
        }],
        store_size: 160,
        margin: 0.75,
        jpeg_quality: 90,
    };
    let mut writer = ShardWriter::create(&path, meta).expect("create");
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for i in 0..256 {
        let (cx, cy, r) = (
            rng.random_range(100.0..300.0f32),
            rng.random_range(80.0..220.0f32),
            rng.random_range(20.0..80.0f32),
        );
        let sample = ObjectSample {
            image: image::RgbImage::from_fn(400, 300, |x, y| {
                image::Rgb([(x ^ y) as u8, (x * 3) as u8, (y * 5 + i) as u8])
            }),
            target: Mask::from_fn(400, 300, |x, y| {
                ((x as f32 - cx) / r).powi(2) + ((y as f32 - cy) / (0.6 * r)).powi(2) < 1.0
            }),
            others: vec![Mask::from_fn(400, 300, |x, _| x < 60)],
            ignore: None,
            modality: if i % 4 == 0 {
                Modality::Mri
            } else {
                Modality::Photo
            },
            label: "blob".into(),
        };
        writer.push(0, &format!("s{i}"), &sample).expect("push");
    }
    writer.finish().expect("finish");
    (ShardReader::open(&path).expect("opens"), Some(dir))
}

/// One training sample: pick by mixture, decode, crop + augment, optionally simulate.
fn one(
    reader: &ShardReader,
    sampler: &ShardSampler,
    rng: &mut ChaCha8Rng,
    crop: bool,
    scribble: bool,
) -> usize {
    let (_, sample) = reader.get(sampler.sample(rng)).expect("decodes");
    if !crop {
        return sample.target.area();
    }
    let (c, _) = sample
        .random_crop(&CropParams::default(), &AugmentParams::default(), rng)
        .expect("non-empty target");
    if scribble {
        let s = simulate_scribble(&c.target, &ScribbleParams::default(), rng);
        std::hint::black_box(&s);
    }
    c.target.area()
}

/// Runs `iters` samples split over `threads` threads; returns the wall time.
fn timed(reader: &ShardReader, iters: u64, threads: u64, crop: bool, scribble: bool) -> Duration {
    let sampler = reader.mixture().expect("a weighted dataset has records");
    let sampler = &sampler;
    let start = Instant::now();
    std::thread::scope(|scope| {
        for t in 0..threads {
            scope.spawn(move || {
                let mut rng = ChaCha8Rng::seed_from_u64(t);
                for _ in 0..iters.div_ceil(threads) {
                    std::hint::black_box(one(reader, sampler, &mut rng, crop, scribble));
                }
            });
        }
    });
    start.elapsed()
}

/// CPU seconds this thread has used.
fn thread_cpu_seconds() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid timespec for the call to write into.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    assert_eq!(rc, 0, "thread CPU clock available");
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}

/// Prints samples per CPU-second of each stage on one thread.
fn report_cpu_time(reader: &ShardReader) {
    let sampler = reader.mixture().expect("a weighted dataset has records");
    let samples = 2000;
    for (name, crop, scribble) in [
        ("decode", false, false),
        ("decode+crop+augment", true, false),
        ("decode+crop+augment+scribble", true, true),
    ] {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let start = thread_cpu_seconds();
        for _ in 0..samples {
            std::hint::black_box(one(reader, &sampler, &mut rng, crop, scribble));
        }
        let per = (thread_cpu_seconds() - start) / samples as f64;
        eprintln!(
            "cpu time {name}: {:.0} µs/sample = {:.0} samples per CPU-second",
            per * 1e6,
            1.0 / per
        );
    }
}

fn bench(c: &mut Criterion) {
    let (reader, _keep) = shard();
    report_cpu_time(&reader);
    let mut group = c.benchmark_group("shard");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(5));
    for threads in [1, 2] {
        for (name, crop, scribble) in [
            ("decode", false, false),
            ("decode+crop+augment", true, false),
            ("decode+crop+augment+scribble", true, true),
        ] {
            group.bench_function(format!("{name}/{threads}thr"), |b| {
                b.iter_custom(|iters| timed(&reader, iters, threads, crop, scribble))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

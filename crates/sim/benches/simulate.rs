//! Scribbles per second on 128×128 and 512×512 labels.
//!
//! Labels are real object masks from `../shared/data/natural` (PASCAL-S and
//! Weizmann horses), resized with nearest neighbour; when that folder is
//! absent the benchmark says so and uses generated blobs instead.
//!
//! `cargo bench -p scribseg-sim --bench simulate`
// criterion_group! defines an undocumented public function.
#![allow(missing_docs)]

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use image::imageops::{resize, FilterType};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use scribseg_sim::{
    corrective_scribble, simulate_scribble, CorrectiveParams, Mask, Plane, ScribbleParams,
};

/// Up to `count` real masks, or generated ellipses when the data is absent.
fn labels(size: u32, count: usize) -> Vec<Mask> {
    let root = std::env::var_os("SCRIBSEG_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    let mut paths = Vec::new();
    for set in ["natural/pascal_s/masks", "natural/horses/masks"] {
        if let Ok(dir) = std::fs::read_dir(root.join(set)) {
            let mut files: Vec<PathBuf> = dir.filter_map(|e| e.ok().map(|e| e.path())).collect();
            files.sort();
            paths.extend(files.into_iter().take(count / 2));
        }
    }
    if paths.is_empty() {
        eprintln!(
            "no masks under {}: benchmarking generated ellipses",
            root.display()
        );
        return (0..count)
            .map(|i| {
                let s = size as f32;
                let (a, b) = (s * (0.2 + 0.02 * i as f32), s * 0.25);
                Mask::from_fn(size as usize, size as usize, |x, y| {
                    ((x as f32 - s / 2.0) / a).powi(2) + ((y as f32 - s / 2.0) / b).powi(2) <= 1.0
                })
            })
            .collect();
    }
    paths
        .iter()
        .filter_map(|p| image::open(p).ok())
        .map(|img| Mask::from_gray(&resize(&img.to_luma8(), size, size, FilterType::Nearest)))
        .filter(|m| !m.is_empty())
        .collect()
}

fn bench(c: &mut Criterion) {
    let params = ScribbleParams::default();
    let mut group = c.benchmark_group("simulate_scribble");
    for size in [128u32, 512] {
        let masks = labels(size, 20);
        group.throughput(Throughput::Elements(masks.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(size), &masks, |b, masks| {
            let mut rng = ChaCha8Rng::seed_from_u64(0);
            b.iter(|| {
                for m in masks {
                    std::hint::black_box(simulate_scribble(m, &params, &mut rng));
                }
            })
        });
    }
    group.finish();

    // A corrective scribble for a prediction that is the label shifted by 8 px.
    let mut group = c.benchmark_group("corrective_scribble");
    let masks = labels(128, 20);
    let predictions: Vec<Plane> = masks
        .iter()
        .map(|m| {
            let shifted = Mask::from_fn(128, 128, |x, y| m.get(x as isize - 8, y as isize));
            Plane::from_vec(
                128,
                128,
                shifted.as_slice().iter().map(|&v| f32::from(v)).collect(),
            )
            .expect("size matches")
        })
        .collect();
    group.throughput(Throughput::Elements(masks.len() as u64));
    group.bench_function("128", |b| {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let params = CorrectiveParams::default();
        b.iter(|| {
            for (m, p) in masks.iter().zip(&predictions) {
                std::hint::black_box(corrective_scribble(m, p, &params, &mut rng));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

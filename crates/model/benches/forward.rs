//! Forward-pass latency of the default network on the Flex (pure-Rust CPU) backend, batch 1
//! and 4 at 4×128×128: `cargo bench -p scribseg-model --bench forward`.

use burn::tensor::{Device, Distribution, Tensor};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use scribseg_model::UNetConfig;

fn forward(c: &mut Criterion) {
    let device = Device::flex();
    let model = UNetConfig::new().init(&device);
    let mut group = c.benchmark_group("forward_flex");
    group.sample_size(30);
    for batch in [1, 4] {
        let input = Tensor::<4>::random(
            [batch, 4, 128, 128],
            Distribution::Normal(0.0, 1.0),
            &device,
        );
        group.bench_with_input(BenchmarkId::from_parameter(batch), &input, |b, input| {
            // Reading the data back waits for the backend to finish.
            b.iter(|| model.forward(input.clone()).into_data())
        });
    }
    group.finish();
}

criterion_group!(benches, forward);
criterion_main!(benches);

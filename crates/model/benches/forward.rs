//! Forward-pass latency of the default network, batch 1 and 4 at 4×128×128, side by side:
//! burn's Flex (pure-Rust CPU) backend and the fast CPU path (`scribseg_model::fast`).
//! `cargo bench -p scribseg-model --bench forward`.
// criterion_group! defines an undocumented public function.
#![allow(missing_docs)]

use burn::tensor::{Device, Distribution, Tensor};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use scribseg_model::fast::FastUNet;
use scribseg_model::UNetConfig;

fn forward(c: &mut Criterion) {
    let device = Device::flex();
    let model = UNetConfig::new().init(&device);
    let mut fast = FastUNet::from_model(&model);
    let mut group = c.benchmark_group("forward");
    group.sample_size(30);
    for batch in [1, 4] {
        let dims = [batch, 4, 128, 128];
        let input = Tensor::<4>::random(dims, Distribution::Normal(0.0, 1.0), &device);
        let values = input
            .clone()
            .into_data()
            .try_into_vec::<f32>()
            .expect("f32 input");
        group.bench_with_input(BenchmarkId::new("flex", batch), &input, |b, input| {
            // Reading the data back waits for the backend to finish.
            b.iter(|| model.forward(input.clone()).into_data())
        });
        let mut out = vec![0.0; batch * 128 * 128];
        group.bench_with_input(BenchmarkId::new("fast", batch), &values, |b, values| {
            b.iter(|| fast.forward(values, dims, &mut out))
        });
    }
    group.finish();
}

criterion_group!(benches, forward);
criterion_main!(benches);

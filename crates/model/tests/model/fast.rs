//! The fast CPU path ([`FastUNet`]) against the burn network it was built from.
//!
//! Every test randomises the batch norms (γ, β and the running statistics), which a fresh
//! network leaves at 1, 0, 0 and 1: a wrong fold would pass unnoticed otherwise.

use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::{Tensor, TensorData};
use scribseg_model::fast::FastUNet;
use scribseg_model::{UNet, UNetConfig};

use crate::util::{assert_close, device, values};

/// The largest absolute difference allowed between burn's logits and the fast path's.
const ATOL: f32 = 1e-4;

/// splitmix64 values in [-1, 1).
struct Uniform(u64);

impl Uniform {
    fn next(&mut self) -> f32 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 40) as f32 * 2f32.powi(-23) - 1.0
    }
}

/// Replaces the batch norms' tensors and every bias by seeded random values.
struct RandomiseNorms {
    leaf: Vec<String>,
    rng: Uniform,
}

impl ModuleMapper for RandomiseNorms {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.leaf.push(name.to_owned());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.leaf.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (offset, scale) = match self.leaf.last().map(String::as_str) {
            Some("gamma") => (1.0, 0.4),
            Some("beta" | "bias") => (0.0, 0.3),
            Some("running_mean") => (0.0, 0.5),
            Some("running_var") => (1.0, 0.6),
            _ => return param,
        };
        let shape = param.lazy_shape().dims::<D>().to_vec();
        let data: Vec<f32> = (0..shape.iter().product::<usize>())
            .map(|_| offset + scale * self.rng.next())
            .collect();
        param.map(|tensor| Tensor::from_data(TensorData::new(data, shape), &tensor.device()))
    }
}

/// A network with seeded random weights and batch norms.
fn random_model(seed: u64) -> UNet {
    let device = device();
    device.seed(seed);
    UNetConfig::new().init(&device).map(&mut RandomiseNorms {
        leaf: Vec::new(),
        rng: Uniform(seed),
    })
}

/// Seeded input values in [-2, 2), a sixth of them exactly 0 (like empty scribble maps).
fn random_input(len: usize, seed: u64) -> Vec<f32> {
    let mut rng = Uniform(seed ^ 0x5EED);
    (0..len)
        .map(|i| if i % 6 == 0 { 0.0 } else { 2.0 * rng.next() })
        .collect()
}

fn burn_logits(model: &UNet, input: &[f32], dims: [usize; 4]) -> Vec<f32> {
    let input = Tensor::<4>::from_data(TensorData::new(input.to_vec(), dims), &device());
    values(model.forward(input))
}

fn fast_logits(fast: &mut FastUNet, input: &[f32], dims: [usize; 4]) -> Vec<f32> {
    let mut out = vec![f32::NAN; dims[0] * dims[2] * dims[3]];
    fast.forward(input, dims, &mut out);
    out
}

/// Checks the fast path against burn for two weight seeds, batch 1 and 3, at `height × width`.
fn check_parity(height: usize, width: usize) {
    for model_seed in [11, 12] {
        let model = random_model(model_seed);
        let mut fast = FastUNet::from_model(&model);
        for (batch, input_seed) in [(1, 1), (3, 2), (1, 3)] {
            let dims = [batch, 4, height, width];
            let input = random_input(batch * 4 * height * width, model_seed * 100 + input_seed);
            let expected = burn_logits(&model, &input, dims);
            let actual = fast_logits(&mut fast, &input, dims);
            let max_diff = assert_close(&actual, &expected, ATOL, 0.0);
            eprintln!(
                "{height}×{width} batch {batch} weights {model_seed}: max abs diff {max_diff:e}"
            );
        }
    }
}

#[test]
fn fast_path_matches_burn_at_128x128() {
    check_parity(128, 128);
}

#[test]
fn fast_path_matches_burn_at_64x96() {
    check_parity(64, 96);
}

#[test]
fn fast_path_matches_burn_at_the_smallest_size() {
    // 16×16: the bottleneck is a single pixel, every tile is a partial SIMD register.
    check_parity(16, 16);
}

#[test]
fn repeated_calls_and_batch_changes_give_identical_output() {
    let model = random_model(21);
    let mut fast = FastUNet::from_model(&model);
    let dims3 = [3, 4, 64, 64];
    let dims1 = [1, 4, 64, 64];
    let input3 = random_input(3 * 4 * 64 * 64, 5);
    let input1 = random_input(4 * 64 * 64, 6);
    let first = fast_logits(&mut fast, &input3, dims3);
    let single = fast_logits(&mut fast, &input1, dims1);
    assert_eq!(fast_logits(&mut fast, &input3, dims3), first);
    assert_eq!(fast_logits(&mut fast, &input1, dims1), single);
    assert_eq!(fast_logits(&mut fast, &input3, dims3), first);
}

#[test]
fn thread_count_does_not_change_the_output() {
    let model = random_model(31);
    // Five samples: one thread runs them in one piece, two and three threads cut the batch
    // into parts of 3 + 2 and 2 + 2 + 1 samples, eight threads split every layer instead.
    let dims = [5, 4, 32, 48];
    let input = random_input(5 * 4 * 32 * 48, 7);
    let one = fast_logits(&mut FastUNet::with_threads(&model, 1), &input, dims);
    for threads in [2, 3, 8] {
        let mut fast = FastUNet::with_threads(&model, threads);
        assert_eq!(
            fast_logits(&mut fast, &input, dims),
            one,
            "{threads} threads"
        );
    }
    // Each sample's logits are those of the sample alone.
    let sample = 4 * 32 * 48;
    let mut fast = FastUNet::with_threads(&model, 2);
    for (item, input) in input.chunks(sample).enumerate() {
        let alone = fast_logits(&mut fast, input, [1, 4, 32, 48]);
        assert_eq!(
            alone,
            one[item * 32 * 48..(item + 1) * 32 * 48],
            "sample {item}"
        );
    }
}

#[test]
#[should_panic(expected = "multiples of 16")]
fn sizes_that_do_not_divide_are_refused() {
    let mut fast = FastUNet::from_model(&random_model(41));
    let mut out = vec![0.0; 24 * 24];
    fast.forward(&vec![0.0; 4 * 24 * 24], [1, 4, 24, 24], &mut out);
}

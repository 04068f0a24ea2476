//! Parity with the authors' PyTorch network (`shared/tools/anchor_torch.py`).
//!
//! `tests/parity/export.py` fills the PyTorch network with the deterministic weights of
//! [`det_uniform`] and writes its output on a deterministic input to
//! `tests/parity/anchor_output.f32`. This test fills our network with the same weights,
//! saves and reloads it as a checkpoint, and compares the outputs. See `docs/parity.md`.

use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::{Tensor, TensorData};
use scribseg_model::{UNet, UNetConfig};

use crate::util::{assert_close, device, values};

/// The largest absolute difference allowed between PyTorch's logits and ours (they are of
/// order 1: mean 0.23, standard deviation 0.25).
const ATOL: f32 = 1e-4;

/// `count` values in [-1, 1): splitmix64 of (FNV-1a 64 of `name`) + k, top 24 bits.
/// Must stay bit-identical to `det_uniform` in `tests/parity/export.py`.
fn det_uniform(name: &str, count: usize) -> Vec<f32> {
    let seed = name.bytes().fold(0xCBF2_9CE4_8422_2325_u64, |h, byte| {
        (h ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01B3)
    });
    (0..count as u64)
        .map(|k| {
            let mut z = seed.wrapping_add(k).wrapping_add(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            (z >> 40) as f32 * 2f32.powi(-23) - 1.0
        })
        .collect()
}

/// The deterministic value of the PyTorch tensor `name` of `shape` (PyTorch layout), scaled
/// like an initialisation. Mirrors `det_tensor` in `export.py`.
fn det_tensor(name: &str, shape: &[usize], is_norm: bool) -> Vec<f32> {
    let u = det_uniform(name, shape.iter().product());
    let leaf = name
        .rsplit('.')
        .next()
        .expect("rsplit yields at least one piece");
    let (offset, scale) = match (is_norm, leaf) {
        (true, "weight") => (1.0, 0.25),
        (true, "bias") => (0.0, 0.1),
        (true, "running_mean") => (0.0, 0.1),
        (true, "running_var") => (1.25, 0.25),
        (false, "weight") => (
            0.0,
            (3.0 / shape[1..].iter().product::<usize>() as f64).sqrt() as f32,
        ),
        _ => (0.0, 0.1),
    };
    u.into_iter().map(|v| offset + scale * v).collect()
}

/// Replaces every tensor of a module by its deterministic PyTorch value, converting names
/// (`gamma`/`beta` are PyTorch's `weight`/`bias`) and layouts (a Linear weight is transposed).
struct DetWeights {
    /// The path to the current tensor, with the container type of each step.
    path: Vec<(String, String)>,
}

impl ModuleMapper for DetWeights {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path.push((name.to_owned(), container_type.to_owned()));
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (leaf, container) = self.path.last().expect("a tensor sits in a module");
        let is_norm = container == "Struct:BatchNorm";
        let torch_leaf = match (is_norm, leaf.as_str()) {
            (true, "gamma") => "weight",
            (true, "beta") => "bias",
            (_, leaf) => leaf,
        };
        let parent: Vec<&str> = self.path[..self.path.len() - 1]
            .iter()
            .map(|(name, _)| name.as_str())
            .collect();
        let name = format!("{}.{torch_leaf}", parent.join("."));
        let shape = param.lazy_shape().dims::<D>().to_vec();
        let transposed = container == "Struct:Linear" && leaf == "weight";
        let data = if transposed {
            let (inputs, outputs) = (shape[0], shape[1]);
            let torch = det_tensor(&name, &[outputs, inputs], false);
            (0..inputs * outputs)
                .map(|i| torch[(i % outputs) * inputs + i / outputs])
                .collect()
        } else {
            det_tensor(&name, &shape, is_norm)
        };
        param.map(|tensor| Tensor::from_data(TensorData::new(data, shape), &tensor.device()))
    }
}

fn anchor_output() -> Vec<f32> {
    let bytes = include_bytes!("../parity/anchor_output.f32");
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

#[test]
fn deterministic_weights_match_pytorch_after_a_checkpoint_round_trip() {
    let model = UNetConfig::new()
        .init(&device())
        .map(&mut DetWeights { path: Vec::new() });
    let dir = tempfile::tempdir().expect("temp dir");
    model.save(dir.path()).expect("save");
    let model = UNet::load(dir.path(), &device()).expect("load");

    let input = Tensor::<4>::from_data(
        TensorData::new(det_uniform("input", 4 * 128 * 128), [1, 4, 128, 128]),
        &device(),
    );
    let output = values(model.forward(input));
    let max_diff = assert_close(&output, &anchor_output(), ATOL, 0.0);
    eprintln!("max abs diff against PyTorch: {max_diff:e}");
}

#[test]
fn det_uniform_matches_the_python_generator() {
    // export.py: det_uniform("input", 3).tolist() and det_uniform("stem.weight", 2).tolist()
    let input = [
        -0.8043633699417114_f64,
        -0.705042839050293,
        0.14816880226135254,
    ];
    let stem = [0.7112103700637817_f64, 0.8193848133087158];
    assert_eq!(det_uniform("input", 3), input.map(|v| v as f32));
    assert_eq!(det_uniform("stem.weight", 2), stem.map(|v| v as f32));
}

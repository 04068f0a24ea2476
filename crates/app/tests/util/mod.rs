//! Helpers shared by the binary's test files.

use std::path::Path;
use std::process::{Command, Output};

use burn::tensor::Device;
use scribseg_model::UNetConfig;

/// Runs the `scribseg` binary with `args`.
pub fn scribseg(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scribseg"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// The run's standard error as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A temporary path as `&str`.
pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

/// Writes a checkpoint of random weights (seeded) to `dir`.
pub fn random_checkpoint(dir: &Path, seed: u64) {
    let device = Device::flex();
    device.seed(seed);
    UNetConfig::new()
        .init(&device)
        .save(dir)
        .expect("checkpoint");
}

//! Where burn runs the network: the CPU through burn's own Flex backend, the
//! CPU through LibTorch in a build with `--features tch` (faster to train;
//! see `docs/cpu-training.md`), or a GPU through Vulkan in a build with
//! `--features vulkan` (burn's CUDA backend does not build offline; see
//! `docs/gpu-training.md`).

use std::fmt;
use std::str::FromStr;

use burn::tensor::Device;

use crate::Error;

/// A burn backend the binary may run on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Backend {
    /// burn's pure-Rust CPU backend (Flex); always built.
    #[default]
    Cpu,
    /// The default GPU through Vulkan (wgpu with SPIR-V); only in builds
    /// with the `vulkan` feature.
    Vulkan,
    /// The CPU through LibTorch (PyTorch's C++ library, linked at build
    /// time); only in builds with the `tch` feature.
    Torch,
}

impl Backend {
    /// Every backend, in the order of the variants.
    pub const ALL: [Backend; 3] = [Backend::Cpu, Backend::Vulkan, Backend::Torch];

    /// The names `FromStr` accepts, in the order of the variants.
    pub const NAMES: [&'static str; 3] = ["cpu", "vulkan", "torch"];

    /// The burn device of this backend, or an error saying how to get a
    /// build that has it.
    pub fn device(self) -> Result<Device, Error> {
        match self {
            Backend::Cpu => Ok(Device::flex()),
            #[cfg(feature = "vulkan")]
            Backend::Vulkan => Ok(Device::vulkan(burn::tensor::DeviceKind::DefaultDevice)),
            #[cfg(not(feature = "vulkan"))]
            Backend::Vulkan => Err(Error::Backend(
                "this binary was built without the GPU backend; build it with \
                 `cargo build --release --features vulkan`"
                    .into(),
            )),
            #[cfg(feature = "tch")]
            Backend::Torch => Ok(Device::libtorch()),
            #[cfg(not(feature = "tch"))]
            Backend::Torch => Err(Error::Backend(
                "this binary was built without LibTorch; build it with \
                 `cargo build --release --features tch` (docs/cpu-training.md)"
                    .into(),
            )),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::NAMES[*self as usize])
    }
}

impl FromStr for Backend {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Self::ALL
            .into_iter()
            .find(|backend| Self::NAMES[*backend as usize] == s)
            .ok_or_else(|| {
                Error::Backend(format!(
                    "unknown backend `{s}` (expected one of: {})",
                    Self::NAMES.join(", ")
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_errors() {
        for backend in Backend::ALL {
            assert_eq!(backend.to_string().parse::<Backend>().ok(), Some(backend));
        }
        let err = "cuda".parse::<Backend>().expect_err("not a backend");
        assert!(err.to_string().contains("`cuda`"), "{err}");
    }

    #[test]
    fn the_cpu_is_always_there() {
        assert!(Backend::Cpu.device().is_ok());
    }

    #[cfg(not(feature = "vulkan"))]
    #[test]
    fn asking_for_the_gpu_in_a_cpu_build_says_how_to_build_it() {
        let err = Backend::Vulkan.device().expect_err("no GPU backend");
        assert!(err.to_string().contains("--features vulkan"), "{err}");
    }

    #[cfg(not(feature = "tch"))]
    #[test]
    fn asking_for_libtorch_in_a_build_without_it_says_how_to_build_it() {
        let err = Backend::Torch.device().expect_err("no LibTorch backend");
        assert!(err.to_string().contains("--features tch"), "{err}");
    }
}

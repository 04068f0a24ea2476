//! The network's tensors by their dotted paths in the burn module
//! (`encoder.stages.1.blocks.0.expand.conv.weight`): how the fast inference path reads the
//! weights, and how the CPU trainer reads them and writes them back into a burn record.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Tensor, TensorData};

use crate::UNet;

/// The path of the first convolution's weight, the one tensor whose shape follows the
/// input channels.
const STEM_WEIGHT: &str = "stem.weight";

/// One float tensor of the network.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedTensor {
    /// Its dotted path in the module.
    pub name: String,
    /// burn's shape.
    pub shape: Vec<usize>,
    /// The values in burn's (row-major) layout.
    pub value: Vec<f32>,
}

/// Keeps the dotted path of the module being visited.
#[derive(Default)]
struct Path(Vec<String>);

impl Path {
    fn enter(&mut self, name: &str) {
        self.0.push(name.to_owned());
    }

    fn exit(&mut self) {
        self.0.pop();
    }

    fn joined(&self) -> String {
        self.0.join(".")
    }
}

/// Collects every float tensor.
#[derive(Default)]
struct Collector {
    path: Path,
    tensors: Vec<NamedTensor>,
}

impl ModuleVisitor for Collector {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.enter(name);
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.exit();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let tensor = param.val();
        let shape = tensor.dims().to_vec();
        let value = tensor
            .into_data()
            .try_into_vec_as::<f32>()
            .expect("a float tensor converts to f32");
        self.tensors.push(NamedTensor {
            name: self.path.joined(),
            shape,
            value,
        });
    }
}

/// Replaces the tensors that `value` gives.
struct Writer<'a, 'v> {
    path: Path,
    value: &'a dyn Fn(&str) -> Option<&'v [f32]>,
}

impl ModuleMapper for Writer<'_, '_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.enter(name);
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.exit();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let name = self.path.joined();
        let Some(value) = (self.value)(&name) else {
            return param;
        };
        param.map(|tensor| {
            let shape = tensor.dims();
            assert_eq!(
                value.len(),
                shape.iter().product::<usize>(),
                "`{name}` takes as many values as its shape holds"
            );
            let (device, tracked) = (tensor.device(), tensor.is_require_grad());
            Tensor::from_data(TensorData::new(value.to_vec(), shape), &device)
                .set_require_grad(tracked)
        })
    }
}

impl UNet {
    /// Every float tensor of the network (the parameters and the batch norms' running
    /// statistics), in the module's visiting order.
    pub fn tensors(&self) -> Vec<NamedTensor> {
        let mut collector = Collector::default();
        self.visit(&mut collector);
        collector.tensors
    }

    /// The network with each tensor replaced by `value(name)` where that gives values (on
    /// the tensor's device, tracked for gradients where it was).
    ///
    /// # Panics
    ///
    /// If a value's length is not the tensor's.
    pub fn with_tensors<'v>(self, value: &dyn Fn(&str) -> Option<&'v [f32]>) -> UNet {
        self.map(&mut Writer {
            path: Path::default(),
            value,
        })
    }

    /// The same network reading `channels` input channels: the stem's weights for the
    /// channels it had are kept, those for new channels start at zero (so the network
    /// answers exactly as before until training moves them), and channels past `channels`
    /// are dropped. Every other tensor is kept.
    ///
    /// # Panics
    ///
    /// If `channels` is 0.
    pub fn with_in_channels(self, channels: usize) -> UNet {
        let old = self.config().in_channels;
        if channels == old {
            return self;
        }
        let device = self.devices().into_iter().next().expect("a model device");
        let mut config = self.config().clone();
        config.in_channels = channels;
        let tensors = self.tensors();
        let stem = tensors
            .iter()
            .find(|t| t.name == STEM_WEIGHT)
            .expect("the network has a stem");
        // burn's convolution weight is [out, in, kh, kw].
        let kernel: usize = stem.shape[2..].iter().product();
        let widened: Vec<f32> = stem
            .value
            .chunks_exact(old * kernel)
            .flat_map(|per_output| {
                let kept = &per_output[..old.min(channels) * kernel];
                kept.iter().copied().chain(std::iter::repeat_n(
                    0.0,
                    channels.saturating_sub(old) * kernel,
                ))
            })
            .collect();
        config.init(&device).with_tensors(&|name| {
            if name == STEM_WEIGHT {
                Some(&widened)
            } else {
                tensors
                    .iter()
                    .find(|t| t.name == name)
                    .map(|t| t.value.as_slice())
            }
        })
    }
}

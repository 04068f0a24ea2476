//! The network's tensors as plain vectors, read out of a burn [`UNet`] and written back into
//! one, so that checkpoints stay burn records.

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Tensor, TensorData};
use scribseg_model::UNet;

/// One tensor of the network by its dotted path in the burn module.
#[derive(Clone, Debug, PartialEq)]
pub struct Named {
    /// The path, e.g. `encoder.stages.1.blocks.0.expand.conv.weight`.
    pub name: String,
    /// burn's shape.
    pub shape: Vec<usize>,
    /// The values in burn's (row-major) layout.
    pub value: Vec<f32>,
}

/// Every tensor of a network: the trainable parameters, and the batch norms' running statistics
/// (state that training updates without gradients).
#[derive(Clone, Debug, PartialEq)]
pub struct Store {
    /// Trainable parameters, in the module's visiting order.
    pub params: Vec<Named>,
    /// Running means and variances.
    pub running: Vec<Named>,
    index: HashMap<String, Slot>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Slot {
    Param(usize),
    Running(usize),
}

/// Collects the tensors of a module by path.
#[derive(Default)]
struct Collector {
    path: Vec<String>,
    tensors: Vec<Named>,
}

impl ModuleVisitor for Collector {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_owned());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let tensor = param.val();
        let shape = tensor.dims().to_vec();
        let value = tensor
            .into_data()
            .try_into_vec_as::<f32>()
            .expect("a float tensor converts to f32");
        self.tensors.push(Named {
            name: self.path.join("."),
            shape,
            value,
        });
    }
}

/// Replaces every tensor of a module by the store's tensor of the same path.
struct Writer<'a> {
    path: Vec<String>,
    store: &'a Store,
}

impl ModuleMapper for Writer<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_owned());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let named = self
            .store
            .get(&self.path.join("."))
            .expect("the store was read from a network of the same structure");
        param.map(|tensor| {
            let device = tensor.device();
            let shape: [usize; D] = named.shape.clone().try_into().expect("same rank");
            let tracked = tensor.is_require_grad();
            Tensor::from_data(TensorData::new(named.value.clone(), shape), &device)
                .set_require_grad(tracked)
        })
    }
}

impl Store {
    /// Reads every tensor of `model`.
    pub fn of(model: &UNet) -> Self {
        let mut collector = Collector::default();
        model.visit(&mut collector);
        let (running, params): (Vec<Named>, Vec<Named>) =
            collector.tensors.into_iter().partition(|t| {
                t.name
                    .rsplit('.')
                    .next()
                    .is_some_and(|last| last.starts_with("running_"))
            });
        let index = params
            .iter()
            .enumerate()
            .map(|(i, t)| (t.name.clone(), Slot::Param(i)))
            .chain(
                running
                    .iter()
                    .enumerate()
                    .map(|(i, t)| (t.name.clone(), Slot::Running(i))),
            )
            .collect();
        Self {
            params,
            running,
            index,
        }
    }

    /// `model` with every tensor replaced by the store's.
    pub fn write_into(&self, model: UNet) -> UNet {
        model.map(&mut Writer {
            path: Vec::new(),
            store: self,
        })
    }

    fn get(&self, name: &str) -> Option<&Named> {
        match self.index.get(name)? {
            Slot::Param(i) => self.params.get(*i),
            Slot::Running(i) => self.running.get(*i),
        }
    }

    /// The index of trainable parameter `name` in [`Store::params`].
    ///
    /// # Panics
    /// If the network has no such parameter (the layers are built from the network's own
    /// structure, so a missing name is a bug).
    pub fn param(&self, name: &str) -> usize {
        match self.index.get(name) {
            Some(Slot::Param(i)) => *i,
            _ => panic!("the network has no parameter `{name}`"),
        }
    }

    /// The index of running statistic `name` in [`Store::running`].
    ///
    /// # Panics
    /// As [`Store::param`].
    pub fn running(&self, name: &str) -> usize {
        match self.index.get(name) {
            Some(Slot::Running(i)) => *i,
            _ => panic!("the network has no running statistic `{name}`"),
        }
    }

    /// Whether the network has a tensor of this path.
    pub fn has(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }
}

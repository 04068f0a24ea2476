//! The network's tensors as plain vectors, read out of a burn [`UNet`] and written back into
//! one ([`UNet::tensors`], [`UNet::with_tensors`]), so that checkpoints stay burn records.

use std::collections::HashMap;

use scribseg_model::{NamedTensor, UNet};

/// Every tensor of a network: the trainable parameters, and the batch norms' running statistics
/// (state that training updates without gradients).
#[derive(Clone, Debug, PartialEq)]
pub struct Store {
    /// Trainable parameters, in the module's visiting order.
    pub params: Vec<NamedTensor>,
    /// Running means and variances.
    pub running: Vec<NamedTensor>,
    index: HashMap<String, Slot>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Slot {
    Param(usize),
    Running(usize),
}

impl Store {
    /// Reads every tensor of `model`.
    pub fn of(model: &UNet) -> Self {
        let (running, params): (Vec<NamedTensor>, Vec<NamedTensor>) =
            model.tensors().into_iter().partition(|t| {
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

    /// `model` (a network of the same structure) with every tensor replaced by the store's.
    pub fn write_into(&self, model: UNet) -> UNet {
        model.with_tensors(&|name| {
            let tensor = match self.index.get(name)? {
                Slot::Param(i) => &self.params[*i],
                Slot::Running(i) => &self.running[*i],
            };
            Some(tensor.value.as_slice())
        })
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

//! Weight averaging: one network whose parameters are the element-wise mean of several
//! checkpoints of the same network (checkpoint averaging, the "uniform soup" of Wortsman et
//! al. 2022). Rounds of training that start from one checkpoint stay in its basin, where the
//! mean of their weights is often better than each of them.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::Tensor;

use crate::{Error, UNet};

impl UNet {
    /// The network whose every float parameter and batch-norm running statistic is the mean of
    /// those of `models`, in the order [`Module::visit`] walks them.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] if `models` is empty or their configurations differ (the mean
    /// of two different networks' tensors means nothing).
    pub fn average(models: Vec<UNet>) -> Result<UNet, Error> {
        let mut models = models.into_iter();
        let first = models
            .next()
            .ok_or_else(|| Error::InvalidConfig("no checkpoints to average".to_owned()))?;
        let mut sums = Flatten::default();
        first.visit(&mut sums);
        let mut count = 1;
        for (index, model) in models.enumerate() {
            if model.config() != first.config() {
                return Err(Error::InvalidConfig(format!(
                    "checkpoint {} has another network configuration than the first",
                    index + 2
                )));
            }
            let mut tensors = Flatten::default();
            model.visit(&mut tensors);
            for (sum, tensor) in sums.0.iter_mut().zip(tensors.0) {
                *sum = sum.clone() + tensor;
            }
            count += 1;
        }
        let mut mean = Mean {
            sums: sums.0.into_iter(),
            count: count as f64,
        };
        Ok(first.map(&mut mean))
    }
}

/// Collects every float tensor of a module, flattened, in visiting order.
#[derive(Default)]
struct Flatten(Vec<Tensor<1>>);

impl ModuleVisitor for Flatten {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let tensor = param.val();
        let len = tensor.shape().num_elements();
        self.0.push(tensor.reshape([len]));
    }
}

/// Replaces every float tensor of a module by the next sum, divided by the count.
struct Mean {
    sums: std::vec::IntoIter<Tensor<1>>,
    count: f64,
}

impl ModuleMapper for Mean {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let sum = self
            .sums
            .next()
            .expect("the mapper walks the tensors the visitor collected");
        let count = self.count;
        param.map(|tensor| sum.div_scalar(count).reshape(tensor.shape()))
    }
}

//! ×2 bilinear upsampling (`align_corners = false`) from slices and sums.
//!
//! burn's `interpolate` has no backward pass on its GPU (CubeCL) backends
//! ("Bilinear interpolation backward is not supported by JIT backend", seen
//! on the Vulkan backend of an H200), so the network builds the ×2 case from
//! operations every backend differentiates. At scale 2 each output sample
//! lies a quarter of a pixel from its nearest input sample, so along one
//! axis `out[2i] = ¾·x[i] + ¼·x[i−1]` and `out[2i+1] = ¾·x[i] + ¼·x[i+1]`,
//! the neighbours clamped at the borders — PyTorch's `nn.Upsample(scale 2,
//! bilinear)` exactly.

use burn::tensor::Tensor;

/// `[B, C, H, W]` → `[B, C, 2H, 2W]`, bilinear with `align_corners = false`.
pub fn upsample2x(x: Tensor<4>) -> Tensor<4> {
    upsample2x_along(upsample2x_along(x, 2), 3)
}

/// Doubles axis `dim` (2 or 3) of `x` by interleaving the two quarter-pixel
/// blends of each sample with its neighbours.
fn upsample2x_along(x: Tensor<4>, dim: usize) -> Tensor<4> {
    let n = x.dims()[dim];
    let (even, odd) = if n == 1 {
        (x.clone(), x)
    } else {
        let before = Tensor::cat(
            vec![x.clone().narrow(dim, 0, 1), x.clone().narrow(dim, 0, n - 1)],
            dim,
        );
        let after = Tensor::cat(
            vec![
                x.clone().narrow(dim, 1, n - 1),
                x.clone().narrow(dim, n - 1, 1),
            ],
            dim,
        );
        let centre = x.mul_scalar(0.75);
        (
            centre.clone().add(before.mul_scalar(0.25)),
            centre.add(after.mul_scalar(0.25)),
        )
    };
    let mut dims = even.dims();
    dims[dim] *= 2;
    Tensor::stack::<5>(vec![even, odd], dim + 1).reshape(dims)
}

#[cfg(test)]
mod tests {
    use burn::nn::interpolate::{Interpolate2dConfig, InterpolateMode};
    use burn::tensor::{Device, Distribution, Tensor};

    use super::upsample2x;

    #[test]
    fn equals_burns_bilinear_interpolation() {
        let device = Device::flex();
        let interpolate = Interpolate2dConfig::new()
            .with_scale_factor(Some([2.0, 2.0]))
            .with_mode(InterpolateMode::Linear)
            .with_align_corners(false)
            .init();
        for shape in [[2, 3, 5, 7], [1, 2, 1, 4], [1, 1, 8, 8]] {
            let x = Tensor::<4>::random(shape, Distribution::Normal(0.0, 1.0), &device);
            let ours: Vec<f32> = upsample2x(x.clone())
                .into_data()
                .try_to_vec::<f32>()
                .expect("f32");
            let burns: Vec<f32> = interpolate
                .forward(x)
                .into_data()
                .try_to_vec::<f32>()
                .expect("f32");
            assert_eq!(ours.len(), burns.len(), "{shape:?}");
            let worst = ours
                .iter()
                .zip(&burns)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max);
            assert!(worst < 1e-5, "{shape:?}: differs by {worst}");
        }
    }

    #[test]
    fn has_a_gradient() {
        let device = Device::flex().autodiff();
        let x = Tensor::<4>::ones([1, 1, 3, 3], &device).require_grad();
        let grads = upsample2x(x.clone()).sum().backward();
        let grad: Vec<f32> = x
            .grad(&grads)
            .expect("a gradient")
            .into_data()
            .try_to_vec::<f32>()
            .expect("f32");
        // Every input sample's weights over the 6×6 output sum to 4.
        assert!(grad.iter().all(|g| (g - 4.0).abs() < 1e-5), "{grad:?}");
    }
}

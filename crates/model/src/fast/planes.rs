//! Per-plane and per-tile helpers: im2col, the depthwise 3×3 convolution, the 2×2 average pool,
//! the ×2 bilinear upsampling and squeeze-excitation. A plane is one channel of one sample,
//! `height × width` floats, row-major.

use pulp::{Simd, WithSimd};

use super::kernel::lanes;
use super::params::Dense;
use super::simd::{sigmoid_scalar, silu, silu_scalar};

/// Writes the 3×3 patches of rows `r0..r1` of `input` (`[cin][h][w]`, zero padding 1) as the
/// rows of `col`: `col[(c·9 + ky·3 + kx)·n + (y − r0)·w + x] = input[c][y + ky − 1][x + kx − 1]`,
/// with `n = (r1 − r0)·w`, the order of a burn convolution weight `[cout][cin][3][3]`.
pub(super) fn im2col(input: &[f32], h: usize, w: usize, r0: usize, r1: usize, col: &mut [f32]) {
    let n = (r1 - r0) * w;
    let plane = h * w;
    for (c, src_plane) in input.chunks_exact(plane).enumerate() {
        for tap in 0..9 {
            let (ky, kx) = (tap / 3, tap % 3);
            let dst_rows = &mut col[(c * 9 + tap) * n..(c * 9 + tap + 1) * n];
            for (dst, y) in dst_rows.chunks_exact_mut(w).zip(r0..r1) {
                let sy = y + ky;
                if sy < 1 || sy > h {
                    dst.fill(0.0);
                    continue;
                }
                let src = &src_plane[(sy - 1) * w..sy * w];
                match kx {
                    0 => {
                        dst[0] = 0.0;
                        dst[1..].copy_from_slice(&src[..w - 1]);
                    }
                    1 => dst.copy_from_slice(src),
                    _ => {
                        dst[..w - 1].copy_from_slice(&src[1..]);
                        dst[w - 1] = 0.0;
                    }
                }
            }
        }
    }
}

/// The depthwise 3×3 convolution of one plane (zero padding 1), plus `bias`, then SiLU;
/// returns the mean of the output (squeeze-excitation's pooling). `padded` is scratch of at
/// least `(h + 2)·(w + 2)` floats: the plane is copied there with a zero border, so that every
/// output register is nine unaligned loads and fused multiply-adds, with no edge cases.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn depthwise_silu_plane<S: Simd>(
    simd: S,
    input: &[f32],
    h: usize,
    w: usize,
    weight: &[f32],
    bias: f32,
    padded: &mut [f32],
    out: &mut [f32],
) -> f32 {
    let pw = w + 2;
    let padded = &mut padded[..(h + 2) * pw];
    padded[..pw].fill(0.0);
    padded[(h + 1) * pw..].fill(0.0);
    for (row, src) in padded[pw..].chunks_exact_mut(pw).zip(input.chunks_exact(w)) {
        row[0] = 0.0;
        row[1..=w].copy_from_slice(src);
        row[w + 1] = 0.0;
    }
    let lanes = lanes::<S>();
    let taps: [S::f32s; 9] = core::array::from_fn(|t| simd.splat_f32s(weight[t]));
    let bias = simd.splat_f32s(bias);
    let mut sum = simd.splat_f32s(0.0);
    let mut tail_sum = 0.0;
    for (y, dst) in out.chunks_exact_mut(w).enumerate().take(h) {
        let rows = [
            &padded[y * pw..(y + 1) * pw],
            &padded[(y + 1) * pw..(y + 2) * pw],
            &padded[(y + 2) * pw..(y + 3) * pw],
        ];
        let mut x = 0;
        while x + lanes <= w {
            let mut acc = bias;
            for (ky, row) in rows.iter().enumerate() {
                for kx in 0..3 {
                    let (v, _) = S::as_simd_f32s(&row[x + kx..x + kx + lanes]);
                    acc = simd.mul_add_f32s(taps[ky * 3 + kx], v[0], acc);
                }
            }
            let value = silu(simd, acc);
            sum = simd.add_f32s(sum, value);
            let (dst, _) = S::as_mut_simd_f32s(&mut dst[x..x + lanes]);
            dst[0] = value;
            x += lanes;
        }
        if x < w {
            let len = w - x;
            let mut acc = bias;
            for (ky, row) in rows.iter().enumerate() {
                for kx in 0..3 {
                    let v = simd.partial_load_f32s(&row[x + kx..x + kx + len]);
                    acc = simd.mul_add_f32s(taps[ky * 3 + kx], v, acc);
                }
            }
            simd.partial_store_f32s(&mut dst[x..], silu(simd, acc));
            tail_sum += dst[x..].iter().sum::<f32>();
        }
    }
    (simd.reduce_sum_f32s(sum) + tail_sum) / (h * w) as f32
}

/// [`depthwise_silu_plane`] as a [`WithSimd`] operation (see [`super::gemm::GemmTask`]).
pub(super) struct DepthwiseTask<'a> {
    pub input: &'a [f32],
    pub height: usize,
    pub width: usize,
    pub weight: &'a [f32],
    pub bias: f32,
    pub padded: &'a mut [f32],
    pub out: &'a mut [f32],
}

impl WithSimd for DepthwiseTask<'_> {
    type Output = f32;

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> f32 {
        depthwise_silu_plane(
            simd,
            self.input,
            self.height,
            self.width,
            self.weight,
            self.bias,
            self.padded,
            self.out,
        )
    }
}

/// The mean of a plane.
pub(super) fn mean(plane: &[f32]) -> f32 {
    plane.iter().sum::<f32>() / plane.len() as f32
}

/// 2×2 average pooling with stride 2 of an `h × w` plane into `out` (`h/2 × w/2`).
pub(super) fn avg_pool_plane(input: &[f32], w: usize, out: &mut [f32]) {
    let half = w / 2;
    for (dst, pair) in out.chunks_exact_mut(half).zip(input.chunks_exact(2 * w)) {
        let (top, bottom) = pair.split_at(w);
        for (x, d) in dst.iter_mut().enumerate() {
            *d = (top[2 * x] + top[2 * x + 1] + bottom[2 * x] + bottom[2 * x + 1]) * 0.25;
        }
    }
}

/// Source index and weight of output coordinate `o` of a ×2 bilinear upsampling of `n` samples
/// with `align_corners = false`: `src = max((o + ½)/2 − ½, 0)`, between `i0` and `i1`.
#[inline(always)]
fn source(o: usize, n: usize) -> (usize, usize, f32) {
    let src = ((o as f32 + 0.5) * 0.5 - 0.5).max(0.0);
    let i0 = (src as usize).min(n - 1);
    let i1 = (i0 + 1).min(n - 1);
    (i0, i1, src - i0 as f32)
}

/// ×2 bilinear upsampling (`align_corners = false`) of an `h × w` plane into `out` (`2h × 2w`):
/// each output row blends two input rows (weights from [`source`]), then every pair of
/// neighbours `a, b` of the blended row gives the outputs `¾a + ¼b` and `¼a + ¾b` between them
/// (the first and last outputs copy the edge values).
pub(super) fn upsample_plane(input: &[f32], h: usize, w: usize, out: &mut [f32]) {
    let w2 = 2 * w;
    for (oy, dst) in out.chunks_exact_mut(w2).enumerate().take(2 * h) {
        let (y0, y1, fy) = source(oy, h);
        let (row0, row1) = (&input[y0 * w..(y0 + 1) * w], &input[y1 * w..(y1 + 1) * w]);
        let blend = |x: usize| row0[x] + fy * (row1[x] - row0[x]);
        let mut a = blend(0);
        dst[0] = a;
        for (x, pair) in dst[1..w2 - 1].chunks_exact_mut(2).enumerate() {
            let b = blend(x + 1);
            pair[0] = 0.75 * a + 0.25 * b;
            pair[1] = 0.25 * a + 0.75 * b;
            a = b;
        }
        dst[w2 - 1] = a;
    }
}

/// Squeeze-excitation's channel scales from the pooled means: `σ(E · silu(R · pooled))`.
pub(super) fn excite(
    reduce: &Dense,
    expand: &Dense,
    pooled: &[f32],
    squeezed: &mut [f32],
    scale: &mut [f32],
) {
    for (o, s) in squeezed.iter_mut().enumerate().take(reduce.outputs) {
        let row = &reduce.weight[o * reduce.inputs..(o + 1) * reduce.inputs];
        let dot: f32 = row.iter().zip(pooled).map(|(w, x)| w * x).sum();
        *s = silu_scalar(reduce.bias[o] + dot);
    }
    for (o, s) in scale.iter_mut().enumerate().take(expand.outputs) {
        let row = &expand.weight[o * expand.inputs..(o + 1) * expand.inputs];
        let dot: f32 = row.iter().zip(&*squeezed).map(|(w, x)| w * x).sum();
        *s = sigmoid_scalar(expand.bias[o] + dot);
    }
}

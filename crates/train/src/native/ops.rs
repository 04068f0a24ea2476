//! The layers of the network, forward and backward, on channel-major activations.
//!
//! An activation of `c` channels over a batch is `[c][batch][height][width]`: one row of
//! `n = batch × height × width` values per channel. In that layout a 1×1 convolution is one
//! matrix product over the whole batch, batch-norm statistics are sums over one contiguous row,
//! and channel concatenation is stacking rows. Matrix products go through the `gemm` crate (the
//! one burn's Flex backend uses, on all cores); everything else runs over channels on the rayon
//! pool. Backward functions *add* into parameter gradients and return the input's gradient.

use rayon::prelude::*;
use scribseg_model::fast::{EXP_LN2, EXP_MAX, EXP_MIN, EXP_POLYNOMIAL, EXP_ROUND};

use super::pool::Pool;

/// The spatial layout of a batch of activations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geo {
    /// Samples.
    pub batch: usize,
    /// Rows of one sample.
    pub height: usize,
    /// Columns of one sample.
    pub width: usize,
}

impl Geo {
    /// Pixels of one sample.
    pub fn plane(self) -> usize {
        self.height * self.width
    }

    /// Values per channel over the batch.
    pub fn n(self) -> usize {
        self.batch * self.plane()
    }

    /// The geometry at twice the resolution.
    pub fn double(self) -> Self {
        Self {
            height: self.height * 2,
            width: self.width * 2,
            ..self
        }
    }

    /// The geometry at half the resolution.
    pub fn half(self) -> Self {
        Self {
            height: self.height / 2,
            width: self.width / 2,
            ..self
        }
    }
}

/// A matrix operand: `value(i, j) = data[i * rows + j * cols]`.
#[derive(Clone, Copy)]
struct Mat<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
}

impl<'a> Mat<'a> {
    /// A row-major matrix with rows `stride` apart.
    fn rows(data: &'a [f32], stride: usize) -> Self {
        Self {
            data,
            rows: stride,
            cols: 1,
        }
    }

    /// The transpose of a row-major matrix with rows `stride` apart.
    fn transposed(data: &'a [f32], stride: usize) -> Self {
        Self {
            data,
            rows: 1,
            cols: stride,
        }
    }

    fn fits(self, m: usize, k: usize) -> bool {
        m == 0 || k == 0 || (m - 1) * self.rows + (k - 1) * self.cols < self.data.len()
    }
}

/// `dst[m×n] = a[m×k] · b[k×n]` (plus `dst` when `accumulate`), `dst` row-major with rows
/// `dst_stride` apart.
fn matmul(
    [m, n, k]: [usize; 3],
    dst: &mut [f32],
    dst_stride: usize,
    accumulate: bool,
    a: Mat,
    b: Mat,
) {
    assert!(
        a.fits(m, k) && b.fits(k, n),
        "operands smaller than their shape"
    );
    assert!(
        m == 0 || n == 0 || (m - 1) * dst_stride + n <= dst.len(),
        "destination smaller than its shape"
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            for row in 0..m {
                dst[row * dst_stride..][..n].fill(0.0);
            }
        }
        return;
    }
    // SAFETY: the asserts above keep every index `gemm` reads or writes inside the slices:
    // operand `(i, j)` sits at `i * rows + j * cols`, below the largest such index checked by
    // `Mat::fits`, and destination `(i, j)` at `i * dst_stride + j < (m − 1) * dst_stride + n`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            dst_stride as isize,
            accumulate,
            a.data.as_ptr(),
            a.cols as isize,
            a.rows as isize,
            b.data.as_ptr(),
            b.cols as isize,
            b.rows as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::Rayon(rayon::current_num_threads()),
        );
    }
}

/// The rows `y` of a 3×3 "same" convolution's output that read input row `y + dy`, and the
/// columns `x` that read input column `x + dx`.
fn valid(size: usize, offset: isize) -> std::ops::Range<usize> {
    let start = (-offset).max(0) as usize;
    let end = (size as isize - offset).clamp(0, size as isize) as usize;
    start..end.max(start)
}

/// For each tap `t = 3·(dy + 1) + (dx + 1)` of a 3×3 "same" window over an `h`×`w` plane and
/// each output row, calls `f(t, out, from)`: the output pixels `out` (a run within one row)
/// read the input pixels `from..from + out.len()` (the same run shifted by `(dy, dx)`).
fn taps(h: usize, w: usize, mut f: impl FnMut(usize, std::ops::Range<usize>, usize)) {
    for dy in -1isize..=1 {
        for dx in -1isize..=1 {
            let tap = (3 * (dy + 1) + dx + 1) as usize;
            let xs = valid(w, dx);
            if xs.is_empty() {
                continue;
            }
            for y in valid(h, dy) {
                let out = y * w + xs.start..y * w + xs.end;
                let from = ((y as isize + dy) * w as isize + xs.start as isize + dx) as usize;
                f(tap, out, from);
            }
        }
    }
}

/// `col[ci·9 + t][p]` = input channel `ci` at pixel `p` shifted by tap `t` (zero outside), for
/// sample `b`: the columns of a 3×3 convolution as a matrix product.
fn im2col(x: &[f32], cin: usize, geo: Geo, b: usize, col: &mut [f32]) {
    let (plane, n) = (geo.plane(), geo.n());
    let (h, w) = (geo.height, geo.width);
    col[..cin * 9 * plane]
        .par_chunks_mut(9 * plane)
        .enumerate()
        .for_each(|(ci, rows)| {
            wide(|| {
                let src = &x[ci * n + b * plane..][..plane];
                rows.fill(0.0);
                taps(h, w, |t, out, from| {
                    let len = out.len();
                    rows[t * plane + out.start..][..len].copy_from_slice(&src[from..][..len]);
                });
            })
        });
}

/// Adds the columns `col` back onto the input-shaped `dx` of sample `b` (the transpose of
/// [`im2col`]).
fn col2im(col: &[f32], cin: usize, geo: Geo, b: usize, dx: &mut [f32]) {
    let (plane, n) = (geo.plane(), geo.n());
    let (h, w) = (geo.height, geo.width);
    dx[..cin * n]
        .par_chunks_mut(n)
        .enumerate()
        .for_each(|(ci, row)| {
            wide(|| {
                let dst = &mut row[b * plane..][..plane];
                let rows = &col[ci * 9 * plane..][..9 * plane];
                taps(h, w, |t, out, from| {
                    let len = out.len();
                    let src = &rows[t * plane + out.start..][..len];
                    for (d, &g) in dst[from..][..len].iter_mut().zip(src) {
                        *d += g;
                    }
                });
            })
        });
}

/// A dense convolution's shape: `weight` is `[cout][cin][k][k]` (burn's layout), k 1 or 3.
#[derive(Clone, Copy, Debug)]
pub struct ConvShape {
    /// Input channels.
    pub cin: usize,
    /// Output channels.
    pub cout: usize,
    /// Kernel side: 1 or 3 ("same" padding).
    pub kernel: usize,
}

impl ConvShape {
    fn k(self) -> usize {
        self.cin * self.kernel * self.kernel
    }

    /// The scratch a 3×3 convolution needs for one sample's columns.
    pub fn scratch(self, geo: Geo) -> usize {
        if self.kernel == 3 {
            self.k() * geo.plane()
        } else {
            0
        }
    }
}

/// `y = conv(x) + bias`.
pub fn conv(
    shape: ConvShape,
    geo: Geo,
    x: &[f32],
    weight: &[f32],
    bias: Option<&[f32]>,
    pool: &mut Pool,
) -> Vec<f32> {
    let n = geo.n();
    let mut y = pool.take(shape.cout * n);
    if shape.kernel == 1 {
        matmul(
            [shape.cout, n, shape.cin],
            &mut y,
            n,
            false,
            Mat::rows(weight, shape.cin),
            Mat::rows(x, n),
        );
    } else {
        let mut col = pool.take(shape.scratch(geo));
        let plane = geo.plane();
        for b in 0..geo.batch {
            im2col(x, shape.cin, geo, b, &mut col);
            matmul(
                [shape.cout, plane, shape.k()],
                &mut y[b * plane..],
                n,
                false,
                Mat::rows(weight, shape.k()),
                Mat::rows(&col, plane),
            );
        }
        pool.give(col);
    }
    if let Some(bias) = bias {
        y.par_chunks_mut(n)
            .zip(bias)
            .for_each(|(row, &b)| row.iter_mut().for_each(|v| *v += b));
    }
    y
}

/// The backward of [`conv`]: adds into `dweight` (and `dbias`), returns `dx` when asked.
#[allow(clippy::too_many_arguments)]
pub fn conv_backward(
    shape: ConvShape,
    geo: Geo,
    x: &[f32],
    weight: &[f32],
    dy: &[f32],
    dweight: &mut [f32],
    dbias: Option<&mut [f32]>,
    want_dx: bool,
    pool: &mut Pool,
) -> Option<Vec<f32>> {
    let n = geo.n();
    if let Some(dbias) = dbias {
        dbias
            .par_iter_mut()
            .zip(dy.par_chunks(n))
            .for_each(|(d, row)| *d += row.iter().sum::<f32>());
    }
    let k = shape.k();
    if shape.kernel == 1 {
        matmul(
            [shape.cout, shape.cin, n],
            dweight,
            shape.cin,
            true,
            Mat::rows(dy, n),
            Mat::transposed(x, n),
        );
        return want_dx.then(|| {
            let mut dx = pool.take(shape.cin * n);
            matmul(
                [shape.cin, n, shape.cout],
                &mut dx,
                n,
                false,
                Mat::transposed(weight, shape.cin),
                Mat::rows(dy, n),
            );
            dx
        });
    }
    let plane = geo.plane();
    let mut dx = want_dx.then(|| pool.zeros(shape.cin * n));
    let mut dcol = pool.take(if want_dx { k * plane } else { 0 });
    let mut col = pool.take(shape.scratch(geo));
    for b in 0..geo.batch {
        im2col(x, shape.cin, geo, b, &mut col);
        matmul(
            [shape.cout, k, plane],
            dweight,
            k,
            true,
            Mat::rows(&dy[b * plane..], n),
            Mat::transposed(&col, plane),
        );
        if let Some(dx) = dx.as_mut() {
            matmul(
                [k, plane, shape.cout],
                &mut dcol,
                plane,
                false,
                Mat::transposed(weight, k),
                Mat::rows(&dy[b * plane..], n),
            );
            col2im(&dcol, shape.cin, geo, b, dx);
        }
    }
    pool.give(col);
    pool.give(dcol);
    dx
}

/// One plane of a depthwise convolution, zero-padded by one pixel on every side
/// (`(h + 2) × (w + 2)`): each tap of the 3×3 window is then one contiguous run over the whole
/// plane instead of a short run per row (the planes of the depthwise stages are 8 to 32 wide).
///
/// A run computes the output in *padded-width* rows (`h × (w + 2)`, the last two values of
/// each row unused): output `i` of tap `(ky, kx)` reads padded input `ky·(w + 2) + kx + i`.
struct Padded {
    h: usize,
    w: usize,
    /// The padded input.
    input: Vec<f32>,
    /// The output in padded-width rows.
    out: Vec<f32>,
}

impl Padded {
    fn new(h: usize, w: usize) -> Self {
        Self {
            h,
            w,
            input: vec![0.0; (h + 2) * (w + 2)],
            out: vec![0.0; h * (w + 2)],
        }
    }

    /// The length of a tap's run: the padded-width output but its last two (unused) values,
    /// which would read past the padded input.
    fn run(&self) -> usize {
        self.h * (self.w + 2) - 2
    }

    /// Copies `plane` (`h × w`) inside the zero border.
    fn fill(&mut self, plane: &[f32]) {
        let wp = self.w + 2;
        for (y, row) in plane.chunks_exact(self.w).enumerate() {
            self.input[(y + 1) * wp + 1..][..self.w].copy_from_slice(row);
        }
    }

    /// `out = Σₜ k[t] · input shifted by tap t`.
    fn correlate(&mut self, k: &[f32]) {
        let (wp, run) = (self.w + 2, self.run());
        self.out.fill(0.0);
        for (t, &kt) in k.iter().enumerate() {
            let src = &self.input[(t / 3) * wp + t % 3..][..run];
            for (o, &v) in self.out[..run].iter_mut().zip(src) {
                *o += kt * v;
            }
        }
    }

    /// Copies the output's `h × w` values to `plane`.
    fn read(&self, plane: &mut [f32]) {
        let wp = self.w + 2;
        for (y, row) in plane.chunks_exact_mut(self.w).enumerate() {
            row.copy_from_slice(&self.out[y * wp..][..self.w]);
        }
    }

    /// The padded input's interior as padded-width rows: value `i` is row `i / (w + 2)`,
    /// column `i % (w + 2)`, zero in the two columns past `w` (they are border).
    fn interior(&self) -> &[f32] {
        &self.input[self.w + 3..][..self.run()]
    }
}

/// A depthwise 3×3 "same" convolution without bias: `weight` is `[c][9]`.
pub fn depthwise(geo: Geo, x: &[f32], weight: &[f32], pool: &mut Pool) -> Vec<f32> {
    let (n, plane) = (geo.n(), geo.plane());
    let mut y = pool.take(x.len());
    y.par_chunks_mut(n)
        .zip(x.par_chunks(n))
        .zip(weight.par_chunks(9))
        .for_each(|((y, x), k)| {
            wide(|| {
                let mut padded = Padded::new(geo.height, geo.width);
                for (y, x) in y.chunks_mut(plane).zip(x.chunks(plane)) {
                    padded.fill(x);
                    padded.correlate(k);
                    padded.read(y);
                }
            })
        });
    y
}

/// The backward of [`depthwise`]: adds into `dweight`, returns `dx`.
///
/// `dx` is the depthwise convolution of `dy` with the kernel turned by 180°; `dweight[t]` is
/// the dot product of `dy` with the input shifted by tap `t`.
pub fn depthwise_backward(
    geo: Geo,
    x: &[f32],
    weight: &[f32],
    dy: &[f32],
    dweight: &mut [f32],
    pool: &mut Pool,
) -> Vec<f32> {
    let (n, plane) = (geo.n(), geo.plane());
    let mut dx = pool.take(x.len());
    dx.par_chunks_mut(n)
        .zip(x.par_chunks(n))
        .zip(dy.par_chunks(n))
        .zip(weight.par_chunks(9).zip(dweight.par_chunks_mut(9)))
        .for_each(|(((dx, x), dy), (k, dk))| {
            wide(|| {
                let turned: Vec<f32> = k.iter().rev().copied().collect();
                let (mut input, mut grad) = (
                    Padded::new(geo.height, geo.width),
                    Padded::new(geo.height, geo.width),
                );
                let wp = geo.width + 2;
                let mut sums = [0.0f64; 9];
                for ((dx, x), dy) in dx
                    .chunks_mut(plane)
                    .zip(x.chunks(plane))
                    .zip(dy.chunks(plane))
                {
                    input.fill(x);
                    grad.fill(dy);
                    grad.correlate(&turned);
                    grad.read(dx);
                    let g = grad.interior();
                    for (t, sum) in sums.iter_mut().enumerate() {
                        let shifted = &input.input[(t / 3) * wp + t % 3..][..g.len()];
                        *sum += sum_pairs(g, shifted, |g, x| g * x);
                    }
                }
                for (d, s) in dk.iter_mut().zip(sums) {
                    *d += s as f32;
                }
            })
        });
    dx
}

/// What a batch norm's backward needs: each channel's batch mean and `1 / sqrt(var + eps)`.
#[derive(Debug, Default)]
pub struct BnStats {
    mean: Vec<f32>,
    inv_std: Vec<f32>,
}

/// The parameters and running statistics of one batch norm.
pub struct BnParams<'a> {
    /// Scale, `[c]`.
    pub gamma: &'a [f32],
    /// Shift, `[c]`.
    pub beta: &'a [f32],
}

/// The batch-norm constants of the network (burn's defaults, which the network is built with).
#[derive(Clone, Copy, Debug)]
pub struct BnConstants {
    /// Added to the variance.
    pub epsilon: f32,
    /// The running statistics' update rate.
    pub momentum: f32,
}

/// Batch normalisation in training mode (batch statistics, biased variance), then SiLU when
/// `silu`. Returns the output and the statistics; updates the running mean and variance as
/// burn does (`running = (1 − momentum)·running + momentum·batch`, biased variance).
pub fn batch_norm(
    geo: Geo,
    x: &[f32],
    p: &BnParams,
    running: (&mut [f32], &mut [f32]),
    k: BnConstants,
    silu: bool,
    pool: &mut Pool,
) -> (Vec<f32>, BnStats) {
    let n = geo.n();
    let mut y = pool.take(x.len());
    let stats: Vec<(f32, f32, f32)> = y
        .par_chunks_mut(n)
        .zip(x.par_chunks(n))
        .zip(p.gamma.par_iter().zip(p.beta))
        .map(|((y, x), (&g, &b))| {
            wide(|| {
                let mean = (sum(x) / n as f64) as f32;
                let var = (sum_pairs(x, x, |v, _| (v - mean) * (v - mean)) / n as f64) as f32;
                let inv_std = 1.0 / (var + k.epsilon).sqrt();
                let (scale, shift) = (g * inv_std, b - g * inv_std * mean);
                if silu {
                    for (y, &x) in y.iter_mut().zip(x) {
                        let z = x * scale + shift;
                        *y = z * sigmoid(z);
                    }
                } else {
                    for (y, &x) in y.iter_mut().zip(x) {
                        *y = x * scale + shift;
                    }
                }
                (mean, var, inv_std)
            })
        })
        .collect();
    let (running_mean, running_var) = running;
    for ((rm, rv), &(mean, var, _)) in running_mean.iter_mut().zip(running_var).zip(&stats) {
        *rm = (1.0 - k.momentum) * *rm + k.momentum * mean;
        *rv = (1.0 - k.momentum) * *rv + k.momentum * var;
    }
    let stats = BnStats {
        mean: stats.iter().map(|s| s.0).collect(),
        inv_std: stats.iter().map(|s| s.2).collect(),
    };
    (y, stats)
}

/// The backward of [`batch_norm`] (and its SiLU): adds into `dgamma` and `dbeta`, returns `dx`.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm_backward(
    geo: Geo,
    x: &[f32],
    stats: &BnStats,
    p: &BnParams,
    silu: bool,
    dy: &[f32],
    dgamma: &mut [f32],
    dbeta: &mut [f32],
    pool: &mut Pool,
) -> Vec<f32> {
    let n = geo.n();
    let mut dx = pool.take(x.len());
    dx.par_chunks_mut(n)
        .zip(x.par_chunks(n).zip(dy.par_chunks(n)))
        .zip(stats.mean.par_iter().zip(&stats.inv_std))
        .zip(p.gamma.par_iter().zip(p.beta))
        .zip(dgamma.par_iter_mut().zip(dbeta.par_iter_mut()))
        .for_each(
            |((((dx, (x, dy)), (&mean, &inv_std)), (&g, &b)), (dg, db))| {
                wide(|| {
                    // dx holds the gradient at the normalised value first.
                    if silu {
                        for ((dz, &x), &dy) in dx.iter_mut().zip(x).zip(dy) {
                            *dz = silu_grad(dy, g * (x - mean) * inv_std + b);
                        }
                    } else {
                        dx.copy_from_slice(dy);
                    }
                    let sum_dz = sum(dx);
                    let sum_dz_xhat = sum_pairs(dx, x, |d, v| d * (v - mean)) * f64::from(inv_std);
                    *db += sum_dz as f32;
                    *dg += sum_dz_xhat as f32;
                    let (mean_dz, mean_dz_xhat) =
                        ((sum_dz / n as f64) as f32, (sum_dz_xhat / n as f64) as f32);
                    let scale = g * inv_std;
                    for (d, &x) in dx.iter_mut().zip(x) {
                        let xhat = (x - mean) * inv_std;
                        *d = scale * (*d - mean_dz - xhat * mean_dz_xhat);
                    }
                })
            },
        );
    dx
}

/// `Σ f(aᵢ, bᵢ)` over two equally long slices, in 16 `f32` lanes within blocks of 4,096 values
/// (a loop LLVM vectorizes) and in `f64` across blocks, which keeps the rounding of a row of a
/// million values at that of a few thousand.
#[inline(always)]
fn sum_pairs(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) -> f64 {
    const LANES: usize = 16;
    debug_assert_eq!(a.len(), b.len());
    let mut total = 0.0f64;
    for (a, b) in a.chunks(4096).zip(b.chunks(4096)) {
        let mut lanes = [0.0f32; LANES];
        let (wide_a, wide_b) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
        let tail: f32 = wide_a
            .remainder()
            .iter()
            .zip(wide_b.remainder())
            .map(|(&x, &y)| f(x, y))
            .sum();
        for (x, y) in wide_a.zip(wide_b) {
            for ((lane, &x), &y) in lanes.iter_mut().zip(x).zip(y) {
                *lane += f(x, y);
            }
        }
        total += f64::from(lanes.iter().sum::<f32>() + tail);
    }
    total
}

/// `Σ aᵢ`, as [`sum_pairs`] sums.
#[inline(always)]
fn sum(a: &[f32]) -> f64 {
    sum_pairs(a, a, |x, _| x)
}

/// Runs `f` compiled for the widest vectors this CPU has (AVX-512, or AVX2 with FMA; pulp
/// picks at run time), so that the plain loops inlined into it vectorize at that width.
#[inline(always)]
fn wide<R>(f: impl FnOnce() -> R) -> R {
    pulp::Arch::new().dispatch(f)
}

/// `e^x` to a few ulp in arithmetic that vectorizes (no call, no fused multiply-add): Cephes'
/// `expf` with the fast inference path's constants ([`scribseg_model::fast::EXP_MIN`] and
/// the others): `x = n·ln 2 + r`, a degree-6 polynomial for `e^r`, `2^n` built in the exponent
/// bits.
#[inline(always)]
fn exp(x: f32) -> f32 {
    let x = x.clamp(EXP_MIN, EXP_MAX);
    let z = x * std::f32::consts::LOG2_E + EXP_ROUND;
    let n = z - EXP_ROUND;
    let r = x - n * EXP_LN2.0 - n * EXP_LN2.1;
    let p = EXP_POLYNOMIAL[1..]
        .iter()
        .fold(EXP_POLYNOMIAL[0], |p, &c| p * r + c);
    let e_r = p * (r * r) + r + 1.0;
    let n = z.to_bits().wrapping_sub(EXP_ROUND.to_bits());
    e_r * f32::from_bits(n.wrapping_add(127) << 23)
}

/// The logistic function.
#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// The weights of a squeeze-excitation, in burn's `Linear` layout (`[inputs][outputs]`).
pub struct SeParams<'a> {
    /// `[c][squeezed]`.
    pub reduce_weight: &'a [f32],
    /// `[squeezed]`.
    pub reduce_bias: &'a [f32],
    /// `[squeezed][c]`.
    pub expand_weight: &'a [f32],
    /// `[c]`.
    pub expand_bias: &'a [f32],
}

/// The gradients of a [`SeParams`], laid out alike.
pub struct SeGrads<'a> {
    /// `[c][squeezed]`.
    pub reduce_weight: &'a mut [f32],
    /// `[squeezed]`.
    pub reduce_bias: &'a mut [f32],
    /// `[squeezed][c]`.
    pub expand_weight: &'a mut [f32],
    /// `[c]`.
    pub expand_bias: &'a mut [f32],
}

/// What squeeze-excitation's backward needs, per sample (`[batch][…]`).
#[derive(Debug, Default)]
pub struct SeTape {
    pooled: Vec<f32>,
    squeezed: Vec<f32>,
    scale: Vec<f32>,
}

/// Squeeze-excitation of `c` channels: `y = x · sigmoid(expand(silu(reduce(mean(x)))))`.
pub fn squeeze_excite(
    geo: Geo,
    c: usize,
    x: &[f32],
    p: &SeParams,
    pool: &mut Pool,
) -> (Vec<f32>, SeTape) {
    let (n, plane, batch) = (geo.n(), geo.plane(), geo.batch);
    let s = p.reduce_bias.len();
    let mut pooled = vec![0.0; batch * c];
    for ch in 0..c {
        for b in 0..batch {
            pooled[b * c + ch] = (sum(&x[ch * n + b * plane..][..plane]) / plane as f64) as f32;
        }
    }
    let mut squeezed = vec![0.0; batch * s];
    let mut scale = vec![0.0; batch * c];
    for b in 0..batch {
        for j in 0..s {
            squeezed[b * s + j] = p.reduce_bias[j]
                + (0..c)
                    .map(|i| pooled[b * c + i] * p.reduce_weight[i * s + j])
                    .sum::<f32>();
        }
        for o in 0..c {
            let e = p.expand_bias[o]
                + (0..s)
                    .map(|j| silu(squeezed[b * s + j]) * p.expand_weight[j * c + o])
                    .sum::<f32>();
            scale[b * c + o] = sigmoid(e);
        }
    }
    let mut y = pool.take(x.len());
    y.par_chunks_mut(n)
        .zip(x.par_chunks(n))
        .enumerate()
        .for_each(|(ch, (y, x))| {
            for (b, (y, x)) in y.chunks_mut(plane).zip(x.chunks(plane)).enumerate() {
                let f = scale[b * c + ch];
                y.iter_mut().zip(x).for_each(|(y, &x)| *y = x * f);
            }
        });
    (
        y,
        SeTape {
            pooled,
            squeezed,
            scale,
        },
    )
}

/// The gradient `dy` at SiLU's output taken back to its input `z`:
/// `dy · σ(z) · (1 + z · (1 − σ(z)))`.
#[inline(always)]
fn silu_grad(dy: f32, z: f32) -> f32 {
    let s = sigmoid(z);
    dy * s * (1.0 + z * (1.0 - s))
}

fn silu(x: f32) -> f32 {
    x * sigmoid(x)
}

/// The backward of [`squeeze_excite`]: adds into `g`, returns `dx`.
#[allow(clippy::too_many_arguments)]
pub fn squeeze_excite_backward(
    geo: Geo,
    c: usize,
    x: &[f32],
    tape: &SeTape,
    p: &SeParams,
    dy: &[f32],
    g: SeGrads,
    pool: &mut Pool,
) -> Vec<f32> {
    let (n, plane, batch) = (geo.n(), geo.plane(), geo.batch);
    let s = p.reduce_bias.len();
    // d scale[b][ch] = Σ_p dy · x.
    let mut dscale = vec![0.0; batch * c];
    for ch in 0..c {
        for b in 0..batch {
            let range = ch * n + b * plane..ch * n + (b + 1) * plane;
            dscale[b * c + ch] = sum_pairs(&dy[range.clone()], &x[range], |d, v| d * v) as f32;
        }
    }
    let mut dpooled = vec![0.0; batch * c];
    for b in 0..batch {
        let de: Vec<f32> = (0..c)
            .map(|o| {
                let sc = tape.scale[b * c + o];
                dscale[b * c + o] * sc * (1.0 - sc)
            })
            .collect();
        let squeezed = &tape.squeezed[b * s..][..s];
        let dz: Vec<f32> = squeezed
            .iter()
            .enumerate()
            .map(|(j, &z)| {
                let a = silu(z);
                let row = j * c..(j + 1) * c;
                let mut da = 0.0;
                for ((gw, &w), &d) in g.expand_weight[row.clone()]
                    .iter_mut()
                    .zip(&p.expand_weight[row])
                    .zip(&de)
                {
                    *gw += a * d;
                    da += w * d;
                }
                silu_grad(da, z)
            })
            .collect();
        g.expand_bias
            .iter_mut()
            .zip(&de)
            .for_each(|(g, &d)| *g += d);
        g.reduce_bias
            .iter_mut()
            .zip(&dz)
            .for_each(|(g, &d)| *g += d);
        for i in 0..c {
            let pooled = tape.pooled[b * c + i];
            let row = i * s..(i + 1) * s;
            let mut d = 0.0;
            for ((gw, &w), &z) in g.reduce_weight[row.clone()]
                .iter_mut()
                .zip(&p.reduce_weight[row])
                .zip(&dz)
            {
                *gw += pooled * z;
                d += w * z;
            }
            dpooled[b * c + i] = d / plane as f32;
        }
    }
    let mut dx = pool.take(x.len());
    dx.par_chunks_mut(n)
        .zip(dy.par_chunks(n))
        .enumerate()
        .for_each(|(ch, (dx, dy))| {
            for (b, (dx, dy)) in dx.chunks_mut(plane).zip(dy.chunks(plane)).enumerate() {
                let (f, add) = (tape.scale[b * c + ch], dpooled[b * c + ch]);
                dx.iter_mut().zip(dy).for_each(|(d, &g)| *d = g * f + add);
            }
        });
    dx
}

/// 2×2 average pooling (`geo` is the input's).
pub fn avg_pool(geo: Geo, x: &[f32], pool: &mut Pool) -> Vec<f32> {
    let out = geo.half();
    let (w, ow) = (geo.width, out.width);
    let mut y = pool.take(x.len() / 4);
    y.par_chunks_mut(out.plane())
        .zip(x.par_chunks(geo.plane()))
        .for_each(|(y, x)| {
            for (oy, row) in y.chunks_mut(ow).enumerate() {
                let (top, bottom) = (&x[2 * oy * w..][..w], &x[(2 * oy + 1) * w..][..w]);
                for (ox, v) in row.iter_mut().enumerate() {
                    *v = 0.25
                        * (top[2 * ox] + top[2 * ox + 1] + bottom[2 * ox] + bottom[2 * ox + 1]);
                }
            }
        });
    y
}

/// The backward of [`avg_pool`] (`geo` is the input's).
pub fn avg_pool_backward(geo: Geo, dy: &[f32], pool: &mut Pool) -> Vec<f32> {
    let out = geo.half();
    let (w, ow) = (geo.width, out.width);
    let mut dx = pool.take(dy.len() * 4);
    dx.par_chunks_mut(geo.plane())
        .zip(dy.par_chunks(out.plane()))
        .for_each(|(dx, dy)| {
            for (y, row) in dx.chunks_mut(w).enumerate() {
                let src = &dy[(y / 2) * ow..][..ow];
                for (x, v) in row.iter_mut().enumerate() {
                    *v = 0.25 * src[x / 2];
                }
            }
        });
    dx
}

/// The two input samples (and their weights ¾, ¼) that output sample `o` of a ×2 bilinear
/// upsampling of `n` samples blends (`align_corners = false`, neighbours clamped).
fn blend(o: usize, n: usize) -> [(usize, f32); 2] {
    let i = o / 2;
    let neighbour = if o.is_multiple_of(2) {
        i.saturating_sub(1)
    } else {
        (i + 1).min(n - 1)
    };
    [(i, 0.75), (neighbour, 0.25)]
}

/// ×2 bilinear upsampling (`geo` is the input's) into `y`, zeros of four times `x`'s length
/// (the front of the decoder's joined input, which it shares with the skip).
pub fn upsample(geo: Geo, x: &[f32], y: &mut [f32]) {
    let (h, w) = (geo.height, geo.width);
    let (oh, ow) = (2 * h, 2 * w);
    assert_eq!(y.len(), x.len() * 4, "the output is four times the input");
    y.par_chunks_mut(oh * ow)
        .zip(x.par_chunks(h * w))
        .for_each(|(y, x)| {
            for (oy, row) in y.chunks_mut(ow).enumerate() {
                for (iy, fy) in blend(oy, h) {
                    let src = &x[iy * w..][..w];
                    for (ox, v) in row.iter_mut().enumerate() {
                        let [(a, fa), (b, fb)] = blend(ox, w);
                        *v += fy * (fa * src[a] + fb * src[b]);
                    }
                }
            }
        });
}

/// The backward of [`upsample`] (`geo` is the input's).
pub fn upsample_backward(geo: Geo, dy: &[f32], pool: &mut Pool) -> Vec<f32> {
    let (h, w) = (geo.height, geo.width);
    let (oh, ow) = (2 * h, 2 * w);
    let mut dx = pool.zeros(dy.len() / 4);
    dx.par_chunks_mut(h * w)
        .zip(dy.par_chunks(oh * ow))
        .for_each(|(dx, dy)| {
            for (oy, row) in dy.chunks(ow).enumerate() {
                for (iy, fy) in blend(oy, h) {
                    let dst = &mut dx[iy * w..][..w];
                    for (ox, &g) in row.iter().enumerate() {
                        let [(a, fa), (b, fb)] = blend(ox, w);
                        dst[a] += fy * fa * g;
                        dst[b] += fy * fb * g;
                    }
                }
            }
        });
    dx
}

/// Weighted mean binary cross-entropy of `logits` against `target` (as
/// [`crate::bce_with_logits`]: the sum over pixels of `weight · loss`, divided by the sum of the
/// weights, at least 1), and its gradient with respect to the logits.
pub fn bce_with_logits(
    logits: &[f32],
    target: &[f32],
    weight: &[f32],
    pool: &mut Pool,
) -> (f32, Vec<f32>) {
    let total = weight.iter().map(|&w| f64::from(w)).sum::<f64>().max(1.0);
    let mut loss = 0.0f64;
    let mut grad = pool.take(logits.len());
    for (((g, &x), &y), &w) in grad.iter_mut().zip(logits).zip(target).zip(weight) {
        loss += f64::from(w * (x.max(0.0) - x * y + (-x.abs()).exp().ln_1p()));
        *g = w * (sigmoid(x) - y) / total as f32;
    }
    ((loss / total) as f32, grad)
}

#[cfg(test)]
mod tests;

//! The matrix kernel every convolution but the depthwise one runs on:
//! `out[o][j] = f(b[o] + Σ_k W[o][k] · x[k][j])`, with `j` the pixels of a tile.
//!
//! `W` is packed in panels of [`ROWS`] output channels (`panel[k][r]`), so the kernel broadcasts
//! one weight per row and multiplies it by a few SIMD vectors of consecutive pixels of `x`; the
//! accumulators stay in registers for the whole `k` loop (AVX-512: 8 rows × 3 registers, 48
//! pixels; AVX2: 4 rows × 3 registers, 24 pixels). The epilogue (bias, residual, SiLU) runs on
//! the registers before the store.

use pulp::{Simd, WithSimd};

use super::kernel::{lanes, store, store_partial, Epilogue, Weights, ROWS};
use super::shared::OutTile;

/// A call of [`gemm`] as a [`WithSimd`] operation: `simd.vectorize(task)` runs it with the
/// instruction set of `simd` enabled. (A closure would do the same only if the compiler chose
/// to inline it; a struct with an `#[inline(always)]` method leaves it no choice.)
pub(super) struct GemmTask<'a, 't> {
    pub weights: Weights<'a>,
    pub blocks: std::ops::Range<usize>,
    pub x: &'a [f32],
    pub ldx: usize,
    pub n: usize,
    pub out: &'a mut OutTile<'t>,
    pub epilogue: Epilogue<'a>,
}

impl WithSimd for GemmTask<'_, '_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        gemm(
            simd,
            self.weights,
            self.blocks,
            self.x,
            self.ldx,
            self.n,
            self.out,
            self.epilogue,
        );
    }
}

/// `out[o][j] = epilogue(b[o] + Σ_k W[o][k] · x[k·ldx + j])` for the output channels of the
/// panels `blocks` and the pixels `j < n`; row `o` of `out` is output channel `o`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn gemm<S: Simd>(
    simd: S,
    w: Weights<'_>,
    blocks: std::ops::Range<usize>,
    x: &[f32],
    ldx: usize,
    n: usize,
    out: &mut OutTile<'_>,
    epilogue: Epilogue<'_>,
) {
    let k = w.k;
    assert!(n == 0 || x.len() >= (k - 1) * ldx + n, "x is too short");
    for block in blocks {
        let panel = Panel {
            weights: &w.panels[block * k * ROWS..(block + 1) * k * ROWS],
            bias: &w.bias[block * ROWS..(block + 1) * ROWS],
            first: block * ROWS,
            rows: ROWS.min(w.cout - block * ROWS),
        };
        if panel.rows == 1 {
            // A single output channel (the head): no wasted rows.
            rows_of_panel::<S, 1>(simd, panel, 0, x, ldx, k, n, out, epilogue);
        } else if lanes::<S>() >= 16 {
            // AVX-512: 32 registers hold 8 rows × 3 registers of accumulators.
            rows_of_panel::<S, 8>(simd, panel, 0, x, ldx, k, n, out, epilogue);
        } else {
            // AVX2: 16 registers hold 4 rows × 3 registers; two passes per panel.
            for offset in (0..panel.rows).step_by(4) {
                rows_of_panel::<S, 4>(simd, panel, offset, x, ldx, k, n, out, epilogue);
            }
        }
    }
}

/// One panel of packed weights: output channels `first..first + rows`.
#[derive(Clone, Copy)]
struct Panel<'a> {
    /// `[k][ROWS]`.
    weights: &'a [f32],
    /// `[ROWS]`.
    bias: &'a [f32],
    first: usize,
    rows: usize,
}

/// Rows `offset..offset + R` of `panel` for every pixel: 3 registers of pixels at a time, then
/// one, then the rest.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn rows_of_panel<S: Simd, const R: usize>(
    simd: S,
    panel: Panel<'_>,
    offset: usize,
    x: &[f32],
    ldx: usize,
    k: usize,
    n: usize,
    out: &mut OutTile<'_>,
    epilogue: Epilogue<'_>,
) {
    let lanes = lanes::<S>();
    let rows = R.min(panel.rows - offset);
    let first = panel.first + offset;
    let mut j = 0;
    while j + 3 * lanes <= n {
        let acc = accumulate::<S, R, 3>(simd, panel, offset, x, ldx, k, j);
        store(simd, acc, first, rows, j, out, epilogue);
        j += 3 * lanes;
    }
    while j + lanes <= n {
        let acc = accumulate::<S, R, 1>(simd, panel, offset, x, ldx, k, j);
        store(simd, acc, first, rows, j, out, epilogue);
        j += lanes;
    }
    if j < n {
        let acc = accumulate_partial::<S, R>(simd, panel, offset, x, ldx, k, j, n - j);
        store_partial(simd, acc, first, rows, j, n - j, out, epilogue);
    }
}

/// `b + W·x` for rows `offset..offset + R` of a panel and the `V` registers of pixels from `j`.
///
/// The bounds are checked once, before the `k` loop: a bounds check inside it is a path out of
/// the loop (to a panic) on which the accumulators must be in memory, and LLVM then spills
/// some of them to the stack at every step (measured on Zen 4: 9 of the 24 AVX-512
/// accumulators; the whole forward pass took ~40 % longer).
#[inline(always)]
fn accumulate<S: Simd, const R: usize, const V: usize>(
    simd: S,
    panel: Panel<'_>,
    offset: usize,
    x: &[f32],
    ldx: usize,
    k: usize,
    j: usize,
) -> [[S::f32s; V]; R] {
    let lanes = lanes::<S>();
    let mut acc: [[S::f32s; V]; R] =
        core::array::from_fn(|r| [simd.splat_f32s(panel.bias[offset + r]); V]);
    if k == 0 {
        return acc;
    }
    assert!(offset + R <= ROWS, "rows outside the panel");
    assert!(panel.weights.len() >= k * ROWS, "the panel is too short");
    assert!(x.len() >= j + (k - 1) * ldx + V * lanes, "x is too short");
    let weights = panel.weights.as_ptr();
    let x = x.as_ptr();
    for i in 0..k {
        // SAFETY: i < k, so the `V · lanes` floats from `j + i·ldx` end at most at
        // `j + (k − 1)·ldx + V·lanes <= x.len()` (asserted above); `S::f32s` is a plain
        // vector of `lanes` floats, read unaligned.
        let xs: [S::f32s; V] = core::array::from_fn(|v| unsafe {
            x.add(j + i * ldx + v * lanes)
                .cast::<S::f32s>()
                .read_unaligned()
        });
        for (r, row) in acc.iter_mut().enumerate() {
            // SAFETY: i < k and offset + r < offset + R <= ROWS, so the index is below
            // k·ROWS <= panel.weights.len() (asserted above).
            let wr = simd.splat_f32s(unsafe { *weights.add(i * ROWS + offset + r) });
            for (a, &xv) in row.iter_mut().zip(&xs) {
                *a = simd.mul_add_f32s(wr, xv, *a);
            }
        }
    }
    acc
}

/// As [`accumulate`] for the last `len < lanes` pixels.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn accumulate_partial<S: Simd, const R: usize>(
    simd: S,
    panel: Panel<'_>,
    offset: usize,
    x: &[f32],
    ldx: usize,
    k: usize,
    j: usize,
    len: usize,
) -> [S::f32s; R] {
    let mut acc: [S::f32s; R] = core::array::from_fn(|r| simd.splat_f32s(panel.bias[offset + r]));
    for (w, xrow) in panel
        .weights
        .chunks_exact(ROWS)
        .zip(x[j..].chunks(ldx))
        .take(k)
    {
        let xs = simd.partial_load_f32s(&xrow[..len]);
        let w = &w[offset..offset + R];
        for r in 0..R {
            acc[r] = simd.mul_add_f32s(simd.splat_f32s(w[r]), xs, acc[r]);
        }
    }
    acc
}

//! The matrix kernel every convolution but the depthwise one runs on:
//! `out[o][j] = f(b[o] + Σ_k W[o][k] · x[k][j])`, with `j` the pixels of a tile.
//!
//! `W` is packed in panels of [`ROWS`] output channels (`panel[k][r]`), so the kernel broadcasts
//! one weight per row and multiplies it by a few SIMD vectors of consecutive pixels of `x`; the
//! accumulators stay in registers for the whole `k` loop (AVX-512: 8 rows × 3 registers, 48
//! pixels; AVX2: 4 rows × 3 registers, 24 pixels). The epilogue (bias, residual, SiLU) runs on
//! the registers before the store.

use pulp::{Simd, WithSimd};

use super::bf16;
use super::params::FoldedConv;
use super::shared::OutTile;
use super::simd::silu;

/// Output channels per panel: every width of the network is a multiple of 8.
pub(super) const ROWS: usize = 8;

/// A convolution as a `[cout][k]` matrix (`k = cin · kernel²`, burn's order), packed in panels.
#[derive(Debug, Clone)]
pub(super) struct Packed {
    /// Output channels.
    pub cout: usize,
    /// The inner dimension.
    pub k: usize,
    /// `[cout / ROWS (rounded up)][k][ROWS]`, zero past `cout`.
    pub panels: Vec<f32>,
    /// `[cout rounded up to ROWS]`, zero past `cout`.
    pub bias: Vec<f32>,
    /// `panels` as bf16 pairs along `k`, for the reduced-precision kernel
    /// ([`bf16::pack_weights`]).
    pub pairs: Vec<u32>,
}

impl Packed {
    /// Packs a (folded) convolution.
    pub fn new(conv: &FoldedConv) -> Self {
        let k = conv.cin * conv.kernel * conv.kernel;
        let blocks = conv.cout.div_ceil(ROWS);
        let mut panels = vec![0.0; blocks * k * ROWS];
        for o in 0..conv.cout {
            let (block, r) = (o / ROWS, o % ROWS);
            for i in 0..k {
                panels[(block * k + i) * ROWS + r] = conv.weight[o * k + i];
            }
        }
        let mut bias = conv.bias.clone();
        bias.resize(blocks * ROWS, 0.0);
        Self {
            cout: conv.cout,
            k,
            pairs: bf16::pack_weights(&panels, k),
            panels,
            bias,
        }
    }

    /// The number of panels (blocks of [`ROWS`] output channels).
    pub fn blocks(&self) -> usize {
        self.cout.div_ceil(ROWS)
    }

    /// A view of these weights.
    pub fn view(&self) -> Weights<'_> {
        Weights {
            cout: self.cout,
            k: self.k,
            panels: &self.panels,
            bias: &self.bias,
        }
    }
}

/// Borrowed packed weights (those of a [`Packed`], or a per-sample rescaled copy).
#[derive(Clone, Copy)]
pub(super) struct Weights<'a> {
    pub cout: usize,
    pub k: usize,
    pub panels: &'a [f32],
    pub bias: &'a [f32],
}

/// A tensor added to the output, laid out like the output tile: element `(o, j)` at
/// `data[offset + o · ld + j]`.
#[derive(Clone, Copy)]
pub(super) struct Residual<'a> {
    pub data: &'a [f32],
    pub offset: usize,
    pub ld: usize,
}

/// What happens to `b + W·x` before it is stored.
#[derive(Clone, Copy)]
pub(super) struct Epilogue<'a> {
    /// Added first.
    pub residual: Option<Residual<'a>>,
    /// Applied last.
    pub silu: bool,
}

impl Epilogue<'_> {
    /// Bias only.
    pub const LINEAR: Epilogue<'static> = Epilogue {
        residual: None,
        silu: false,
    };
    /// Bias, then SiLU.
    pub const SILU: Epilogue<'static> = Epilogue {
        residual: None,
        silu: true,
    };
}

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

/// The number of `f32` lanes of a register of `S`.
#[inline(always)]
pub(super) fn lanes<S: Simd>() -> usize {
    core::mem::size_of::<S::f32s>() / core::mem::size_of::<f32>()
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

/// Applies the epilogue and stores the first `rows` rows of `acc` (output channels from
/// `first`) at pixel `j`.
#[inline(always)]
pub(super) fn store<S: Simd, const R: usize, const V: usize>(
    simd: S,
    acc: [[S::f32s; V]; R],
    first: usize,
    rows: usize,
    j: usize,
    out: &mut OutTile<'_>,
    epilogue: Epilogue<'_>,
) {
    let width = V * lanes::<S>();
    for (r, row) in acc.iter().enumerate().take(rows) {
        let mut values = *row;
        if let Some(res) = epilogue.residual {
            let start = res.offset + (first + r) * res.ld + j;
            let (add, _) = S::as_simd_f32s(&res.data[start..start + width]);
            for v in 0..V {
                values[v] = simd.add_f32s(values[v], add[v]);
            }
        }
        if epilogue.silu {
            for value in &mut values {
                *value = silu(simd, *value);
            }
        }
        let (dst, _) = S::as_mut_simd_f32s(out.row(first + r, j, width));
        dst[..V].copy_from_slice(&values);
    }
}

/// As [`store`] for the last `len < lanes` pixels.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn store_partial<S: Simd, const R: usize>(
    simd: S,
    acc: [S::f32s; R],
    first: usize,
    rows: usize,
    j: usize,
    len: usize,
    out: &mut OutTile<'_>,
    epilogue: Epilogue<'_>,
) {
    for (r, &value) in acc.iter().enumerate().take(rows) {
        let mut value = value;
        if let Some(res) = epilogue.residual {
            let start = res.offset + (first + r) * res.ld + j;
            value = simd.add_f32s(value, simd.partial_load_f32s(&res.data[start..start + len]));
        }
        if epilogue.silu {
            value = silu(simd, value);
        }
        simd.partial_store_f32s(out.row(first + r, j, len), value);
    }
}

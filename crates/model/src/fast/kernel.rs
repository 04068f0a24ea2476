//! What the matrix kernels share: the packed weights (fp32 panels and their bf16 pairs), the
//! epilogue applied to the sums before the store (bias, residual, SiLU), and the store itself.
//! The fp32 kernel ([`gemm`](super::gemm)) and the bf16 one ([`bf16`](super::bf16)) are written
//! against this interface and import nothing from each other.

use pulp::Simd;

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
    /// ([`pack_weights`]).
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
            pairs: pack_weights(&panels, k),
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

/// Rounds `value` to the nearest bfloat16 (ties to even), as `vcvtne2ps2bf16` does for normal
/// numbers; the bits of the result.
pub(super) fn round_to_bf16(value: f32) -> u16 {
    let bits = value.to_bits();
    if value.is_nan() {
        return ((bits >> 16) as u16) | 0x40; // quiet NaN
    }
    let rounding = 0x7fff + ((bits >> 16) & 1);
    (bits.wrapping_add(rounding) >> 16) as u16
}

/// Two values as one bf16 pair: `low` in the low half, as `vdpbf16ps` reads it.
fn pair(low: f32, high: f32) -> u32 {
    u32::from(round_to_bf16(low)) | (u32::from(round_to_bf16(high)) << 16)
}

/// The packed fp32 panels `[blocks][k][ROWS]` as bf16 pairs `[blocks][k/2][ROWS]` (an odd `k`
/// padded with a zero).
pub(super) fn pack_weights(panels: &[f32], k: usize) -> Vec<u32> {
    let pairs = k.div_ceil(2);
    let mut out = vec![0; panels.len() / (k * ROWS).max(1) * pairs * ROWS];
    for (panel, dst) in panels
        .chunks_exact(k * ROWS)
        .zip(out.chunks_exact_mut(pairs * ROWS))
    {
        for (p, dst) in dst.chunks_exact_mut(ROWS).enumerate() {
            for (r, d) in dst.iter_mut().enumerate() {
                let low = panel[2 * p * ROWS + r];
                let high = if 2 * p + 1 < k {
                    panel[(2 * p + 1) * ROWS + r]
                } else {
                    0.0
                };
                *d = pair(low, high);
            }
        }
    }
    out
}

/// The number of `f32` lanes of a register of `S`.
#[inline(always)]
pub(super) fn lanes<S: Simd>() -> usize {
    core::mem::size_of::<S::f32s>() / core::mem::size_of::<f32>()
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

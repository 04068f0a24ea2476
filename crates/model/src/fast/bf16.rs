//! The reduced-precision matrix kernel: the product of [`gemm`](super::gemm) with weights and
//! inputs rounded to bfloat16 and sums kept in fp32, on CPUs with AVX-512 BF16 (Zen 4, Intel
//! Cooper Lake and Sapphire Rapids on).
//!
//! `vdpbf16ps` multiplies 32 bf16 pairs and adds each pair's two products to one fp32 lane: twice
//! the multiply-adds of an fp32 `vfmadd231ps` per instruction (measured on Zen 4: 114 against
//! 56 GMAC/s per core). The pairs run along the inner dimension `k`, so both operands are
//! repacked: the weights once ([`pack_weights`](super::kernel::pack_weights),
//! `[panel][k/2][ROWS]` pairs), the input of each
//! tile before its product ([`Bf16::pack`], `[k/2][n]` pairs). The accumulators, the epilogue
//! (bias, residual, SiLU) and the output stay fp32, and so does everything outside the
//! convolutions that use this kernel.
//!
//! The 3×3 convolutions skip the fp32 im2col matrix: [`Bf16::im2col`] writes its pairs
//! straight from the input. Squeeze-excitation's per-sample channel scales are applied to the
//! input as it is packed, so the packed weights are shared by every sample.
//!
//! The rounding moves the logits slightly; the masks (probability ≥ 0.5) stay those of fp32 to
//! an IoU of at least 0.99 on the benchmark images (`tests/model/bf16.rs`).

use std::ops::Range;

use super::kernel::{Epilogue, Weights, ROWS};
use super::shared::OutTile;

/// Proof that this CPU runs the bf16 kernel (AVX-512 F/BW/VL/DQ/CD and BF16); the kernel's
/// entry points are its methods. Off x86-64 there is no such CPU and no value of this type.
#[derive(Debug, Clone, Copy)]
pub(super) struct Bf16 {
    #[cfg(target_arch = "x86_64")]
    v4: pulp::x86::V4,
    #[cfg(not(target_arch = "x86_64"))]
    never: std::convert::Infallible,
}

impl Bf16 {
    /// The token, if the CPU has the instructions.
    pub fn detect() -> Option<Self> {
        #[cfg(target_arch = "x86_64")]
        {
            let v4 = pulp::x86::V4::try_new()?;
            is_x86_feature_detected!("avx512bf16").then_some(Self { v4 })
        }
        #[cfg(not(target_arch = "x86_64"))]
        None
    }

    /// Packs rows `0..k` of `x` (`x[i·ldx + j]`, pixels `j < n`), row `i` multiplied by
    /// `scale[i]` if given, as bf16 pairs of consecutive rows into `dst` (`[k/2][n]`, an odd `k`
    /// padded with zeros).
    pub fn pack(
        self,
        x: &[f32],
        ldx: usize,
        k: usize,
        n: usize,
        scale: Option<&[f32]>,
        dst: &mut [u32],
    ) {
        assert!(
            n == 0 || k == 0 || x.len() >= (k - 1) * ldx + n,
            "x is too short"
        );
        assert!(dst.len() >= k.div_ceil(2) * n, "dst is too short");
        assert!(scale.is_none_or(|s| s.len() >= k), "scale is too short");
        // SAFETY: `detect` found every feature `pack_pairs` enables; bounds asserted above.
        #[cfg(target_arch = "x86_64")]
        unsafe {
            imp::pack_pairs(x, ldx, k, n, scale, dst)
        }
        #[cfg(not(target_arch = "x86_64"))]
        match self.never {}
    }

    /// The im2col matrix of rows `r0..r1` of `input` (`[cin][h][w]`, 3×3 taps, zero padding 1)
    /// as [`planes::im2col`](crate::fast::planes::im2col) lays it out, packed straight into
    /// bf16 pairs (`dst`: `[cin·9/2][(r1 − r0)·w]`): one pass, and no fp32 copy of the matrix.
    pub fn im2col(self, input: &[f32], h: usize, w: usize, r0: usize, r1: usize, dst: &mut [u32]) {
        let k = input.len() / (h * w) * 9;
        assert!(r0 <= r1 && r1 <= h, "rows outside the plane");
        assert!(
            dst.len() >= k.div_ceil(2) * (r1 - r0) * w,
            "dst is too short"
        );
        // SAFETY: `detect` found every feature `im2col_pairs` enables; `dst` is long enough
        // (asserted above) and every load is masked to the rows and columns of `input`.
        #[cfg(target_arch = "x86_64")]
        unsafe {
            imp::im2col_pairs(input, h, w, r0, r1, dst)
        }
        #[cfg(not(target_arch = "x86_64"))]
        match self.never {}
    }

    /// `out[o][j] = epilogue(b[o] + Σ_k W[o][k] · x[k][j])` as [`gemm`](crate::fast::gemm)
    /// computes it, with `pairs` the weights' bf16 pairs
    /// ([`pack_weights`](super::kernel::pack_weights) of `w.panels`) and
    /// `x` the `n` pixels' input packed by [`Bf16::pack`] (`[k/2][n]`).
    #[allow(clippy::too_many_arguments)]
    pub fn gemm(
        self,
        w: Weights<'_>,
        pairs: &[u32],
        blocks: Range<usize>,
        x: &[u32],
        n: usize,
        out: &mut OutTile<'_>,
        epilogue: Epilogue<'_>,
    ) {
        let kp = w.k.div_ceil(2);
        assert!(
            pairs.len() >= w.cout.div_ceil(ROWS) * kp * ROWS,
            "pairs too short"
        );
        assert!(
            blocks.end <= w.cout.div_ceil(ROWS),
            "blocks outside the weights"
        );
        assert!(x.len() >= kp * n, "x is too short");
        // SAFETY: `detect` found every feature `gemm_pairs` enables; bounds asserted above.
        #[cfg(target_arch = "x86_64")]
        unsafe {
            imp::gemm_pairs(self.v4, w, pairs, blocks, x, n, out, epilogue)
        }
        #[cfg(not(target_arch = "x86_64"))]
        match self.never {}
    }
}

/// The AVX-512 code behind [`Bf16`]'s methods.
#[cfg(target_arch = "x86_64")]
mod imp {
    use std::arch::x86_64::*;
    use std::ops::Range;

    use pulp::f32x16;
    use pulp::x86::V4;

    use super::{Epilogue, OutTile, Weights, ROWS};
    use crate::fast::kernel::{store, store_partial};

    /// Lanes of a register.
    const LANES: usize = 16;

    /// The lanes of a mask for the first `len` (≤ 16) lanes.
    #[inline(always)]
    fn mask(len: usize) -> __mmask16 {
        if len >= LANES {
            0xffff
        } else {
            (1u16 << len) - 1
        }
    }

    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512bf16")]
    pub(super) unsafe fn pack_pairs(
        x: &[f32],
        ldx: usize,
        k: usize,
        n: usize,
        scale: Option<&[f32]>,
        dst: &mut [u32],
    ) {
        let x = x.as_ptr();
        let dst = dst.as_mut_ptr();
        let factor = |i: usize| _mm512_set1_ps(scale.map_or(1.0, |s| s[i]));
        for p in 0..k.div_ceil(2) {
            let low = x.add(2 * p * ldx);
            let high = (2 * p + 1 < k).then(|| x.add((2 * p + 1) * ldx));
            let (low_scale, high_scale) = (factor(2 * p), high.map(|_| factor(2 * p + 1)));
            let mut j = 0;
            while j < n {
                let m = mask(n - j);
                let a = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, low.add(j)), low_scale);
                let b = match (high, high_scale) {
                    (Some(high), Some(s)) => {
                        _mm512_mul_ps(_mm512_maskz_loadu_ps(m, high.add(j)), s)
                    }
                    _ => _mm512_setzero_ps(),
                };
                _mm512_mask_storeu_epi32(dst.add(p * n + j).cast(), m, interleave(a, b));
                j += LANES;
            }
        }
    }

    /// Lane `i` is the bf16 pair (`low[i]`, `high[i]`).
    #[target_feature(enable = "avx512f,avx512bw,avx512bf16")]
    #[inline]
    unsafe fn interleave(low: __m512, high: __m512) -> __m512i {
        let order = _mm512_set_epi16(
            31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6, 21, 5, 20,
            4, 19, 3, 18, 2, 17, 1, 16, 0,
        );
        // Low 16 bf16: `low`; high 16: `high`.
        let halves = core::mem::transmute::<__m512bh, __m512i>(_mm512_cvtne2ps_pbh(high, low));
        _mm512_permutexvar_epi16(order, halves)
    }

    /// Where row `k_row` of the im2col matrix (channel `k_row / 9`, tap `k_row % 9`) reads at
    /// output row `y`: the input row it shifts (`None`: all zeros) and the shift `dx`.
    #[inline(always)]
    fn tap_source(
        input: &[f32],
        h: usize,
        w: usize,
        k_row: usize,
        y: usize,
    ) -> Option<(*const f32, isize)> {
        let (c, tap) = (k_row / 9, k_row % 9);
        let sy = (y + tap / 3).checked_sub(1).filter(|&sy| sy < h)?;
        let row = input.get((c * h + sy) * w..(c * h + sy + 1) * w)?;
        Some((row.as_ptr(), (tap % 3) as isize - 1))
    }

    /// Pixels `x..x + 16` (masked to the row's `w`) of a row shifted by `dx`, zero outside.
    #[target_feature(enable = "avx512f,avx512bw,avx512bf16")]
    #[inline]
    unsafe fn shifted(source: Option<(*const f32, isize)>, w: usize, x: usize) -> __m512 {
        let Some((row, dx)) = source else {
            return _mm512_setzero_ps();
        };
        // Lanes whose source column x + lane + dx lies in 0..w.
        let mut m: u32 = if w - x >= LANES {
            0xffff
        } else {
            (1 << (w - x)) - 1
        };
        if x == 0 && dx < 0 {
            m &= !1;
        }
        if dx > 0 && x + LANES >= w {
            m &= !(1 << (w - 1 - x));
        }
        // A masked lane is never read: the pointer may point one before the row.
        _mm512_maskz_loadu_ps(m as __mmask16, row.wrapping_offset(x as isize + dx))
    }

    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512bf16")]
    pub(super) unsafe fn im2col_pairs(
        input: &[f32],
        h: usize,
        w: usize,
        r0: usize,
        r1: usize,
        dst: &mut [u32],
    ) {
        let k = input.len() / (h * w) * 9;
        let n = (r1 - r0) * w;
        let dst = dst.as_mut_ptr();
        for p in 0..k.div_ceil(2) {
            for y in r0..r1 {
                let low = tap_source(input, h, w, 2 * p, y);
                let high = tap_source(input, h, w, 2 * p + 1, y);
                let row = dst.add(p * n + (y - r0) * w);
                for x in (0..w).step_by(LANES) {
                    let pairs = interleave(shifted(low, w, x), shifted(high, w, x));
                    _mm512_mask_storeu_epi32(row.add(x).cast(), mask(w - x), pairs);
                }
            }
        }
    }

    /// The accumulators of `R` rows and `V` registers of pixels from `j`, as pulp registers
    /// (the same 16 lanes; the conversion is free) for the shared epilogue.
    ///
    /// # Safety
    ///
    /// `panel` holds `kp · ROWS` pairs and `x` `(kp − 1)·ldx + j + V·16` pairs (fewer for the
    /// last register when `last` masks it).
    #[target_feature(enable = "avx512f,avx512bw,avx512bf16")]
    #[inline]
    #[allow(clippy::too_many_arguments)]
    unsafe fn accumulate<const R: usize, const V: usize>(
        panel: *const u32,
        bias: &[f32],
        x: *const u32,
        ldx: usize,
        kp: usize,
        j: usize,
        last: __mmask16,
    ) -> [[f32x16; V]; R] {
        // SAFETY (of the transmutes): `__m512`, `__m512i`, `__m512bh` and `f32x16` are 64
        // plain bytes.
        let to_pulp = |v: __m512| core::mem::transmute::<__m512, f32x16>(v);
        let mut acc: [[f32x16; V]; R] =
            core::array::from_fn(|r| [to_pulp(_mm512_set1_ps(bias[r])); V]);
        for p in 0..kp {
            let xs: [__m512bh; V] = core::array::from_fn(|v| {
                let at = x.add(p * ldx + j + v * LANES);
                let m = if v + 1 == V { last } else { 0xffff };
                core::mem::transmute::<__m512i, __m512bh>(_mm512_maskz_loadu_epi32(m, at.cast()))
            });
            for (r, row) in acc.iter_mut().enumerate() {
                let w: __m512bh = core::mem::transmute::<__m512i, __m512bh>(_mm512_set1_epi32(
                    *panel.add(p * ROWS + r) as i32,
                ));
                for (a, &xv) in row.iter_mut().zip(&xs) {
                    let sum = core::mem::transmute::<f32x16, __m512>(*a);
                    *a = to_pulp(_mm512_dpbf16_ps(sum, w, xv));
                }
            }
        }
        acc
    }

    #[target_feature(enable = "sse,sse2,fxsr,sse3,ssse3,sse4.1,sse4.2,popcnt,avx,avx2,bmi1")]
    #[target_feature(enable = "bmi2,fma,lzcnt,avx512f,avx512bw,avx512cd,avx512dq,avx512vl")]
    #[target_feature(enable = "avx512bf16")]
    #[allow(clippy::too_many_arguments)]
    pub(super) unsafe fn gemm_pairs(
        simd: V4,
        w: Weights<'_>,
        pairs: &[u32],
        blocks: Range<usize>,
        x: &[u32],
        n: usize,
        out: &mut OutTile<'_>,
        epilogue: Epilogue<'_>,
    ) {
        let kp = w.k.div_ceil(2);
        for block in blocks {
            let panel = pairs.as_ptr().add(block * kp * ROWS);
            let bias = &w.bias[block * ROWS..(block + 1) * ROWS];
            let first = block * ROWS;
            let rows = ROWS.min(w.cout - first);
            let mut j = 0;
            while j + 3 * LANES <= n {
                let acc = accumulate::<ROWS, 3>(panel, bias, x.as_ptr(), n, kp, j, 0xffff);
                store(simd, acc, first, rows, j, out, epilogue);
                j += 3 * LANES;
            }
            while j + LANES <= n {
                let acc = accumulate::<ROWS, 1>(panel, bias, x.as_ptr(), n, kp, j, 0xffff);
                store(simd, acc, first, rows, j, out, epilogue);
                j += LANES;
            }
            if j < n {
                let acc = accumulate::<ROWS, 1>(panel, bias, x.as_ptr(), n, kp, j, mask(n - j));
                let acc = acc.map(|[row]| row);
                store_partial(simd, acc, first, rows, j, n - j, out, epilogue);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fast::kernel::{pack_weights, round_to_bf16};

    #[test]
    fn rounding_is_to_nearest_even() {
        assert_eq!(round_to_bf16(1.0), 0x3f80);
        // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to the even 1.
        assert_eq!(round_to_bf16(1.0 + 1.0 / 256.0), 0x3f80);
        // 1 + 3·2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6: ties to the even 1 + 2^-6.
        assert_eq!(round_to_bf16(1.0 + 3.0 / 256.0), 0x3f82);
        assert_eq!(round_to_bf16(-2.5), 0xc020);
        assert!(f32::from_bits(u32::from(round_to_bf16(f32::NAN)) << 16).is_nan());
    }

    /// The kernel against a scalar product of the same rounded values, for sizes that leave a
    /// partial register and a partial panel, with an odd `k`, residual and SiLU.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn kernel_matches_a_scalar_product_of_the_rounded_values() {
        use crate::fast::kernel::{Packed, Residual};
        use crate::fast::params::FoldedConv;
        use crate::fast::shared::SharedOut;

        let Some(bf16) = Bf16::detect() else {
            println!("skipped: this CPU has no AVX-512 BF16");
            return;
        };
        let value = |i: usize| ((i as f32 * 0.618_034).fract() - 0.5) * 2.0;
        let rounded = |v: f32| f32::from_bits(u32::from(round_to_bf16(v)) << 16);
        for (cout, k, n) in [(12, 7, 53), (8, 36, 48), (16, 144, 16), (1, 72, 5)] {
            let conv = FoldedConv {
                cin: k,
                cout,
                kernel: 1,
                weight: (0..cout * k).map(value).collect(),
                bias: (0..cout).map(|o| value(o + 1000)).collect(),
            };
            let packed = Packed::new(&conv);
            let x: Vec<f32> = (0..k * n).map(|i| value(i + 7)).collect();
            let residual: Vec<f32> = (0..cout * n).map(|i| value(i + 99)).collect();
            let mut pairs = vec![0u32; k.div_ceil(2) * n];
            bf16.pack(&x, n, k, n, None, &mut pairs);
            let mut out = vec![0.0f32; cout * n];
            let shared = SharedOut::new(&mut out);
            // SAFETY: the only tile of the buffer.
            let mut tile = unsafe { shared.tile(0, n, cout, n) };
            let epilogue = Epilogue {
                residual: Some(Residual {
                    data: &residual,
                    offset: 0,
                    ld: n,
                }),
                silu: true,
            };
            let blocks = 0..packed.blocks();
            bf16.gemm(
                packed.view(),
                &packed.pairs,
                blocks,
                &pairs,
                n,
                &mut tile,
                epilogue,
            );
            for o in 0..cout {
                for j in 0..n {
                    let sum: f32 = (0..k)
                        .map(|i| rounded(conv.weight[o * k + i]) * rounded(x[i * n + j]))
                        .sum();
                    let z = conv.bias[o] + sum + residual[o * n + j];
                    let expected = z / (1.0 + (-z).exp());
                    let got = out[o * n + j];
                    assert!(
                        (got - expected).abs() <= 1e-4 * (1.0 + expected.abs()),
                        "cout {cout} k {k} n {n}: ({o}, {j}) is {got}, expected {expected}"
                    );
                }
            }
        }
    }

    #[test]
    fn weights_pack_as_pairs_along_k() {
        // One panel, k = 3: pairs (k0, k1) and (k2, 0) for each of the 8 rows.
        let k = 3;
        let panels: Vec<f32> = (0..k * ROWS).map(|i| i as f32).collect();
        let packed = pack_weights(&panels, k);
        assert_eq!(packed.len(), 2 * ROWS);
        let unpack = |bits: u16| f32::from_bits(u32::from(bits) << 16);
        for r in 0..ROWS {
            let first = packed[r];
            assert_eq!(unpack(first as u16), panels[r]);
            assert_eq!(unpack((first >> 16) as u16), panels[ROWS + r]);
            let second = packed[ROWS + r];
            assert_eq!(unpack(second as u16), panels[2 * ROWS + r]);
            assert_eq!(second >> 16, 0);
        }
    }
}

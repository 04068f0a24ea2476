//! Vectorised element-wise functions on [`pulp`] SIMD registers: `exp` and SiLU.

use pulp::Simd;

/// The constants of Cephes' `expf`, shared by the fast path's SIMD `exp` and the CPU
/// trainer's scalar form of it: the input's clamp (where the result stays a normal float), the
/// rounding constant `1.5 · 2^23`, `ln 2` split in two for precision, and the degree-6
/// polynomial for `e^r` (highest power first, its constant and linear terms 1 left out).
pub const EXP_MIN: f32 = -87.0;
/// See [`EXP_MIN`].
pub const EXP_MAX: f32 = 88.0;
/// See [`EXP_MIN`].
pub const EXP_ROUND: f32 = 12_582_912.0;
/// See [`EXP_MIN`].
pub const EXP_LN2: (f32, f32) = (0.693_359_4, -2.121_944_4e-4);
/// See [`EXP_MIN`].
pub const EXP_POLYNOMIAL: [f32; 6] = [
    1.987_569_1e-4,
    1.398_199_9e-3,
    8.333_452e-3,
    4.166_579_6e-2,
    0.166_666_65,
    0.5,
];

/// `exp(x)` to about 2 ulp (Cephes' `expf`): `x = n·ln 2 + r`, a degree-6 polynomial for
/// `e^r`, and `2^n` built in the exponent bits. The input is clamped to `[-87, 88]`, where the
/// result stays a normal float.
#[inline(always)]
pub(super) fn exp<S: Simd>(simd: S, x: S::f32s) -> S::f32s {
    let x = simd.min_f32s(
        simd.max_f32s(x, simd.splat_f32s(EXP_MIN)),
        simd.splat_f32s(EXP_MAX),
    );
    // Rounds x·log2(e) to the nearest integer n, held in the low mantissa bits of `z`.
    let magic = simd.splat_f32s(EXP_ROUND);
    let z = simd.mul_add_f32s(x, simd.splat_f32s(std::f32::consts::LOG2_E), magic);
    let n = simd.sub_f32s(z, magic);
    // r = x − n·ln 2, with ln 2 split in two for precision.
    let r = simd.mul_add_f32s(n, simd.splat_f32s(-EXP_LN2.0), x);
    let r = simd.mul_add_f32s(n, simd.splat_f32s(-EXP_LN2.1), r);
    let mut p = simd.splat_f32s(EXP_POLYNOMIAL[0]);
    for c in &EXP_POLYNOMIAL[1..] {
        p = simd.mul_add_f32s(p, r, simd.splat_f32s(*c));
    }
    let r2 = simd.mul_f32s(r, r);
    let e_r = simd.add_f32s(simd.mul_add_f32s(p, r2, r), simd.splat_f32s(1.0));
    // 2^n: (n + 127) << 23 as the bits of a float; n = bits(z) − bits(magic).
    let n_int = simd.sub_u32s(simd.transmute_u32s_f32s(z), simd.transmute_u32s_f32s(magic));
    let biased = simd.add_u32s(n_int, simd.splat_u32s(127));
    let pow2 = simd.transmute_f32s_u32s(simd.wrapping_dyn_shl_u32s(biased, simd.splat_u32s(23)));
    simd.mul_f32s(e_r, pow2)
}

/// SiLU, `x · σ(x) = x / (1 + e^(−x))`.
#[inline(always)]
pub(super) fn silu<S: Simd>(simd: S, x: S::f32s) -> S::f32s {
    let e = exp(simd, simd.neg_f32s(x));
    simd.div_f32s(x, simd.add_f32s(simd.splat_f32s(1.0), e))
}

/// The scalar SiLU, for the few values of squeeze-excitation.
pub(super) fn silu_scalar(x: f32) -> f32 {
    x / (1.0 + (-x).exp())
}

/// The scalar logistic sigmoid.
pub(super) fn sigmoid_scalar(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

//! The layers as parallel tasks over the samples and tiles of a batch.
//!
//! Activations are channel-major, `[batch][channels][height][width]`. A 3×3 convolution splits
//! each sample into tiles of whole rows (each task builds its own im2col matrix in its
//! thread's scratch, sized to stay in L2), a 1×1 convolution into ranges of pixels (and of
//! output channels when there are too few pixels to go round), and the per-plane operations
//! into planes. A context of one thread runs every layer whole on the calling thread (a part of
//! a batch split over the pool, see [`super::FastUNet`]).

use std::sync::{Mutex, PoisonError};

use pulp::Simd;
use rayon::prelude::*;

use super::bf16::Bf16;
use super::gemm::GemmTask;
use super::kernel::{Epilogue, Packed, Residual, Weights, ROWS};
use super::planes::{avg_pool_plane, im2col, upsample_plane, DepthwiseTask};
use super::shared::{OutTile, SharedOut};

/// Floats of im2col (and hidden) tile a 3×3 task aims for: 384 KiB, inside a 512 KiB L2.
const TILE_FLOATS: usize = 96 * 1024;
/// The most pixels a 1×1 task takes.
const MAX_PIXELS: usize = 1024;

/// The batch size and resolution a layer runs at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Geometry {
    pub batch: usize,
    pub height: usize,
    pub width: usize,
}

impl Geometry {
    /// Pixels of one plane.
    pub fn plane(&self) -> usize {
        self.height * self.width
    }
}

/// The thread pool's view for the layers: SIMD token, thread count and per-thread scratch.
#[derive(Clone, Copy)]
pub(super) struct Ctx<'a, S: Simd> {
    pub simd: S,
    /// Set when the convolutions run in bf16 (all but the depthwise ones; the network runs its
    /// stem and head with this unset).
    pub bf16: Option<Bf16>,
    pub threads: usize,
    pub scratch: &'a [Mutex<Vec<f32>>],
}

impl<S: Simd> Ctx<'_, S> {
    /// Runs `f` on this thread's scratch buffer.
    fn with_scratch<R>(&self, f: impl FnOnce(&mut [f32]) -> R) -> R {
        let index = rayon::current_thread_index().unwrap_or(0) % self.scratch.len();
        let mut scratch = self.scratch[index]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        f(&mut scratch)
    }

    /// The fewest tasks rayon may cut a layer's work into: all of it as one when the context
    /// has one thread (no task goes to another thread, none waits on one), else single tasks.
    fn min_len(&self) -> usize {
        if self.threads == 1 {
            usize::MAX
        } else {
            1
        }
    }
}

/// Rows per task of a 3×3 layer that needs `floats_per_pixel` floats of scratch per pixel:
/// as many as fit [`TILE_FLOATS`], but at least two tasks per thread when the batch allows.
pub(super) fn rows_per_tile(g: Geometry, floats_per_pixel: usize, threads: usize) -> usize {
    let mut rows = (TILE_FLOATS / (floats_per_pixel * g.width)).clamp(1, g.height);
    while rows > 1 && g.batch * g.height.div_ceil(rows) < 2 * threads {
        rows = rows.div_ceil(2);
    }
    // Whole kernel blocks (3 registers of 8 or 16 pixels) when rows are 64 or 128 wide.
    if rows >= 3 {
        rows -= rows % 3;
    }
    rows
}

/// Runs `task(item, r0, r1)` for rows `r0..r1` of sample `item`, over every tile of `rows`
/// rows of every sample of the batch, as tasks on the pool.
fn for_each_row_tile<S: Simd>(
    ctx: &Ctx<'_, S>,
    g: Geometry,
    rows: usize,
    task: impl Fn(usize, usize, usize) + Sync + Send,
) {
    let tiles = g.height.div_ceil(rows);
    (0..g.batch * tiles)
        .into_par_iter()
        .with_min_len(ctx.min_len())
        .for_each(|t| {
            let (item, r0) = (t / tiles, t % tiles * rows);
            task(item, r0, (r0 + rows).min(g.height));
        });
}

/// The scratch floats a 3×3 layer's task needs.
fn tile_scratch(g: Geometry, floats_per_pixel: usize, threads: usize) -> usize {
    rows_per_tile(g, floats_per_pixel, threads) * g.width * floats_per_pixel
}

/// Scratch floats per pixel of a 3×3 convolution's task: its im2col column (`k` values), or
/// the column's bf16 pairs in reduced precision.
fn conv3x3_floats(k: usize, bf16: bool) -> usize {
    if bf16 {
        k.div_ceil(2)
    } else {
        k
    }
}

/// Scratch floats per pixel of a Fused-MBConv block's task: the hidden activations, and the
/// im2col column in fp32, or in reduced precision the bf16 pairs of the column and then of the
/// hidden activations (one after the other, in the same place).
fn fused_floats(expand: &Packed, bf16: bool) -> usize {
    let (k, hidden) = (expand.k, expand.cout);
    hidden + if bf16 { k.max(hidden).div_ceil(2) } else { k }
}

/// The scratch floats a 3×3 convolution's task needs.
pub(super) fn conv3x3_scratch(g: Geometry, weights: &Packed, threads: usize, bf16: bool) -> usize {
    tile_scratch(g, conv3x3_floats(weights.k, bf16), threads)
}

/// The first `len` floats of `scratch` as the `u32` bf16 pairs of the reduced-precision kernel.
fn as_pairs(scratch: &mut [f32], len: usize) -> &mut [u32] {
    bytemuck::cast_slice_mut(&mut scratch[..len])
}

/// `out = epilogue(W * im2col(input))` for output rows `r0..r1` of one sample (`input`:
/// `[k/9][h][w]`), in the precision of `ctx`, with `scratch` for the column.
#[allow(clippy::too_many_arguments)]
fn conv3x3_tile<S: Simd>(
    ctx: &Ctx<'_, S>,
    weights: &Packed,
    g: Geometry,
    input: &[f32],
    (r0, r1): (usize, usize),
    scratch: &mut [f32],
    out: &mut OutTile<'_>,
    epilogue: Epilogue<'_>,
) {
    let (k, n) = (weights.k, (r1 - r0) * g.width);
    let (view, blocks) = (weights.view(), 0..weights.blocks());
    match ctx.bf16 {
        Some(bf16) => {
            let pairs = as_pairs(scratch, k.div_ceil(2) * n);
            bf16.im2col(input, g.height, g.width, r0, r1, pairs);
            bf16.gemm(view, &weights.pairs, blocks, pairs, n, out, epilogue);
        }
        None => {
            let col = &mut scratch[..k * n];
            im2col(input, g.height, g.width, r0, r1, col);
            ctx.simd.vectorize(GemmTask {
                weights: view,
                blocks,
                x: col,
                ldx: n,
                n,
                out,
                epilogue,
            });
        }
    }
}

/// `out = epilogue(W · x)` for a 1×1 convolution of `x` (`[k][n]`, row stride `ldx`, fp32)
/// in the precision of `ctx`, with `scratch` for bf16 pairs of `x`.
fn conv1x1_tile<S: Simd>(
    ctx: &Ctx<'_, S>,
    w: SampleWeights<'_>,
    blocks: std::ops::Range<usize>,
    (x, ldx, n): (&[f32], usize, usize),
    scratch: &mut [f32],
    out: &mut OutTile<'_>,
    epilogue: Epilogue<'_>,
) {
    match ctx.bf16 {
        Some(bf16) => {
            let k = w.weights.k;
            let packed = as_pairs(scratch, k.div_ceil(2) * n);
            bf16.pack(x, ldx, k, n, w.input_scale, packed);
            bf16.gemm(w.weights, w.pairs, blocks, packed, n, out, epilogue);
        }
        None => ctx.simd.vectorize(GemmTask {
            weights: w.weights,
            blocks,
            x,
            ldx,
            n,
            out,
            epilogue,
        }),
    }
}

/// A 3×3 convolution (padding 1) of `input` (`[batch][k/9][h][w]`) into `out`.
pub(super) fn conv3x3<S: Simd>(
    ctx: Ctx<'_, S>,
    weights: &Packed,
    g: Geometry,
    input: &[f32],
    out: &mut [f32],
    epilogue: Epilogue<'_>,
) {
    let (k, cout, plane) = (weights.k, weights.cout, g.plane());
    let cin = k / 9;
    assert_eq!(input.len(), g.batch * cin * plane, "conv3x3 input");
    assert_eq!(out.len(), g.batch * cout * plane, "conv3x3 output");
    let rows = rows_per_tile(g, conv3x3_floats(k, ctx.bf16.is_some()), ctx.threads);
    let shared = SharedOut::new(out);
    for_each_row_tile(&ctx, g, rows, |item, r0, r1| {
        let n = (r1 - r0) * g.width;
        let offset = item * cout * plane + r0 * g.width;
        // SAFETY: task (item, r0) owns rows r0..r1 of every channel of sample `item`; no
        // other task's tile contains them.
        let mut tile = unsafe { shared.tile(offset, plane, cout, n) };
        let epilogue = Epilogue {
            residual: epilogue.residual.map(|res| Residual {
                offset: res.offset + offset,
                ..res
            }),
            ..epilogue
        };
        let sample = &input[item * cin * plane..][..cin * plane];
        ctx.with_scratch(|scratch| {
            conv3x3_tile(
                &ctx,
                weights,
                g,
                sample,
                (r0, r1),
                scratch,
                &mut tile,
                epilogue,
            );
        });
    });
}

/// A Fused-MBConv block without squeeze-excitation, one tile at a time: 3×3 expansion + SiLU
/// into the thread's scratch, then the 1×1 projection (+ the input when `residual`) into `out`.
/// The hidden activations never leave the cache.
#[allow(clippy::too_many_arguments)]
pub(super) fn fused_block<S: Simd>(
    ctx: Ctx<'_, S>,
    expand: &Packed,
    project: &Packed,
    residual: bool,
    g: Geometry,
    input: &[f32],
    out: &mut [f32],
) {
    let (k, hidden, cout, plane) = (expand.k, expand.cout, project.cout, g.plane());
    let cin = k / 9;
    assert_eq!(input.len(), g.batch * cin * plane, "fused block input");
    assert_eq!(out.len(), g.batch * cout * plane, "fused block output");
    let rows = rows_per_tile(g, fused_floats(expand, ctx.bf16.is_some()), ctx.threads);
    let shared = SharedOut::new(out);
    for_each_row_tile(&ctx, g, rows, |item, r0, r1| {
        let n = (r1 - r0) * g.width;
        let sample = &input[item * cin * plane..][..cin * plane];
        ctx.with_scratch(|scratch| {
            let (hid, rest) = scratch.split_at_mut(hidden * n);
            {
                let hid_out = SharedOut::new(hid);
                // SAFETY: the only tile of a buffer this task owns.
                let mut tile = unsafe { hid_out.tile(0, n, hidden, n) };
                conv3x3_tile(
                    &ctx,
                    expand,
                    g,
                    sample,
                    (r0, r1),
                    rest,
                    &mut tile,
                    Epilogue::SILU,
                );
            }
            let offset = item * cout * plane + r0 * g.width;
            let epilogue = Epilogue {
                residual: residual.then_some(Residual {
                    data: input,
                    offset,
                    ld: plane,
                }),
                silu: false,
            };
            // SAFETY: as in `conv3x3`: rows r0..r1 of sample `item` are this task's alone.
            let mut tile = unsafe { shared.tile(offset, plane, cout, n) };
            let (w, blocks) = (SampleWeights::of(project), 0..project.blocks());
            conv1x1_tile(&ctx, w, blocks, (hid, n, n), rest, &mut tile, epilogue);
        });
    });
}

/// The scratch floats a depthwise task needs (the zero-padded plane).
pub(super) fn depthwise_scratch(g: Geometry) -> usize {
    (g.height + 2) * (g.width + 2)
}

/// The scratch floats a fused block's task needs.
pub(super) fn fused_scratch(g: Geometry, expand: &Packed, threads: usize, bf16: bool) -> usize {
    tile_scratch(g, fused_floats(expand, bf16), threads)
}

/// Pixels per task of a 1×1 convolution at `g`: enough tasks for two per thread where the
/// batch allows, at most [`MAX_PIXELS`].
fn conv1x1_pixels(g: Geometry, threads: usize) -> usize {
    let want = 2 * threads;
    g.plane()
        .div_ceil(want.div_ceil(g.batch))
        .next_multiple_of(16)
        .clamp(64, MAX_PIXELS)
        .min(g.plane())
}

/// The scratch floats a 1×1 convolution's task with `k` inputs needs: none in fp32, the bf16
/// pairs of its pixels in reduced precision.
pub(super) fn conv1x1_scratch(g: Geometry, k: usize, threads: usize, bf16: bool) -> usize {
    if bf16 {
        k.div_ceil(2) * conv1x1_pixels(g, threads)
    } else {
        0
    }
}

/// The weights of one sample for [`conv1x1`]: fp32 panels, and bf16 pairs for the
/// reduced-precision kernel, which multiplies input channel `i` by `input_scale[i]` first (the
/// fp32 panels have the scale folded in instead: squeeze-excitation).
#[derive(Clone, Copy)]
pub(super) struct SampleWeights<'w> {
    pub weights: Weights<'w>,
    pub pairs: &'w [u32],
    pub input_scale: Option<&'w [f32]>,
}

impl<'w> SampleWeights<'w> {
    /// Those of a packed convolution.
    pub fn of(packed: &'w Packed) -> Self {
        Self {
            weights: packed.view(),
            pairs: &packed.pairs,
            input_scale: None,
        }
    }
}

/// A 1×1 convolution of `input` (`[batch][k][h·w]`) into `out`; `weights(item)` gives the
/// weights of each sample (shared, or rescaled by squeeze-excitation), `residual` (laid out
/// like `out`) is added.
pub(super) fn conv1x1<'w, S: Simd>(
    ctx: Ctx<'_, S>,
    weights: impl Fn(usize) -> SampleWeights<'w> + Sync,
    g: Geometry,
    input: &[f32],
    out: &mut [f32],
    epilogue: Epilogue<'_>,
) {
    let first = weights(0).weights;
    let (k, cout, plane) = (first.k, first.cout, g.plane());
    assert_eq!(input.len(), g.batch * k * plane, "conv1x1 input");
    assert_eq!(out.len(), g.batch * cout * plane, "conv1x1 output");
    let want = 2 * ctx.threads;
    let pixels = conv1x1_pixels(g, ctx.threads);
    let chunks = plane.div_ceil(pixels);
    let blocks = cout.div_ceil(ROWS);
    let splits = want.div_ceil(g.batch * chunks).clamp(1, blocks);
    let per_split = blocks.div_ceil(splits);
    let shared = SharedOut::new(out);
    (0..g.batch * chunks * splits)
        .into_par_iter()
        .with_min_len(ctx.min_len())
        .for_each(|task| {
            let (item, rest) = (task / (chunks * splits), task % (chunks * splits));
            let (p0, split) = (rest / splits * pixels, rest % splits);
            let n = pixels.min(plane - p0);
            let block_range = split * per_split..((split + 1) * per_split).min(blocks);
            if block_range.is_empty() {
                return;
            }
            let offset = item * cout * plane + p0;
            let epilogue = Epilogue {
                residual: epilogue.residual.map(|res| Residual {
                    offset: res.offset + offset,
                    ..res
                }),
                ..epilogue
            };
            let x = &input[item * k * plane + p0..(item + 1) * k * plane];
            // SAFETY: task (item, p0, split) owns pixels p0..p0 + n of the output channels
            // of its panels, in sample `item`; tasks differ in at least one of the three.
            let mut tile = unsafe { shared.tile(offset, plane, cout, n) };
            let w = weights(item);
            ctx.with_scratch(|scratch| {
                let x = (x, plane, n);
                conv1x1_tile(&ctx, w, block_range, x, scratch, &mut tile, epilogue);
            });
        });
}

/// The depthwise 3×3 convolution + bias + SiLU of every plane of `input` into `out`, and the
/// mean of each output plane into `pooled` (`[batch][channels]`).
#[allow(clippy::too_many_arguments)]
pub(super) fn depthwise<S: Simd>(
    ctx: Ctx<'_, S>,
    weight: &[f32],
    bias: &[f32],
    g: Geometry,
    input: &[f32],
    out: &mut [f32],
    pooled: &mut [f32],
) {
    let (channels, plane) = (bias.len(), g.plane());
    out.par_chunks_mut(plane)
        .zip(input.par_chunks(plane))
        .zip(pooled.par_iter_mut())
        .enumerate()
        .with_min_len(ctx.min_len())
        .for_each(|(index, ((dst, src), mean))| {
            let c = index % channels;
            *mean = ctx.with_scratch(|padded| {
                ctx.simd.vectorize(DepthwiseTask {
                    input: src,
                    height: g.height,
                    width: g.width,
                    weight: &weight[c * 9..c * 9 + 9],
                    bias: bias[c],
                    padded,
                    out: dst,
                })
            });
        });
}

/// 2×2 average pooling of every plane of `input` (at `g`) into `out` (at half the resolution).
pub(super) fn avg_pool<S: Simd>(ctx: Ctx<'_, S>, g: Geometry, input: &[f32], out: &mut [f32]) {
    let plane = g.plane();
    out.par_chunks_mut(plane / 4)
        .zip(input.par_chunks(plane))
        .with_min_len(ctx.min_len())
        .for_each(|(dst, src)| avg_pool_plane(src, g.width, dst));
}

/// The decoder's input: `low` (`[batch][c][h][w]`, at `g`) upsampled ×2 into channels `0..c`
/// of `out` (`[batch][2c][2h][2w]`), the skip (`[batch][c][2h][2w]`) into channels `c..2c`.
pub(super) fn upsample_concat<S: Simd>(
    ctx: Ctx<'_, S>,
    g: Geometry,
    channels: usize,
    low: &[f32],
    skip: &[f32],
    out: &mut [f32],
) {
    let (small, big) = (g.plane(), 4 * g.plane());
    out.par_chunks_mut(2 * channels * big)
        .zip(low.par_chunks(channels * small))
        .zip(skip.par_chunks(channels * big))
        .with_min_len(ctx.min_len())
        .for_each(|((dst, low), skip)| {
            let (up, copy) = dst.split_at_mut(channels * big);
            up.par_chunks_mut(big)
                .zip(low.par_chunks(small))
                .with_min_len(ctx.min_len())
                .for_each(|(dst, src)| upsample_plane(src, g.height, g.width, dst));
            copy.copy_from_slice(skip);
        });
}

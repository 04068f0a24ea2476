//! The layers as parallel tasks over the samples and tiles of a batch.
//!
//! Activations are channel-major, `[batch][channels][height][width]`. A 3×3 convolution splits
//! each sample into tiles of whole rows (each task builds its own im2col matrix in its
//! thread's scratch, sized to stay in L2), a 1×1 convolution into ranges of pixels (and of
//! output channels when there are too few pixels to go round), and the per-plane operations
//! into planes.

use std::sync::{Mutex, PoisonError};

use pulp::Simd;
use rayon::prelude::*;

use super::gemm::{Epilogue, GemmTask, Packed, Residual, Weights, ROWS};
use super::planes::{avg_pool_plane, im2col, upsample_plane, DepthwiseTask};
use super::shared::SharedOut;

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

/// The scratch floats a 3×3 layer's task needs.
pub(super) fn tile_scratch(g: Geometry, floats_per_pixel: usize, threads: usize) -> usize {
    rows_per_tile(g, floats_per_pixel, threads) * g.width * floats_per_pixel
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
    let rows = rows_per_tile(g, k, ctx.threads);
    let tiles = g.height.div_ceil(rows);
    let shared = SharedOut::new(out);
    (0..g.batch * tiles).into_par_iter().for_each(|task| {
        let (item, r0) = (task / tiles, task % tiles * rows);
        let r1 = (r0 + rows).min(g.height);
        let n = (r1 - r0) * g.width;
        ctx.with_scratch(|scratch| {
            let col = &mut scratch[..k * n];
            im2col(
                &input[item * cin * plane..][..cin * plane],
                g.height,
                g.width,
                r0,
                r1,
                col,
            );
            let offset = item * cout * plane + r0 * g.width;
            // SAFETY: task (item, r0) owns rows r0..r1 of every channel of sample `item`;
            // no other task's tile contains them.
            let mut tile = unsafe { shared.tile(offset, plane, cout, n) };
            let epilogue = Epilogue {
                residual: epilogue.residual.map(|res| Residual {
                    offset: res.offset + offset,
                    ..res
                }),
                ..epilogue
            };
            ctx.simd.vectorize(GemmTask {
                weights: weights.view(),
                blocks: 0..weights.blocks(),
                x: col,
                ldx: n,
                n,
                out: &mut tile,
                epilogue,
            });
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
    let rows = rows_per_tile(g, k + hidden, ctx.threads);
    let tiles = g.height.div_ceil(rows);
    let shared = SharedOut::new(out);
    (0..g.batch * tiles).into_par_iter().for_each(|task| {
        let (item, r0) = (task / tiles, task % tiles * rows);
        let r1 = (r0 + rows).min(g.height);
        let n = (r1 - r0) * g.width;
        ctx.with_scratch(|scratch| {
            let (col, rest) = scratch.split_at_mut(k * n);
            let hid = &mut rest[..hidden * n];
            im2col(
                &input[item * cin * plane..][..cin * plane],
                g.height,
                g.width,
                r0,
                r1,
                col,
            );
            {
                let hid_out = SharedOut::new(hid);
                // SAFETY: the only tile of a buffer this task owns.
                let mut tile = unsafe { hid_out.tile(0, n, hidden, n) };
                ctx.simd.vectorize(GemmTask {
                    weights: expand.view(),
                    blocks: 0..expand.blocks(),
                    x: col,
                    ldx: n,
                    n,
                    out: &mut tile,
                    epilogue: Epilogue::SILU,
                });
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
            ctx.simd.vectorize(GemmTask {
                weights: project.view(),
                blocks: 0..project.blocks(),
                x: hid,
                ldx: n,
                n,
                out: &mut tile,
                epilogue,
            });
        });
    });
}

/// The scratch floats a depthwise task needs (the zero-padded plane).
pub(super) fn depthwise_scratch(g: Geometry) -> usize {
    (g.height + 2) * (g.width + 2)
}

/// The scratch floats a fused block's task needs.
pub(super) fn fused_scratch(g: Geometry, expand: &Packed, threads: usize) -> usize {
    tile_scratch(g, expand.k + expand.cout, threads)
}

/// A 1×1 convolution of `input` (`[batch][k][h·w]`) into `out`; `weights(item)` gives the
/// weights of each sample (shared, or rescaled by squeeze-excitation), `residual` (laid out
/// like `out`) is added.
pub(super) fn conv1x1<'w, S: Simd>(
    ctx: Ctx<'_, S>,
    weights: impl Fn(usize) -> Weights<'w> + Sync,
    g: Geometry,
    input: &[f32],
    out: &mut [f32],
    epilogue: Epilogue<'_>,
) {
    let first = weights(0);
    let (k, cout, plane) = (first.k, first.cout, g.plane());
    assert_eq!(input.len(), g.batch * k * plane, "conv1x1 input");
    assert_eq!(out.len(), g.batch * cout * plane, "conv1x1 output");
    let want = 2 * ctx.threads;
    let pixels = plane
        .div_ceil(want.div_ceil(g.batch))
        .next_multiple_of(16)
        .clamp(64, MAX_PIXELS)
        .min(plane);
    let chunks = plane.div_ceil(pixels);
    let blocks = cout.div_ceil(ROWS);
    let splits = want.div_ceil(g.batch * chunks).clamp(1, blocks);
    let per_split = blocks.div_ceil(splits);
    let shared = SharedOut::new(out);
    (0..g.batch * chunks * splits)
        .into_par_iter()
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
            ctx.simd.vectorize(GemmTask {
                weights: weights(item),
                blocks: block_range,
                x,
                ldx: plane,
                n,
                out: &mut tile,
                epilogue,
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
pub(super) fn avg_pool(g: Geometry, input: &[f32], out: &mut [f32]) {
    let plane = g.plane();
    out.par_chunks_mut(plane / 4)
        .zip(input.par_chunks(plane))
        .for_each(|(dst, src)| avg_pool_plane(src, g.width, dst));
}

/// The decoder's input: `low` (`[batch][c][h][w]`, at `g`) upsampled ×2 into channels `0..c`
/// of `out` (`[batch][2c][2h][2w]`), the skip (`[batch][c][2h][2w]`) into channels `c..2c`.
pub(super) fn upsample_concat(
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
        .for_each(|((dst, low), skip)| {
            let (up, copy) = dst.split_at_mut(channels * big);
            up.par_chunks_mut(big)
                .zip(low.par_chunks(small))
                .for_each(|(dst, src)| upsample_plane(src, g.height, g.width, dst));
            copy.copy_from_slice(skip);
        });
}

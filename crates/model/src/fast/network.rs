//! The network laid out for the fast kernels, and its forward pass over its [`Buffers`].

use pulp::Simd;

use super::kernel::{Epilogue, Packed, Residual, Weights};
use super::layers::{
    avg_pool, conv1x1, conv1x1_scratch, conv3x3, conv3x3_scratch, depthwise, depthwise_scratch,
    fused_block, fused_scratch, upsample_concat, Ctx, Geometry, SampleWeights,
};
use super::params::{Dense, Params};
use super::planes::{excite, mean};
use crate::{BlockKind, UNetConfig};

/// A block's expansion.
#[derive(Debug, Clone)]
enum Expansion {
    /// Fused-MBConv: a 3×3 convolution.
    Fused(Packed),
    /// MBConv: a 1×1 convolution, then a depthwise 3×3 (`weight` `[hidden][9]`, `bias` `[hidden]`).
    MbConv {
        expand: Packed,
        depthwise_weight: Vec<f32>,
        depthwise_bias: Vec<f32>,
    },
}

/// One EfficientNetV2 block with its batch norms folded.
#[derive(Debug, Clone)]
struct Block {
    cin: usize,
    hidden: usize,
    expansion: Expansion,
    squeeze_excite: Option<(Dense, Dense)>,
    project: Packed,
    residual: bool,
}

/// The network, ready for the kernels.
#[derive(Debug, Clone)]
pub(super) struct Network {
    in_channels: usize,
    out_channels: usize,
    widths: Vec<usize>,
    stem: Packed,
    encoder: Vec<Vec<Block>>,
    downs: Vec<Packed>,
    decoder: Vec<Vec<Block>>,
    ups: Vec<Packed>,
    head: Packed,
}

fn block(params: &Params, prefix: &str) -> Block {
    let squeeze_excite = params.has(&format!("{prefix}.squeeze_excite")).then(|| {
        (
            params.dense(&format!("{prefix}.squeeze_excite.reduce")),
            params.dense(&format!("{prefix}.squeeze_excite.expand")),
        )
    });
    let expand = params.conv_bn(&format!("{prefix}.expand"));
    let (cin, hidden) = (expand.cin, expand.cout);
    let expansion = if params.has(&format!("{prefix}.depthwise")) {
        let depthwise = params.conv_bn(&format!("{prefix}.depthwise"));
        Expansion::MbConv {
            expand: Packed::new(&expand),
            depthwise_weight: depthwise.weight,
            depthwise_bias: depthwise.bias,
        }
    } else {
        assert_eq!(
            expand.kernel, 3,
            "a Fused-MBConv expands with a 3×3 convolution"
        );
        Expansion::Fused(Packed::new(&expand))
    };
    let project = Packed::new(&params.conv_bn(&format!("{prefix}.project")));
    Block {
        cin,
        hidden,
        residual: cin == project.cout,
        expansion,
        squeeze_excite,
        project,
    }
}

fn stage(params: &Params, prefix: &str, repeats: usize) -> Vec<Block> {
    (0..repeats)
        .map(|i| block(params, &format!("{prefix}.blocks.{i}")))
        .collect()
}

impl Network {
    /// Reads and folds the weights of a network of `config`.
    pub fn new(config: &UNetConfig, params: &Params) -> Self {
        let stages = &config.stages;
        let encoder = (0..stages.len())
            .map(|i| stage(params, &format!("encoder.stages.{i}"), stages[i].repeats))
            .collect();
        let decoder = (0..stages.len())
            .map(|i| stage(params, &format!("decoder.stages.{i}"), stages[i].repeats))
            .collect();
        let downs = (0..stages.len() - 1)
            .map(|i| Packed::new(&params.conv(&format!("encoder.downs.{i}.conv"))))
            .collect();
        let ups = (0..stages.len() - 1)
            .map(|i| Packed::new(&params.conv(&format!("decoder.ups.{i}.conv"))))
            .collect();
        // Every block kind is covered; the kind is read off the weights, not the config.
        debug_assert!(stages
            .iter()
            .all(|s| matches!(s.kind, BlockKind::Fused | BlockKind::MbConv)));
        Self {
            in_channels: config.in_channels,
            out_channels: config.out_channels,
            widths: stages.iter().map(|s| s.width).collect(),
            stem: Packed::new(&params.conv("stem")),
            encoder,
            downs,
            decoder,
            ups,
            head: Packed::new(&params.conv("head")),
        }
    }

    /// Input channels.
    pub fn in_channels(&self) -> usize {
        self.in_channels
    }

    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.out_channels
    }

    /// Height and width must be multiples of this.
    pub fn size_multiple(&self) -> usize {
        1 << (self.widths.len() - 1)
    }

    fn blocks(&self) -> impl Iterator<Item = (usize, &Block)> {
        let enc = self.encoder.iter().enumerate();
        let dec = self.decoder.iter().enumerate();
        enc.chain(dec)
            .flat_map(|(level, blocks)| blocks.iter().map(move |b| (level, b)))
    }

    /// The buffer sizes of a forward pass at `g` (full resolution).
    /// (`sizes` is overwritten; its `skips` keeps its capacity, so that a call with the same
    /// number of levels allocates nothing.)
    pub fn sizes(&self, g: Geometry, threads: usize, bf16: bool, sizes: &mut Sizes) {
        let at = |level: usize| Geometry {
            height: g.height >> level,
            width: g.width >> level,
            ..g
        };
        let mut skips = std::mem::take(&mut sizes.skips);
        skips.clear();
        *sizes = Sizes {
            skips,
            ..Sizes::default()
        };
        let grow = |slot: &mut usize, value: usize| *slot = (*slot).max(value);
        grow(&mut sizes.activation, g.batch * self.stem.cout * g.plane());
        grow(
            &mut sizes.scratch,
            conv3x3_scratch(g, &self.stem, threads, false),
        );
        grow(
            &mut sizes.scratch,
            conv3x3_scratch(g, &self.head, threads, false),
        );
        for (level, &width) in self.widths.iter().enumerate() {
            let geo = at(level);
            let channels = if level + 1 < self.widths.len() {
                2 * width
            } else {
                width
            };
            grow(&mut sizes.activation, g.batch * channels * geo.plane());
            if level + 1 < self.widths.len() {
                sizes.skips.push(g.batch * width * geo.plane());
                grow(
                    &mut sizes.low,
                    g.batch * width.max(self.widths[level + 1]) * geo.plane() / 4,
                );
                for conv in [&self.downs[level], &self.ups[level]] {
                    grow(
                        &mut sizes.scratch,
                        conv1x1_scratch(at(level + 1), conv.k, threads, bf16),
                    );
                }
            }
        }
        for (level, block) in self.blocks() {
            let geo = at(level);
            grow(
                &mut sizes.activation,
                g.batch * block.hidden.max(block.cin) * geo.plane(),
            );
            match &block.expansion {
                Expansion::Fused(expand) if block.squeeze_excite.is_none() => {
                    grow(
                        &mut sizes.scratch,
                        fused_scratch(geo, expand, threads, bf16),
                    );
                }
                Expansion::Fused(expand) => {
                    grow(
                        &mut sizes.scratch,
                        conv3x3_scratch(geo, expand, threads, bf16),
                    );
                    grow(&mut sizes.hidden, g.batch * block.hidden * geo.plane());
                }
                Expansion::MbConv { expand, .. } => {
                    grow(&mut sizes.scratch, depthwise_scratch(geo));
                    grow(
                        &mut sizes.scratch,
                        conv1x1_scratch(geo, expand.k, threads, bf16),
                    );
                    grow(&mut sizes.hidden, g.batch * block.hidden * geo.plane());
                }
            }
            if block.squeeze_excite.is_some() {
                let project = &block.project;
                grow(
                    &mut sizes.scratch,
                    conv1x1_scratch(geo, project.k, threads, bf16),
                );
                grow(&mut sizes.pooled, g.batch * block.hidden);
                grow(&mut sizes.scaled, g.batch * project.panels.len());
                grow(&mut sizes.squeezed, block.cin);
            }
        }
    }

    /// The forward pass: `input` `[batch][in][h][w]` → `out` `[batch][out][h][w]`.
    pub fn forward<S: Simd>(
        &self,
        ctx: Ctx<'_, S>,
        g: Geometry,
        input: &[f32],
        ws: &mut Buffers,
        out: &mut [f32],
    ) {
        let last = self.widths.len() - 1;
        let at = |level: usize| Geometry {
            height: g.height >> level,
            width: g.width >> level,
            ..g
        };
        let len = |channels: usize, level: usize| g.batch * channels * at(level).plane();
        // The stem and the head stay fp32 in every precision: they are ~2% of the work, and the
        // head's rounding would fall straight on the logits.
        let fp32 = Ctx { bf16: None, ..ctx };
        let stem_len = len(self.stem.cout, 0);
        conv3x3(
            fp32,
            &self.stem,
            g,
            input,
            &mut ws.a[..stem_len],
            Epilogue::LINEAR,
        );
        let mut channels = self.stem.cout;
        for level in 0..=last {
            let geo = at(level);
            for block in &self.encoder[level] {
                channels = self.run_block(ctx, block, geo, channels, ws);
            }
            if level < last {
                let n = len(channels, level);
                ws.skips[level][..n].copy_from_slice(&ws.a[..n]);
                let pooled = len(channels, level) / 4;
                avg_pool(ctx, geo, &ws.a[..n], &mut ws.low[..pooled]);
                let down = &self.downs[level];
                let out_len = len(down.cout, level + 1);
                conv1x1(
                    ctx,
                    |_| SampleWeights::of(down),
                    at(level + 1),
                    &ws.low[..pooled],
                    &mut ws.a[..out_len],
                    Epilogue::LINEAR,
                );
                channels = down.cout;
            }
        }
        for level in (0..=last).rev() {
            let geo = at(level);
            if level < last {
                let up = &self.ups[level];
                let low_len = len(up.cout, level + 1);
                let in_len = len(channels, level + 1);
                conv1x1(
                    ctx,
                    |_| SampleWeights::of(up),
                    at(level + 1),
                    &ws.a[..in_len],
                    &mut ws.low[..low_len],
                    Epilogue::LINEAR,
                );
                channels = 2 * up.cout;
                let cat_len = len(channels, level);
                let skip_len = len(up.cout, level);
                upsample_concat(
                    ctx,
                    at(level + 1),
                    up.cout,
                    &ws.low[..low_len],
                    &ws.skips[level][..skip_len],
                    &mut ws.b[..cat_len],
                );
                std::mem::swap(&mut ws.a, &mut ws.b);
            }
            for block in &self.decoder[level] {
                channels = self.run_block(ctx, block, geo, channels, ws);
            }
        }
        let n = len(channels, 0);
        conv3x3(fp32, &self.head, g, &ws.a[..n], out, Epilogue::LINEAR);
    }

    /// Runs `block` on `ws.a` (`channels` wide, at `g`), leaving its output in `ws.a`;
    /// returns the output width.
    fn run_block<S: Simd>(
        &self,
        ctx: Ctx<'_, S>,
        block: &Block,
        g: Geometry,
        channels: usize,
        ws: &mut Buffers,
    ) -> usize {
        assert_eq!(channels, block.cin, "block input width");
        let plane = g.plane();
        let cout = block.project.cout;
        let in_len = g.batch * block.cin * plane;
        let out_len = g.batch * cout * plane;
        let hid_len = g.batch * block.hidden * plane;
        match (&block.expansion, &block.squeeze_excite) {
            (Expansion::Fused(expand), None) => {
                fused_block(
                    ctx,
                    expand,
                    &block.project,
                    block.residual,
                    g,
                    &ws.a[..in_len],
                    &mut ws.b[..out_len],
                );
                std::mem::swap(&mut ws.a, &mut ws.b);
                return cout;
            }
            (Expansion::Fused(expand), Some(_)) => {
                conv3x3(
                    ctx,
                    expand,
                    g,
                    &ws.a[..in_len],
                    &mut ws.hidden[..hid_len],
                    Epilogue::SILU,
                );
                for (mean_out, plane_values) in ws
                    .pooled
                    .iter_mut()
                    .zip(ws.hidden[..hid_len].chunks_exact(plane))
                {
                    *mean_out = mean(plane_values);
                }
            }
            (
                Expansion::MbConv {
                    expand,
                    depthwise_weight,
                    depthwise_bias,
                },
                _,
            ) => {
                conv1x1(
                    ctx,
                    |_| SampleWeights::of(expand),
                    g,
                    &ws.a[..in_len],
                    &mut ws.b[..hid_len],
                    Epilogue::SILU,
                );
                depthwise(
                    ctx,
                    depthwise_weight,
                    depthwise_bias,
                    g,
                    &ws.b[..hid_len],
                    &mut ws.hidden[..hid_len],
                    &mut ws.pooled[..g.batch * block.hidden],
                );
            }
        }
        let residual = block.residual.then_some(Residual {
            data: &ws.a[..in_len],
            offset: 0,
            ld: plane,
        });
        let epilogue = Epilogue {
            residual,
            silu: false,
        };
        let hidden = &ws.hidden[..hid_len];
        match &block.squeeze_excite {
            Some((reduce, expand)) => {
                // fp32 rescales the projection's weights per sample; bf16 shares the packed
                // weights and rescales the hidden activations as it packs them.
                let (hid, panel_len) = (block.hidden, block.project.panels.len());
                for item in 0..g.batch {
                    let pooled = &ws.pooled[item * hid..(item + 1) * hid];
                    let scale = &mut ws.scale[item * hid..(item + 1) * hid];
                    excite(reduce, expand, pooled, &mut ws.squeezed, scale);
                    if ctx.bf16.is_some() {
                        continue;
                    }
                    let scaled = &mut ws.scaled[item * panel_len..(item + 1) * panel_len];
                    for ((dst, src), s) in scaled
                        .chunks_exact_mut(super::kernel::ROWS)
                        .zip(block.project.panels.chunks_exact(super::kernel::ROWS))
                        .zip(scale.iter().cycle())
                    {
                        for (d, w) in dst.iter_mut().zip(src) {
                            *d = w * s;
                        }
                    }
                }
                let (scaled, scale) = (&ws.scaled, &ws.scale);
                let project = &block.project;
                let weights = |item: usize| SampleWeights {
                    weights: Weights {
                        panels: &scaled[item * panel_len..(item + 1) * panel_len],
                        ..project.view()
                    },
                    pairs: &project.pairs,
                    input_scale: Some(&scale[item * hid..(item + 1) * hid]),
                };
                conv1x1(ctx, weights, g, hidden, &mut ws.b[..out_len], epilogue);
            }
            None => conv1x1(
                ctx,
                |_| SampleWeights::of(&block.project),
                g,
                hidden,
                &mut ws.b[..out_len],
                epilogue,
            ),
        }
        std::mem::swap(&mut ws.a, &mut ws.b);
        cout
    }
}

/// Buffer sizes (floats) of a forward pass.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Sizes {
    pub activation: usize,
    pub skips: Vec<usize>,
    pub low: usize,
    pub hidden: usize,
    pub pooled: usize,
    pub scaled: usize,
    pub squeezed: usize,
    pub scratch: usize,
}

/// The activation buffers of a forward pass (the per-thread scratch lives with the pool).
#[derive(Debug, Default)]
pub(super) struct Buffers {
    /// The current activations (ping).
    pub a: Vec<f32>,
    /// The next activations (pong).
    pub b: Vec<f32>,
    /// The encoder's outputs at each level but the last.
    pub skips: Vec<Vec<f32>>,
    /// Down- and up-sampling at the coarser level.
    pub low: Vec<f32>,
    /// Hidden activations of MBConv blocks (after the depthwise convolution).
    pub hidden: Vec<f32>,
    /// Squeeze-excitation's pooled means, `[batch][hidden]`.
    pub pooled: Vec<f32>,
    /// Squeeze-excitation's channel scales, `[batch][hidden]`.
    pub scale: Vec<f32>,
    /// Squeeze-excitation's squeezed features of one sample.
    pub squeezed: Vec<f32>,
    /// The projection weights rescaled per sample, `[batch][panels]`.
    pub scaled: Vec<f32>,
}

impl Buffers {
    /// Grows every buffer to `sizes` (never shrinks: a smaller batch reuses them).
    pub fn reserve(&mut self, sizes: &Sizes) {
        let grow = |buffer: &mut Vec<f32>, len: usize| {
            if buffer.len() < len {
                buffer.resize(len, 0.0);
            }
        };
        grow(&mut self.a, sizes.activation);
        grow(&mut self.b, sizes.activation);
        self.skips
            .resize_with(sizes.skips.len().max(self.skips.len()), Vec::new);
        for (buffer, &len) in self.skips.iter_mut().zip(&sizes.skips) {
            grow(buffer, len);
        }
        grow(&mut self.low, sizes.low);
        grow(&mut self.hidden, sizes.hidden);
        grow(&mut self.pooled, sizes.pooled);
        grow(&mut self.scale, sizes.pooled);
        grow(&mut self.squeezed, sizes.squeezed);
        grow(&mut self.scaled, sizes.scaled);
    }
}

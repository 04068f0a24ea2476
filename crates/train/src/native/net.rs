//! The Efficient-UNetV2 as the trainer runs it: its layers by parameter index, a forward pass
//! that keeps what the backward pass needs, and the backward pass.

use burn::nn::BatchNormConfig;
use scribseg_model::{NamedTensor, UNetConfig};

use super::ops::{
    avg_pool, avg_pool_backward, batch_norm, batch_norm_backward, conv, conv_backward, depthwise,
    depthwise_backward, squeeze_excite, squeeze_excite_backward, upsample, upsample_backward,
    BnConstants, BnParams, BnStats, ConvShape, Geo, SeGrads, SeParams, SeTape,
};
use super::params::Store;
use super::pool::Pool;

/// A dense convolution.
#[derive(Debug)]
struct Conv {
    shape: ConvShape,
    weight: usize,
    bias: Option<usize>,
}

/// A bias-free convolution (dense, or depthwise 3×3) and its batch norm.
#[derive(Debug)]
struct ConvBn {
    /// For a depthwise convolution `shape.cin == shape.cout` and the weight is `[c][1][3][3]`.
    conv: Conv,
    depthwise: bool,
    gamma: usize,
    beta: usize,
    running_mean: usize,
    running_var: usize,
}

#[derive(Debug)]
struct SqueezeExcite {
    channels: usize,
    reduce_weight: usize,
    reduce_bias: usize,
    expand_weight: usize,
    expand_bias: usize,
}

#[derive(Debug)]
struct Block {
    expand: ConvBn,
    depthwise: Option<ConvBn>,
    squeeze_excite: Option<SqueezeExcite>,
    project: ConvBn,
    residual: bool,
}

/// The network's structure, with every layer pointing at its tensors in a [`Store`].
#[derive(Debug)]
pub struct Net {
    stem: Conv,
    encoder: Vec<Vec<Block>>,
    downs: Vec<Conv>,
    decoder: Vec<Vec<Block>>,
    ups: Vec<Conv>,
    head: Conv,
    widths: Vec<usize>,
    bn: BnConstants,
}

fn dense(store: &Store, prefix: &str) -> Conv {
    let weight = store.param(&format!("{prefix}.weight"));
    let bias_name = format!("{prefix}.bias");
    let shape = &store.params[weight].shape;
    Conv {
        shape: ConvShape {
            cout: shape[0],
            cin: shape[1],
            kernel: shape[2],
        },
        weight,
        bias: store.has(&bias_name).then(|| store.param(&bias_name)),
    }
}

/// A [`ConvBn`]; a `depthwise` one's weight is `[c][1][3][3]`.
fn conv_bn(store: &Store, prefix: &str, depthwise: bool) -> ConvBn {
    let conv = dense(store, &format!("{prefix}.conv"));
    let conv = if depthwise {
        Conv {
            shape: ConvShape {
                cin: conv.shape.cout,
                ..conv.shape
            },
            ..conv
        }
    } else {
        conv
    };
    ConvBn {
        conv,
        depthwise,
        gamma: store.param(&format!("{prefix}.bn.gamma")),
        beta: store.param(&format!("{prefix}.bn.beta")),
        running_mean: store.running(&format!("{prefix}.bn.running_mean")),
        running_var: store.running(&format!("{prefix}.bn.running_var")),
    }
}

fn block(store: &Store, prefix: &str) -> Block {
    let expand = conv_bn(store, &format!("{prefix}.expand"), false);
    let depthwise = store
        .has(&format!("{prefix}.depthwise.conv.weight"))
        .then(|| conv_bn(store, &format!("{prefix}.depthwise"), true));
    let squeeze_excite = store
        .has(&format!("{prefix}.squeeze_excite.reduce.weight"))
        .then(|| SqueezeExcite {
            channels: expand.conv.shape.cout,
            reduce_weight: store.param(&format!("{prefix}.squeeze_excite.reduce.weight")),
            reduce_bias: store.param(&format!("{prefix}.squeeze_excite.reduce.bias")),
            expand_weight: store.param(&format!("{prefix}.squeeze_excite.expand.weight")),
            expand_bias: store.param(&format!("{prefix}.squeeze_excite.expand.bias")),
        });
    let project = conv_bn(store, &format!("{prefix}.project"), false);
    Block {
        residual: expand.conv.shape.cin == project.conv.shape.cout,
        expand,
        depthwise,
        squeeze_excite,
        project,
    }
}

fn stage(store: &Store, prefix: &str, repeats: usize) -> Vec<Block> {
    (0..repeats)
        .map(|i| block(store, &format!("{prefix}.blocks.{i}")))
        .collect()
}

/// What one [`ConvBn`] keeps for the backward pass: its input is kept by whoever made it.
#[derive(Debug, Default)]
struct ConvBnTape {
    /// The convolution's output (the batch norm's input).
    pre: Vec<f32>,
    stats: BnStats,
}

#[derive(Debug, Default)]
struct BlockTape {
    input: Vec<f32>,
    expand: ConvBnTape,
    expanded: Vec<f32>,
    depthwise: Option<(ConvBnTape, Vec<f32>)>,
    squeeze_excite: Option<(SeTape, Vec<f32>)>,
    project: ConvBnTape,
}

impl BlockTape {
    /// The input of the depthwise convolution's successor chain: the hidden activations before
    /// squeeze-excitation.
    fn hidden(&self) -> &[f32] {
        self.depthwise.as_ref().map_or(&self.expanded, |(_, h)| h)
    }

    /// The projection's input.
    fn projected(&self) -> &[f32] {
        self.squeeze_excite
            .as_ref()
            .map_or(self.hidden(), |(_, h)| h)
    }
}

/// Everything the backward pass of one forward pass needs.
#[derive(Debug, Default)]
pub struct Tape {
    geo: Option<Geo>,
    input: Vec<f32>,
    encoder: Vec<Vec<BlockTape>>,
    /// The pooled input of each down convolution.
    pooled: Vec<Vec<f32>>,
    decoder: Vec<Vec<BlockTape>>,
    /// The input of each up convolution.
    up_inputs: Vec<Vec<f32>>,
    head_input: Vec<f32>,
}

impl ConvBnTape {
    fn recycle(self, pool: &mut Pool) {
        pool.give(self.pre);
    }
}

impl BlockTape {
    fn recycle(self, pool: &mut Pool) {
        pool.give(self.input);
        self.expand.recycle(pool);
        pool.give(self.expanded);
        if let Some((t, h)) = self.depthwise {
            t.recycle(pool);
            pool.give(h);
        }
        if let Some((_, h)) = self.squeeze_excite {
            pool.give(h);
        }
        self.project.recycle(pool);
    }
}

impl Tape {
    /// Gives every buffer back to `pool`.
    pub fn recycle(self, pool: &mut Pool) {
        pool.give(self.input);
        for t in self.encoder.into_iter().chain(self.decoder).flatten() {
            t.recycle(pool);
        }
        for buffer in self.pooled.into_iter().chain(self.up_inputs) {
            pool.give(buffer);
        }
        pool.give(self.head_input);
    }
}

/// The trainable parameters' values, the running statistics and the buffers of one pass.
pub struct State<'a> {
    /// Parameter values, in [`Store::params`] order.
    pub params: &'a [NamedTensor],
    /// Running statistics, in [`Store::running`] order.
    pub running: &'a mut [NamedTensor],
    /// The buffers of the pass.
    pub pool: &'a mut Pool,
}

impl Net {
    /// The structure of a network of `config` whose tensors are in `store`.
    pub fn new(config: &UNetConfig, store: &Store) -> Self {
        let stages = &config.stages;
        let defaults = BatchNormConfig::new(1);
        Self {
            stem: dense(store, "stem"),
            encoder: (0..stages.len())
                .map(|i| stage(store, &format!("encoder.stages.{i}"), stages[i].repeats))
                .collect(),
            downs: (0..stages.len() - 1)
                .map(|i| dense(store, &format!("encoder.downs.{i}.conv")))
                .collect(),
            decoder: (0..stages.len())
                .map(|i| stage(store, &format!("decoder.stages.{i}"), stages[i].repeats))
                .collect(),
            ups: (0..stages.len() - 1)
                .map(|i| dense(store, &format!("decoder.ups.{i}.conv")))
                .collect(),
            head: dense(store, "head"),
            widths: stages.iter().map(|s| s.width).collect(),
            bn: BnConstants {
                epsilon: defaults.epsilon as f32,
                momentum: defaults.momentum as f32,
            },
        }
    }

    /// The logits (`[batch][height][width]`) of `input` (`[channels][batch][height][width]`), in
    /// training mode: batch norms normalise with the batch's statistics and update their
    /// running ones.
    pub fn forward(&self, geo: Geo, input: Vec<f32>, s: &mut State) -> (Vec<f32>, Tape) {
        let mut tape = Tape {
            geo: Some(geo),
            ..Tape::default()
        };
        let levels = self.widths.len();
        let mut x = run_conv(&self.stem, geo, &input, s);
        tape.input = input;
        let mut at = geo;
        for level in 0..levels {
            let mut tapes = Vec::new();
            for block in &self.encoder[level] {
                let (y, t) = self.block_forward(block, at, x, s);
                x = y;
                tapes.push(t);
            }
            tape.encoder.push(tapes);
            if level + 1 < levels {
                let pooled = avg_pool(at, &x, s.pool);
                at = at.half();
                let down = run_conv(&self.downs[level], at, &pooled, s);
                tape.pooled.push(pooled);
                // The stage's output is the skip; the down convolution's output goes on.
                tape.up_inputs.push(std::mem::replace(&mut x, down));
            }
        }
        // `up_inputs` held the skips until the decoder needs them.
        let mut skips = std::mem::take(&mut tape.up_inputs);
        tape.decoder = (0..levels).map(|_| Vec::new()).collect();
        tape.up_inputs = (0..levels - 1).map(|_| Vec::new()).collect();
        for level in (0..levels).rev() {
            if level + 1 < levels {
                let up = &self.ups[level];
                let small = at;
                at = at.double();
                let reduced = run_conv(up, small, &x, s);
                let skip = skips.pop().expect("one skip per level");
                // [upsampled, skip] in one pooled buffer: growing the upsampled one would
                // reallocate it at a length the pool never hands out again.
                let split = reduced.len() * 4;
                let mut joined = s.pool.zeros(split + skip.len());
                upsample(small, &reduced, &mut joined[..split]);
                joined[split..].copy_from_slice(&skip);
                s.pool.give(reduced);
                s.pool.give(skip);
                tape.up_inputs[level] = std::mem::replace(&mut x, joined);
            }
            for block in &self.decoder[level] {
                let (y, t) = self.block_forward(block, at, x, s);
                x = y;
                tape.decoder[level].push(t);
            }
        }
        let logits = run_conv(&self.head, geo, &x, s);
        tape.head_input = x;
        (logits, tape)
    }

    fn conv_bn_forward(
        &self,
        layer: &ConvBn,
        geo: Geo,
        x: &[f32],
        silu: bool,
        s: &mut State,
    ) -> (Vec<f32>, ConvBnTape) {
        let weight = &s.params[layer.conv.weight].value;
        let pre = if layer.depthwise {
            depthwise(geo, x, weight, s.pool)
        } else {
            conv(layer.conv.shape, geo, x, weight, None, s.pool)
        };
        let bn = BnParams {
            gamma: &s.params[layer.gamma].value,
            beta: &s.params[layer.beta].value,
        };
        let (mean, var) = two_mut(s.running, layer.running_mean, layer.running_var);
        let (y, stats) = batch_norm(
            geo,
            &pre,
            &bn,
            (&mut mean.value, &mut var.value),
            self.bn,
            silu,
            s.pool,
        );
        (y, ConvBnTape { pre, stats })
    }

    fn block_forward(
        &self,
        block: &Block,
        geo: Geo,
        x: Vec<f32>,
        s: &mut State,
    ) -> (Vec<f32>, BlockTape) {
        let (expanded, expand) = self.conv_bn_forward(&block.expand, geo, &x, true, s);
        let mut tape = BlockTape {
            expand,
            expanded,
            ..BlockTape::default()
        };
        if let Some(layer) = &block.depthwise {
            let (h, t) = self.conv_bn_forward(layer, geo, &tape.expanded, true, s);
            tape.depthwise = Some((t, h));
        }
        if let Some(se) = &block.squeeze_excite {
            let (h, t) = squeeze_excite(
                geo,
                se.channels,
                tape.hidden(),
                &se_params(se, s.params),
                s.pool,
            );
            tape.squeeze_excite = Some((t, h));
        }
        let (mut y, project) =
            self.conv_bn_forward(&block.project, geo, tape.projected(), false, s);
        tape.project = project;
        if block.residual {
            y.iter_mut().zip(&x).for_each(|(y, &x)| *y += x);
        }
        tape.input = x;
        (y, tape)
    }

    /// Adds the gradient of the loss to `grads` (in [`Store::params`] order), given the
    /// gradient `dlogits` at the logits of the forward pass that made `tape`.
    pub fn backward(&self, tape: &Tape, dlogits: &[f32], s: &mut State, grads: &mut [Vec<f32>]) {
        let geo = tape.geo.expect("a tape from a forward pass");
        let levels = self.widths.len();
        let mut dx = conv_grad(&self.head, geo, &tape.head_input, dlogits, s, grads, true)
            .expect("asked for");
        // The decoder's stages from the finest up, then the encoder's back down; `dskips`
        // holds the gradients at the skips, coarsest last.
        let mut at = geo;
        let mut dskips: Vec<Vec<f32>> = Vec::with_capacity(levels - 1);
        for level in 0..levels {
            if level > 0 {
                at = at.half();
            }
            for (block, t) in self.decoder[level].iter().zip(&tape.decoder[level]).rev() {
                dx = self.block_backward(block, at, t, dx, s, grads);
            }
            if level + 1 < levels {
                // The stage's input was [upsampled, skip].
                let split = self.widths[level] * at.n();
                let mut dskip = s.pool.zeros(dx.len() - split);
                dskip.copy_from_slice(&dx[split..]);
                dskips.push(dskip);
                let small = at.half();
                let dreduced = upsample_backward(small, &dx[..split], s.pool);
                s.pool.give(dx);
                dx = conv_grad(
                    &self.ups[level],
                    small,
                    &tape.up_inputs[level],
                    &dreduced,
                    s,
                    grads,
                    true,
                )
                .expect("asked for");
                s.pool.give(dreduced);
            }
        }
        for level in (0..levels).rev() {
            if level + 1 < levels {
                let small = at;
                at = at.double();
                let dpooled = conv_grad(
                    &self.downs[level],
                    small,
                    &tape.pooled[level],
                    &dx,
                    s,
                    grads,
                    true,
                )
                .expect("asked for");
                let next = avg_pool_backward(at, &dpooled, s.pool);
                s.pool.give(std::mem::replace(&mut dx, next));
                s.pool.give(dpooled);
                let dskip = dskips.pop().expect("one skip per level");
                dx.iter_mut().zip(&dskip).for_each(|(d, &skip)| *d += skip);
                s.pool.give(dskip);
            }
            for (block, t) in self.encoder[level].iter().zip(&tape.encoder[level]).rev() {
                dx = self.block_backward(block, at, t, dx, s, grads);
            }
        }
        conv_grad(&self.stem, geo, &tape.input, &dx, s, grads, false);
        s.pool.give(dx);
    }

    fn block_backward(
        &self,
        block: &Block,
        geo: Geo,
        tape: &BlockTape,
        dy: Vec<f32>,
        s: &mut State,
        grads: &mut [Vec<f32>],
    ) -> Vec<f32> {
        let mut dh = conv_bn_grad(
            &block.project,
            geo,
            tape.projected(),
            &tape.project,
            false,
            &dy,
            s,
            grads,
        );
        if let (Some(se), Some((se_tape, _))) = (&block.squeeze_excite, &tape.squeeze_excite) {
            let ids = [
                se.reduce_weight,
                se.reduce_bias,
                se.expand_weight,
                se.expand_bias,
            ];
            let mut taken = ids.map(|i| std::mem::take(&mut grads[i]));
            let [rw, rb, ew, eb] = &mut taken;
            let next = squeeze_excite_backward(
                geo,
                se.channels,
                tape.hidden(),
                se_tape,
                &se_params(se, s.params),
                &dh,
                SeGrads {
                    reduce_weight: rw,
                    reduce_bias: rb,
                    expand_weight: ew,
                    expand_bias: eb,
                },
                s.pool,
            );
            s.pool.give(std::mem::replace(&mut dh, next));
            for (i, g) in ids.into_iter().zip(taken) {
                grads[i] = g;
            }
        }
        if let (Some(layer), Some((t, _))) = (&block.depthwise, &tape.depthwise) {
            let next = conv_bn_grad(layer, geo, &tape.expanded, t, true, &dh, s, grads);
            s.pool.give(std::mem::replace(&mut dh, next));
        }
        let mut dx = conv_bn_grad(
            &block.expand,
            geo,
            &tape.input,
            &tape.expand,
            true,
            &dh,
            s,
            grads,
        );
        s.pool.give(dh);
        if block.residual {
            dx.iter_mut().zip(&dy).for_each(|(d, &g)| *d += g);
        }
        s.pool.give(dy);
        dx
    }
}

/// Runs a dense convolution with its bias.
fn run_conv(layer: &Conv, geo: Geo, x: &[f32], s: &mut State) -> Vec<f32> {
    conv(
        layer.shape,
        geo,
        x,
        &s.params[layer.weight].value,
        layer.bias.map(|b| s.params[b].value.as_slice()),
        s.pool,
    )
}

/// The backward of [`run_conv`].
fn conv_grad(
    layer: &Conv,
    geo: Geo,
    x: &[f32],
    dy: &[f32],
    s: &mut State,
    grads: &mut [Vec<f32>],
    want_dx: bool,
) -> Option<Vec<f32>> {
    let mut dweight = std::mem::take(&mut grads[layer.weight]);
    let mut dbias = layer.bias.map(|b| std::mem::take(&mut grads[b]));
    let dx = conv_backward(
        layer.shape,
        geo,
        x,
        &s.params[layer.weight].value,
        dy,
        &mut dweight,
        dbias.as_deref_mut(),
        want_dx,
        s.pool,
    );
    grads[layer.weight] = dweight;
    if let (Some(b), Some(d)) = (layer.bias, dbias) {
        grads[b] = d;
    }
    dx
}

/// The backward of a [`ConvBn`] (and its SiLU when `silu`) whose input was `x`.
#[allow(clippy::too_many_arguments)]
fn conv_bn_grad(
    layer: &ConvBn,
    geo: Geo,
    x: &[f32],
    tape: &ConvBnTape,
    silu: bool,
    dy: &[f32],
    s: &mut State,
    grads: &mut [Vec<f32>],
) -> Vec<f32> {
    let mut dgamma = std::mem::take(&mut grads[layer.gamma]);
    let mut dbeta = std::mem::take(&mut grads[layer.beta]);
    let bn = BnParams {
        gamma: &s.params[layer.gamma].value,
        beta: &s.params[layer.beta].value,
    };
    let dpre = batch_norm_backward(
        geo,
        &tape.pre,
        &tape.stats,
        &bn,
        silu,
        dy,
        &mut dgamma,
        &mut dbeta,
        s.pool,
    );
    grads[layer.gamma] = dgamma;
    grads[layer.beta] = dbeta;
    let dx = if layer.depthwise {
        let mut dweight = std::mem::take(&mut grads[layer.conv.weight]);
        let dx = depthwise_backward(
            geo,
            x,
            &s.params[layer.conv.weight].value,
            &dpre,
            &mut dweight,
            s.pool,
        );
        grads[layer.conv.weight] = dweight;
        dx
    } else {
        conv_grad(&layer.conv, geo, x, &dpre, s, grads, true).expect("asked for")
    };
    s.pool.give(dpre);
    dx
}

fn se_params<'a>(se: &SqueezeExcite, params: &'a [NamedTensor]) -> SeParams<'a> {
    SeParams {
        reduce_weight: &params[se.reduce_weight].value,
        reduce_bias: &params[se.reduce_bias].value,
        expand_weight: &params[se.expand_weight].value,
        expand_bias: &params[se.expand_bias].value,
    }
}

/// Two distinct elements of a slice, both mutable.
fn two_mut<T>(items: &mut [T], a: usize, b: usize) -> (&mut T, &mut T) {
    assert_ne!(a, b, "two distinct elements");
    if a < b {
        let (left, right) = items.split_at_mut(b);
        (&mut left[a], &mut right[0])
    } else {
        let (left, right) = items.split_at_mut(a);
        (&mut right[0], &mut left[b])
    }
}

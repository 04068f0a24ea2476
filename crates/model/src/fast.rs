//! A dedicated CPU inference path for the [`UNet`]: the same network, about 4× faster
//! than burn's Flex backend on 2 cores (figures in `BENCHMARKS.md`), with no buffer allocated
//! once warm.
//!
//! [`FastUNet::from_model`] reads the weights of a burn [`UNet`] once, folds every batch norm
//! into the convolution before it and packs the weights for the kernels. [`FastUNet::forward`]
//! then runs on plain slices in the layout of [`crate::input::push_sample`]:
//!
//! - every convolution but the depthwise one is a matrix product of packed weights (panels of 8
//!   output channels) with a tile of pixels, 3×3 ones through a per-tile im2col that stays in
//!   L2; the accumulators live in SIMD registers (AVX-512 or AVX2, chosen at run time through
//!   [`pulp`]) and bias, residual and SiLU are applied there before the store;
//! - a Fused-MBConv block runs tile by tile (3×3 expansion, SiLU, 1×1 projection, residual),
//!   so its hidden activations never reach memory;
//! - squeeze-excitation rescales the projection's weights per sample instead of the hidden
//!   activations;
//! - in [`Precision::Bf16`] (opt-in, AVX-512 BF16 CPUs) the Fused-MBConv expansions and the
//!   1×1 convolutions multiply in bf16 with fp32 sums, twice the multiply-adds per
//!   instruction; the masks stay those of fp32 to an IoU of 0.99 (tested on the benchmarks);
//! - the work runs on a [`rayon`] pool sized to the cores, and every buffer is kept between
//!   calls. A batch of at least as many samples as threads is cut into one part per thread,
//!   each run whole on its thread with its own buffers (its activations stay in that core's
//!   cache, and no thread waits on another between layers: 2 samples per thread run ~8%
//!   faster than 4 samples split layer by layer, `BENCHMARKS.md`); a smaller batch splits
//!   every layer over the samples, row tiles, pixel ranges and planes.
//!
//! ```
//! use burn::tensor::{Device, Tensor, TensorData};
//! use scribseg_model::fast::FastUNet;
//! use scribseg_model::UNetConfig;
//!
//! let device = Device::flex();
//! let model = UNetConfig::new().init(&device);
//! let mut fast = FastUNet::from_model(&model);
//!
//! let dims = [1, 4, 32, 32];
//! let input: Vec<f32> = (0..4 * 32 * 32).map(|i| (i as f32 * 0.37).sin()).collect();
//! let mut logits = vec![0.0; 32 * 32];
//! fast.forward(&input, dims, &mut logits);
//!
//! let expected = model.forward(Tensor::from_data(TensorData::new(input, dims), &device));
//! let expected = expected.into_data().try_into_vec::<f32>().unwrap();
//! let max_diff = logits.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
//! assert!(max_diff < 1e-4);
//! ```

mod bf16;
mod gemm;
mod kernel;
mod layers;
mod network;
mod params;
mod planes;
mod shared;
mod simd;

use std::sync::{Mutex, PoisonError};

use pulp::{Simd, WithSimd};
use rayon::prelude::*;

use crate::{Error, UNet};
use bf16::Bf16;
use layers::{Ctx, Geometry};
use network::{Buffers, Network, Sizes};
use params::Params;
pub use simd::{EXP_LN2, EXP_MAX, EXP_MIN, EXP_POLYNOMIAL, EXP_ROUND};

/// The arithmetic of the fast path's matrix products.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    /// fp32 throughout: the logits of burn's backend to within 1e-4.
    #[default]
    F32,
    /// The convolutions but the stem, the head and the depthwise ones (every Fused-MBConv
    /// expansion, every 1×1 convolution) multiply bf16 values and sum in fp32 (AVX-512 BF16's
    /// `vdpbf16ps`); the rest stays fp32. On CPUs with AVX-512 BF16 only.
    Bf16,
}

impl Precision {
    /// The fastest precision this CPU runs: [`Precision::Bf16`] on AMD CPUs with AVX-512
    /// BF16 (Zen 4 and later issue `vdpbf16ps` at twice the rate of fp32 FMAs), else
    /// [`Precision::F32`]: Intel's AVX-512 BF16 cores run this path's bf16 products no
    /// faster than fp32, and the packing makes the whole pass slower (BENCHMARKS.md).
    pub fn fastest() -> Self {
        if Self::Bf16.is_supported() && amd() {
            Self::Bf16
        } else {
            Self::F32
        }
    }

    /// Whether this CPU can run it ([`Precision::Bf16`] needs AVX-512 BF16).
    pub fn is_supported(self) -> bool {
        match self {
            Self::F32 => true,
            Self::Bf16 => Bf16::detect().is_some(),
        }
    }
}

/// Whether the CPU is AMD's (its `cpuid` vendor string).
fn amd() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        // `cpuid` leaf 0 is there on every x86-64 CPU.
        #[allow(unused_unsafe)]
        let leaf = unsafe { std::arch::x86_64::__cpuid(0) };
        let vendor = [leaf.ebx, leaf.edx, leaf.ecx]
            .map(u32::to_le_bytes)
            .concat();
        vendor == b"AuthenticAMD"
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::F32 => "fp32",
            Self::Bf16 => "bf16",
        })
    }
}

/// The [`UNet`] compiled for fast inference on the CPU; see the [module docs](self).
///
/// It owns its weights (folded and packed), a thread pool and every buffer of the forward pass:
/// repeated calls at the same (or a smaller) batch size and resolution allocate nothing.
pub struct FastUNet {
    network: Network,
    pool: rayon::ThreadPool,
    threads: usize,
    arch: pulp::Arch,
    /// The bf16 kernel's token when it is in use ([`Precision::Bf16`]).
    bf16: Option<Bf16>,
    /// One scratch buffer per pool thread (im2col and hidden tiles).
    scratch: Vec<Mutex<Vec<f32>>>,
    /// The buffers of a batch split layer by layer.
    buffers: Buffers,
    /// The buffers of each part of a batch split into one part per thread.
    parts: Vec<Buffers>,
    /// The buffer sizes of the last geometry (kept to reuse its allocation).
    sizes: Sizes,
    /// The geometry the buffers were last sized for.
    prepared: Option<Geometry>,
}

impl std::fmt::Debug for FastUNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FastUNet")
            .field("threads", &self.threads)
            .field("arch", &self.arch)
            .field("precision", &self.precision())
            .field("prepared", &self.prepared)
            .finish_non_exhaustive()
    }
}

impl FastUNet {
    /// Reads, folds and packs the weights of `model`, with one thread per available core.
    pub fn from_model(model: &UNet) -> Self {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self::with_threads(model, threads)
    }

    /// As [`FastUNet::from_model`], with `threads` threads (at least 1).
    ///
    /// # Panics
    ///
    /// If the operating system cannot start the threads.
    pub fn with_threads(model: &UNet, threads: usize) -> Self {
        let threads = threads.max(1);
        let network = Network::new(model.config(), &Params::of(model));
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("scribseg-fast-{i}"))
            .build()
            .expect("the operating system starts the inference threads");
        Self {
            network,
            pool,
            threads,
            arch: pulp::Arch::new(),
            bf16: None,
            scratch: (0..threads).map(|_| Mutex::new(Vec::new())).collect(),
            buffers: Buffers::default(),
            parts: Vec::new(),
            sizes: Sizes::default(),
            prepared: None,
        }
    }

    /// Replaces the weights by `model`'s (e.g. a network in training, between steps), keeping
    /// the thread pool and the buffers: cheaper than [`FastUNet::from_model`], which starts
    /// new threads.
    pub fn load_weights(&mut self, model: &UNet) {
        self.network = Network::new(model.config(), &Params::of(model));
        // Another structure needs other buffer sizes; the same one re-sizes to what it has.
        self.prepared = None;
    }

    /// The number of threads of the pool.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// The precision of the matrix products ([`Precision::F32`] unless set).
    pub fn precision(&self) -> Precision {
        match self.bf16 {
            Some(_) => Precision::Bf16,
            None => Precision::F32,
        }
    }

    /// Runs the following calls in `precision`.
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] for [`Precision::Bf16`] on a CPU without AVX-512 BF16.
    pub fn set_precision(&mut self, precision: Precision) -> Result<(), Error> {
        let bf16 = match precision {
            Precision::F32 => None,
            Precision::Bf16 => Some(Bf16::detect().ok_or_else(|| {
                Error::Unsupported("bf16 inference needs a CPU with AVX-512 BF16".into())
            })?),
        };
        if bf16.is_some() != self.bf16.is_some() {
            // The scratch tiles differ in size.
            self.prepared = None;
        }
        self.bf16 = bf16;
        Ok(())
    }

    /// Computes the logits of `input`.
    ///
    /// # Shapes
    ///
    /// - `input`: `dims = [batch, in_channels, height, width]`, channel-major (the layout of
    ///   [`crate::input::push_sample`]), with `height` and `width` multiples of
    ///   [`UNetConfig::size_multiple`](crate::UNetConfig::size_multiple) (16 by default);
    /// - `out`: `[batch, out_channels, height, width]`, overwritten.
    ///
    /// The buffers grow to the largest batch size and resolution seen and are kept: once every
    /// size in use has been seen, calls allocate no buffer (switching between sizes included).
    ///
    /// # Panics
    ///
    /// If the channels, the size or the slice lengths do not fit.
    pub fn forward(&mut self, input: &[f32], dims: [usize; 4], out: &mut [f32]) {
        let [batch, channels, height, width] = dims;
        let multiple = self.network.size_multiple();
        assert_eq!(channels, self.network.in_channels(), "input channels");
        assert!(
            height > 0 && width > 0 && height % multiple == 0 && width % multiple == 0,
            "height and width must be positive multiples of {multiple}, not {height}×{width}"
        );
        assert_eq!(
            input.len(),
            batch * channels * height * width,
            "input length"
        );
        let out_len = batch * self.network.out_channels() * height * width;
        assert_eq!(out.len(), out_len, "output length");
        if batch == 0 {
            return;
        }
        let g = Geometry {
            batch,
            height,
            width,
        };
        self.prepare(g);
        let (arch, network, scratch, bf16) = (self.arch, &self.network, &self.scratch, self.bf16);
        let Some(per_part) = self.samples_per_part(batch) else {
            let run = Run {
                network,
                g,
                input,
                buffers: &mut self.buffers,
                out,
                threads: self.threads,
                scratch,
                bf16,
            };
            self.pool.install(|| arch.dispatch(run));
            return;
        };
        let (in_sample, out_sample) = (input.len() / batch, out.len() / batch);
        let parts = &mut self.parts;
        self.pool.install(|| {
            parts
                .par_iter_mut()
                .zip(input.par_chunks(per_part * in_sample))
                .zip(out.par_chunks_mut(per_part * out_sample))
                .for_each(|((buffers, input), out)| {
                    let run = Run {
                        network,
                        g: Geometry {
                            batch: input.len() / in_sample,
                            ..g
                        },
                        input,
                        buffers,
                        out,
                        threads: 1,
                        scratch,
                        bf16,
                    };
                    arch.dispatch(run);
                });
        });
    }

    /// The samples of each part when a batch of `batch` is cut into one part per thread (the
    /// last part may have fewer), or `None` when it is split layer by layer: with one thread,
    /// or fewer samples than threads.
    fn samples_per_part(&self, batch: usize) -> Option<usize> {
        (self.threads > 1 && batch >= self.threads).then(|| batch.div_ceil(self.threads))
    }

    /// Sizes the buffers for `g` unless they were sized for it last time.
    fn prepare(&mut self, g: Geometry) {
        if self.prepared == Some(g) {
            return;
        }
        let bf16 = self.bf16.is_some();
        match self.samples_per_part(g.batch) {
            None => {
                self.network.sizes(g, self.threads, bf16, &mut self.sizes);
                self.buffers.reserve(&self.sizes);
            }
            Some(per_part) => {
                let part = Geometry {
                    batch: per_part,
                    ..g
                };
                self.network.sizes(part, 1, bf16, &mut self.sizes);
                let count = g.batch.div_ceil(per_part);
                if self.parts.len() < count {
                    self.parts.resize_with(count, Buffers::default);
                }
                for buffers in &mut self.parts[..count] {
                    buffers.reserve(&self.sizes);
                }
            }
        }
        let sizes = &self.sizes;
        for scratch in &self.scratch {
            let mut scratch = scratch.lock().unwrap_or_else(PoisonError::into_inner);
            if scratch.len() < sizes.scratch {
                scratch.resize(sizes.scratch, 0.0);
            }
        }
        self.prepared = Some(g);
    }
}

/// The forward pass as a [`WithSimd`] operation, so that it runs with the best instruction set.
struct Run<'a> {
    network: &'a Network,
    g: Geometry,
    input: &'a [f32],
    buffers: &'a mut Buffers,
    out: &'a mut [f32],
    threads: usize,
    scratch: &'a [Mutex<Vec<f32>>],
    bf16: Option<Bf16>,
}

impl WithSimd for Run<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let ctx = Ctx {
            simd,
            bf16: self.bf16,
            threads: self.threads,
            scratch: self.scratch,
        };
        self.network
            .forward(ctx, self.g, self.input, self.buffers, self.out);
    }
}

//! Allocations per steady-state forward pass of the fast CPU path (and of burn's Flex backend,
//! for comparison), counted by a global allocator: `cargo bench -p scribseg-model --bench
//! allocations`. Prints one line per path and batch size, and for bf16 where the CPU has
//! AVX-512 BF16.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use burn::tensor::{Device, Distribution, Tensor};
use scribseg_model::fast::{FastUNet, Precision};
use scribseg_model::UNetConfig;

/// The system allocator, counting allocations and reallocations (on every thread).
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is passed on.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations per call of `f` over `calls` calls, after `warm_up` calls.
fn per_call(warm_up: usize, calls: usize, mut f: impl FnMut()) -> (usize, f64) {
    for _ in 0..warm_up {
        f();
    }
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    for _ in 0..calls {
        f();
    }
    let total = ALLOCATIONS.load(Ordering::SeqCst) - before;
    (total, total as f64 / calls as f64)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this too, briefly.
    let quick = !std::env::args().any(|arg| arg == "--bench");
    let calls = if quick { 3 } else { 200 };
    let device = Device::flex();
    let model = UNetConfig::new().init(&device);
    let mut fast = FastUNet::from_model(&model);
    let mut inputs = Vec::new();
    for batch in [1, 4] {
        let dims = [batch, 4, 128, 128];
        let input = Tensor::<4>::random(dims, Distribution::Normal(0.0, 1.0), &device);
        let values = input
            .clone()
            .into_data()
            .try_into_vec::<f32>()
            .expect("f32 input");
        let mut out = vec![0.0; batch * 128 * 128];
        let (total, mean) = per_call(3, calls, || fast.forward(&values, dims, &mut out));
        println!("fast  batch {batch}: {total} allocations in {calls} calls ({mean:.2} per call)");
        let burn_calls = calls.min(20);
        let (total, mean) = per_call(1, burn_calls, || {
            let _ = model.forward(input.clone()).into_data();
        });
        println!(
            "flex  batch {batch}: {total} allocations in {burn_calls} calls ({mean:.1} per call)"
        );
        inputs.push((dims, values, out));
    }
    // A batch of 1, then of 4, then of 1...: the buffers sized for 4 serve 1 as well.
    let mut turn = 0;
    let (total, mean) = per_call(3, calls, || {
        let (dims, values, out) = &mut inputs[turn % 2];
        fast.forward(values, *dims, out);
        turn += 1;
    });
    println!(
        "fast  batch 1 and 4 in turn: {total} allocations in {calls} calls ({mean:.2} per call)"
    );
    if fast.set_precision(Precision::Bf16).is_ok() {
        for (dims, values, out) in &mut inputs {
            let (total, mean) = per_call(3, calls, || fast.forward(values, *dims, out));
            let batch = dims[0];
            println!(
                "bf16  batch {batch}: {total} allocations in {calls} calls ({mean:.2} per call)"
            );
        }
    } else {
        println!("bf16: skipped, this CPU has no AVX-512 BF16");
    }
}

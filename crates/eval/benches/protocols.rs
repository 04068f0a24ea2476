//! The evaluation harness's own cost per interaction at DAVIS size
//! (854×480), apart from the predictor: choosing a click and scoring a map.
// criterion_group! defines an undocumented public function.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use scribseg_eval::next_click;
use scribseg_sim::{Confusion, Mask};

const W: usize = 854;
const H: usize = 480;

/// An ellipse covering about a third of the frame.
fn ellipse(shrink: f32) -> Mask {
    Mask::from_fn(W, H, |x, y| {
        ((x as f32 - 427.0) / (260.0 - shrink)).powi(2)
            + ((y as f32 - 240.0) / (150.0 - shrink)).powi(2)
            <= 1.0
    })
}

fn bench(c: &mut Criterion) {
    let truth = ellipse(0.0);
    let none = Mask::new(W, H);
    let almost = ellipse(3.0);
    c.bench_function("next_click first (whole object missed)", |b| {
        b.iter(|| next_click(&truth, None, &none, &none))
    });
    c.bench_function("next_click late (3-pixel band missed)", |b| {
        b.iter(|| next_click(&truth, None, &almost, &none))
    });
    c.bench_function("confusion count", |b| {
        b.iter(|| Confusion::count(&almost, &truth, Some(&none)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Generated label shapes for the property tests.

use proptest::prelude::*;
use scribseg_sim::Mask;

/// A named generated shape.
#[derive(Clone, Debug)]
pub struct Shape {
    pub name: &'static str,
    pub mask: Mask,
    /// Whether every part is at least 10 px thick and has no hole.
    pub thick: bool,
}

fn disk(w: usize, h: usize, cx: f32, cy: f32, r: f32) -> Mask {
    Mask::from_fn(w, h, |x, y| {
        (x as f32 - cx).powi(2) + (y as f32 - cy).powi(2) <= r * r
    })
}

fn union(a: &Mask, b: &Mask) -> Mask {
    a.not().minus(b).not()
}

/// One shape of each kind the simulator must handle, sized `w × h`.
pub fn shape(kind: usize, w: usize, h: usize, a: f32, b: f32) -> Shape {
    let mut s = unsized_shape(kind, w, h, a, b);
    // Below 30 px the parts of most kinds are thinner than 10 px.
    s.thick &= w.min(h) >= 30;
    s
}

fn unsized_shape(kind: usize, w: usize, h: usize, a: f32, b: f32) -> Shape {
    let (fw, fh) = (w as f32, h as f32);
    let m = fw.min(fh);
    match kind % 8 {
        0 => Shape {
            name: "disk",
            mask: disk(
                w,
                h,
                fw * (0.2 + 0.6 * a),
                fh * (0.2 + 0.6 * b),
                m * 0.15 + 3.0,
            ),
            thick: true,
        },
        1 => {
            let outer = disk(w, h, fw / 2.0, fh / 2.0, m * 0.4);
            let inner = disk(w, h, fw / 2.0, fh / 2.0, m * 0.4 - 10.0 - a * m * 0.1);
            Shape {
                name: "ring",
                mask: outer.minus(&inner),
                thick: false,
            }
        }
        2 => {
            // A thin line, 1–2 px wide, diagonal.
            let slope = 0.2 + b;
            Shape {
                name: "thin line",
                mask: Mask::from_fn(w, h, |x, y| {
                    x > 2
                        && x + 2 < w
                        && (y as f32 - (fh * 0.2 + x as f32 * slope * fh / fw)).abs() < 0.5 + a
                }),
                thick: false,
            }
        }
        3 => {
            let one = disk(w, h, fw * 0.25, fh * 0.3, m * 0.12 + 2.0);
            let two = disk(w, h, fw * 0.7, fh * 0.7, m * 0.18 + 2.0);
            let three = disk(w, h, fw * 0.8, fh * 0.2, m * 0.08 + 3.0);
            Shape {
                name: "several components",
                mask: union(&union(&one, &two), &three),
                thick: true,
            }
        }
        4 => {
            let body = Mask::from_fn(w, h, |x, y| {
                x > w / 8 && x < w * 7 / 8 && y > h / 8 && y < h * 7 / 8
            });
            let hole = disk(w, h, fw * (0.35 + 0.3 * a), fh * 0.5, m * 0.12);
            Shape {
                name: "rectangle with a hole",
                mask: body.minus(&hole),
                thick: false,
            }
        }
        5 => {
            let mut mask = Mask::new(w, h);
            mask.set(((fw - 1.0) * a) as usize, ((fh - 1.0) * b) as usize, true);
            Shape {
                name: "one pixel",
                mask,
                thick: false,
            }
        }
        6 => Shape {
            name: "touching the border",
            mask: disk(w, h, 0.0, fh * b, m * 0.3 + 4.0),
            thick: true,
        },
        _ => Shape {
            name: "full image",
            mask: Mask::from_fn(w, h, |_, _| true),
            thick: true,
        },
    }
}

/// Any generated shape at any size from 8×8 to 300×300.
pub fn any_shape() -> impl Strategy<Value = Shape> {
    (
        0usize..8,
        8usize..300,
        8usize..300,
        0.0f32..1.0,
        0.0f32..1.0,
    )
        .prop_map(|(kind, w, h, a, b)| shape(kind, w, h, a, b))
}

/// Shapes without holes whose every part is at least 10 px thick.
pub fn thick_shape() -> impl Strategy<Value = Shape> {
    (
        prop::sample::select(vec![0usize, 3, 6, 7]),
        30usize..300,
        30usize..300,
        0.0f32..1.0,
        0.0f32..1.0,
    )
        .prop_map(|(kind, w, h, a, b)| shape(kind, w, h, a, b))
        .prop_filter("thick", |s| s.thick)
}

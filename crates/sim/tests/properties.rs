//! Property tests of the scribble simulator over generated shapes.

use crate::shapes::{any_shape, shape, thick_shape};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use scribseg_sim::{
    components, simulate_scribble, Mask, Plane, Polarity, ScribbleParams, Transform, DRAW_RADIUS,
};

fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// Pixels painted positive by an unclipped radius-2 drawing of the paper's
/// strokes (free to cross the background).
fn raw_drawing(label: &Mask, seed: u64) -> Plane {
    let params = ScribbleParams {
        stay_inside: false,
        ..ScribbleParams::default()
    };
    let scribble = simulate_scribble(label, &params, &mut rng(seed));
    let mut plane = Plane::new(label.width(), label.height());
    scribble.draw(&mut plane, Transform::IDENTITY, DRAW_RADIUS, None);
    plane
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// The rendered (clipped) scribble is entirely positive and inside the label.
    #[test]
    fn rendered_scribble_lies_inside(shape in any_shape(), seed in any::<u64>()) {
        let s = simulate_scribble(&shape.mask, &ScribbleParams::default(), &mut rng(seed));
        prop_assert!(s.strokes.iter().all(|k| k.polarity == Polarity::Positive));
        let plane = s.render(&shape.mask);
        for (i, &v) in plane.as_slice().iter().enumerate() {
            prop_assert!(v == 0.0 || (v == 1.0 && shape.mask.as_slice()[i] != 0), "{} pixel {i}", shape.name);
        }
    }

    /// By default every stroke point lies within a pixel of the label:
    /// strokes are cut where they leave it.
    #[test]
    fn strokes_stay_inside_the_label(shape in any_shape(), seed in any::<u64>()) {
        let s = simulate_scribble(&shape.mask, &ScribbleParams::default(), &mut rng(seed));
        for p in s.strokes.iter().flat_map(|k| &k.points) {
            prop_assert!(shape.mask.is_near(*p), "{}: {p:?}", shape.name);
        }
    }

    /// Even unclipped, a radius-2 brush on a shape at least 10 px thick stays ≥ 85% inside
    /// (the misses: chords across a hole the ×3 outside cost lets through).
    #[test]
    fn unclipped_drawing_stays_mostly_inside(shape in thick_shape(), seed in any::<u64>()) {
        let plane = raw_drawing(&shape.mask, seed);
        let painted = plane.as_slice().iter().filter(|&&v| v > 0.0).count();
        let inside = plane.as_slice().iter().zip(shape.mask.as_slice()).filter(|(&v, &m)| v > 0.0 && m != 0).count();
        prop_assert!(painted > 0);
        prop_assert!(inside as f32 >= 0.95 * painted as f32, "{}: {inside}/{painted} inside", shape.name);
    }

    /// Every component at or above the size threshold receives scribble pixels.
    #[test]
    fn every_large_enough_component_is_marked(shape in any_shape(), seed in any::<u64>()) {
        let params = ScribbleParams::default();
        let plane = simulate_scribble(&shape.mask, &params, &mut rng(seed)).render(&shape.mask);
        let parts = components(&shape.mask);
        let largest = parts.first().map_or(0, |c| c.area);
        let min_area = params.min_component_pixels.max((params.min_component_fraction * largest as f32).ceil() as usize);
        for (i, part) in parts.iter().enumerate() {
            if i > 0 && part.area < min_area {
                continue;
            }
            let w = part.mask.width();
            let marked = part.mask.as_slice().iter().enumerate().any(|(j, &v)| {
                let x = (j % w) as isize + part.origin.0;
                let y = (j / w) as isize + part.origin.1;
                v != 0 && plane.get(x as usize, y as usize) > 0.0
            });
            prop_assert!(marked, "{}: component {i} of area {} unmarked", shape.name, part.area);
        }
    }

    /// The same seed gives the same scribble.
    #[test]
    fn deterministic_under_a_seed(shape in any_shape(), seed in any::<u64>()) {
        let params = ScribbleParams::default();
        let a = simulate_scribble(&shape.mask, &params, &mut rng(seed));
        let b = simulate_scribble(&shape.mask, &params, &mut rng(seed));
        prop_assert_eq!(a, b);
    }
}

#[test]
fn empty_label_gets_no_scribble() {
    for (w, h) in [(1, 1), (128, 128), (7, 300)] {
        let s = simulate_scribble(&Mask::new(w, h), &ScribbleParams::default(), &mut rng(0));
        assert!(s.is_empty());
    }
}

#[test]
fn different_seeds_give_different_scribbles() {
    let label = shape(0, 128, 128, 0.5, 0.5).mask;
    let params = ScribbleParams::default();
    let distinct: std::collections::HashSet<String> = (0..10)
        .map(|seed| format!("{:?}", simulate_scribble(&label, &params, &mut rng(seed))))
        .collect();
    assert!(
        distinct.len() >= 8,
        "only {} distinct scribbles in 10 seeds",
        distinct.len()
    );
}

#[test]
fn one_pixel_object_gets_a_dot_on_it() {
    let label = shape(5, 40, 30, 0.3, 0.6).mask;
    let plane = simulate_scribble(&label, &ScribbleParams::default(), &mut rng(1)).render(&label);
    assert_eq!(plane.as_slice().iter().filter(|&&v| v > 0.0).count(), 1);
}

#[test]
fn a_long_bar_gets_a_long_stroke() {
    // A person draws along an elongated object, not a dot in its middle.
    let label = Mask::from_fn(200, 40, |x, y| {
        (10..190).contains(&x) && (12..28).contains(&y)
    });
    for seed in 0..5 {
        let s = simulate_scribble(&label, &ScribbleParams::default(), &mut rng(seed));
        let xs: Vec<f32> = s
            .strokes
            .iter()
            .flat_map(|k| k.points.iter().map(|p| p.x))
            .collect();
        let span = xs.iter().copied().fold(f32::MIN, f32::max)
            - xs.iter().copied().fold(f32::MAX, f32::min);
        assert!(
            span > 90.0,
            "seed {seed}: scribble spans only {span} px of 180"
        );
    }
}

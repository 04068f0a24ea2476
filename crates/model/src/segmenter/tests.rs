//! The crop rule, the interaction channel, the growing crops and the output, each on its own.

use scribseg_sim::{Point, Polarity};

use super::*;
use crate::input::PREVIOUS_CHANNELS;

/// An image large enough that no window here meets its cap.
const LARGE: (usize, usize) = (10_000, 10_000);

#[test]
fn window_is_a_square_around_the_strokes_with_context() {
    let config = SegmenterConfig::default();
    let strokes = [Point::new(10.0, 20.0), Point::new(49.0, 29.0)];
    let w = config.crop_rule().around_points(strokes).unwrap();
    assert_eq!((w.width, w.height), (72.0, 72.0)); // 40 px × 1.8
    assert_eq!((w.x0 + w.width / 2.0, w.y0 + w.height / 2.0), (30.0, 25.0));
    let click = config
        .crop_rule()
        .around_points([Point::new(5.0, 5.0)])
        .unwrap();
    assert_eq!(click.width, 48.0);
    assert!(config
        .crop_rule()
        .around_points(std::iter::empty())
        .is_none());
}

#[test]
fn window_is_no_wider_than_the_image_nor_narrower_than_min_side() {
    let config = SegmenterConfig::default();
    // Strokes over 200 × 100 px of a 218 × 166 image: 360 px with the
    // context, capped at 218 and still centred on the strokes.
    let strokes = [Point::new(9.0, 30.0), Point::new(208.0, 129.0)];
    assert_eq!(
        image_window(strokes, &config, LARGE),
        config.crop_rule().around_points(strokes)
    );
    let w = image_window(strokes, &config, (218, 166)).unwrap();
    assert_eq!((w.width, w.height), (218.0, 218.0));
    assert_eq!((w.x0 + w.width / 2.0, w.y0 + w.height / 2.0), (109.0, 80.0));
    // A 30-px image still gets the smallest window.
    let small = image_window(strokes, &config, (30, 20)).unwrap();
    assert_eq!(small.width, 48.0);
}

#[test]
fn the_refined_window_follows_the_predicted_object_and_the_strokes() {
    // A 256-px window at (100, 50): 2 image pixels per crop pixel. The first pass
    // predicted crop pixels 10..=59 × 20..=39, i.e. image x 120..220, y 90..130.
    let window = Window {
        x0: 100.0,
        y0: 50.0,
        width: 256.0,
        height: 256.0,
    };
    let crop: Vec<f32> = (0..CROP_PIXELS)
        .map(|i| {
            let (x, y) = (i % INPUT_SIZE, i / INPUT_SIZE);
            if (10..60).contains(&x) && (20..40).contains(&y) {
                0.9
            } else {
                0.1
            }
        })
        .collect();
    let config = SegmenterConfig {
        context: 0.25,
        ..SegmenterConfig::default()
    };
    let stroke = |points: &[(f32, f32)], polarity| Stroke {
        points: points.iter().map(|&(x, y)| Point::new(x, y)).collect(),
        polarity,
    };
    let inside = [stroke(
        &[(150.0, 100.0), (170.0, 110.0)],
        Polarity::Positive,
    )];
    let w = object_window(&inside, &window, &crop, &config, LARGE).expect("an object");
    // Extent 100 px (+1 for pixel edges) × 1.5, centred on the object.
    assert!((w.width - 151.5).abs() < 1e-3, "{w:?}");
    assert!((w.x0 + w.width / 2.0 - 170.5).abs() < 1e-3, "{w:?}");
    assert!((w.y0 + w.height / 2.0 - 110.5).abs() < 1e-3, "{w:?}");
    // A positive stroke outside the object widens the window; a negative one does not.
    let outside = [
        stroke(&[(150.0, 100.0)], Polarity::Positive),
        stroke(&[(300.0, 100.0)], Polarity::Positive),
    ];
    let wider = object_window(&outside, &window, &crop, &config, LARGE).expect("an object");
    assert!(wider.x0 + wider.width > 300.0, "{wider:?}");
    let negative = [stroke(&[(300.0, 100.0)], Polarity::Negative)];
    let same = object_window(&negative, &window, &crop, &config, LARGE).expect("an object");
    assert_eq!(same, w);
    // Nothing predicted: no second pass.
    assert!(object_window(&inside, &window, &vec![0.1; CROP_PIXELS], &config, LARGE).is_none());
}

#[test]
fn an_answer_reaches_the_edge_only_above_threshold_in_the_outer_two_pixels() {
    let with = |x: usize, y: usize, p: f32| {
        let mut crop = vec![0.1; CROP_PIXELS];
        crop[y * INPUT_SIZE + x] = p;
        crop
    };
    assert!(reaches_edge(&with(1, 60, 0.9), 0.4));
    assert!(reaches_edge(&with(60, INPUT_SIZE - 2, 0.9), 0.4));
    assert!(!reaches_edge(&with(2, 60, 0.9), 0.4));
    assert!(!reaches_edge(&with(0, 0, 0.3), 0.4));
    assert!(!reaches_edge(&vec![0.1; CROP_PIXELS], 0.4));
}

#[test]
fn label_map_takes_the_most_probable_label_above_threshold() {
    let a = Plane::from_vec(3, 1, vec![0.9, 0.4, 0.6]).unwrap();
    let b = Plane::from_vec(3, 1, vec![0.7, 0.3, 0.8]).unwrap();
    assert_eq!(label_map(&[a, b], 3, 0.5), vec![1, 0, 2]);
}

#[test]
fn label_map_agrees_with_the_per_pixel_rule_across_blocks() {
    // 2,500 pixels: two whole blocks of 1,024 and a partial one; ties go to the first label.
    let pixels = 2_500;
    let value = |k: usize, i: usize| ((i * 2_654_435_761 + k * 40_503) >> 9) as f32 % 10.0 / 10.0;
    let planes: Vec<Plane> = (0..3)
        .map(|k| Plane::from_vec(50, 50, (0..pixels).map(|i| value(k, i)).collect()).unwrap())
        .collect();
    let map = label_map(&planes, pixels, 0.35);
    for (i, &label) in map.iter().enumerate() {
        let mut best = (0u16, 0.35);
        for k in 0..3 {
            if value(k, i) > best.1 {
                best = (k as u16 + 1, value(k, i));
            }
        }
        assert_eq!(label, best.0, "pixel {i}");
    }
    assert!((0..4).all(|l| map.contains(&l)), "every outcome occurs");
}

#[test]
fn paste_interpolates_a_ramp_exactly() {
    // Bilinear resizing reproduces a linear function wherever the taps lie inside the crop.
    let ramp: Vec<f32> = (0..INPUT_SIZE * INPUT_SIZE)
        .map(|i| (i % INPUT_SIZE) as f32 * 0.5 + (i / INPUT_SIZE) as f32 * 0.25)
        .collect();
    let window = Window {
        x0: 10.0,
        y0: 5.0,
        width: 300.0,
        height: 300.0,
    };
    let mut plane = Plane::new(200, 150);
    paste(&mut plane, (20, 30), &ramp, &window);
    let t = window.transform(INPUT_SIZE, INPUT_SIZE);
    let last = (INPUT_SIZE - 1) as f32;
    for y in 0..150 {
        for x in 0..200 {
            let (ix, iy) = (x + 20, y + 30);
            let cx = (ix as f32 * t.sx + t.tx).clamp(0.0, last);
            let cy = (iy as f32 * t.sy + t.ty).clamp(0.0, last);
            let expected = cx * 0.5 + cy * 0.25;
            let got = plane.get(x, y);
            assert!(
                (got - expected).abs() < 1e-3,
                "({ix}, {iy}): {got} vs {expected}"
            );
        }
    }
}

#[test]
fn paste_reproduces_a_constant_crop_inside_the_window_only() {
    let mut plane = Plane::new(300, 200);
    let window = Window {
        x0: 50.0,
        y0: -20.0,
        width: 100.0,
        height: 100.0,
    };
    paste(
        &mut plane,
        (0, 0),
        &vec![0.75; INPUT_SIZE * INPUT_SIZE],
        &window,
    );
    assert_eq!(plane.get(60, 10), 0.75);
    assert_eq!(plane.get(149, 79), 0.75);
    assert_eq!(plane.get(150, 10), 0.0);
    assert_eq!(plane.get(60, 80), 0.0);
}

#[test]
fn the_test_time_flip_makes_the_answer_mirror_symmetric() {
    // P(mirrored input) = mirrored P(input) holds exactly with the flip
    // (a + b = b + a in floating point), and not for a random network
    // without it.
    // Five channels, so that the previous answer's plane is mirrored too.
    let model = crate::UNetConfig::new()
        .with_in_channels(PREVIOUS_CHANNELS)
        .init(&Device::flex());
    let mut state = 0x2545_f491_u32;
    let input: Vec<f32> = (0..2 * PREVIOUS_CHANNELS * CROP_PIXELS)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as f32 / u32::MAX as f32 - 0.5
        })
        .collect();
    let mut mirrored = input.clone();
    mirror_rows(&mut mirrored);
    for flip in [true, false] {
        let segmenter = Segmenter::fast(model.clone(), SegmenterConfig::default())
            .with_cache_capacity(0)
            .with_flip(flip);
        let mut direct = segmenter.probabilities(&input);
        mirror_rows(&mut direct);
        let of_mirrored = segmenter.probabilities(&mirrored);
        let max_diff = direct
            .iter()
            .zip(&of_mirrored)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        if flip {
            assert!(max_diff < 1e-6, "with the flip: {max_diff}");
        } else {
            assert!(max_diff > 1e-3, "without the flip: {max_diff}");
        }
    }
}

#[test]
fn other_labels_strokes_are_negative() {
    let line = |y: f32, polarity| Stroke {
        points: vec![Point::new(10.0, y), Point::new(90.0, y)],
        polarity,
    };
    let labels = vec![
        vec![line(30.0, Polarity::Positive)],
        vec![line(70.0, Polarity::Positive)],
    ];
    let window = Window {
        x0: 0.0,
        y0: 0.0,
        width: 128.0,
        height: 128.0,
    };
    let c0 = interaction_channel(&labels, 0, &window);
    assert_eq!(c0.get(50, 30), 1.0);
    assert_eq!(c0.get(50, 70), -1.0);
    let c1 = interaction_channel(&labels, 1, &window);
    assert_eq!(c1.get(50, 30), -1.0);
    assert_eq!(c1.get(50, 70), 1.0);
}

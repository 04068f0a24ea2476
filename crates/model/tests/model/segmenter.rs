//! The `Segmenter` on images of every shape, with strokes and with prompts.

use burn::tensor::Tensor;
use image::{Rgb, RgbImage};
use scribseg_model::input::{INPUT_SIZE, PREVIOUS_CHANNELS, SCRIBBLE_CHANNELS};
use scribseg_model::{LabelCrop, Prompt, Segmenter, SegmenterConfig, UNet, UNetConfig};
use scribseg_sim::{BoxPrompt, ExtremePoints, Mask, Point, Polarity, Rect, Stroke, Window};

use crate::util::device;

fn segmenter() -> Segmenter {
    twins(1).remove(0)
}

/// `n` segmenters over one random network (tests run in parallel and share
/// the device's random generator, so seeding it again would not give equal
/// weights).
fn twins(n: usize) -> Vec<Segmenter> {
    let device = device();
    device.seed(7);
    let model = UNetConfig::new().init(&device);
    (0..n)
        .map(|_| Segmenter::new(model.clone(), device.clone(), one_crop()))
        .collect()
}

/// The default crop rule without growing crops: a random network's mask
/// fills its crop, which would grow the crop at every call.
fn one_crop() -> SegmenterConfig {
    SegmenterConfig {
        refine: None,
        ..SegmenterConfig::default()
    }
}

fn image(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
    })
}

fn stroke(points: &[(f32, f32)], polarity: Polarity) -> Stroke {
    Stroke {
        points: points.iter().map(|&(x, y)| Point::new(x, y)).collect(),
        polarity,
    }
}

#[test]
fn outputs_have_the_image_size_for_small_non_square_and_huge_images() {
    let segmenter = segmenter();
    for (w, h) in [(40, 30), (300, 90), (17, 400), (4000, 3000)] {
        let (fw, fh) = (w as f32, h as f32);
        let labels = vec![
            vec![stroke(
                &[(fw * 0.2, fh * 0.3), (fw * 0.4, fh * 0.35)],
                Polarity::Positive,
            )],
            vec![stroke(&[(fw * 0.7, fh * 0.7)], Polarity::Positive)],
        ];
        let out = segmenter.segment(&image(w, h), &labels);
        assert_eq!((out.width, out.height), (w as usize, h as usize));
        assert_eq!(out.label_map.len(), (w * h) as usize);
        assert_eq!(out.probabilities.len(), 2);
        for p in &out.probabilities {
            assert_eq!((p.width(), p.height()), (w as usize, h as usize));
            assert!(p.as_slice().iter().all(|v| (0.0..=1.0).contains(v)));
        }
    }
}

#[test]
fn on_a_huge_image_a_label_lives_in_its_crop_only() {
    let segmenter = segmenter();
    let labels = vec![vec![stroke(
        &[(1000.0, 1000.0), (1040.0, 1010.0)],
        Polarity::Positive,
    )]];
    let out = segmenter.segment(&image(4000, 3000), &labels);
    let p = &out.probabilities[0];
    // The crop is 41 px × 1.8 ≈ 74 px around the stroke.
    assert!(p.get(1020, 1005) > 0.0);
    assert_eq!(p.get(1200, 1005), 0.0);
    assert_eq!(p.get(3000, 2500), 0.0);
}

#[test]
fn labels_without_positive_strokes_are_zero() {
    let segmenter = segmenter();
    let labels = vec![
        Vec::new(),
        vec![stroke(&[(10.0, 10.0), (30.0, 12.0)], Polarity::Negative)],
        vec![stroke(&[(50.0, 50.0), (60.0, 52.0)], Polarity::Positive)],
    ];
    let out = segmenter.segment(&image(100, 80), &labels);
    assert!(out.probabilities[0].as_slice().iter().all(|&v| v == 0.0));
    assert!(out.probabilities[1].as_slice().iter().all(|&v| v == 0.0));
    assert!(out.probabilities[2].as_slice().iter().any(|&v| v > 0.0));
    assert!(out.label_map.iter().all(|&k| k == 0 || k == 3));
}

#[test]
fn the_batch_of_labels_equals_each_label_alone_when_strokes_do_not_interact() {
    // Far-apart labels: each crop holds only its own stroke, so segmenting
    // them together (one batch) gives what segmenting each alone gives.
    let a = vec![stroke(&[(30.0, 30.0), (50.0, 35.0)], Polarity::Positive)];
    let b = vec![stroke(
        &[(400.0, 300.0), (420.0, 310.0)],
        Polarity::Positive,
    )];
    let img = image(500, 400);
    // Three segmenters of one network, so no crop comes from a cache.
    let [s1, s2, s3]: [Segmenter; 3] = twins(3).try_into().expect("three");
    let both = s1.segment(&img, &[a.clone(), b.clone()]);
    let alone_a = s2.segment(&img, &[a]);
    let alone_b = s3.segment(&img, &[Vec::new(), b]);
    let max_diff = |x: &[f32], y: &[f32]| {
        x.iter()
            .zip(y)
            .map(|(p, q)| (p - q).abs())
            .fold(0.0f32, f32::max)
    };
    assert!(
        max_diff(
            both.probabilities[0].as_slice(),
            alone_a.probabilities[0].as_slice()
        ) < 1e-4
    );
    assert!(
        max_diff(
            both.probabilities[1].as_slice(),
            alone_b.probabilities[1].as_slice()
        ) < 1e-4
    );
}

#[test]
fn prompts_give_a_map_around_the_object() {
    let segmenter = segmenter();
    let mask = Mask::from_fn(200, 150, |x, y| {
        (60..120).contains(&x) && (40..90).contains(&y)
    });
    let img = image(200, 150);
    for prompt in [
        Prompt::Box(BoxPrompt::from_mask(&mask).expect("non-empty")),
        Prompt::Extremes(ExtremePoints::from_mask(&mask).expect("non-empty")),
    ] {
        let p = segmenter.segment_prompt(&img, &prompt);
        assert_eq!((p.width(), p.height()), (200, 150));
        assert!(p.get(90, 65) > 0.0, "{prompt:?}");
        // The crop is the 60-px box × 2.2 (the prompt's context, 0.6) around
        // its centre (90, 65): x 24..156, wider than the strokes' 1.8 would give.
        assert!(p.get(30, 65) > 0.0, "{prompt:?}");
        assert_eq!(p.get(5, 5), 0.0, "{prompt:?}");
    }
}

#[test]
fn the_fast_cpu_path_gives_the_probabilities_burn_gives() {
    let device = device();
    device.seed(11);
    let model = UNetConfig::new().init(&device);
    let burn = Segmenter::new(model.clone(), device, SegmenterConfig::default());
    let fast = Segmenter::fast(model, SegmenterConfig::default());
    let labels = vec![
        vec![stroke(&[(40.0, 50.0), (90.0, 60.0)], Polarity::Positive)],
        vec![stroke(
            &[(150.0, 100.0), (170.0, 130.0)],
            Polarity::Positive,
        )],
    ];
    let img = image(240, 160);
    let (a, b) = (burn.segment(&img, &labels), fast.segment(&img, &labels));
    for (p, q) in a.probabilities.iter().zip(&b.probabilities) {
        let max_diff = p
            .as_slice()
            .iter()
            .zip(q.as_slice())
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max);
        assert!(max_diff < 1e-4, "max difference {max_diff}");
    }
    assert!(fast.device_name().starts_with("cpu (fast path, "));
    assert!(burn.device_name().starts_with("burn "));
    // Twice through the fast path (reused buffers, no cache): the same answer.
    let fast = fast.with_cache_capacity(0);
    assert_eq!(fast.segment(&img, &labels), b);
    assert_eq!(fast.segment(&img, &labels), b);
}

#[test]
fn crops_answered_from_the_cache_equal_computed_ones() {
    // Label b's crop does not change when a stroke is added to label a far
    // away, so the second call takes b from the cache; a's crop changes and
    // is computed anew. Both must equal what a segmenter without a cache
    // computes.
    let img = image(500, 400);
    let a = stroke(&[(30.0, 30.0), (50.0, 35.0)], Polarity::Positive);
    let b = vec![stroke(
        &[(400.0, 300.0), (420.0, 310.0)],
        Polarity::Positive,
    )];
    let [cached, fresh]: [Segmenter; 2] = twins(2).try_into().expect("two");
    let before = cached.segment(&img, &[vec![a.clone()], b.clone()]);
    let more = vec![a, stroke(&[(35.0, 45.0), (45.0, 50.0)], Polarity::Positive)];
    let labels = [more, b];
    let after = cached.segment(&img, &labels);
    let fresh = fresh.with_cache_capacity(0).segment(&img, &labels);
    for k in 0..2 {
        let max_diff = after.probabilities[k]
            .as_slice()
            .iter()
            .zip(fresh.probabilities[k].as_slice())
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max);
        assert!(max_diff < 1e-5, "label {k}: max difference {max_diff}");
    }
    assert_ne!(
        after.probabilities[0], before.probabilities[0],
        "label a's new stroke changes its prediction"
    );
}

#[test]
fn the_crop_segmentation_gives_the_full_label_map_inside_its_region_and_zero_outside() {
    let segmenter = segmenter();
    let img = image(900, 700);
    let labels = vec![
        vec![stroke(
            &[(100.0, 120.0), (160.0, 150.0)],
            Polarity::Positive,
        )],
        vec![stroke(&[(600.0, 500.0)], Polarity::Positive)],
        Vec::new(),
    ];
    let full = segmenter.segment(&img, &labels);
    let crops = segmenter.segment_crops(&img, &labels);
    assert!(
        crops.crops[2].is_none(),
        "a label without strokes has no crop"
    );
    let region = crops.region().expect("two labels have crops");
    // The union of the 109.8-px window around the first stroke (61 px × 1.8,
    // centred on (130.5, 135.5)) and the 48-px one around the click.
    assert_eq!((region.x0, region.y0), (75, 80));
    assert_eq!((region.x1, region.y1), (625, 525));
    let part = crops.label_map_in(region);
    for y in 0..700 {
        for x in 0..900 {
            let inside = (region.x0..region.x1).contains(&x) && (region.y0..region.y1).contains(&y);
            let expected = full.label_map[y * 900 + x];
            let got = if inside {
                part[(y - region.y0) * region.width() + x - region.x0]
            } else {
                0
            };
            assert_eq!(got, expected, "pixel ({x}, {y})");
        }
    }
}

/// With the committed weights on the fast path and growing crops, as the
/// annotator runs them.
#[test]
fn segmenting_label_by_label_gives_the_crops_of_all_labels_at_once() {
    let weights = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../weights/default");
    let segmenter =
        Segmenter::load(&weights, SegmenterConfig::default()).expect("the default weights load");
    let img = image(300, 200);
    let labels = vec![
        vec![stroke(&[(40.0, 50.0), (90.0, 70.0)], Polarity::Positive)],
        Vec::new(),
        vec![
            stroke(&[(200.0, 150.0), (230.0, 160.0)], Polarity::Positive),
            stroke(&[(60.0, 60.0)], Polarity::Negative),
        ],
    ];
    let all = segmenter.segment_crops(&img, &labels);
    for k in 0..labels.len() {
        let one = segmenter.segment_crops_of(&img, &labels, [k]);
        for (j, crop) in one.crops.iter().enumerate() {
            if j == k {
                assert_eq!(crop, &all.crops[k], "label {k} alone");
            } else {
                assert!(crop.is_none(), "label {j} was not asked for");
            }
        }
    }
    let none = segmenter.segment_crops_of(&img, &labels, [7]);
    assert!(none.crops.iter().all(Option::is_none), "no label 7");
}

/// With the committed weights: a short stroke in the middle of a long bar
/// gets a crop that cuts the bar off; growing crops (`refine`) follow the
/// answer out to the bar's ends.
#[test]
fn growing_crops_follow_a_short_stroke_out_to_the_object() {
    let weights = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../weights/default");
    let bar = |x: u32, y: u32| (20..380).contains(&x) && (85..115).contains(&y);
    let photo = RgbImage::from_fn(400, 200, |x, y| {
        if bar(x, y) {
            Rgb([200, 40, 40])
        } else {
            Rgb([40, 90, 40])
        }
    });
    let truth = Mask::from_fn(400, 200, |x, y| bar(x as u32, y as u32));
    let labels = [vec![stroke(
        &[(185.0, 100.0), (215.0, 100.0)],
        Polarity::Positive,
    )]];
    let dice = |refine: Option<f32>| {
        let segmenter = Segmenter::load(&weights, SegmenterConfig::default())
            .expect("the default weights load")
            .with_refine(refine);
        let answer = segmenter.segment(&photo, &labels).probabilities[0].threshold(0.4);
        let both = answer.and(&truth).area();
        2.0 * both as f32 / (answer.area() + truth.area()) as f32
    };
    let (cut, grown) = (dice(None), dice(Some(0.4)));
    // The strokes' crop spans x ≈ 172–228 of a bar 360 px long; each pass
    // grows it about 1.8 times, 56 → 101 → 182 → 328 px.
    assert!(cut < 0.4, "one crop: DICE {cut}");
    assert!(grown > 0.8, "growing crops: DICE {grown} (one crop: {cut})");
}

/// A network that reads its previous answer: a random one, widened from four
/// channels, its fifth channel's weights set to a random (non-zero) draw so
/// that the previous answer changes what it says.
fn reading_previous() -> (UNet, UNet) {
    let device = device();
    device.seed(11);
    let scribble = UNetConfig::new().init(&device);
    let widened = scribble.clone().with_in_channels(PREVIOUS_CHANNELS);
    let stem: Vec<f32> = widened
        .tensors()
        .into_iter()
        .find(|t| t.name == "stem.weight")
        .expect("a stem")
        .value
        .iter()
        .enumerate()
        // [out][5][3][3]: the fifth channel's nine weights per output.
        .map(|(i, &v)| if i % 45 >= 36 { 0.3 } else { v })
        .collect();
    let reading = widened.with_tensors(&|name| (name == "stem.weight").then_some(&stem[..]));
    (scribble, reading)
}

#[test]
fn a_widened_network_answers_as_before_until_its_new_channel_is_trained() {
    let device = device();
    device.seed(5);
    let model = UNetConfig::new().init(&device);
    let widened = model.clone().with_in_channels(PREVIOUS_CHANNELS);
    assert_eq!(widened.config().in_channels, PREVIOUS_CHANNELS);
    let four = crate::util::random_input(2, 32, 3);
    let previous = Tensor::<4>::ones([2, 1, 32, 32], &device);
    let five = Tensor::cat(vec![four.clone(), previous], 1);
    let before = crate::util::values(model.forward(four));
    let after = crate::util::values(widened.clone().forward(five));
    crate::util::assert_close(&after, &before, 1e-6, 0.0);
    // And back: the four channels' weights were kept.
    let narrowed = widened.with_in_channels(SCRIBBLE_CHANNELS);
    let tensors = |m: &UNet| m.tensors().into_iter().map(|t| t.value).collect::<Vec<_>>();
    assert_eq!(tensors(&narrowed), tensors(&model));
}

#[test]
fn an_answer_seen_from_its_own_window_is_itself_and_from_a_wider_one_shrinks() {
    let window = Window::from_rect(Rect::new(100, 50, 164, 114));
    let probabilities: Vec<f32> = (0..INPUT_SIZE * INPUT_SIZE)
        .map(|i| (i % INPUT_SIZE) as f32 / INPUT_SIZE as f32)
        .collect();
    let crop = LabelCrop {
        window,
        probabilities: probabilities.clone(),
    };
    let same = crop.seen_from(&window, 400, 300);
    crate::util::assert_close(same.as_slice(), &probabilities, 1e-5, 0.0);
    // A window twice as wide around the same centre: the answer fills its middle.
    let wide = Window::from_rect(Rect::new(68, 18, 196, 146));
    let seen = crop.seen_from(&wide, 400, 300);
    assert_eq!(seen.get(10, 64), 0.0, "left of the first window");
    assert_eq!(seen.get(64, 10), 0.0, "above it");
    let middle = seen.get(64, 64);
    assert!((middle - 0.5).abs() < 0.02, "{middle}");
    // Past the image's edge there is no answer, whatever the crop says.
    let edge = LabelCrop {
        window: Window::from_rect(Rect::new(360, 260, 424, 324)),
        probabilities: vec![1.0; INPUT_SIZE * INPUT_SIZE],
    };
    let seen = edge.seen_from(&edge.window, 400, 300);
    assert_eq!(seen.get(10, 10), 1.0);
    assert_eq!(seen.get(100, 100), 0.0, "x 410, y 310 is outside the image");
}

#[test]
fn a_sequence_tells_each_stroke_the_answer_before_it() {
    let (scribble, reading) = reading_previous();
    let image = image(200, 150);
    let strokes = vec![
        (0, stroke(&[(60.0, 60.0), (90.0, 70.0)], Polarity::Positive)),
        (0, stroke(&[(120.0, 80.0)], Polarity::Negative)),
        (
            1,
            stroke(&[(150.0, 100.0), (170.0, 110.0)], Polarity::Positive),
        ),
    ];
    let grouped = |n: usize| {
        let mut labels = vec![Vec::new(); 2];
        for (k, s) in &strokes[..n] {
            labels[*k].push(s.clone());
        }
        labels
    };
    // A scribble network answers all strokes at once.
    let plain = Segmenter::fast(scribble, one_crop());
    assert!(!plain.reads_previous());
    assert_eq!(
        plain.segment_sequence(&image, 2, &strokes, &[0, 1]),
        plain.segment_crops_of(&image, &grouped(3), [0, 1])
    );
    // A reading network answers stroke after stroke, each told the one before.
    let segmenter = Segmenter::fast(reading, one_crop());
    assert!(segmenter.reads_previous());
    let first = segmenter.segment_crops_of(&image, &grouped(1), [0, 1]);
    let second = segmenter.segment_crops_after(&image, &grouped(2), [0, 1], Some(&first));
    let third = segmenter.segment_crops_after(&image, &grouped(3), [0, 1], Some(&second));
    let sequence = segmenter.segment_sequence(&image, 2, &strokes, &[0, 1]);
    assert_eq!(sequence, third);
    let untold = segmenter.segment_crops_of(&image, &grouped(3), [0, 1]);
    assert_ne!(sequence, untold, "the previous answer changes the answer");
    // The first stroke alone is told nothing.
    assert_eq!(
        segmenter.segment_sequence(&image, 2, &strokes[..1], &[0, 1]),
        first
    );
}

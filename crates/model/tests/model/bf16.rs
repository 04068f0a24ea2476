//! Reduced precision ([`Precision::Bf16`]) against fp32: the same masks.
//!
//! Issue 8's rule for reduced precision: the masks stay those of fp32 to an IoU of at least
//! 0.99 on the standard benchmark images, with the default weights and a simulated scribble per
//! object: on each benchmark both the IoU of all its pixels together and the mean IoU of its
//! objects. On top of that rule, no single object below 0.95, so that an error confined to a
//! few objects (one crop shape, one tile) cannot hide in the means. The rounding moves the
//! logits a little, which flips some pixels where the probability is near the Segmenter's
//! threshold (0.4 since 2026-12-01, 0.5 before), and how many depends on the weights: with the
//! 40,000-sample weights the mean over the 304 objects was 0.997 and the worst object 0.98; with
//! the 86,048-sample weights the means were again 0.997 and the worst object
//! (davis/blackswan-00040_0) 0.966; with the 130,848-sample weights the pooled IoUs are
//! 0.996–0.997 and the worst object (grabcut/teddy_0) 0.982; with the 159,648-sample weights and
//! the test-time flip, 0.995–0.997 and davis/blackswan-00004_0 at 0.974; with the 178,848-sample
//! weights cut at 0.4, 0.997–0.998 and grabcut/scissors_0 at 0.987. Skipped (with a line saying
//! so) on a CPU without AVX-512 BF16, where
//! `Precision::Bf16` is refused.

use std::path::PathBuf;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use scribseg_data::shared_dataset;
use scribseg_eval::{DatasetSpec, EvalDataset};
use scribseg_model::fast::{FastUNet, Precision};
use scribseg_model::{Error, Segmenter, SegmenterConfig, UNet, UNetConfig};
use scribseg_sim::{simulate_scribble, Confusion, ScribbleParams};

use crate::util::{device, random_input, values};

/// The smallest IoU allowed between bf16's masks and fp32's, pooled over a benchmark's pixels
/// and averaged over its objects.
const MIN_IOU: f64 = 0.99;
/// The smallest IoU allowed for any one object.
const MIN_OBJECT_IOU: f64 = 0.95;

fn default_weights() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../weights/default")
}

/// `None` (after saying so) when this CPU cannot run bf16.
fn bf16_supported() -> Option<()> {
    if Precision::Bf16.is_supported() {
        Some(())
    } else {
        println!("skipped: this CPU has no AVX-512 BF16");
        None
    }
}

#[test]
fn bf16_is_refused_or_changes_the_logits_only_slightly() {
    let model = UNet::load(default_weights(), &device()).expect("the default weights load");
    let mut fast = FastUNet::from_model(&model);
    let dims = [2, 4, 48, 64];
    let input = values(random_input(2, 64, 11).slice([0..2, 0..4, 0..48, 0..64]));
    let mut fp32 = vec![0.0; 2 * 48 * 64];
    fast.forward(&input, dims, &mut fp32);
    match fast.set_precision(Precision::Bf16) {
        Err(Error::Unsupported(message)) => {
            assert!(message.contains("AVX-512 BF16"), "{message}");
            assert_eq!(fast.precision(), Precision::F32);
            println!("skipped: {message}");
        }
        Err(other) => panic!("unexpected error {other}"),
        Ok(()) => {
            assert_eq!(fast.precision(), Precision::Bf16);
            let mut bf16 = vec![0.0; fp32.len()];
            fast.forward(&input, dims, &mut bf16);
            let spread = fp32.iter().map(|v| v.abs()).sum::<f32>() / fp32.len() as f32;
            let max_diff = fp32
                .iter()
                .zip(&bf16)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            println!("bf16: max |Δ logit| {max_diff:.4}, mean |logit| {spread:.3}");
            assert!(max_diff > 0.0, "bf16 computed exactly the fp32 logits");
            assert!(max_diff < 0.1 * spread, "bf16 moved a logit by {max_diff}");
            // Back to fp32: the first answer again, bit for bit.
            fast.set_precision(Precision::F32)
                .expect("fp32 always runs");
            let mut again = vec![0.0; fp32.len()];
            fast.forward(&input, dims, &mut again);
            assert_eq!(again, fp32);
        }
    }
}

#[test]
fn burn_segmenters_refuse_bf16() {
    let model = UNetConfig::new().init(&device());
    let segmenter = Segmenter::new(model, device(), SegmenterConfig::default());
    let err = segmenter
        .with_precision(Precision::Bf16)
        .expect_err("burn computes in fp32");
    assert!(matches!(err, Error::Unsupported(_)), "{err}");
}

#[test]
fn bf16_masks_match_fp32_on_the_benchmark_images() {
    if bf16_supported().is_none() {
        return;
    }
    let fp32 = Segmenter::load(default_weights(), SegmenterConfig::default())
        .expect("the default weights load")
        .with_cache_capacity(0);
    let bf16 = Segmenter::load(default_weights(), SegmenterConfig::default())
        .expect("the default weights load")
        .with_cache_capacity(0)
        .with_precision(Precision::Bf16)
        .expect("this CPU runs bf16");
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let mut worst = (1.0f64, String::new());
    let mut compared = 0;
    for name in ["grabcut", "berkeley", "davis"] {
        let Some(root) = shared_dataset(&format!("eval/{name}")) else {
            return;
        };
        let dataset = EvalDataset::open(&DatasetSpec::folder(name, root)).expect("opens");
        let (mut pooled, mut sum, mut objects) = ((0, 0, 0), 0.0, 0u32);
        for index in 0..dataset.len() {
            for object in dataset.load(index).expect("loads") {
                let strokes =
                    simulate_scribble(&object.truth, &ScribbleParams::default(), &mut rng).strokes;
                if strokes.is_empty() {
                    continue;
                }
                let labels = [strokes];
                let cut = fp32.config().threshold;
                let a = fp32.segment(&object.image, &labels).probabilities[0].threshold(cut);
                let b = bf16.segment(&object.image, &labels).probabilities[0].threshold(cut);
                let c = Confusion::count(&b, &a, None);
                pooled.0 += c.true_positive;
                pooled.1 += c.false_positive;
                pooled.2 += c.false_negative;
                // Two empty masks agree.
                let score = if a.is_empty() && b.is_empty() {
                    1.0
                } else {
                    c.iou()
                };
                if score < worst.0 {
                    worst = (score, object.name());
                }
                sum += score;
                objects += 1;
            }
        }
        let (tp, fp, fn_) = pooled;
        let pooled_iou = tp as f64 / (tp + fp + fn_).max(1) as f64;
        let mean = sum / f64::from(objects.max(1));
        println!("{name}: {objects} objects, pooled IoU {pooled_iou:.5}, mean IoU {mean:.5}");
        assert!(pooled_iou >= MIN_IOU, "{name}: pooled IoU {pooled_iou:.4}");
        assert!(mean >= MIN_IOU, "{name}: mean IoU {mean:.4}");
        compared += objects;
    }
    println!("worst object: {} at IoU {:.4}", worst.1, worst.0);
    assert!(compared > 300, "only {compared} objects compared");
    assert!(
        worst.0 >= MIN_OBJECT_IOU,
        "bf16's mask of {} has IoU {:.4} with fp32's",
        worst.1,
        worst.0
    );
}

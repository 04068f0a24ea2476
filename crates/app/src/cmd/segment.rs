//! `scribseg segment`: an image and a stroke image in, a label map out.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use image::{DynamicImage, GrayImage, ImageFormat};
use scribseg_model::InputKind;
use scribseg_sim::{Point, Polarity, Stroke};

use crate::imageio;
use crate::weights::{self, InferenceFlags};

/// Flags of `scribseg segment`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The photo (PNG, JPEG, BMP, TIFF; grey, 16-bit and alpha are converted to 8-bit RGB).
    #[arg(long)]
    image: PathBuf,
    /// The strokes: an 8-bit PNG of the image's size, 0 where there is no
    /// stroke and k where a stroke of label k was painted (positive for k,
    /// negative for every other label).
    #[arg(long)]
    strokes: PathBuf,
    /// A checkpoint directory (`config.json` + `model.bpk`) [default: weights/default].
    #[arg(long)]
    weights: Option<PathBuf>,
    #[command(flatten)]
    inference: InferenceFlags,
    /// The label map: 8-bit PNG, k where label k is the most probable and
    /// above 0.4 (or `--threshold`; the annotator's and `eval`'s cut), else 0.
    #[arg(long)]
    out: PathBuf,
    /// Also write each label's probability map (`label_<k>.png`, 8-bit,
    /// 255 = 1) into this folder.
    #[arg(long)]
    probs: Option<PathBuf>,
}

/// Runs the subcommand.
pub fn run(args: Args) -> Result<()> {
    let image = imageio::read_rgb(&args.image)?;
    let labels = read_stroke_labels(&args.strokes, image.dimensions())?;
    let (segmenter, _) =
        weights::load_segmenter(args.weights, InputKind::Scribble, args.inference)?;
    let segmentation = segmenter.segment(&image, &labels);

    let (w, h) = image.dimensions();
    let map: Vec<u8> = segmentation
        .label_map
        .iter()
        .map(|&k| u8::try_from(k).expect("at most 255 labels"))
        .collect();
    let map = GrayImage::from_raw(w, h, map).expect("one value per pixel");
    imageio::save_png(&DynamicImage::ImageLuma8(map), &args.out)?;
    if let Some(dir) = &args.probs {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the folder {}", dir.display()))?;
        for (k, plane) in segmentation.probabilities.iter().enumerate() {
            if labels[k].is_empty() {
                continue;
            }
            let bytes = plane
                .as_slice()
                .iter()
                .map(|p| (p * 255.0).round() as u8)
                .collect();
            let gray = GrayImage::from_raw(w, h, bytes).expect("one value per pixel");
            let path = dir.join(format!("label_{}.png", k + 1));
            imageio::save_png(&DynamicImage::ImageLuma8(gray), &path)?;
        }
    }
    let painted = labels.iter().filter(|l| !l.is_empty()).count();
    eprintln!(
        "segmented {painted} label(s); label map in {}",
        args.out.display()
    );
    Ok(())
}

/// The strokes of each label (index k − 1 for pixel value k; labels up to
/// the largest value present), one dot per painted pixel: every painted
/// pixel is drawn with the model's stroke radius, as the simulator's
/// strokes are.
fn read_stroke_labels(path: &std::path::Path, size: (u32, u32)) -> Result<Vec<Vec<Stroke>>> {
    let (image, format) = imageio::open(path)?;
    if format != ImageFormat::Png {
        bail!(
            "strokes {} is a {format:?} file; stroke images must be PNG (label values must survive)",
            path.display()
        );
    }
    let DynamicImage::ImageLuma8(gray) = image else {
        bail!(
            "strokes {} must be an 8-bit grey PNG (0 = none, k = label k); it is {:?}",
            path.display(),
            image.color()
        );
    };
    if gray.dimensions() != size {
        bail!(
            "strokes {} is {}×{} but the image is {}×{}",
            path.display(),
            gray.width(),
            gray.height(),
            size.0,
            size.1
        );
    }
    let labels = usize::from(gray.pixels().map(|p| p.0[0]).max().unwrap_or(0));
    if labels == 0 {
        bail!(
            "strokes {} has no stroke (every pixel is 0)",
            path.display()
        );
    }
    let mut strokes = vec![Vec::new(); labels];
    for (x, y, p) in gray.enumerate_pixels() {
        if p.0[0] > 0 {
            strokes[usize::from(p.0[0]) - 1].push(Stroke {
                points: vec![Point::new(x as f32, y as f32)],
                polarity: Polarity::Positive,
            });
        }
    }
    Ok(strokes)
}

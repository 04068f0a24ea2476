//! `scribseg simulate`: a simulated scribble, corrective scribble, box or
//! extreme points for a mask, written as a PNG and optionally as an overlay.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use image::{DynamicImage, GrayImage, RgbImage};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use scribseg_sim::{
    corrective_scribble, simulate_style, BoxPrompt, CorrectiveParams, ExtremePoints, Mask, Plane,
    ScribbleParams, StrokeStyle, Transform, EXTREME_SIGMA,
};

use crate::{example, imageio, overlay};

/// What to simulate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// A simulated scribble on the label, in `--style`.
    Scribble,
    /// A corrective scribble from `--prediction`'s error.
    Corrective,
    /// The bounding-box outline (the box baseline's input).
    Bbox,
    /// Gaussians at the four extreme points (the extreme-point baseline's input).
    Extrema,
}

/// Flags of `scribseg simulate`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Label mask: a PNG where grey > 127 (16-bit: > 32767) is object; colour
    /// masks are converted to grey first.
    #[arg(long, required_unless_present = "example")]
    mask: Option<PathBuf>,
    /// Use a generated example (a photo-like image and a mask with a lobe)
    /// instead of `--mask`/`--image`.
    #[arg(long, conflicts_with_all = ["mask", "image"])]
    example: bool,
    /// Photo for the overlay (same size as the mask).
    #[arg(long)]
    image: Option<PathBuf>,
    /// Random seed: the same seed gives the same scribble.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// What to simulate.
    #[arg(long, value_enum, default_value_t = Kind::Scribble)]
    kind: Kind,
    /// How the scribble is drawn: paper (the paper's simulator), centre,
    /// short, boundary, brush, zigzag, wobbly, crossing, surround (with
    /// negative strokes around the object) or branches.
    #[arg(long, default_value_t = StrokeStyle::Paper)]
    style: StrokeStyle,
    /// Prediction for `--kind corrective`: a grey PNG of probabilities (v/255, 16-bit v/65535).
    #[arg(long, required_if_eq("kind", "corrective"))]
    prediction: Option<PathBuf>,
    /// Output: 8-bit PNG, 0 none, 255 positive, 128 negative (box and extreme
    /// points: 255 × the encoding's value).
    #[arg(long)]
    out: PathBuf,
    /// Also write an overlay for people: image, label outline, scribble in colour.
    #[arg(long)]
    overlay: Option<PathBuf>,
}

/// Runs the subcommand.
pub fn run(args: Args) -> Result<()> {
    let (mask, photo) = inputs(&args)?;
    if mask.is_empty() {
        let name = args
            .mask
            .as_ref()
            .map_or("the example".into(), |p| p.display().to_string());
        bail!("mask {name} is empty (no pixel above the object threshold); nothing written");
    }
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let mut plane = Plane::new(mask.width(), mask.height());
    let mut prediction_mask = None;
    match args.kind {
        Kind::Scribble => {
            // Drawn as the network sees a person's strokes: a style whose
            // strokes cross the outline is not clipped to the label.
            let clip = (!args.style.crosses_outline()).then_some(&mask);
            simulate_style(&mask, args.style, &ScribbleParams::default(), &mut rng).draw(
                &mut plane,
                Transform::IDENTITY,
                scribseg_sim::DRAW_RADIUS,
                clip,
            );
        }
        Kind::Corrective => {
            let path = args
                .prediction
                .as_ref()
                .context("--kind corrective needs --prediction")?;
            let prediction = imageio::read_probabilities(path)?;
            if (prediction.width(), prediction.height()) != (mask.width(), mask.height()) {
                bail!(
                    "prediction {} is {}×{} but the mask is {}×{}",
                    path.display(),
                    prediction.width(),
                    prediction.height(),
                    mask.width(),
                    mask.height()
                );
            }
            match corrective_scribble(&mask, &prediction, &CorrectiveParams::default(), &mut rng) {
                Some(s) => s.draw(
                    &mut plane,
                    Transform::IDENTITY,
                    scribseg_sim::DRAW_RADIUS,
                    Some(&mask),
                ),
                None => eprintln!(
                    "the prediction's error is below 1% of the label: no corrective scribble"
                ),
            }
            prediction_mask = Some(prediction.threshold(scribseg_sim::OBJECT_THRESHOLD));
        }
        Kind::Bbox => BoxPrompt::from_mask(&mask)
            .expect("mask is not empty")
            .draw(&mut plane, Transform::IDENTITY),
        Kind::Extrema => ExtremePoints::from_mask(&mask)
            .expect("mask is not empty")
            .draw(&mut plane, Transform::IDENTITY, EXTREME_SIGMA),
    }

    imageio::save_png(&DynamicImage::ImageLuma8(encode(&plane)), &args.out)?;
    if let Some(path) = &args.overlay {
        let mut picture = photo.unwrap_or_else(|| overlay::backdrop(&mask));
        overlay::channel(&mut picture, &plane);
        overlay::outline(&mut picture, &mask, None);
        if let Some(p) = &prediction_mask {
            overlay::outline(&mut picture, p, Some(image::Rgb([0, 200, 255])));
        }
        imageio::save_png(&DynamicImage::ImageRgb8(picture), path)?;
    }
    Ok(())
}

/// The mask and the optional photo, checked to be the same size.
fn inputs(args: &Args) -> Result<(Mask, Option<RgbImage>)> {
    if args.example {
        let (photo, mask) = example::example();
        return Ok((mask, Some(photo)));
    }
    let path = args.mask.as_ref().context("--mask is required")?;
    let mask = imageio::read_mask(path)?;
    let photo = match &args.image {
        None => None,
        Some(p) => {
            let photo = imageio::read_rgb(p)?;
            if (photo.width() as usize, photo.height() as usize) != (mask.width(), mask.height()) {
                bail!(
                    "image {} is {}×{} but mask {} is {}×{}",
                    p.display(),
                    photo.width(),
                    photo.height(),
                    path.display(),
                    mask.width(),
                    mask.height()
                );
            }
            Some(photo)
        }
    };
    Ok((mask, photo))
}

/// The channel as 8-bit: negative values 128, otherwise 255 × value.
fn encode(plane: &Plane) -> GrayImage {
    let data = plane
        .as_slice()
        .iter()
        .map(|&v| {
            if v < 0.0 {
                128
            } else {
                (v.min(1.0) * 255.0).round() as u8
            }
        })
        .collect();
    GrayImage::from_raw(plane.width() as u32, plane.height() as u32, data).expect("size matches")
}

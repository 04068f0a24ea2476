//! `scribseg train`: train the network on packed shards.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use scribseg_eval::{write_curves, Series};
use scribseg_train::{read_log, train, Provenance, TrainConfig, TrainDevice, LOG_FILE};

/// Flags of `scribseg train`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Training configuration (TOML), e.g. `configs/train.toml`.
    #[arg(long)]
    config: PathBuf,
    /// Override the number of steps in the config.
    #[arg(long)]
    steps: Option<usize>,
    /// Start a fresh run from this checkpoint (e.g. `weights/default`)
    /// instead of random weights; ignored when the run folder already holds
    /// a run, which resumes.
    #[arg(long)]
    init: Option<PathBuf>,
    /// Override the run folder in the config.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Override the copy-paste probability in the config (0 turns it off).
    #[arg(long, value_name = "P")]
    copy_paste: Option<f32>,
    /// Override the seed in the config: another sample stream (and other
    /// validation examples) for another round of the same config.
    #[arg(long)]
    seed: Option<u64>,
    /// A wall-time budget in minutes: stop after the first step that ends
    /// past it (with a last validation and checkpoint) and decay the
    /// learning rate by the fraction of it spent, for a machine lent for a
    /// fixed time. `--steps` still caps the run.
    #[arg(long, value_name = "MINUTES")]
    minutes: Option<f64>,
    /// Where the steps compute: `native` (scribseg's own CPU trainer; `scribseg
    /// bench --train` times it against Flex), or burn's autodiff on `flex` (burn's CPU backend),
    /// `torch` in a build with `--features tch` (the CPU through LibTorch;
    /// see docs/cpu-training.md) or `vulkan` in a build with `--features
    /// vulkan` (a GPU; see docs/gpu-training.md).
    #[arg(long, default_value = "native")]
    device: TrainDevice,
}

/// Runs the subcommand. A run resumes by itself from the `state.json` and
/// `last/` checkpoint in its output folder.
pub fn run(args: Args) -> Result<()> {
    let mut config = TrainConfig::load(&args.config)?;
    if let Some(steps) = args.steps {
        config.steps = steps;
    }
    if let Some(init) = args.init {
        config.init = Some(init);
    }
    if let Some(out) = args.out {
        config.out = out;
    }
    if let Some(p) = args.copy_paste {
        config.copy_paste_probability = p;
    }
    if let Some(seed) = args.seed {
        config.seed = seed;
    }
    if let Some(minutes) = args.minutes {
        config.time_limit_minutes = Some(minutes);
    }
    config
        .check()
        .map_err(|m| anyhow::anyhow!("{} with the flags given: {m}", args.config.display()))?;
    let bar = ProgressBar::new(config.steps as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} steps  {msg}  eta {eta}")
            .context("progress template")?,
    );
    let mut last_validation = String::new();
    let provenance = Provenance {
        device: args.device,
        commit: crate::build_commit(),
    };
    let began = Instant::now();
    let state = train(&config, &provenance, |p| {
        // Without a terminal, the steps 1, 2, 4, 8 … tell where the time
        // went (a GPU tunes and compiles its kernels in the first steps).
        if bar.is_hidden() && p.step.is_power_of_two() {
            eprintln!(
                "step {} done at {:.1} s: loss {:.4}",
                p.step,
                began.elapsed().as_secs_f32(),
                p.loss
            );
        }
        if let Some(v) = p.validation {
            last_validation = format!("val DICE {:.3} (corrected {:.3})", v.dice, v.dice_corrected);
            let line = if p.step == 0 {
                format!("start (initial weights): {last_validation}")
            } else {
                format!(
                    "step {}/{}: loss {:.4}, {:.1} samples/s, {last_validation}",
                    p.step, p.steps, p.loss, p.samples_per_second
                )
            };
            // A hidden bar (output to a file, not a terminal) prints nothing.
            if bar.is_hidden() {
                eprintln!("{line}");
            } else {
                bar.println(line);
            }
        }
        bar.set_position(p.step as u64);
        bar.set_message(format!(
            "loss {:.4}  {:.1} samples/s  {last_validation}",
            p.loss, p.samples_per_second
        ));
    })
    .with_context(|| format!("training with {}", args.config.display()))?;
    bar.finish();
    let curves = ["curve.svg", "curve.png"].map(|name| config.out.join(name));
    write_curve(&config.out.join(LOG_FILE), &curves)?;
    println!(
        "done: {} steps, {} samples, best validation DICE {:.3}; checkpoints in {}",
        state.step,
        state.samples,
        state.best_dice,
        config.out.display()
    );
    eprintln!("curve: {} and {}", curves[0].display(), curves[1].display());
    Ok(())
}

/// Plots validation DICE (one interaction, and after one corrective
/// scribble) and the training loss (mean between validations) against
/// thousands of samples seen, to each of `out` (SVG or PNG by extension).
fn write_curve(log: &Path, out: &[PathBuf]) -> Result<()> {
    let rows = read_log(log)?;
    let (mut dice, mut corrected, mut loss) = (Vec::new(), Vec::new(), Vec::new());
    let (mut sum, mut count) = (0.0f64, 0usize);
    for row in &rows {
        sum += f64::from(row.loss);
        count += 1;
        let (Some(d), Some(c)) = (row.val_dice, row.val_dice_corrected) else {
            continue;
        };
        let x = row.samples as f64 / 1000.0;
        dice.push((x, f64::from(d)));
        corrected.push((x, f64::from(c)));
        loss.push((x, sum / count as f64));
        (sum, count) = (0.0, 0);
    }
    let series = |label: &str, points| Series {
        label: label.to_string(),
        points,
        spread: Vec::new(),
    };
    let series = [
        series("validation DICE, first interaction", dice),
        series("validation DICE, one corrective scribble", corrected),
        series("training loss (BCE)", loss),
    ];
    for path in out {
        write_curves(
            path,
            "Training",
            "samples seen (thousands)",
            "validation DICE / training loss",
            &series,
        )
        .with_context(|| format!("plotting {}", log.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_curve_is_drawn_from_the_log_as_svg_and_png() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join(LOG_FILE);
        std::fs::write(
            &log,
            "step,samples,loss,lr,val_dice,val_dice_corrected\n\
             1,16,0.60,1e-4,,\n\
             2,32,0.40,1e-4,0.55,0.61\n\
             3,48,0.30,1e-4,,\n\
             4,64,0.25,1e-4,0.70,0.78\n",
        )
        .expect("log written");
        let out = [dir.path().join("c.svg"), dir.path().join("c.png")];
        write_curve(&log, &out).expect("plots");
        let svg = std::fs::read_to_string(&out[0]).expect("svg");
        assert!(svg.contains("training loss (BCE)"), "{svg}");
        let png = image::open(&out[1]).expect("a PNG");
        assert!(png.width() > 0 && png.height() > 0);
    }

    #[test]
    fn a_half_written_log_is_an_error_naming_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join(LOG_FILE);
        std::fs::write(
            &log,
            "step,samples,loss,lr,val_dice,val_dice_corrected\n1,16,0.6",
        )
        .unwrap();
        let err = write_curve(&log, &[dir.path().join("c.svg")]).expect_err("bad log");
        assert!(format!("{err:#}").contains("line 2"), "{err:#}");
    }
}

//! `scribseg train`: train the network on packed shards.

use std::path::PathBuf;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use scribseg_train::{train, TrainConfig};

/// Flags of `scribseg train`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Training configuration (TOML), e.g. `configs/train.toml`.
    #[arg(long)]
    config: PathBuf,
    /// Override the number of steps in the config.
    #[arg(long)]
    steps: Option<usize>,
}

/// Runs the subcommand. A run resumes by itself from the `state.json` and
/// `last/` checkpoint in its output folder.
pub fn run(args: Args) -> Result<()> {
    let mut config = TrainConfig::load(&args.config)?;
    if let Some(steps) = args.steps {
        config.steps = steps;
    }
    let bar = ProgressBar::new(config.steps as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} steps  {msg}  eta {eta}")
            .context("progress template")?,
    );
    let mut last_validation = String::new();
    let state = train(&config, |p| {
        if let Some(v) = p.validation {
            last_validation = format!("val DICE {:.3} (corrected {:.3})", v.dice, v.dice_corrected);
            bar.println(format!("step {}: {last_validation}", p.step));
        }
        bar.set_position(p.step as u64);
        bar.set_message(format!(
            "loss {:.4}  {:.1} samples/s  {last_validation}",
            p.loss, p.samples_per_second
        ));
    })
    .with_context(|| format!("training with {}", args.config.display()))?;
    bar.finish();
    println!(
        "done: {} steps, {} samples, best validation DICE {:.3}; checkpoints in {}",
        state.step,
        state.samples,
        state.best_dice,
        config.out.display()
    );
    Ok(())
}

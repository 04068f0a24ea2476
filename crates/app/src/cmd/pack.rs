//! `scribseg pack`: decode, crop and write training shards for every configured dataset.

use std::path::PathBuf;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use scribseg_data::{pack, Config, PackOptions};

/// Flags of `scribseg pack`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The dataset configuration (TOML), e.g. `configs/default.toml`.
    #[arg(long)]
    config: PathBuf,
    /// Output folder for `train.shard`, `val.shard` and `test.shard`.
    #[arg(long)]
    out: PathBuf,
    /// Side of each stored crop in pixels.
    #[arg(long, default_value_t = PackOptions::default().store_size)]
    store_size: usize,
    /// Context stored around each object, per side, as a fraction of its longer side.
    #[arg(long, default_value_t = PackOptions::default().margin)]
    margin: f32,
    /// JPEG quality of the stored crops.
    #[arg(long, default_value_t = PackOptions::default().jpeg_quality)]
    quality: u8,
}

/// Runs `scribseg pack`.
pub fn run(args: Args) -> Result<()> {
    let config = Config::load(&args.config)?;
    let options = PackOptions {
        store_size: args.store_size,
        margin: args.margin,
        jpeg_quality: args.quality,
    };
    let style = ProgressStyle::with_template("{prefix:>14} [{bar:30}] {pos}/{len} {elapsed}")
        .expect("valid template")
        .progress_chars("=> ");
    let mut current: Option<(String, ProgressBar)> = None;
    let report = pack(&config, &args.out, &options, |name, units| {
        if current.as_ref().is_none_or(|(n, _)| n != name) {
            if let Some((_, bar)) = current.take() {
                bar.finish();
            }
            let bar = ProgressBar::new(units as u64).with_style(style.clone());
            bar.set_prefix(name.to_string());
            current = Some((name.to_string(), bar));
        }
        if let Some((_, bar)) = &current {
            bar.inc(1);
        }
    })?;
    if let Some((_, bar)) = current {
        bar.finish();
    }
    for (name, result) in &report.datasets {
        match result {
            Ok(r) => println!(
                "{name:<14} units {:>5}  samples {:>5}  objects {:>6}  skipped {}",
                r.units,
                r.samples,
                r.objects,
                r.skipped_total()
            ),
            Err(e) => println!("{name:<14} not packed: {e}"),
        }
    }
    for (split, path, count) in &report.shards {
        let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        println!(
            "{:<5} {count:>6} objects  {:>7.1} MiB  {}",
            split.name(),
            bytes as f64 / (1024.0 * 1024.0),
            path.display()
        );
    }
    Ok(())
}

//! `scribseg data stats`: per-dataset counts and a contact sheet of random samples;
//! `scribseg data check`: training photos that are evaluation photos.

use std::path::PathBuf;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use scribseg_data::{
    contact_sheet, find_leaks, AugmentParams, Config, CropParams, Dataset, DatasetKind,
    ObjectSample, References, ScanReport, Split, MATCH_SIMILARITY,
};

/// Flags of `scribseg data`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    command: DataCommand,
}

#[derive(clap::Subcommand, Debug)]
enum DataCommand {
    /// Per-dataset counts (units, images or slices, objects, split sizes,
    /// skipped items with reasons) and an optional contact sheet.
    Stats(StatsArgs),
    /// Compare every training and validation photo with every test and
    /// evaluation photo of the config by content (a 32×32 colour thumbnail's
    /// correlation, robust to resizing and re-encoding) and list the
    /// matches; exits with status 1 when there is one. `pack` refuses such
    /// data until the matches are in the dataset's `exclude`.
    Check(CheckArgs),
}

/// Flags of `scribseg data check`.
#[derive(clap::Args, Debug)]
struct CheckArgs {
    /// The dataset configuration (TOML), e.g. `configs/default.toml`; its
    /// `test_only` sets and test splits are what is checked against.
    #[arg(long)]
    config: PathBuf,
    /// List pairs from this correlation on (to look at near misses); only
    /// those at the match threshold fail the check.
    #[arg(long, default_value_t = MATCH_SIMILARITY)]
    min_similarity: f32,
}

/// Flags of `scribseg data stats`.
#[derive(clap::Args, Debug)]
struct StatsArgs {
    /// The dataset configuration (TOML), e.g. `configs/default.toml`.
    #[arg(long)]
    config: PathBuf,
    /// Write a contact sheet PNG of random training crops with their masks.
    #[arg(long)]
    sheet: Option<PathBuf>,
    /// Random crops per dataset on the sheet.
    #[arg(long, default_value_t = 4)]
    per_dataset: usize,
    /// Seed for the sheet's random picks.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

/// Runs `scribseg data …`.
pub fn run(args: Args) -> Result<()> {
    match args.command {
        DataCommand::Stats(args) => stats(args),
        DataCommand::Check(args) => check(args),
    }
}

fn check(args: CheckArgs) -> Result<()> {
    let config = Config::load(&args.config)?;
    let unopened: Vec<String> = config
        .datasets
        .iter()
        .filter_map(|dc| {
            let e = Dataset::open(dc, &config.data_root, config.split).err()?;
            Some(format!("{}: {e}", dc.name))
        })
        .collect();
    if !unopened.is_empty() {
        anyhow::bail!(
            "cannot check datasets that do not open:\n  {}",
            unopened.join("\n  ")
        );
    }
    let references = References::of_config(&config);
    println!(
        "{} test and evaluation photos; a match is a correlation of at least {MATCH_SIMILARITY}",
        references.len()
    );
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{prefix:>14} [{bar:30}] {pos}/{len} {elapsed}")
            .context("progress template")?
            .progress_chars("=> "),
    );
    let mut current = String::new();
    let leaks = find_leaks(&config, &references, args.min_similarity, |name, units| {
        if name != current {
            current = name.to_string();
            bar.set_prefix(current.clone());
            bar.set_length(units as u64);
            bar.set_position(0);
        }
        bar.inc(1);
    });
    bar.finish_and_clear();
    for l in &leaks {
        let below = if l.similarity < MATCH_SIMILARITY {
            "  (below the match threshold)"
        } else {
            ""
        };
        println!(
            "{} {} ({}) {}\n    = {} {} ({}) {}  correlation {:.3}{below}",
            l.image.dataset,
            l.image.id,
            l.image.split.name(),
            l.image.source.display(),
            l.reference.dataset,
            l.reference.id,
            l.reference.split.name(),
            l.reference.source.display(),
            l.similarity
        );
    }
    let leaks: Vec<_> = leaks
        .into_iter()
        .filter(|l| l.similarity >= MATCH_SIMILARITY)
        .collect();
    if leaks.is_empty() {
        println!("no photo matches a test or evaluation photo");
        return Ok(());
    }
    let mut by_dataset: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for l in &leaks {
        let ids = by_dataset.entry(l.image.dataset.as_str()).or_default();
        if !ids.contains(&l.image.id.as_str()) {
            ids.push(l.image.id.as_str());
        }
    }
    println!("{} matches; to leave them out:", leaks.len());
    for (dataset, ids) in by_dataset {
        println!("  [{dataset}] exclude = {ids:?}");
    }
    std::process::exit(1);
}

fn stats(args: StatsArgs) -> Result<()> {
    let config = Config::load(&args.config)?;
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let mut tiles = Vec::new();
    let mut rows = Vec::new();
    for dc in &config.datasets {
        let dataset = match Dataset::open(dc, &config.data_root, config.split) {
            Ok(d) => d,
            Err(e) => {
                rows.push(format!("{:<14} could not open: {e}", dc.name));
                continue;
            }
        };
        let bar = ProgressBar::new(dataset.len() as u64).with_style(
            ProgressStyle::with_template("{prefix:>14} [{bar:30}] {pos}/{len} {elapsed}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(dc.name.clone());
        let mut picked = Reservoir::new(args.per_dataset);
        let report = dataset.scan(
            &dataset.units(None),
            |sample| {
                if sample.objects.is_empty() {
                    return;
                }
                let object = rng.random_range(0..sample.objects.len());
                picked.offer(&mut rng, || ObjectSample::from_sample(&sample, object));
            },
            || bar.inc(1),
        );
        bar.finish_and_clear();
        for s in picked.items {
            let crop = s.random_crop(&CropParams::default(), &AugmentParams::none(), &mut rng);
            tiles.extend(crop.map(|(c, _)| c));
        }
        let splits = Split::ALL.map(|s| dataset.units(Some(s)).len());
        rows.push(row(dc.name.as_str(), dc.kind, &report, splits));
    }
    println!(
        "{:<14} {:<9} {:>6} {:>7} {:>7} {:>8} {:>14}  skipped",
        "dataset", "kind", "units", "images", "slices", "objects", "train/val/test"
    );
    for r in rows {
        println!("{r}");
    }
    if let Some(path) = args.sheet {
        contact_sheet(&tiles, 8)
            .save(&path)
            .with_context(|| format!("writing {}", path.display()))?;
        println!(
            "contact sheet: {} ({} samples)",
            path.display(),
            tiles.len()
        );
    }
    Ok(())
}

/// One line of the table, followed by the first skip messages.
fn row(name: &str, kind: DatasetKind, r: &ScanReport, splits: [usize; 3]) -> String {
    let (kind_name, images, slices) = match kind {
        DatasetKind::Coco => ("coco", r.samples, 0),
        DatasetKind::Masks => ("masks", r.samples, 0),
        DatasetKind::Decathlon => ("volumes", 0, r.samples),
    };
    let skipped = if r.skipped.is_empty() {
        "0".to_string()
    } else {
        let reasons: Vec<String> = r.skipped.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        format!("{} ({})", r.skipped_total(), reasons.join(", "))
    };
    let split = format!("{}/{}/{}", splits[0], splits[1], splits[2]);
    let mut line = format!(
        "{name:<14} {kind_name:<9} {:>6} {images:>7} {slices:>7} {:>8} {split:>14}  {skipped}",
        r.units, r.objects
    );
    for e in &r.examples {
        line.push_str(&format!("\n{:>16} {e}", "-"));
    }
    line
}

/// Keeps a uniform random subset of a stream (reservoir sampling); items are
/// built only when kept.
struct Reservoir<T> {
    capacity: usize,
    seen: usize,
    items: Vec<T>,
}

impl<T> Reservoir<T> {
    fn new(capacity: usize) -> Self {
        Reservoir {
            capacity,
            seen: 0,
            items: Vec::new(),
        }
    }

    fn offer(&mut self, rng: &mut impl Rng, make: impl FnOnce() -> T) {
        self.seen += 1;
        if self.items.len() < self.capacity {
            self.items.push(make());
        } else {
            let j = rng.random_range(0..self.seen);
            if j < self.capacity {
                self.items[j] = make();
            }
        }
    }
}

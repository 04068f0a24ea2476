//! Packing every configured dataset into one shard per split.

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::dataset::{Dataset, ScanReport};
use crate::error::Result;
use crate::leak::{Leak, References, MATCH_SIMILARITY};
use crate::object_sample::ObjectSample;
use crate::shard::{ShardDataset, ShardMeta, ShardWriter};
use crate::split::Split;

/// How shards store their crops.
#[derive(Clone, Debug, PartialEq)]
pub struct PackOptions {
    /// Side of each stored crop (default 160: room to re-crop 128 with scale jitter).
    pub store_size: usize,
    /// Context stored around each target, per side, as a fraction of its longer side
    /// (default 0.75: covers the training margin of up to 0.5 plus jitter).
    pub margin: f32,
    /// JPEG quality (default 90).
    pub jpeg_quality: u8,
}

impl Default for PackOptions {
    fn default() -> Self {
        PackOptions {
            store_size: 160,
            margin: 0.75,
            jpeg_quality: 90,
        }
    }
}

/// What [`pack`] wrote.
#[derive(Debug, Default)]
pub struct PackReport {
    /// Each shard file with its split and record count.
    pub shards: Vec<(Split, PathBuf, usize)>,
    /// Per dataset: its name and the scan of all its units (or why it did not open).
    pub datasets: Vec<(String, std::result::Result<ScanReport, String>)>,
}

/// The shard file name of a split: `train.shard`, `val.shard`, `test.shard`.
pub fn shard_name(split: Split) -> String {
    format!("{}.shard", split.name())
}

/// Decodes every dataset of `config`, crops each object with context and
/// writes `out/{train,val,test}.shard`.
///
/// A dataset that fails to open is reported and left out; bad units are
/// skipped and counted. `on_unit(dataset, units_in_dataset)` is called after
/// every unit (for progress bars). A training or validation photo that
/// matches a test or evaluation photo by content, or a test photo that
/// matches an evaluation photo ([`crate::find_leaks`]), fails the whole pack, and
/// its shards are removed: leave it out with the dataset's `exclude`
/// (`scribseg data check` lists them all).
pub fn pack(
    config: &Config,
    out: &Path,
    options: &PackOptions,
    mut on_unit: impl FnMut(&str, usize),
) -> Result<PackReport> {
    std::fs::create_dir_all(out).map_err(|e| crate::Error::io(out, e))?;
    let meta = ShardMeta {
        datasets: config
            .datasets
            .iter()
            .map(|d| ShardDataset {
                name: d.name.clone(),
                weight: d.weight,
            })
            .collect(),
        store_size: options.store_size,
        margin: options.margin,
        jpeg_quality: options.jpeg_quality,
    };
    let mut writers = Vec::new();
    for split in Split::ALL {
        let path = out.join(shard_name(split));
        writers.push((
            split,
            path.clone(),
            ShardWriter::create(&path, meta.clone())?,
        ));
    }
    let references = References::of_config(config);
    let mut leaks = Vec::new();
    let mut report = PackReport::default();
    for (index, dc) in config.datasets.iter().enumerate() {
        let dataset = match Dataset::open(dc, &config.data_root, config.split) {
            Ok(d) => d,
            Err(e) => {
                report.datasets.push((dc.name.clone(), Err(e.to_string())));
                continue;
            }
        };
        let mut total = ScanReport::default();
        let mut error = None;
        for (split, _, writer) in &mut writers {
            let units = dataset.units(Some(*split));
            let n = dataset.len();
            let scan = dataset.scan(
                &units,
                |sample| {
                    leaks.extend(references.matches(&dataset, *split, &sample, MATCH_SIMILARITY));
                    for (k, object) in ObjectSample::all_from_sample(&sample).enumerate() {
                        let id = format!("{}#{k}", sample.id);
                        if let Err(e) = writer.push(index, &id, &object) {
                            error.get_or_insert(e);
                        }
                    }
                },
                || on_unit(&dc.name, n),
            );
            merge(&mut total, scan);
        }
        if let Some(e) = error {
            return Err(e);
        }
        report.datasets.push((dc.name.clone(), Ok(total)));
    }
    if !leaks.is_empty() {
        for (_, path, writer) in writers {
            drop(writer);
            // The half-written shard must not be trained on; a failed
            // removal leaves a file the reader refuses (no index).
            let _ = std::fs::remove_file(path);
        }
        return Err(leak_error(out, &leaks));
    }
    for (split, path, writer) in writers {
        let count = writer.finish()?;
        report.shards.push((split, path, count));
    }
    Ok(report)
}

/// The error of a pack that found training or validation photos among the
/// test and evaluation photos: how many, and the first few.
fn leak_error(out: &Path, leaks: &[Leak]) -> crate::Error {
    let first: Vec<String> = leaks
        .iter()
        .take(5)
        .map(|l| {
            format!(
                "{} {} ({}) is {} {} ({}), correlation {:.3}",
                l.image.dataset,
                l.image.id,
                l.image.split.name(),
                l.reference.dataset,
                l.reference.id,
                l.reference.split.name(),
                l.similarity
            )
        })
        .collect();
    crate::Error::invalid(
        out,
        format!(
            "refused: {} photos match test or evaluation photos \
             ({}{}); add their ids to the dataset's `exclude` (`scribseg data check` lists them)",
            leaks.len(),
            first.join("; "),
            if leaks.len() > first.len() {
                "; …"
            } else {
                ""
            }
        ),
    )
}

/// Adds one scan's counts to another.
fn merge(total: &mut ScanReport, part: ScanReport) {
    total.units += part.units;
    total.loaded += part.loaded;
    total.samples += part.samples;
    total.objects += part.objects;
    for (reason, n) in part.skipped {
        *total.skipped.entry(reason).or_default() += n;
    }
    total.examples.extend(part.examples);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shard::ShardReader;

    #[test]
    fn packs_every_split_and_survives_a_missing_dataset() {
        let dir = tempfile::tempdir().expect("tempdir");
        let set = dir.path().join("set");
        for sub in ["images", "masks"] {
            std::fs::create_dir_all(set.join(sub)).expect("mkdir");
        }
        for i in 0..30 {
            image::RgbImage::from_pixel(40, 30, image::Rgb([i as u8, 50, 90]))
                .save(set.join(format!("images/{i}.png")))
                .expect("write");
            image::GrayImage::from_fn(40, 30, |x, y| {
                image::Luma([if x > 10 && y > 5 && x < 30 { 255 } else { 0 }])
            })
            .save(set.join(format!("masks/{i}.png")))
            .expect("write");
        }
        let toml = format!(
            "data_root = '{}'\n[[dataset]]\nname='s'\nkind='masks'\npath='set'\nweight=1\n\
             [[dataset]]\nname='gone'\nkind='coco'\npath='nowhere'\n",
            dir.path().display()
        );
        let mut config = Config::parse(&toml, &dir.path().join("c.toml")).expect("valid");
        config.data_root = dir.path().to_path_buf();
        let out = dir.path().join("out");
        let mut ticks = 0;
        let options = PackOptions {
            store_size: 48,
            ..PackOptions::default()
        };
        let report = pack(&config, &out, &options, |_, _| ticks += 1).expect("packs");
        assert_eq!(ticks, 30);
        let counts: Vec<usize> = report.shards.iter().map(|s| s.2).collect();
        assert_eq!(counts.iter().sum::<usize>(), 30);
        assert!(counts[0] > counts[1] && counts[0] > counts[2], "{counts:?}");
        assert!(
            report.datasets[1].1.is_err(),
            "the missing dataset is reported"
        );
        let train = ShardReader::open(&out.join("train.shard")).expect("opens");
        assert_eq!(train.len(), counts[0]);
        assert_eq!(train.meta().datasets[0].name, "s");
        let (id, sample) = train.get(0).expect("decodes");
        assert!(id.ends_with("#0"), "{id}");
        assert_eq!(sample.image.width(), 48);
    }
}

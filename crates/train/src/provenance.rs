//! The lineage a run writes beside each of its checkpoints (`train.json`, see
//! [`scribseg_model::lineage`]): the config as run, the init checkpoint, the
//! data, the commit, the machine and the wall time.

use std::path::Path;
use std::time::Instant;

use scribseg_data::ShardReader;
use scribseg_model::lineage::{
    sha256_parts, DataRecord, FileRecord, Hardware, Origin, Parent, Source, TrainRun,
    LINEAGE_FORMAT,
};
use scribseg_model::Lineage;
use time::format_description::well_known::Rfc3339;

use crate::learner::TrainDevice;
use crate::trainer::RunState;
use crate::{Error, TrainConfig};

/// What the trainer cannot know by itself about a run: where it computes and
/// which code it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Provenance {
    /// Where the steps compute.
    pub device: TrainDevice,
    /// The git commit of the code (`scribseg` records the one it was built
    /// from); `None` where unknown.
    pub commit: Option<String>,
}

/// The lineage of the run in progress, filled in at each checkpoint.
pub(crate) struct RunRecord {
    /// Everything but the counts and the wall time.
    run: TrainRun,
    note: Option<String>,
    /// Seconds spent by earlier invocations of a resumed run.
    earlier_seconds: f64,
    clock: Instant,
}

impl RunRecord {
    /// The record of a run of `config` on `shard` (the training shard at
    /// `shard_path`); a resumed run (`resumed`) takes its init, start time and
    /// earlier wall time from its `last/` checkpoint's lineage.
    pub(crate) fn start(
        config: &TrainConfig,
        provenance: &Provenance,
        shard: &ShardReader,
        shard_path: &Path,
        resumed: bool,
    ) -> Result<Self, Error> {
        let earlier = if resumed {
            Lineage::load(&config.out.join("last"))?
        } else {
            None
        };
        let earlier_run = earlier.and_then(|lineage| match lineage.origin {
            Origin::Train(run) => Some(*run),
            Origin::Average { .. } | Origin::Half { .. } => None,
        });
        let mut note = None;
        let init = match &earlier_run {
            Some(run) => run.init.clone(),
            None => {
                if resumed {
                    note = Some(
                        "resumed from a run folder without a lineage: the init is the \
                         config's as it was when the run resumed"
                            .to_owned(),
                    );
                }
                config.init.as_deref().map(Parent::of).transpose()?
            }
        };
        let commit = match (
            earlier_run.as_ref().and_then(|r| r.commit.clone()),
            &provenance.commit,
        ) {
            (Some(before), Some(now)) if !before.ends_with(now.as_str()) => {
                Some(format!("{before}, resumed on {now}"))
            }
            (before, now) => before.or_else(|| now.clone()),
        };
        let started = earlier_run
            .as_ref()
            .and_then(|r| r.started.clone())
            .or_else(now_utc);
        let earlier_seconds = earlier_run
            .as_ref()
            .and_then(|r| r.wall_seconds)
            .unwrap_or(0.0);
        let config_json = serde_json::to_value(config).expect("a training config serialises");
        Ok(RunRecord {
            run: TrainRun {
                config: config_json,
                device: provenance.device.to_string(),
                steps_done: 0,
                samples: 0,
                init,
                data: data_record(shard, shard_path),
                commit,
                hardware: Some(Hardware::this_machine(rayon::current_num_threads())),
                started,
                wall_seconds: None,
            },
            note,
            earlier_seconds,
            clock: Instant::now(),
        })
    }

    /// The lineage of the checkpoint written at `state`.
    pub(crate) fn at(&self, state: &RunState) -> Lineage {
        let mut run = self.run.clone();
        run.steps_done = state.step as u64;
        run.samples = state.samples as u64;
        run.wall_seconds = Some(self.earlier_seconds + self.clock.elapsed().as_secs_f64());
        let before = run.init.as_ref().map_or(0, Parent::samples_total);
        Lineage {
            format: LINEAGE_FORMAT,
            samples_total: before + run.samples,
            note: self.note.clone(),
            origin: Origin::Train(Box::new(run)),
        }
    }
}

/// The training shard and its datasets, each with a hash of its records.
fn data_record(shard: &ShardReader, path: &Path) -> DataRecord {
    let datasets = &shard.meta().datasets;
    let sources = datasets
        .iter()
        .enumerate()
        .map(|(index, dataset)| {
            let records: Vec<usize> = (0..shard.len())
                .filter(|&i| shard.dataset_of(i) == index)
                .collect();
            Source {
                name: dataset.name.clone(),
                weight: dataset.weight,
                records: Some(records.len() as u64),
                sha256: Some(sha256_parts(records.iter().map(|&i| shard.record_bytes(i)))),
            }
        })
        .collect();
    DataRecord {
        shard: Some(FileRecord {
            path: path.display().to_string(),
            // The file is in memory already: hash it there, not read again.
            sha256: Some(sha256_parts([shard.file_bytes()])),
            records: Some(shard.len() as u64),
        }),
        sources,
    }
}

fn now_utc() -> Option<String> {
    time::OffsetDateTime::now_utc().format(&Rfc3339).ok()
}

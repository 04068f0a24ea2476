//! Where a checkpoint came from: `train.json` beside `config.json` and `model.bpk`.
//!
//! A [`Lineage`] is a tree. A trained checkpoint records the training config as run, the
//! samples it saw, the data it drew them from, the code's commit, the machine and the wall
//! time, and the checkpoint it started from ([`Parent`]: its path, the SHA-256 of its weights
//! file and, nested, that checkpoint's own lineage). An averaged checkpoint records its inputs,
//! a half-precision copy the checkpoint it copied. Following the parents back ends at a run
//! from random weights, or at a checkpoint whose lineage was not recorded.
//!
//! The training config is kept as JSON rather than as the trainer's type: this crate sits
//! below the trainer, and a lineage must stay readable after the config gains fields.

use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Error, WEIGHTS_FILE};

/// The name of the lineage file in a checkpoint directory.
pub const LINEAGE_FILE: &str = "train.json";

/// The version of the lineage format this build writes and reads.
pub const LINEAGE_FORMAT: u32 = 1;

/// A lineage file larger than this is refused: the longest committed one, a chain of 23
/// rounds under each of two averaged inputs, is about 300 kilobytes.
const MAX_LINEAGE_BYTES: u64 = 16 << 20;

/// Where a checkpoint came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lineage {
    /// The format version ([`LINEAGE_FORMAT`]).
    pub format: u32,
    /// Training samples seen through the whole lineage (for an average, the most of its
    /// inputs'); a lower bound where a parent's lineage is unknown.
    pub samples_total: u64,
    /// How this record was made, and anything uncertain in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// What made the checkpoint.
    #[serde(flatten)]
    pub origin: Origin,
}

/// What made a checkpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "origin", rename_all = "lowercase")]
pub enum Origin {
    /// A training run (`scribseg train`).
    Train(Box<TrainRun>),
    /// The element-wise mean of several checkpoints (`scribseg model average`).
    Average {
        /// The checkpoints averaged, in the order given.
        inputs: Vec<Parent>,
    },
    /// A copy with its weights in half precision (`scribseg model half`).
    Half {
        /// The checkpoint copied.
        input: Parent,
    },
}

/// One training run, as it ran.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainRun {
    /// The training configuration as run (the trainer's `TrainConfig`, flags applied).
    pub config: serde_json::Value,
    /// The burn backend it trained on (`cpu`, `torch`, `vulkan`).
    pub device: String,
    /// Optimiser steps this run took.
    pub steps_done: u64,
    /// Samples this run saw (not counting its init's).
    pub samples: u64,
    /// The checkpoint it started from; `None` for random weights.
    pub init: Option<Parent>,
    /// The data it drew its samples from.
    pub data: DataRecord,
    /// The git commit of the code (`-dirty` when it had uncommitted changes).
    pub commit: Option<String>,
    /// The machine.
    pub hardware: Option<Hardware>,
    /// When the run started, RFC 3339 in UTC.
    pub started: Option<String>,
    /// Seconds spent training, summed over resumptions.
    pub wall_seconds: Option<f64>,
}

/// A checkpoint another was made from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Parent {
    /// The checkpoint directory as it was given.
    pub path: String,
    /// SHA-256 of its weights file, hex; `None` where the file is gone.
    pub sha256: Option<String>,
    /// Its own lineage, where it had one.
    pub lineage: Option<Box<Lineage>>,
}

/// The training data of a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DataRecord {
    /// The training shard file.
    pub shard: Option<FileRecord>,
    /// The datasets of the mixture.
    pub sources: Vec<Source>,
}

/// A file and its content hash.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileRecord {
    /// The path as the run saw it.
    pub path: String,
    /// SHA-256 of the file, hex.
    pub sha256: Option<String>,
    /// Records (objects) in it.
    pub records: Option<u64>,
}

/// One dataset of a training mixture.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Source {
    /// The dataset's name in the data config.
    pub name: String,
    /// Its mixture weight.
    pub weight: f64,
    /// Its records in the shard.
    pub records: Option<u64>,
    /// SHA-256 over its records' bytes in shard order, hex.
    pub sha256: Option<String>,
}

/// The machine a run trained on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hardware {
    /// The CPU's model name.
    pub cpu: String,
    /// Threads the trainer used.
    pub threads: u32,
}

impl Hardware {
    /// This machine: the CPU's model name (from `/proc/cpuinfo` where there is one, else the
    /// architecture) and `threads`.
    pub fn this_machine(threads: usize) -> Self {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find_map(|line| line.strip_prefix("model name"))
                    .and_then(|rest| rest.split_once(':'))
                    .map(|(_, name)| name.trim().to_owned())
            })
            .unwrap_or_else(|| std::env::consts::ARCH.to_owned());
        Hardware {
            cpu,
            threads: u32::try_from(threads).unwrap_or(u32::MAX),
        }
    }
}

impl Parent {
    /// The checkpoint directory `dir` as a parent: its path as given, its weights' hash and
    /// its lineage where it has one.
    ///
    /// # Errors
    ///
    /// As [`sha256_file`] for the weights file and [`Lineage::load`] for the lineage.
    pub fn of(dir: &Path) -> Result<Self, Error> {
        Ok(Parent {
            path: dir.display().to_string(),
            sha256: Some(sha256_file(&dir.join(WEIGHTS_FILE))?),
            lineage: Lineage::load(dir)?.map(Box::new),
        })
    }

    /// Samples seen through this parent's lineage (0 where it has none).
    pub fn samples_total(&self) -> u64 {
        self.lineage.as_ref().map_or(0, |l| l.samples_total)
    }
}

impl Lineage {
    /// The lineage of a checkpoint averaged from `inputs`.
    pub fn average(inputs: Vec<Parent>) -> Self {
        Lineage {
            format: LINEAGE_FORMAT,
            samples_total: inputs.iter().map(Parent::samples_total).max().unwrap_or(0),
            note: None,
            origin: Origin::Average { inputs },
        }
    }

    /// The lineage of a half-precision copy of `input`.
    pub fn half(input: Parent) -> Self {
        Lineage {
            format: LINEAGE_FORMAT,
            samples_total: input.samples_total(),
            note: None,
            origin: Origin::Half { input },
        }
    }

    /// Reads `dir/train.json`; `Ok(None)` when the checkpoint has none.
    ///
    /// # Errors
    ///
    /// [`Error::Lineage`] if the file cannot be read, is too large, is not a lineage or is of
    /// a later format.
    pub fn load(dir: &Path) -> Result<Option<Self>, Error> {
        let path = dir.join(LINEAGE_FILE);
        let bad = |message: String| Error::Lineage {
            path: path.clone(),
            message,
        };
        let file = match std::fs::File::open(&path) {
            Ok(file) => file,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(bad(err.to_string())),
        };
        let mut text = Vec::new();
        file.take(MAX_LINEAGE_BYTES + 1)
            .read_to_end(&mut text)
            .map_err(|err| bad(err.to_string()))?;
        if text.len() as u64 > MAX_LINEAGE_BYTES {
            return Err(bad(format!("larger than {} MiB", MAX_LINEAGE_BYTES >> 20)));
        }
        let lineage: Lineage = serde_json::from_slice(&text).map_err(|err| bad(err.to_string()))?;
        let newer = lineage.find(&mut |l| l.format > LINEAGE_FORMAT);
        if let Some(newer) = newer {
            return Err(bad(format!(
                "format {} is newer than this build reads ({LINEAGE_FORMAT})",
                newer.format
            )));
        }
        Ok(Some(lineage))
    }

    /// Writes `dir/train.json` (pretty-printed).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if it cannot be written.
    pub fn save(&self, dir: &Path) -> Result<(), Error> {
        let path = dir.join(LINEAGE_FILE);
        let text = serde_json::to_string_pretty(self).expect("a lineage serialises");
        std::fs::write(&path, text + "\n").map_err(|source| Error::Io { path, source })
    }

    /// The parents this checkpoint was made from directly.
    pub fn parents(&self) -> Vec<&Parent> {
        match &self.origin {
            Origin::Train(run) => run.init.iter().collect(),
            Origin::Average { inputs } => inputs.iter().collect(),
            Origin::Half { input } => vec![input],
        }
    }

    /// The first lineage in this tree (itself, then its parents', depth first) that `pred`
    /// accepts.
    pub fn find(&self, pred: &mut impl FnMut(&Lineage) -> bool) -> Option<&Lineage> {
        if pred(self) {
            return Some(self);
        }
        self.parents()
            .into_iter()
            .filter_map(|parent| parent.lineage.as_deref())
            .find_map(|lineage| lineage.find(pred))
    }

    /// Every training run in this tree, depth first, newest first.
    pub fn runs(&self) -> Vec<&TrainRun> {
        let mut runs = Vec::new();
        if let Origin::Train(run) = &self.origin {
            runs.push(run.as_ref());
        }
        for parent in self.parents() {
            if let Some(lineage) = &parent.lineage {
                runs.extend(lineage.runs());
            }
        }
        runs
    }

    /// The lineage as indented text, newest first: a chain of runs (each started from the
    /// one below it) stays at one indentation; an average's inputs each get their own.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out, "");
        out
    }

    fn render_into(&self, out: &mut String, indent: &str) {
        let line = |out: &mut String, text: &str| {
            writeln!(out, "{indent}{text}").expect("writing to a String cannot fail");
        };
        match &self.origin {
            Origin::Train(run) => line(out, &run.summary(self.samples_total)),
            Origin::Average { inputs } => line(
                out,
                &format!(
                    "the element-wise mean of {} checkpoints ({} samples in all):",
                    inputs.len(),
                    thousands(self.samples_total)
                ),
            ),
            Origin::Half { input: _ } => {
                line(out, "a copy with its weights in half precision of:");
            }
        }
        if let Some(note) = &self.note {
            line(out, &format!("  note: {note}"));
        }
        match &self.origin {
            Origin::Train(run) => match &run.init {
                Some(parent) => {
                    line(out, &format!("started from {}", parent.describe()));
                    parent.render_lineage(out, indent);
                }
                None => line(out, "started from random weights"),
            },
            Origin::Average { inputs } => {
                let inner = format!("{indent}    ");
                for (i, parent) in inputs.iter().enumerate() {
                    writeln!(out, "{indent}  [{}] {}", i + 1, parent.describe())
                        .expect("writing to a String cannot fail");
                    parent.render_lineage(out, &inner);
                }
            }
            Origin::Half { input } => {
                let inner = format!("{indent}    ");
                writeln!(out, "{indent}  {}", input.describe())
                    .expect("writing to a String cannot fail");
                input.render_lineage(out, &inner);
            }
        }
    }
}

impl Parent {
    fn describe(&self) -> String {
        match &self.sha256 {
            Some(hash) => format!("{} (sha256 {})", self.path, &hash[..hash.len().min(16)]),
            None => format!("{} (weights no longer kept)", self.path),
        }
    }

    fn render_lineage(&self, out: &mut String, indent: &str) {
        match &self.lineage {
            Some(lineage) => lineage.render_into(out, indent),
            None => writeln!(out, "{indent}(no lineage recorded)")
                .expect("writing to a String cannot fail"),
        }
    }
}

impl TrainRun {
    /// One paragraph on the run: samples, schedule, seed, machine, commit and time.
    fn summary(&self, samples_total: u64) -> String {
        let get = |key: &str| self.config.get(key).map(|v| v.to_string());
        let field = |key: &str| get(key).unwrap_or_else(|| "?".to_owned());
        let mut text = format!(
            "trained {} steps of {} = {} samples ({} in all), {} input, on `{}`",
            thousands(self.steps_done),
            field("batch"),
            thousands(self.samples),
            thousands(samples_total),
            field("kind").trim_matches('"'),
            self.device
        );
        if let Some(hardware) = &self.hardware {
            let _ = write!(text, " ({}, {} threads)", hardware.cpu, hardware.threads);
        }
        let _ = write!(
            text,
            "; lr {} → {}, warm-up {}, seed {}, corrective {}, clicks {}, copy-paste {}",
            field("lr"),
            field("min_lr"),
            field("warmup"),
            field("seed"),
            field("corrective_probability"),
            field("click_probability"),
            field("copy_paste_probability"),
        );
        if let Some(minutes) = self
            .config
            .get("time_limit_minutes")
            .and_then(serde_json::Value::as_f64)
        {
            let _ = write!(text, ", cosine over {minutes} min");
        }
        if !self.data.sources.is_empty() {
            let names: Vec<String> = self
                .data
                .sources
                .iter()
                .map(|s| format!("{} {}", s.name, s.weight))
                .collect();
            let _ = write!(text, "; data {}", names.join(", "));
        }
        if let Some(commit) = &self.commit {
            let _ = write!(text, "; commit {commit}");
        }
        if let Some(started) = &self.started {
            let _ = write!(text, "; started {started}");
        }
        if let Some(seconds) = self.wall_seconds {
            let _ = write!(text, ", {:.0} min", seconds / 60.0);
        }
        text
    }
}

/// `n` with a comma every three digits.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// SHA-256 of a file, hex, read in blocks.
///
/// # Errors
///
/// [`Error::Lineage`] naming the file if it cannot be read.
pub fn sha256_file(path: &Path) -> Result<String, Error> {
    let bad = |err: std::io::Error| Error::Lineage {
        path: PathBuf::from(path),
        message: format!("cannot hash it: {err}"),
    };
    let mut file = std::fs::File::open(path).map_err(bad)?;
    let mut hasher = Sha256::new();
    let mut block = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut block).map_err(bad)?;
        if n == 0 {
            break;
        }
        hasher.update(&block[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

/// SHA-256 of byte slices fed in order, hex.
pub fn sha256_parts<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hex(&hasher.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(samples: u64, init: Option<Parent>) -> Lineage {
        let samples_total = samples + init.as_ref().map_or(0, Parent::samples_total);
        Lineage {
            format: LINEAGE_FORMAT,
            samples_total,
            note: None,
            origin: Origin::Train(Box::new(TrainRun {
                config: serde_json::json!({"batch": 16, "lr": 1e-4, "kind": "scribble"}),
                device: "cpu".into(),
                steps_done: samples / 16,
                samples,
                init,
                data: DataRecord {
                    shard: None,
                    sources: vec![Source {
                        name: "coco".into(),
                        weight: 1.0,
                        records: Some(10),
                        sha256: None,
                    }],
                },
                commit: Some("abc1234".into()),
                hardware: Some(Hardware::this_machine(2)),
                started: Some("2026-12-07T00:00:00Z".into()),
                wall_seconds: Some(600.0),
            })),
        }
    }

    fn parent(path: &str, lineage: Lineage) -> Parent {
        Parent {
            path: path.into(),
            sha256: Some("ab".repeat(32)),
            lineage: Some(Box::new(lineage)),
        }
    }

    #[test]
    fn a_lineage_round_trips_through_its_file_and_renders_every_run() {
        let first = run(1600, None);
        let second = run(3200, Some(parent("runs/a/last", first.clone())));
        let mean = Lineage::average(vec![
            parent("runs/a/last", first),
            parent("runs/b/last", second),
        ]);
        assert_eq!(mean.samples_total, 4800);
        assert_eq!(mean.runs().len(), 3);

        let dir = tempfile::tempdir().expect("tempdir");
        mean.save(dir.path()).expect("saved");
        let back = Lineage::load(dir.path()).expect("read").expect("present");
        assert_eq!(back, mean);

        let text = back.render();
        assert!(
            text.starts_with("the element-wise mean of 2 checkpoints (4,800 samples in all):"),
            "{text}"
        );
        assert!(
            text.contains("  [2] runs/b/last (sha256 abababababababab)"),
            "{text}"
        );
        assert!(text.contains("= 3,200 samples (4,800 in all)"), "{text}");
        assert_eq!(
            text.matches("started from random weights").count(),
            2,
            "{text}"
        );
    }

    #[test]
    fn a_missing_lineage_is_none_and_a_bad_one_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(Lineage::load(dir.path()).expect("no file").is_none());

        std::fs::write(dir.path().join(LINEAGE_FILE), "{\"format\": 1").expect("written");
        let err = Lineage::load(dir.path())
            .expect_err("truncated")
            .to_string();
        assert!(err.contains(LINEAGE_FILE), "{err}");

        let mut newer = run(16, None);
        newer.format = LINEAGE_FORMAT + 1;
        let wrapped = Lineage::half(parent("x", newer));
        wrapped.save(dir.path()).expect("saved");
        let err = Lineage::load(dir.path()).expect_err("newer").to_string();
        assert!(err.contains("newer than this build reads"), "{err}");
    }

    #[test]
    fn hashes_are_sha256() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        std::fs::write(&path, b"abc").expect("written");
        let expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(sha256_file(&path).expect("hashed"), expected);
        assert_eq!(sha256_parts([&b"a"[..], &b"bc"[..]]), expected);
        assert!(sha256_file(&dir.path().join("missing")).is_err());
    }
}

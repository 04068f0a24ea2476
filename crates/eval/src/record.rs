//! The per-object record of a run, and the JSONL file that makes runs resumable.
//!
//! Every finished (dataset, object, method, seed) is appended as one JSON
//! line to `records.jsonl` and flushed; a rerun reads the file back and
//! skips what is there. A line cut short by an interruption is dropped.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use scribseg_sim::{Point, Polarity, Stroke};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::object::EvalObject;
use crate::trace::{Stop, Trace};

/// Which protocol produced a record (and which Table 1 rows it feeds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// One simulated scribble, then corrective scribbles: the "scribble" and
    /// "scribble + corrective" rows, and the DICE-vs-strokes curves.
    Scribble,
    /// The ground truth's bounding box.
    Box,
    /// The ground truth's extreme points.
    Extremes,
    /// The click protocol (NoC), run with the scribble predictor.
    Clicks,
}

impl Method {
    /// Every method, in report order.
    pub const ALL: [Method; 4] = [
        Method::Scribble,
        Method::Box,
        Method::Extremes,
        Method::Clicks,
    ];
}

/// A stroke as stored: polarity and `[x, y]` vertices in image pixels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StrokeRecord {
    /// `true` for a positive (object) stroke.
    pub positive: bool,
    /// The polyline's vertices; one vertex is a click.
    pub points: Vec<[f32; 2]>,
}

impl From<&Stroke> for StrokeRecord {
    fn from(s: &Stroke) -> Self {
        Self {
            positive: s.polarity == Polarity::Positive,
            points: s.points.iter().map(|p| [p.x, p.y]).collect(),
        }
    }
}

impl From<&StrokeRecord> for Stroke {
    fn from(s: &StrokeRecord) -> Self {
        Stroke {
            points: s.points.iter().map(|&[x, y]| Point::new(x, y)).collect(),
            polarity: if s.positive {
                Polarity::Positive
            } else {
                Polarity::Negative
            },
        }
    }
}

/// Everything measured for one object under one method and seed.
///
/// `dice`, `iou` and `latency_ms` have one entry per predictor call; a run
/// that stopped early (see `stop`) is extended flat by the summaries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObjectRecord {
    /// Dataset name.
    pub dataset: String,
    /// Image stem.
    pub image: String,
    /// Object id (`<stem>_<k>`).
    pub object: String,
    /// Protocol.
    pub method: Method,
    /// The predictor's name.
    pub predictor: String,
    /// Seed index (0 for the deterministic protocols).
    pub seed: u64,
    /// Image width.
    pub width: usize,
    /// Image height.
    pub height: usize,
    /// Ground-truth object pixels.
    pub truth_area: usize,
    /// Ignored pixels.
    pub ignored_area: usize,
    /// DICE after each call.
    pub dice: Vec<f64>,
    /// IoU after each call.
    pub iou: Vec<f64>,
    /// Latency of each call, milliseconds.
    pub latency_ms: Vec<f64>,
    /// Strokes (polylines) added before each call.
    pub strokes_added: Vec<usize>,
    /// For each call after the first: the share of the pixels right before
    /// it that it got wrong (`null` where none was right); empty in records
    /// written before it was measured.
    #[serde(default)]
    pub broken: Vec<Option<f64>>,
    /// Every stroke given, oldest first.
    pub strokes: Vec<StrokeRecord>,
    /// Why the run ended.
    pub stop: Stop,
}

/// What identifies a record: dataset, object, method, seed.
pub type RecordKey = (String, String, Method, u64);

impl ObjectRecord {
    /// The record of `trace` for `object`.
    pub fn new(
        object: &EvalObject,
        method: Method,
        predictor: &str,
        seed: u64,
        trace: &Trace,
    ) -> Self {
        Self {
            dataset: object.dataset.clone(),
            image: object.image_id.clone(),
            object: object.id.clone(),
            method,
            predictor: predictor.to_string(),
            seed,
            width: object.truth.width(),
            height: object.truth.height(),
            truth_area: object.truth.area(),
            ignored_area: object.ignore.as_ref().map_or(0, |m| m.area()),
            dice: trace.dice(),
            iou: trace.iou(),
            latency_ms: trace
                .steps
                .iter()
                .map(|s| s.latency.as_secs_f64() * 1e3)
                .collect(),
            strokes_added: trace.steps.iter().map(|s| s.strokes_added).collect(),
            broken: trace.broken(),
            strokes: trace.strokes.iter().map(StrokeRecord::from).collect(),
            stop: trace.stop,
        }
    }

    /// This record's key.
    pub fn key(&self) -> RecordKey {
        (
            self.dataset.clone(),
            self.object.clone(),
            self.method,
            self.seed,
        )
    }

    /// The strokes as the simulator's type.
    pub fn strokes(&self) -> Vec<Stroke> {
        self.strokes.iter().map(Stroke::from).collect()
    }
}

/// The score after `k` (1-based) calls, extended flat past the last call;
/// 0 for an empty curve.
pub fn score_after(curve: &[f64], k: usize) -> f64 {
    match curve.len().min(k) {
        0 => 0.0,
        n => curve[n - 1],
    }
}

/// `records.jsonl`: the records so far, appended one line at a time.
pub struct RecordStore {
    path: PathBuf,
    file: File,
    records: Vec<ObjectRecord>,
    /// Index into `records` by key.
    keys: std::collections::HashMap<RecordKey, usize>,
}

impl RecordStore {
    /// Opens (or creates) `path` and reads the records already there.
    pub fn open(path: &Path) -> Result<Self> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(Error::io(path, e)),
        };
        let mut records = Vec::new();
        let mut kept = 0;
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        for (i, line) in lines.iter().enumerate() {
            if !line.ends_with('\n') {
                break; // the last line, cut short by an interruption: dropped
            }
            let record: ObjectRecord =
                serde_json::from_str(line.trim_end()).map_err(|source| Error::Json {
                    path: path.to_path_buf(),
                    line: i + 1,
                    source,
                })?;
            records.push(record);
            kept += line.len();
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        file.set_len(kept as u64).map_err(|e| Error::io(path, e))?;
        let keys = records
            .iter()
            .enumerate()
            .map(|(i, r)| (r.key(), i))
            .collect();
        Ok(Self {
            path: path.to_path_buf(),
            file,
            records,
            keys,
        })
    }

    /// Whether a record with `key` is stored.
    pub fn contains(&self, key: &RecordKey) -> bool {
        self.keys.contains_key(key)
    }

    /// The record stored under `key`.
    pub fn get(&self, key: &RecordKey) -> Option<&ObjectRecord> {
        self.keys.get(key).map(|&i| &self.records[i])
    }

    /// Appends `record` as one line and flushes it.
    pub fn append(&mut self, record: ObjectRecord) -> Result<()> {
        let mut line = serde_json::to_string(&record).map_err(|source| Error::Json {
            path: self.path.clone(),
            line: self.records.len() + 1,
            source,
        })?;
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.flush())
            .map_err(|e| Error::io(&self.path, e))?;
        self.keys.insert(record.key(), self.records.len());
        self.records.push(record);
        Ok(())
    }

    /// Every record, in file order.
    pub fn records(&self) -> &[ObjectRecord] {
        &self.records
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(object: &str, seed: u64) -> ObjectRecord {
        ObjectRecord {
            dataset: "d".into(),
            image: "img".into(),
            object: object.into(),
            method: Method::Scribble,
            predictor: "p".into(),
            seed,
            width: 2,
            height: 1,
            truth_area: 1,
            ignored_area: 0,
            dice: vec![0.5, 1.0],
            iou: vec![0.25, 1.0],
            latency_ms: vec![1.0, 2.0],
            strokes_added: vec![1, 1],
            broken: vec![Some(0.01)],
            strokes: vec![StrokeRecord {
                positive: false,
                points: vec![[1.5, 0.0]],
            }],
            stop: Stop::NoCorrection,
        }
    }

    #[test]
    fn records_survive_a_reopen_and_a_cut_line_is_dropped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("records.jsonl");
        let mut store = RecordStore::open(&path).expect("creates");
        store.append(record("a", 0)).expect("append");
        store.append(record("a", 1)).expect("append");
        drop(store);
        // An interrupted write leaves half a line.
        let mut f = OpenOptions::new().append(true).open(&path).expect("open");
        f.write_all(b"{\"dataset\":\"d\",\"ima").expect("write");
        drop(f);
        let mut store = RecordStore::open(&path).expect("reopens");
        assert_eq!(store.records(), &[record("a", 0), record("a", 1)]);
        assert!(store.contains(&record("a", 1).key()));
        assert_eq!(store.get(&record("a", 1).key()), Some(&record("a", 1)));
        assert!(!store.contains(&record("b", 0).key()));
        store.append(record("b", 0)).expect("append after the cut");
        drop(store);
        let store = RecordStore::open(&path).expect("reopens again");
        assert_eq!(store.records().len(), 3);
        assert_eq!(
            store.records()[2].strokes()[0].points[0],
            Point::new(1.5, 0.0)
        );
    }

    #[test]
    fn a_corrupt_middle_line_is_an_error_with_its_number() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("records.jsonl");
        std::fs::write(&path, "not json\n").expect("write");
        let e = RecordStore::open(&path).err().expect("fails");
        assert!(e.to_string().contains("line 1"), "{e}");
    }

    #[test]
    fn score_after_extends_flat() {
        assert_eq!(score_after(&[0.2, 0.7], 1), 0.2);
        assert_eq!(score_after(&[0.2, 0.7], 5), 0.7);
        assert_eq!(score_after(&[], 3), 0.0);
    }
}

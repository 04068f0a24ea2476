//! Training shards: object crops with context, compact enough to travel and
//! fast enough to read at memory speed.
//!
//! # Format (little-endian)
//!
//! ```text
//! "SCRBSHD1"                       8-byte magic
//! record 0, record 1, …            one per object (see below)
//! meta                             JSON: datasets (name, weight), store size, margin
//! index                            u64 offset of every record, then the end of the last
//! u64 meta offset, u64 record count, "SCRBSHD1"
//! ```
//!
//! A record is an [`ObjectSample`] cropped to a square window around its
//! target with [`ShardMeta::margin`] of context and resized to
//! `store_size²`: dataset index, modality, label and id, the image as JPEG
//! (grey for medical slices), then the target, the other objects and the
//! ignore mask as row-major run lengths in LEB128 varints. A few thousand
//! objects take tens of MiB; a record decodes in well under a millisecond.

mod bytes;

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use image::codecs::jpeg::JpegEncoder;
use image::{ExtendedColorType, ImageEncoder, ImageFormat};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::mixture::Mixture;
use crate::object_sample::ObjectSample;
use crate::sample::Modality;
use bytes::{put_bytes, put_mask, put_varint, Cursor};
use scribseg_sim::{CropRule, Window};

const MAGIC: &[u8; 8] = b"SCRBSHD1";

/// One dataset of a shard.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShardDataset {
    /// The dataset's name in the config.
    pub name: String,
    /// Its mixture weight.
    pub weight: f64,
}

/// What a shard holds, stored as JSON in its footer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShardMeta {
    /// Datasets, indexed by each record's dataset number.
    pub datasets: Vec<ShardDataset>,
    /// Side of every stored crop in pixels.
    pub store_size: usize,
    /// Context stored around each target, as a fraction of its longer side per side.
    pub margin: f32,
    /// JPEG quality of the stored images.
    pub jpeg_quality: u8,
}

/// Writes records one by one and the index at the end.
pub struct ShardWriter {
    path: PathBuf,
    out: BufWriter<std::fs::File>,
    offsets: Vec<u64>,
    position: u64,
    meta: ShardMeta,
    record: Vec<u8>,
}

impl ShardWriter {
    /// Creates `path` for the datasets and storage settings in `meta`.
    pub fn create(path: &Path, meta: ShardMeta) -> Result<Self> {
        let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
        let mut out = BufWriter::new(file);
        out.write_all(MAGIC).map_err(|e| Error::io(path, e))?;
        Ok(ShardWriter {
            path: path.to_path_buf(),
            out,
            offsets: Vec::new(),
            position: MAGIC.len() as u64,
            meta,
            record: Vec::new(),
        })
    }

    /// The window a record stores around a target: square, `margin` of context.
    pub fn store_window(&self, sample: &ObjectSample) -> Option<Window> {
        let bbox = sample.target.bounding_box()?;
        let rule = CropRule {
            context: self.meta.margin,
            min_side: 8.0,
        };
        Some(rule.around_rect(bbox))
    }

    /// Crops `sample` around its target and appends it as one record of dataset `dataset`.
    ///
    /// An empty target is skipped (returns `Ok(false)`).
    pub fn push(&mut self, dataset: usize, id: &str, sample: &ObjectSample) -> Result<bool> {
        let Some(window) = self.store_window(sample) else {
            return Ok(false);
        };
        let size = self.meta.store_size;
        let crop = sample.crop(&window, size, size);
        let r = &mut self.record;
        r.clear();
        put_varint(r, dataset as u32);
        put_varint(r, u32::from(crop.modality.code()));
        put_varint(r, size as u32);
        put_bytes(r, id.as_bytes());
        put_bytes(r, crop.label.as_bytes());
        let mut jpeg = Vec::new();
        let encoder = JpegEncoder::new_with_quality(&mut jpeg, self.meta.jpeg_quality);
        let encoded = if crop.modality.is_medical() {
            let grey: Vec<u8> = crop.image.pixels().map(|p| p.0[0]).collect();
            encoder.write_image(&grey, size as u32, size as u32, ExtendedColorType::L8)
        } else {
            encoder.write_image(
                crop.image.as_raw(),
                size as u32,
                size as u32,
                ExtendedColorType::Rgb8,
            )
        };
        encoded.map_err(|source| Error::Image {
            path: self.path.clone(),
            source,
        })?;
        put_bytes(r, &jpeg);
        put_varint(r, 1 + crop.others.len() as u32);
        put_mask(r, &crop.target);
        crop.others.iter().for_each(|m| put_mask(r, m));
        put_varint(r, u32::from(crop.ignore.is_some()));
        if let Some(ignore) = &crop.ignore {
            put_mask(r, ignore);
        }
        self.out
            .write_all(r)
            .map_err(|e| Error::io(&self.path, e))?;
        self.offsets.push(self.position);
        self.position += r.len() as u64;
        Ok(true)
    }

    /// Number of records written so far.
    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    /// Whether no record was written.
    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    /// Writes the footer; returns the number of records.
    pub fn finish(mut self) -> Result<usize> {
        let io = |e| Error::io(&self.path, e);
        let meta = serde_json::to_vec(&self.meta).expect("metadata serialises");
        let meta_offset = self.position;
        self.out.write_all(&meta).map_err(io)?;
        self.offsets.push(meta_offset);
        for o in &self.offsets {
            self.out.write_all(&o.to_le_bytes()).map_err(io)?;
        }
        let count = self.offsets.len() as u64 - 1;
        self.out
            .write_all(&(meta_offset + meta.len() as u64).to_le_bytes())
            .map_err(io)?;
        self.out.write_all(&count.to_le_bytes()).map_err(io)?;
        self.out.write_all(MAGIC).map_err(io)?;
        self.out.flush().map_err(io)?;
        Ok(count as usize)
    }
}

/// A shard loaded into memory, with random access to its records.
pub struct ShardReader {
    path: PathBuf,
    data: Vec<u8>,
    /// Record `i` spans `offsets[i]..offsets[i + 1]`; the last offset starts the metadata.
    offsets: Vec<usize>,
    datasets_of: Vec<u16>,
    meta: ShardMeta,
}

impl ShardReader {
    /// Reads the whole file and checks its footer and index.
    pub fn open(path: &Path) -> Result<Self> {
        let data = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Self::from_bytes(path, data)
    }

    fn from_bytes(path: &Path, data: Vec<u8>) -> Result<Self> {
        let bad = |why: &str| Error::invalid(path, format!("not a valid shard: {why}"));
        let n = data.len();
        if n < 32 || &data[..8] != MAGIC || &data[n - 8..] != MAGIC {
            return Err(bad("missing magic (truncated or another file)"));
        }
        let word = |at: usize| u64::from_le_bytes(data[at..at + 8].try_into().expect("8 bytes"));
        let (index_end, count) = (n - 24, word(n - 16) as usize);
        let index_start = word(n - 24) as usize;
        if count > n / 8 || index_start > index_end || index_end - index_start != 8 * (count + 1) {
            return Err(bad("index size does not match the record count"));
        }
        let offsets: Vec<usize> = (0..=count)
            .map(|i| word(index_start + 8 * i) as usize)
            .collect();
        let meta_offset = offsets[count];
        if offsets.windows(2).any(|w| w[0] > w[1]) || meta_offset > index_start || offsets[0] < 8 {
            return Err(bad("offsets out of order"));
        }
        let meta: ShardMeta =
            serde_json::from_slice(&data[meta_offset..index_start]).map_err(|source| {
                Error::Json {
                    path: path.to_path_buf(),
                    source,
                }
            })?;
        let datasets_of = (0..count)
            .map(|i| {
                let ds = Cursor::new(&data[offsets[i]..offsets[i + 1]]).varint();
                ds.filter(|&d| (d as usize) < meta.datasets.len())
                    .map(|d| d as u16)
            })
            .collect::<Option<Vec<u16>>>()
            .ok_or_else(|| bad("record with an unknown dataset"))?;
        Ok(ShardReader {
            path: path.to_path_buf(),
            data,
            offsets,
            datasets_of,
            meta,
        })
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.datasets_of.len()
    }

    /// Whether the shard holds no record.
    pub fn is_empty(&self) -> bool {
        self.datasets_of.is_empty()
    }

    /// The shard's metadata.
    pub fn meta(&self) -> &ShardMeta {
        &self.meta
    }

    /// The dataset index of record `index`.
    pub fn dataset_of(&self, index: usize) -> usize {
        usize::from(self.datasets_of[index])
    }

    /// The whole file as read (for content hashes).
    pub fn file_bytes(&self) -> &[u8] {
        &self.data
    }

    /// The encoded bytes of record `index`, as stored (for content hashes).
    pub fn record_bytes(&self, index: usize) -> &[u8] {
        &self.data[self.offsets[index]..self.offsets[index + 1]]
    }

    /// Decodes record `index`: a `store_size²` [`ObjectSample`] and its id.
    pub fn get(&self, index: usize) -> Result<(String, ObjectSample)> {
        let bad = |why: &str| Error::invalid(&self.path, format!("record {index}: {why}"));
        let mut c = Cursor::new(self.record_bytes(index));
        let truncated = || bad("truncated");
        let _dataset = c.varint().ok_or_else(truncated)?;
        let modality = c.varint().and_then(|m| Modality::from_code(m as u8));
        let modality = modality.ok_or_else(|| bad("unknown modality"))?;
        let size = c.varint().ok_or_else(truncated)? as usize;
        let id = c.string().ok_or_else(truncated)?;
        let label = c.string().ok_or_else(truncated)?;
        let jpeg = c.bytes().ok_or_else(truncated)?;
        let image = image::load_from_memory_with_format(jpeg, ImageFormat::Jpeg)
            .map_err(|source| Error::Image {
                path: self.path.clone(),
                source,
            })?
            .into_rgb8();
        if (image.width() as usize, image.height() as usize) != (size, size) {
            return Err(bad("image size differs from the record's"));
        }
        let count = c.varint().ok_or_else(truncated)? as usize;
        let mut masks = Vec::with_capacity(count);
        for _ in 0..count {
            masks.push(c.mask(size, size).ok_or_else(|| bad("corrupt mask"))?);
        }
        let ignore = match c.varint().ok_or_else(truncated)? {
            0 => None,
            _ => Some(
                c.mask(size, size)
                    .ok_or_else(|| bad("corrupt ignore mask"))?,
            ),
        };
        if masks.is_empty() {
            return Err(bad("no target mask"));
        }
        let target = masks.remove(0);
        Ok((
            id,
            ObjectSample {
                image,
                target,
                others: masks,
                ignore,
                modality,
                label,
            },
        ))
    }

    /// A sampler that picks a dataset by weight (among those with records),
    /// then one of its records; `None` when no dataset with a positive weight
    /// has a record.
    pub fn mixture(&self) -> Option<ShardSampler> {
        let mut members = vec![Vec::new(); self.meta.datasets.len()];
        for (i, &d) in self.datasets_of.iter().enumerate() {
            members[usize::from(d)].push(i);
        }
        let weights: Vec<f64> = self
            .meta
            .datasets
            .iter()
            .zip(&members)
            .map(|(d, m)| if m.is_empty() { 0.0 } else { d.weight })
            .collect();
        Some(ShardSampler {
            mixture: Mixture::new(&weights)?,
            members,
        })
    }
}

/// Draws record indices: a dataset by weight, then a record of it uniformly.
#[derive(Clone, Debug)]
pub struct ShardSampler {
    mixture: Mixture,
    members: Vec<Vec<usize>>,
}

impl ShardSampler {
    /// A random record index.
    pub fn sample(&self, rng: &mut impl Rng) -> usize {
        let records = &self.members[self.mixture.sample(rng)];
        records[rng.random_range(0..records.len())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use scribseg_sim::Mask;

    fn meta() -> ShardMeta {
        ShardMeta {
            datasets: vec![
                ShardDataset {
                    name: "a".into(),
                    weight: 0.75,
                },
                ShardDataset {
                    name: "b".into(),
                    weight: 0.25,
                },
                ShardDataset {
                    name: "none".into(),
                    weight: 1.0,
                },
            ],
            store_size: 32,
            margin: 0.5,
            jpeg_quality: 90,
        }
    }

    fn object(modality: Modality, offset: usize) -> ObjectSample {
        ObjectSample {
            image: image::RgbImage::from_fn(64, 48, |x, y| {
                image::Rgb([x as u8 * 4, y as u8 * 5, 100])
            }),
            target: Mask::from_fn(64, 48, |x, y| {
                (20 + offset..40).contains(&x) && (10..30).contains(&y)
            }),
            others: vec![
                Mask::from_fn(64, 48, |x, _| x < 22),
                Mask::from_fn(64, 48, |x, _| x == 63),
            ],
            ignore: Some(Mask::from_fn(64, 48, |x, y| x == 30 && y < 5)),
            modality,
            label: "thing".into(),
        }
    }

    fn write(dir: &Path) -> PathBuf {
        let path = dir.join("t.shard");
        let mut w = ShardWriter::create(&path, meta()).expect("create");
        assert!(w
            .push(0, "first", &object(Modality::Photo, 0))
            .expect("push"));
        assert!(w.push(1, "second", &object(Modality::Ct, 4)).expect("push"));
        let mut empty = object(Modality::Photo, 0);
        empty.target = Mask::new(64, 48);
        assert!(
            !w.push(0, "empty", &empty).expect("push"),
            "empty targets are skipped"
        );
        assert_eq!(w.finish().expect("finish"), 2);
        path
    }

    #[test]
    fn records_round_trip() {
        let dir = tempfile::tempdir().expect("tempdir");
        let reader = ShardReader::open(&write(dir.path())).expect("opens");
        assert_eq!(reader.len(), 2);
        assert_eq!(reader.meta(), &meta());
        assert_eq!((reader.dataset_of(0), reader.dataset_of(1)), (0, 1));
        let (id, s) = reader.get(0).expect("decodes");
        assert_eq!(id, "first");
        assert_eq!(s.label, "thing");
        assert_eq!((s.image.width(), s.image.height()), (32, 32));
        // A 20-px target with 0.5 margin per side sits in a 40-px window: 16 of 32 px.
        assert_eq!(
            s.target.bounding_box(),
            Some(scribseg_sim::Rect::new(8, 8, 24, 24))
        );
        assert_eq!(
            s.others.len(),
            1,
            "the column at x = 63 falls outside the window"
        );
        assert!(s.ignore.is_some());
        let (_, ct) = reader.get(1).expect("decodes");
        assert_eq!(ct.modality, Modality::Ct);
        let p = ct.image.get_pixel(16, 16).0;
        assert!(
            p[0] == p[1] && p[1] == p[2],
            "medical slices are stored grey"
        );
    }

    #[test]
    fn sampler_follows_weights_of_present_datasets() {
        let dir = tempfile::tempdir().expect("tempdir");
        let reader = ShardReader::open(&write(dir.path())).expect("opens");
        let sampler = reader.mixture().expect("two datasets have records");
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
        let firsts = (0..4000).filter(|_| sampler.sample(&mut rng) == 0).count();
        assert!((2_800..3_200).contains(&firsts), "{firsts}");
    }

    #[test]
    fn corrupt_shards_are_rejected() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(dir.path());
        let bytes = std::fs::read(&path).expect("read");
        for cut in [bytes.len() - 3, bytes.len() / 2, 5] {
            let err = ShardReader::from_bytes(&path, bytes[..cut].to_vec())
                .err()
                .expect("fails");
            assert!(err.to_string().contains("t.shard"), "{err}");
        }
        let mut flipped = bytes.clone();
        flipped[12] ^= 0xff;
        // A damaged record decodes to an error or to garbage, but never panics.
        if let Ok(reader) = ShardReader::from_bytes(&path, flipped) {
            let _ = reader.get(0);
        }
    }
}

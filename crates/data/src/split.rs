//! Deterministic train/validation/test splits by unit id (image or volume, never slice).

/// Which part of a dataset a unit belongs to.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Deserialize, serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Training.
    Train,
    /// Validation (model selection).
    Val,
    /// Test (reported once).
    Test,
}

impl Split {
    /// All three, in order.
    pub const ALL: [Split; 3] = [Split::Train, Split::Val, Split::Test];

    /// `"train"`, `"val"` or `"test"`.
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Val => "val",
            Split::Test => "test",
        }
    }
}

/// Fractions of units in train and validation; the rest is test.
#[derive(Clone, Copy, Debug, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct SplitRatios {
    /// Fraction for training (paper: 0.8).
    pub train: f64,
    /// Fraction for validation (paper: 0.1).
    pub val: f64,
}

impl Default for SplitRatios {
    fn default() -> Self {
        SplitRatios {
            train: 0.8,
            val: 0.1,
        }
    }
}

impl SplitRatios {
    /// The split of a unit, from a 64-bit FNV-1a hash of its id (with a
    /// splitmix64 finaliser so that ids differing in one digit spread evenly).
    ///
    /// It depends on the id alone, not on listing order or an RNG, so adding
    /// or removing other files never moves a unit between splits; slices
    /// share their volume's id, so a patient never spans two splits.
    pub fn split_of(&self, unit_id: &str) -> Split {
        let u = (mix(fnv1a(unit_id.as_bytes())) >> 11) as f64 / (1u64 << 53) as f64;
        if u < self.train {
            Split::Train
        } else if u < self.train + self.val {
            Split::Val
        } else {
            Split::Test
        }
    }
}

/// 64-bit FNV-1a: stable across platforms and Rust versions (unlike `DefaultHasher`).
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// splitmix64's finaliser: every input bit affects every output bit.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_matches_reference_values() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn proportions_are_close_and_stable() {
        let ratios = SplitRatios::default();
        let mut counts = [0usize; 3];
        for i in 0..10_000 {
            let id = format!("img{i:05}");
            let s = ratios.split_of(&id);
            assert_eq!(s, ratios.split_of(&id), "deterministic");
            counts[s as usize] += 1;
        }
        assert!((7_800..8_200).contains(&counts[0]), "{counts:?}");
        assert!((850..1_150).contains(&counts[1]), "{counts:?}");
        assert!((850..1_150).contains(&counts[2]), "{counts:?}");
    }
}

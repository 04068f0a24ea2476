//! The network's answers to the last crops it saw, so that a crop whose
//! input has not changed is not computed again.
//!
//! While a user draws on one label, every other label's crop usually stays
//! the same (its window follows its own strokes, and the new stroke falls
//! outside it), yet the annotator asks for all labels at every mouse move.
//! Keeping the few newest inputs with their outputs turns those labels into
//! a memory comparison instead of a forward pass.

use std::collections::VecDeque;

/// Inputs (compared in full, bit for bit) and the outputs computed from
/// them; the oldest entry makes room for a new one.
#[derive(Debug)]
pub(crate) struct CropCache {
    entries: VecDeque<Entry>,
    capacity: usize,
}

#[derive(Debug)]
struct Entry {
    input: Vec<f32>,
    output: Vec<f32>,
}

impl CropCache {
    /// A cache of at most `capacity` crops (0 turns it off).
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            entries: VecDeque::with_capacity(capacity),
            capacity,
        }
    }

    /// Holds at least `crops` crops from now on (unless turned off), so
    /// that one call's batch never evicts its own crops.
    pub(crate) fn reserve(&mut self, crops: usize) {
        if self.capacity > 0 {
            self.capacity = self.capacity.max(crops);
        }
    }

    /// Forgets every entry (the outputs no longer answer their inputs).
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }

    /// The output computed for exactly `input`, if it is still held.
    pub(crate) fn get(&self, input: &[f32]) -> Option<&[f32]> {
        self.entries
            .iter()
            .find(|e| same_bits(&e.input, input))
            .map(|e| e.output.as_slice())
    }

    /// Remembers `output` for `input`, reusing the buffers of the entry it
    /// evicts (so a full cache allocates nothing).
    pub(crate) fn insert(&mut self, input: &[f32], output: &[f32]) {
        if self.capacity == 0 || self.get(input).is_some() {
            return;
        }
        let mut entry = if self.entries.len() == self.capacity {
            self.entries.pop_front().expect("a full cache has an entry")
        } else {
            Entry {
                input: Vec::with_capacity(input.len()),
                output: Vec::with_capacity(output.len()),
            }
        };
        entry.input.clear();
        entry.input.extend_from_slice(input);
        entry.output.clear();
        entry.output.extend_from_slice(output);
        self.entries.push_back(entry);
    }
}

/// Equal bit patterns (so a NaN equals itself and 0.0 differs from -0.0:
/// the same input, not an equal one). Compared from the end: the
/// interaction channel comes last and is what differs between two crops of
/// one image, so a miss is found early.
fn same_bits(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len()
        && a.iter()
            .rev()
            .zip(b.iter().rev())
            .all(|(x, y)| x.to_bits() == y.to_bits())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_what_was_stored_for_the_same_input_only() {
        let mut cache = CropCache::new(2);
        cache.insert(&[1.0, 2.0], &[0.5]);
        assert_eq!(cache.get(&[1.0, 2.0]), Some(&[0.5][..]));
        assert_eq!(cache.get(&[1.0, 2.5]), None);
        assert_eq!(cache.get(&[1.0]), None, "a shorter input is another input");
    }

    #[test]
    fn the_oldest_entry_makes_room() {
        let mut cache = CropCache::new(2);
        cache.insert(&[1.0], &[10.0]);
        cache.insert(&[2.0], &[20.0]);
        cache.insert(&[3.0], &[30.0]);
        assert_eq!(cache.get(&[1.0]), None);
        assert_eq!(cache.get(&[2.0]), Some(&[20.0][..]));
        assert_eq!(cache.get(&[3.0]), Some(&[30.0][..]));
    }

    #[test]
    fn capacity_zero_holds_nothing() {
        let mut cache = CropCache::new(0);
        cache.insert(&[1.0], &[10.0]);
        assert_eq!(cache.get(&[1.0]), None);
    }
}

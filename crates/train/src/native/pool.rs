//! Buffers kept from one training step to the next.
//!
//! A step allocates the same buffers in the same order every time (its shapes depend only on
//! the batch's geometry); freeing them made the allocator hand the large ones back to the
//! kernel, and every step paid page faults to map them again. The pool keeps them instead, by
//! length, so a warm step allocates nothing; it holds at most what one step uses at its peak.

use std::collections::HashMap;

/// Free buffers by length.
#[derive(Debug, Default)]
pub struct Pool {
    free: HashMap<usize, Vec<Vec<f32>>>,
}

impl Pool {
    /// `len` zeros, in a kept buffer of that length when there is one.
    pub fn zeros(&mut self, len: usize) -> Vec<f32> {
        let mut buffer = self.take(len);
        buffer.fill(0.0);
        buffer
    }

    /// `len` values for a kernel that overwrites every one: a kept buffer as it was left (any
    /// finite values), or zeros.
    pub fn take(&mut self, len: usize) -> Vec<f32> {
        match self.free.get_mut(&len).and_then(Vec::pop) {
            Some(buffer) => buffer,
            None => vec![0.0; len],
        }
    }

    /// How many values the kept buffers hold.
    pub fn held(&self) -> usize {
        self.free
            .iter()
            .map(|(len, buffers)| len * buffers.len())
            .sum()
    }

    /// Keeps `buffer` for a later [`Pool::zeros`] of its length.
    pub fn give(&mut self, buffer: Vec<f32>) {
        if !buffer.is_empty() {
            self.free.entry(buffer.len()).or_default().push(buffer);
        }
    }
}

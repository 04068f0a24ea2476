//! [`SharedOut`]: one output buffer that parallel tasks write in disjoint, interleaved pieces.
//!
//! The activations are channel-major (`[batch, channels, height, width]`), and a task owns a
//! range of pixels in *every* channel plane: its pieces of the buffer interleave with the other
//! tasks' pieces, so `chunks_mut` cannot hand them out. Writing each piece straight from the
//! kernel's registers saves a pass over the output (a tile buffer, then a scatter), which is
//! why this is one of the two `unsafe` parts of the fast path (the other: the loads of the
//! kernel's inner loop, `gemm::accumulate`, bounds-checked once before the loop).

use std::marker::PhantomData;

/// A mutable `f32` buffer shared by parallel tasks that write disjoint regions of it.
pub(super) struct SharedOut<'a> {
    ptr: *mut f32,
    len: usize,
    _borrow: PhantomData<&'a mut [f32]>,
}

// SAFETY: a `SharedOut` is an exclusive borrow of the buffer for `'a`; the only access goes
// through `OutTile`s, whose creation (`SharedOut::tile`) requires that no two live tiles
// overlap, so no element is reached from two threads.
unsafe impl Send for SharedOut<'_> {}
// SAFETY: as for `Send`.
unsafe impl Sync for SharedOut<'_> {}

impl<'a> SharedOut<'a> {
    /// Borrows `buffer` exclusively for the lifetime of the `SharedOut`.
    pub fn new(buffer: &'a mut [f32]) -> Self {
        Self {
            ptr: buffer.as_mut_ptr(),
            len: buffer.len(),
            _borrow: PhantomData,
        }
    }

    /// The `rows × cols` matrix at `offset` with row stride `ld`: elements
    /// `offset + r·ld + c` for `r < rows`, `c < cols`.
    ///
    /// # Panics
    ///
    /// If the matrix reaches past the buffer.
    ///
    /// # Safety
    ///
    /// While the returned tile lives, no other tile of this `SharedOut` may contain any of its
    /// elements.
    pub unsafe fn tile(&self, offset: usize, ld: usize, rows: usize, cols: usize) -> OutTile<'_> {
        if rows > 0 && cols > 0 {
            assert!(cols <= ld || rows == 1, "rows of a tile must not overlap");
            let end = offset + (rows - 1) * ld + cols;
            assert!(
                end <= self.len,
                "tile ends at {end}, past the buffer ({})",
                self.len
            );
        }
        OutTile {
            ptr: self.ptr,
            offset,
            ld,
            rows,
            cols,
            _tile: PhantomData,
        }
    }
}

/// A matrix inside a [`SharedOut`] that one task owns: rows of `cols` elements, `ld` apart.
pub(super) struct OutTile<'s> {
    ptr: *mut f32,
    offset: usize,
    ld: usize,
    rows: usize,
    cols: usize,
    _tile: PhantomData<&'s mut [f32]>,
}

impl OutTile<'_> {
    /// The elements `start..start + len` of row `row`.
    ///
    /// # Panics
    ///
    /// If they are outside the tile.
    #[inline(always)]
    pub fn row(&mut self, row: usize, start: usize, len: usize) -> &mut [f32] {
        assert!(
            row < self.rows && start + len <= self.cols,
            "outside the tile"
        );
        // SAFETY: in bounds of the buffer (checked when the tile was made: row < rows and
        // start + len <= cols), inside this tile, which no other live tile overlaps; the
        // `&mut self` receiver keeps two slices of the same tile from coexisting.
        unsafe {
            std::slice::from_raw_parts_mut(self.ptr.add(self.offset + row * self.ld + start), len)
        }
    }
}

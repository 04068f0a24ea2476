//! Run-length coding of binary pixels, shared by COCO RLE and the shard format.

/// Lengths of alternating runs over `pixels`, starting with a run of zeros
/// (of length 0 when the first pixel is set).
pub(crate) fn encode_runs(pixels: impl IntoIterator<Item = bool>) -> Vec<u32> {
    let mut counts = Vec::new();
    let mut current = false;
    let mut run = 0u32;
    for p in pixels {
        if p != current {
            counts.push(run);
            run = 0;
            current = p;
        }
        run += 1;
    }
    counts.push(run);
    counts
}

/// Expands runs (zeros first) into `len` pixels of `0`/`1`.
///
/// Returns `None` when the runs do not add up to exactly `len`.
pub(crate) fn decode_runs(counts: &[u32], len: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(len);
    let mut value = 0u8;
    for &c in counts {
        if out.len() + c as usize > len {
            return None;
        }
        out.resize(out.len() + c as usize, value);
        value ^= 1;
    }
    (out.len() == len).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_round_trip_and_start_with_zeros() {
        let pixels = [true, true, false, true, false, false];
        let runs = encode_runs(pixels);
        assert_eq!(runs, vec![0, 2, 1, 1, 2]);
        let back = decode_runs(&runs, 6).expect("lengths add up");
        assert_eq!(back, vec![1, 1, 0, 1, 0, 0]);
    }

    #[test]
    fn decode_rejects_wrong_total() {
        assert!(decode_runs(&[2, 3], 6).is_none());
        assert!(decode_runs(&[2, 5], 6).is_none());
    }
}

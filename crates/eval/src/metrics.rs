//! Counting interactions to a score threshold (the field's NoC).

/// The 1-based number of interactions after which `curve` (score after 1,
/// 2, … interactions) first reaches `threshold`, or `None` when it never does.
///
/// The field's NoC counts a never-reached threshold as the cap (20); use
/// `reached.unwrap_or(cap)` for that.
pub fn interactions_to_reach(curve: &[f64], threshold: f64) -> Option<usize> {
    curve.iter().position(|&s| s >= threshold).map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interactions_to_reach_is_one_based_and_none_when_missed() {
        let curve = [0.5, 0.84, 0.85, 0.95];
        assert_eq!(interactions_to_reach(&curve, 0.85), Some(3));
        assert_eq!(interactions_to_reach(&curve, 0.90), Some(4));
        assert_eq!(interactions_to_reach(&curve, 0.5), Some(1));
        assert_eq!(interactions_to_reach(&curve, 0.96), None);
        assert_eq!(interactions_to_reach(&[], 0.1), None);
    }
}

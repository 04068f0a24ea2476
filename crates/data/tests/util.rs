//! Finding the shared data folder, or skipping when it is absent.

use std::path::PathBuf;

/// `$SCRIBSEG_DATA`, else `<workspace>/../shared/data`, joined with `rel`.
///
/// Returns `None` (after printing a "skipped" line) when it does not exist,
/// unless `SCRIBSEG_CI` is set, where a missing dataset fails the test.
pub fn dataset(rel: &str) -> Option<PathBuf> {
    let root = std::env::var_os("SCRIBSEG_DATA").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
        PathBuf::from,
    );
    let path = root.join(rel);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("SCRIBSEG_CI").is_none(),
        "dataset {} missing and SCRIBSEG_CI is set",
        path.display()
    );
    println!("skipped: dataset {} not found", path.display());
    None
}

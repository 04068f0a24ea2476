//! Where the workspace's tests and benchmarks find the real datasets.

use std::path::PathBuf;

use crate::config::DATA_ENV;

/// Environment variable that, when set, makes a missing dataset a failure
/// instead of a skip (CI sets it).
pub const CI_ENV: &str = "SCRIBSEG_CI";

/// `$SCRIBSEG_DATA`, else the `shared/data` folder beside this repository,
/// joined with `rel` — for tests and benchmarks that read real data.
///
/// Returns `None` after printing a "skipped: …" line when the path does not
/// exist. Panics instead when [`CI_ENV`] is set, so CI cannot pass by
/// skipping.
pub fn shared_dataset(rel: &str) -> Option<PathBuf> {
    let root = std::env::var_os(DATA_ENV).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
        PathBuf::from,
    );
    let path = root.join(rel);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os(CI_ENV).is_none(),
        "dataset {} missing and {CI_ENV} is set",
        path.display()
    );
    println!("skipped: dataset {} not found", path.display());
    None
}

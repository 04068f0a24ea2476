//! Records the git commit the binary is built from (`SCRIBSEG_COMMIT`), so
//! that a training run can write it into its checkpoints' lineage. Empty when
//! the source is not a git checkout or git is missing.

use std::path::Path;
use std::process::Command;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest).join("../..");
    let git = root.join(".git");
    // A new commit moves HEAD or its branch; staging or committing rewrites the index.
    for file in ["HEAD", "index"] {
        let path = git.join(file);
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    if let Ok(head) = std::fs::read_to_string(git.join("HEAD")) {
        if let Some(branch) = head.strip_prefix("ref: ") {
            let path = git.join(branch.trim());
            if path.exists() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
    let commit = Command::new("git")
        .arg("-C")
        .arg(&root)
        .args(["describe", "--always", "--dirty", "--abbrev=12"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .unwrap_or_default();
    println!("cargo:rustc-env=SCRIBSEG_COMMIT={commit}");
}

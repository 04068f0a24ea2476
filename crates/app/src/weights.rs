//! Finding and loading the checkpoint a subcommand runs on.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use scribseg_model::{Segmenter, SegmenterConfig};

/// The checkpoint `--weights` names, else the default weights.
pub fn resolve(weights: Option<PathBuf>) -> Result<PathBuf> {
    match weights {
        Some(dir) => Ok(dir),
        None => default_weights().context(
            "no default weights are present (weights/default/config.json + model.bpk); \
             pass --weights DIR with a trained checkpoint",
        ),
    }
}

/// Loads the checkpoint `--weights` names (else the default weights) into a
/// CPU [`Segmenter`]; returns it with the folder it came from.
pub fn load_segmenter(weights: Option<PathBuf>) -> Result<(Segmenter, PathBuf)> {
    let dir = resolve(weights)?;
    let segmenter = Segmenter::load(&dir, SegmenterConfig::default())
        .with_context(|| format!("loading the checkpoint {}", dir.display()))?;
    Ok((segmenter, dir))
}

/// `weights/default` in the working directory, else in the source tree this binary was built from.
fn default_weights() -> Option<PathBuf> {
    let source_tree = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../weights/default");
    [PathBuf::from("weights/default"), source_tree]
        .into_iter()
        .find(|dir| {
            dir.join(scribseg_model::CONFIG_FILE).is_file()
                && dir.join(scribseg_model::WEIGHTS_FILE).is_file()
        })
}

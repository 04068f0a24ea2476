//! Adding images: from uploaded bytes or from the server's `--dir` folder.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::imaging;
use crate::state::AppState;
use crate::store::ImageInfo;

/// How deep `--dir` is searched for images.
const MAX_DEPTH: usize = 4;

/// Decodes `bytes` (so a corrupt file is refused before it is stored) and
/// adds them to the project as `name`.
pub(crate) fn add_image(
    state: &AppState,
    project_id: i64,
    name: &str,
    bytes: &[u8],
) -> Result<ImageInfo> {
    let pixels = imaging::decode(bytes)?;
    let info = state
        .store
        .add_image(project_id, name, pixels.width(), pixels.height(), bytes)?;
    Ok(info)
}

/// Adds the image at `relative` inside `--dir`, named by that path. A file
/// larger than the upload limit is refused before it is read.
pub(crate) fn add_from_dir(state: &AppState, project_id: i64, relative: &str) -> Result<ImageInfo> {
    let path = state.confined(relative)?;
    let io = |source| Error::Io {
        path: path.clone(),
        source,
    };
    let file = std::fs::File::open(&path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(state.max_upload as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() > state.max_upload {
        return Err(Error::TooLarge(format!(
            "{relative:?} is larger than the upload limit of {} MiB",
            state.max_upload >> 20
        )));
    }
    add_image(state, project_id, relative, &bytes)
}

/// The image files under `dir` (by extension), as sorted `/`-separated
/// relative paths; links that lead outside `dir` are left out.
pub(crate) fn image_files(dir: &Path) -> Result<Vec<String>> {
    let root = dir.canonicalize().map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut out = Vec::new();
    walk(&root, &root, 0, &mut out)?;
    out.sort();
    Ok(out)
}

fn walk(root: &Path, dir: &Path, depth: usize, out: &mut Vec<String>) -> Result<()> {
    let io = |source| Error::Io {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path: PathBuf = entry.map_err(io)?.path();
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_none_or(|n| n.starts_with('.'));
        let inside = path.canonicalize().is_ok_and(|real| real.starts_with(root));
        if hidden || !inside {
            continue;
        }
        if path.is_dir() && depth < MAX_DEPTH {
            walk(root, &path, depth + 1, out)?;
        } else if is_image(&path) {
            if let Ok(relative) = path.strip_prefix(root) {
                let parts: Vec<_> = relative.iter().filter_map(|p| p.to_str()).collect();
                out.push(parts.join("/"));
            }
        }
    }
    Ok(())
}

fn is_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| imaging::EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Adds every image of `--dir` that the project does not hold yet; an
/// unreadable file is logged and skipped. Returns how many were added.
pub(crate) fn import_dir(state: &AppState, project_id: i64) -> Result<usize> {
    let Some(dir) = &state.dir else { return Ok(0) };
    let mut added = 0;
    for relative in image_files(dir)? {
        if state.store.has_image(project_id, &relative)? {
            continue;
        }
        match add_from_dir(state, project_id, &relative) {
            Ok(_) => added += 1,
            Err(err) => tracing::warn!("skipping {relative}: {err}"),
        }
    }
    Ok(added)
}

//! What every handler shares.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use image::RgbImage;

use crate::error::{Error, Result};
use crate::imaging;
use crate::predict::Model;
use crate::store::Store;

/// Decoded images kept in memory, so a prediction does not decode its image again.
const CACHED_IMAGES: usize = 8;

/// The application state: cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The database.
    pub store: Arc<Store>,
    /// The network.
    pub model: Arc<Model>,
    /// The folder `from-dir` paths are confined to, if any.
    pub dir: Option<PathBuf>,
    /// When set, every request must carry this token.
    pub token: Option<String>,
    /// The largest upload accepted, in bytes.
    pub max_upload: usize,
    images: Arc<Mutex<HashMap<i64, Arc<RgbImage>>>>,
}

impl AppState {
    /// A state over `store` and `model`, without a folder or a token and
    /// with a 64 MiB upload limit.
    pub fn new(store: Store, model: Arc<Model>) -> Self {
        Self {
            store: Arc::new(store),
            model,
            dir: None,
            token: None,
            max_upload: 64 << 20,
            images: Arc::default(),
        }
    }

    /// Runs blocking work (SQLite, decoding, inference) off the async runtime.
    pub(crate) async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&AppState) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let state = self.clone();
        tokio::task::spawn_blocking(move || f(&state)).await?
    }

    /// The decoded pixels of an image, from the cache when possible.
    pub(crate) fn decoded(&self, image_id: i64) -> Result<Arc<RgbImage>> {
        if let Some(image) = self.cache().get(&image_id) {
            return Ok(image.clone());
        }
        let image = Arc::new(imaging::decode(&self.store.image_data(image_id)?)?);
        let mut cache = self.cache();
        if cache.len() >= CACHED_IMAGES {
            if let Some(&old) = cache.keys().next() {
                cache.remove(&old);
            }
        }
        cache.insert(image_id, image.clone());
        Ok(image)
    }

    /// Drops an image from the cache (it was deleted).
    pub(crate) fn forget(&self, image_id: i64) {
        self.cache().remove(&image_id);
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Arc<RgbImage>>> {
        self.images.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Resolves a path relative to [`AppState::dir`], refusing anything
    /// that leads outside it (`..`, absolute paths, symlinks out).
    pub(crate) fn confined(&self, relative: &str) -> Result<PathBuf> {
        let dir = self
            .dir
            .as_ref()
            .ok_or_else(|| Error::bad_request("the server was started without --dir"))?;
        let root = dir.canonicalize().map_err(|source| Error::Io {
            path: dir.clone(),
            source,
        })?;
        let path = root.join(relative).canonicalize().map_err(|_| {
            Error::bad_request(format!("no file {relative:?} in the server folder"))
        })?;
        if !path.starts_with(&root) || !path.is_file() {
            return Err(Error::bad_request(format!(
                "{relative:?} is not a file inside the server folder"
            )));
        }
        Ok(path)
    }
}

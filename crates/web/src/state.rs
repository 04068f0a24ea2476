//! What every handler shares.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use image::RgbImage;

use crate::error::{Error, Result};
use crate::imaging;
use crate::predict::Model;
use crate::store::Store;
use crate::volume::Loaded;

type Cache<T> = Mutex<HashMap<i64, Arc<T>>>;

fn lock<T>(cache: &Cache<T>) -> std::sync::MutexGuard<'_, HashMap<i64, Arc<T>>> {
    cache.lock().unwrap_or_else(|p| p.into_inner())
}

/// Puts `value` in `cache`, evicting an entry when it holds `capacity`.
fn remember<T>(cache: &Cache<T>, id: i64, value: Arc<T>, capacity: usize) -> Arc<T> {
    let mut cache = lock(cache);
    if cache.len() >= capacity {
        if let Some(&old) = cache.keys().next() {
            cache.remove(&old);
        }
    }
    cache.insert(id, value.clone());
    value
}

/// Decoded images kept in memory, so a prediction does not decode its image again.
const CACHED_IMAGES: usize = 8;
/// Decoded volumes kept in memory (a large CT is a few hundred MB of grey).
const CACHED_VOLUMES: usize = 2;

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
    /// Origins (`http://host:port`, lower case) besides the server's own
    /// whose pages may use it (`--allow-origin`).
    pub allow_origins: Vec<String>,
    /// The address the server is bound to: a `Host` naming it is allowed.
    pub bound: Option<std::net::IpAddr>,
    images: Arc<Cache<RgbImage>>,
    volumes: Arc<Cache<Loaded>>,
}

impl AppState {
    /// A state over `store` and `model`, without a folder, a token or other
    /// allowed origins, and with a 64 MiB upload limit.
    pub fn new(store: Store, model: Arc<Model>) -> Self {
        Self {
            store: Arc::new(store),
            model,
            dir: None,
            token: None,
            max_upload: 64 << 20,
            allow_origins: Vec::new(),
            bound: None,
            images: Arc::default(),
            volumes: Arc::default(),
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

    /// The decoded pixels of an image (a volume slice is rendered from its
    /// volume), from the cache when possible.
    pub(crate) fn decoded(&self, image_id: i64) -> Result<Arc<RgbImage>> {
        if let Some(image) = lock(&self.images).get(&image_id) {
            return Ok(image.clone());
        }
        let image = match self.store.slice_of(image_id)? {
            Some(slice) => self
                .volume(slice.volume_id)?
                .render(slice.axis, slice.index)?,
            None => imaging::decode(&self.store.image_data(image_id)?)?,
        };
        Ok(remember(
            &self.images,
            image_id,
            Arc::new(image),
            CACHED_IMAGES,
        ))
    }

    /// A stored volume, decoded, from the cache when possible.
    pub(crate) fn volume(&self, volume_id: i64) -> Result<Arc<Loaded>> {
        if let Some(volume) = lock(&self.volumes).get(&volume_id) {
            return Ok(volume.clone());
        }
        let name = self.store.volume(volume_id)?.name;
        let volume = Loaded::parse(&name, &self.store.volume_data(volume_id)?)?;
        Ok(remember(
            &self.volumes,
            volume_id,
            Arc::new(volume),
            CACHED_VOLUMES,
        ))
    }

    /// Drops an image from the cache (it was deleted).
    pub(crate) fn forget(&self, image_id: i64) {
        lock(&self.images).remove(&image_id);
    }

    /// Drops a volume and its slice images from the caches (it was deleted).
    pub(crate) fn forget_volume(&self, volume_id: i64, slices: &[i64]) {
        lock(&self.volumes).remove(&volume_id);
        slices.iter().for_each(|&id| self.forget(id));
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
        // One answer for a missing file and a file outside the folder, so
        // the answer does not tell which files exist elsewhere.
        let refused = || Error::bad_request(format!("no file {relative:?} in the server folder"));
        let path = root.join(relative).canonicalize().map_err(|_| refused())?;
        if !path.starts_with(&root) || !path.is_file() {
            return Err(refused());
        }
        Ok(path)
    }
}

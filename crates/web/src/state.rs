//! What every handler shares.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use image::RgbImage;

use crate::error::{Error, Result};
use crate::imaging;
use crate::predict::Model;
use crate::store::{Store, Windowing};
use crate::volume::Loaded;

type Cache<T> = Mutex<HashMap<i64, Arc<T>>>;

fn lock<T>(cache: &Cache<T>) -> std::sync::MutexGuard<'_, HashMap<i64, Arc<T>>> {
    cache.lock().unwrap_or_else(|p| p.into_inner())
}

/// Puts `value` in `cache`, evicting other entries while the cache's
/// entries would weigh more than `budget` bytes together (the newest is kept
/// whatever it weighs).
fn remember<T>(
    cache: &Cache<T>,
    id: i64,
    value: Arc<T>,
    budget: usize,
    bytes: impl Fn(&T) -> usize,
) -> Arc<T> {
    let mut cache = lock(cache);
    cache.remove(&id);
    let mut total: usize = cache.values().map(|v| bytes(v)).sum::<usize>() + bytes(&value);
    while total > budget {
        let Some((&old, evicted)) = cache.iter().next() else {
            break;
        };
        total -= bytes(evicted);
        cache.remove(&old);
    }
    cache.insert(id, value.clone());
    value
}

/// Decoded images kept in memory, in bytes of pixels, so a prediction does
/// not decode its image again (a dozen 4K photos, or one of the largest
/// images accepted).
const CACHED_IMAGE_BYTES: usize = 256 << 20;
/// Decoded volumes kept in memory, in bytes of grey voxels (two of the
/// largest volumes accepted).
const CACHED_VOLUME_BYTES: usize = 512 << 20;

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
            CACHED_IMAGE_BYTES,
            |image| image.as_raw().len(),
        ))
    }

    /// A volume slice's image shown through `window` (not cached: the page
    /// asks for each window once, and the browser keeps it).
    pub(crate) fn windowed(&self, image_id: i64, window: Windowing) -> Result<RgbImage> {
        let slice = self.store.slice_of(image_id)?.ok_or_else(|| {
            Error::bad_request(format!(
                "image {image_id} is not a volume slice: a display window applies to volumes only"
            ))
        })?;
        self.volume(slice.volume_id)?
            .render_window(slice.axis, slice.index, window)
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
            CACHED_VOLUME_BYTES,
            Loaded::bytes,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_keeps_its_entries_within_the_byte_budget_and_always_the_newest() {
        let cache: Cache<Vec<u8>> = Mutex::default();
        let put = |id: i64, bytes: usize| {
            remember(&cache, id, Arc::new(vec![0; bytes]), 10, Vec::len);
        };
        put(1, 4);
        put(2, 4);
        assert_eq!(lock(&cache).len(), 2);
        put(3, 4);
        let held = |cache: &Cache<Vec<u8>>| {
            let mut ids: Vec<i64> = lock(cache).keys().copied().collect();
            ids.sort_unstable();
            ids
        };
        assert_eq!(held(&cache).len(), 2, "12 bytes are over the budget of 10");
        assert!(held(&cache).contains(&3), "the newest is kept");
        put(4, 50);
        assert_eq!(held(&cache), vec![4], "a heavy newest entry stands alone");
        put(4, 3);
        put(5, 3);
        assert_eq!(held(&cache), vec![4, 5], "an id put again is counted once");
    }
}

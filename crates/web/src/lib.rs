//! The scribseg web annotator: an axum server, a SQLite store and a page
//! of plain JavaScript modules embedded in the binary.
//!
//! A person paints strokes for labels on an image; every stroke is stored
//! as it is drawn, and the page keeps one WebSocket per open image over
//! which it sends its stroke state (the stroke in progress included) and
//! receives label maps predicted by the [`scribseg_model::Segmenter`].
//! Scripts use the same JSON API under `/api` (see `crates/web/API.md`).
//!
//! ```no_run
//! use scribseg_web::{serve, Model, ServeOptions};
//! # fn segmenter() -> scribseg_model::Segmenter { unimplemented!() }
//! let model = std::sync::Arc::new(Model::new(segmenter(), "weights/default"));
//! serve(ServeOptions::new("annotations.db".into()), model, |addr| {
//!     eprintln!("open http://{addr}");
//! })?;
//! # Ok::<(), scribseg_web::Error>(())
//! ```

mod annotate;
mod api;
mod assets;
mod auth;
mod error;
mod export;
mod extract;
mod folder;
mod imaging;
mod origin;
mod predict;
mod state;
mod store;
mod volume;
mod ws;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::{middleware, Router};

pub use annotate::{annotate, encode_frame, PredictRequest};
pub use error::{Error, Result};
pub use imaging::MAX_PIXELS;
pub use origin::WRITE_HEADER;
pub use predict::{LabelMap, Model, ModelInfo, RegionMap};
pub use state::AppState;
pub use store::{
    AnnotatedSlice, History, ImageInfo, ImagePatch, ImageStatus, Label, LabelPatch, NewLabel,
    NewStroke, Point, Project, SavedStroke, SliceRef, Store, StrokeKind, VolumeInfo, VolumeMeta,
    Windowing, MAX_LABELS,
};
pub use volume::MAX_VOXELS;

/// The name of the project `serve` opens (and fills from `--dir`).
pub const DEFAULT_PROJECT: &str = "default";

/// The whole application: the page, its assets and the API, behind the
/// same-origin guard (Host, Origin, non-simple writes, security headers)
/// and the token check when the state has a token.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(assets::index))
        .route("/assets/{file}", get(assets::asset))
        .nest("/api", api::routes(&state))
        .fallback(|| async { Error::NoRoute })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            origin::same_origin,
        ))
        .with_state(state)
}

/// The shortest `--token` accepted: a token guards a server other machines
/// can reach, so it must not be guessable.
pub const MIN_TOKEN_CHARS: usize = 16;

/// How [`serve`] runs.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Where to listen; 127.0.0.1:7878 by default.
    pub addr: SocketAddr,
    /// The SQLite file.
    pub db: PathBuf,
    /// The folder images may be added from; its images are imported into
    /// the default project at start.
    pub dir: Option<PathBuf>,
    /// The token every request must carry; required off loopback.
    pub token: Option<String>,
    /// The largest upload, in bytes.
    pub max_upload: usize,
    /// Origins besides the server's own whose pages may use it
    /// (`http://host:port`).
    pub allow_origins: Vec<String>,
    /// Labels the default project is given at start, in order, where it
    /// does not have them yet (existing ones keep their colour and place).
    pub labels: Vec<String>,
}

impl ServeOptions {
    /// Loopback port 7878, no folder, no token, no other origins, 64 MiB
    /// uploads, no label list.
    pub fn new(db: PathBuf) -> Self {
        Self {
            addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 7878),
            db,
            dir: None,
            token: None,
            max_upload: 64 << 20,
            allow_origins: Vec::new(),
            labels: Vec::new(),
        }
    }
}

/// Opens the database, adds the label list and imports `--dir` into the
/// default project, and serves until Ctrl-C; `ready`
/// is called with the address listened on (its port chosen by the system
/// when `options.addr` asks for port 0) once connections are accepted.
///
/// Refuses to listen beyond loopback without a token.
pub fn serve(
    options: ServeOptions,
    model: Arc<Model>,
    ready: impl FnOnce(SocketAddr),
) -> Result<()> {
    if !options.addr.ip().is_loopback() && options.token.as_deref().is_none_or(str::is_empty) {
        return Err(Error::Options(format!(
            "listening on {} makes the annotator reachable from other machines: pass --token",
            options.addr.ip()
        )));
    }
    if let Some(token) = options.token.as_deref() {
        if token.chars().count() < MIN_TOKEN_CHARS {
            return Err(Error::Options(format!(
                "--token must have at least {MIN_TOKEN_CHARS} characters \
                 (e.g. the output of `openssl rand -hex 16`)"
            )));
        }
    }
    let allow_origins = options
        .allow_origins
        .iter()
        .map(|origin| origin::parse_allowed_origin(origin))
        .collect::<Result<Vec<_>>>()?;
    if let Some(dir) = options.dir.as_ref().filter(|d| !d.is_dir()) {
        return Err(Error::Options(format!(
            "--dir {} is not a folder",
            dir.display()
        )));
    }
    let mut state = AppState::new(Store::open(&options.db)?, model);
    state.dir = options.dir;
    state.token = options.token;
    state.max_upload = options.max_upload;
    state.allow_origins = allow_origins;
    state.bound = Some(options.addr.ip());
    let project = state.store.project_named(DEFAULT_PROJECT)?;
    state.store.ensure_labels(project.id, &options.labels)?;
    let added = folder::import_dir(&state, project.id)?;
    if added > 0 {
        tracing::info!("imported {added} images from the server folder");
    }
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| Error::Internal(format!("tokio runtime: {e}")))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(options.addr)
            .await
            .map_err(|e| Error::Options(format!("cannot listen on {}: {e}", options.addr)))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::Internal(format!("the listening address: {e}")))?;
        ready(addr);
        tokio::select! {
            () = run(listener, router(state), HEADER_TIMEOUT) => Ok(()),
            _ = tokio::signal::ctrl_c() => Ok(()),
        }
    })
}

/// How long a client may take to send a request's headers before its
/// connection is closed: a connection that never finishes them would hold
/// a file descriptor for good.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections served at once; past it, new ones are closed at once, so a
/// flood of idle sockets cannot use up the process's file descriptors.
pub const MAX_CONNECTIONS: usize = 256;

/// Serves `app` on `listener` until the task is dropped: HTTP/1.1 with
/// WebSocket upgrades, at most [`MAX_CONNECTIONS`] at once, each closed when
/// its request headers take longer than `header_timeout`.
pub async fn run(listener: tokio::net::TcpListener, app: Router, header_timeout: Duration) {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(err) => {
                // Out of descriptors, say: wait instead of spinning.
                tracing::warn!("accept: {err}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!("{MAX_CONNECTIONS} connections open: closing a new one");
            continue;
        };
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            let mut builder =
                hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
            builder
                .http1()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(header_timeout);
            let io = hyper_util::rt::TokioIo::new(stream);
            if let Err(err) = builder.serve_connection_with_upgrades(io, service).await {
                tracing::debug!("connection: {err}");
            }
            drop(slot);
        });
    }
}

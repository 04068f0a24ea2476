//! `scribseg serve`: the web annotator.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use scribseg_model::InputKind;
use scribseg_web::{Model, ServeOptions};

use crate::weights::{self, InferenceFlags};

/// Flags of `scribseg serve`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A folder of images to annotate: its images are added to the project
    /// at start, and the page can add any image under it.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// The SQLite database holding the work [default: scribseg/annotations.db
    /// in the user's data directory].
    #[arg(long)]
    db: Option<PathBuf>,
    /// The address to listen on; anything but loopback requires --token.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// The port to listen on (0: any free port, printed once listening).
    #[arg(long, default_value_t = 7878)]
    port: u16,
    /// A secret every request must carry (`Authorization: Bearer T` or `?token=T`),
    /// at least 16 characters.
    #[arg(long)]
    token: Option<String>,
    /// Another origin whose pages may use the server (`http://host:port`), besides its own
    /// page on localhost or the bound address: e.g. the name other machines reach it by.
    /// Repeat for several.
    #[arg(long, value_name = "ORIGIN")]
    allow_origin: Vec<String>,
    /// Labels to annotate, comma separated (`--labels "liver,spleen"`): the
    /// project gets those it lacks, in order, at start.
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    labels: Vec<String>,
    /// A checkpoint directory (`config.json` + `model.bpk`) [default: weights/default].
    #[arg(long)]
    weights: Option<PathBuf>,
    #[command(flatten)]
    inference: InferenceFlags,
    /// The largest image upload, in MiB.
    #[arg(long, default_value_t = 64)]
    max_upload_mib: usize,
}

/// Runs `scribseg serve` until Ctrl-C.
pub fn run(args: Args) -> Result<()> {
    let (segmenter, dir) =
        weights::load_segmenter(args.weights, InputKind::Scribble, args.inference)?;
    let model = Arc::new(Model::new(segmenter, dir.display().to_string()));
    let db = match args.db {
        Some(db) => db,
        None => default_db()?,
    };
    let options = ServeOptions {
        addr: SocketAddr::new(args.host, args.port),
        db: db.clone(),
        dir: args.dir,
        token: args.token,
        max_upload: args.max_upload_mib << 20,
        allow_origins: args.allow_origin,
        labels: args
            .labels
            .iter()
            .map(|name| name.trim().to_string())
            .filter(|name| !name.is_empty())
            .collect(),
    };
    let host = if args.host.is_unspecified() {
        "localhost".to_string()
    } else {
        args.host.to_string()
    };
    let query = options
        .token
        .as_ref()
        .map(|t| format!("/?token={t}"))
        .unwrap_or_default();
    eprintln!("scribseg: annotating into {}", db.display());
    let ready = |addr: SocketAddr| {
        eprintln!(
            "scribseg: open http://{host}:{}{query} (Ctrl-C stops)",
            addr.port()
        );
    };
    scribseg_web::serve(options, model, ready).context("the web annotator stopped")
}

/// `$XDG_DATA_HOME/scribseg/annotations.db`, or `~/.local/share/scribseg/annotations.db`.
fn default_db() -> Result<PathBuf> {
    let data = match std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
            Some(home) => PathBuf::from(home).join(".local/share"),
            None => bail!("no HOME to put the database in: pass --db PATH"),
        },
    };
    Ok(data.join("scribseg").join("annotations.db"))
}

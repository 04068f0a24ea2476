//! `scribseg`: interactive scribble segmentation from the command line.
//!
//! Each subcommand lives in its own module under `cmd/`, parses its flags
//! with clap and converts them once into the library crates' own options.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;
mod example;
mod imageio;
mod overlay;
mod weights;

/// Interactive scribble segmentation.
#[derive(Parser, Debug)]
#[command(name = "scribseg", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Simulate a scribble (or a corrective scribble, box or extreme points) for a mask.
    Simulate(cmd::simulate::Args),
    /// Decode, crop and write training shards for every dataset of a config.
    Pack(cmd::pack::Args),
    /// Dataset tools (`data stats`: per-dataset counts and a contact sheet).
    Data(cmd::data::Args),
    /// The web annotator: paint strokes, see masks live, export (`serve --dir PATH`).
    Serve(cmd::serve::Args),
    /// Information about the network (`model info`: stage table and parameter count).
    Model(cmd::model::Args),
    /// Train the network on packed shards (resumes by itself).
    Train(cmd::train::Args),
    /// Segment an image from a stroke image (k = a stroke of label k) into a label map.
    Segment(cmd::segment::Args),
    /// Speed figures of this machine (forward pass, Segmenter call, simulator; `--json`).
    Bench(cmd::bench::Args),
    /// Evaluate checkpoints: Table 1, DICE-vs-strokes curves, clicks, worst objects.
    Eval(cmd::eval::Args),
}

/// The git commit this binary was built from (`-dirty` with uncommitted
/// changes at build time), if the build knew it.
pub(crate) fn build_commit() -> Option<String> {
    Some(env!("SCRIBSEG_COMMIT"))
        .filter(|commit| !commit.is_empty())
        .map(str::to_owned)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Simulate(args) => cmd::simulate::run(args),
        Command::Pack(args) => cmd::pack::run(args),
        Command::Data(args) => cmd::data::run(args),
        Command::Serve(args) => cmd::serve::run(args),
        Command::Model(args) => cmd::model::run(args),
        Command::Train(args) => cmd::train::run(args),
        Command::Segment(args) => cmd::segment::run(args),
        Command::Eval(args) => cmd::eval::run(args),
        Command::Bench(args) => cmd::bench::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

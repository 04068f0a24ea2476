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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Simulate(args) => cmd::simulate::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

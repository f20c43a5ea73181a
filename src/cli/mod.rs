//! The command-line interface: argument parsing and dispatch to the library.

use std::process::ExitCode;

use clap::Parser;

/// deepcuts: content-based music recommendation with convnets.
#[derive(Debug, Parser)]
#[command(name = "deepcuts", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {}

/// Parses the arguments, runs the command and maps its outcome to an exit status.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None => {
            use clap::CommandFactory;
            let _ = Cli::command().print_help();
            ExitCode::SUCCESS
        }
    }
}

//! `deepcuts app [DIR] [--view NAME]`: the desktop app on a project (library: `app`).

use std::path::PathBuf;

use super::Outcome;
use crate::app::{AppOptions, ViewKind};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The project folder (default: the last one opened).
    dir: Option<PathBuf>,
    /// The view to show first; the first track is selected.
    #[arg(long, value_enum)]
    view: Option<ViewKind>,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    crate::app::run(AppOptions {
        dir: args.dir,
        run_pipeline: false,
        view: args.view,
    })?;
    Ok(Outcome::Success)
}

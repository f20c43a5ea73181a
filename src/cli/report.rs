//! `deepcuts report`: the experiment report (library: `analysis::report`).

use std::path::PathBuf;

use anyhow::Context;

use super::{interrupt, Outcome};
use crate::analysis::report::{experiment_report, METHODS};
use crate::analysis::results::Candidates;
use crate::project::layout;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The project folder (with predictions, and the cold-start table once `deepcuts eval` ran).
    dir: PathBuf,
    /// Tracks per playlist.
    #[arg(short, default_value_t = 10)]
    k: usize,
    /// Draw playlists from every track with a prediction, or only the test split.
    #[arg(long, value_enum, default_value_t = Candidates::All)]
    from: Candidates,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let report = experiment_report(&args.dir, args.k, args.from, interrupt::cancel_flag())?;
    match &report.coldstart {
        Some(table) => {
            println!("cold start ({}):", layout::EVAL_COLDSTART);
            println!("  {:<12} {:>7} {:>8}", "method", "AUC", "mAP@500");
            for (method, m) in METHODS
                .iter()
                .filter_map(|&method| Some((method, table.get(method)?)))
            {
                println!("  {method:<12} {:>7.4} {:>8.4}", m.auc, m.map);
            }
        }
        None => println!(
            "cold start: no table yet (deepcuts eval {})",
            args.dir.display()
        ),
    }
    println!(
        "playlists: top {} of {} tracks ({}); conv1 by max activation",
        report.k,
        report.collection,
        report.from.name()
    );
    for check in report.checks() {
        let mark = match check.met {
            Some(true) => "met",
            Some(false) => "NOT met",
            None => "not measured",
        };
        println!("  [{mark}] {}: {}", check.goal, check.value);
    }
    let path = args.dir.join(layout::EVAL_REPORT);
    let json = serde_json::to_string_pretty(&report.json()).expect("plain data");
    crate::io::atomic::write_bytes_atomic(&path, json.as_bytes())
        .with_context(|| format!("{}: cannot write", path.display()))?;
    println!("wrote {}", layout::EVAL_REPORT);
    Ok(Outcome::Success)
}

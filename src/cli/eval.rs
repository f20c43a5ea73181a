//! `deepcuts eval`: the cold-start table (library: `coldstart::eval_project`).

use std::path::PathBuf;

use indicatif::ProgressBar;

use super::predict::DeviceArgs;
use super::{interrupt, progress, Outcome};
use crate::analysis::report::share_closed;
use crate::baseline::{BagOfWordsConfig, FeatureConfig};
use crate::coldstart::{eval_project, EvalProgress};
use crate::project::{layout, Project};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The project folder (trained with `deepcuts train`).
    dir: PathBuf,
    /// The convnet's weights (default: the project's model/weights.safetensors).
    #[arg(long)]
    model: Option<PathBuf>,
    /// The baseline's features: the paper's bag of words of MFCCs, or mel statistics.
    #[arg(long, value_enum, default_value_t = BaselineArg::Bow)]
    baseline: BaselineArg,
    #[command(flatten)]
    device: DeviceArgs,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum BaselineArg {
    Bow,
    MelStats,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let project = Project::open(&args.dir)?;
    let weights = args
        .model
        .clone()
        .unwrap_or_else(|| project.layout().path(layout::MODEL_WEIGHTS));
    let mut options = crate::pipeline::eval_options(weights, args.threads.unwrap_or(0))?;
    options.device = args.device.device;
    options.baseline.features = match args.baseline {
        BaselineArg::Bow => FeatureConfig::BagOfWords(BagOfWordsConfig::default()),
        BaselineArg::MelStats => FeatureConfig::MelStatistics,
    };
    let mut bar: Option<(String, ProgressBar)> = None;
    let mut show = |what: String, done: usize, total: usize| {
        if bar.as_ref().is_some_and(|(label, _)| *label != what) {
            if let Some((_, old)) = bar.take() {
                old.finish_and_clear();
            }
        }
        let (_, current) = bar.get_or_insert_with(|| (what.clone(), progress::bar(0, &what)));
        current.set_length(total as u64);
        current.set_position(done as u64);
    };
    let report = eval_project(
        &project,
        &options,
        &mut |event| match event {
            EvalProgress::Wmf(r) => show("cold-start WMF".into(), r.iteration, r.iterations),
            EvalProgress::Baseline { stage, done, total } => {
                show(format!("baseline: {stage}"), done, total)
            }
            EvalProgress::Convnet { done, total } => show("convnet".into(), done, total),
            EvalProgress::Scoring(method) => show(format!("ranking: {method}"), 0, 1),
        },
        interrupt::cancel_flag(),
    );
    if let Some((_, old)) = bar.take() {
        old.finish_and_clear();
    }
    let report = report?;
    if report.factors_fitted {
        eprintln!(
            "warning: the cold-start factors were missing or stale and were fitted now; \
             retrain (deepcuts train) so that the network learned these targets"
        );
    }
    println!(
        "cold start: {} test tracks ranked ({} left out); baseline ridge λ {:.3e} on {} training tracks",
        report.test_tracks,
        report.left_out.len(),
        report.baseline.lambda,
        report.baseline.train_tracks
    );
    println!(
        "{:<12} {:>7} {:>8} {:>6}",
        "method", "AUC", "mAP@500", "users"
    );
    for method in crate::coldstart::eval_project::METHODS {
        if let Some(m) = report.table.get(method) {
            println!("{method:<12} {:>7.4} {:>8.4} {:>6}", m.auc, m.map, m.users);
        }
    }
    if let (Some(b), Some(c), Some(u)) = (
        report.table.get("baseline"),
        report.table.get("convnet"),
        report.table.get("upper_bound"),
    ) {
        if let (Some(auc), Some(map)) = (
            share_closed(b.auc, c.auc, u.auc),
            share_closed(b.map, c.map, u.map),
        ) {
            println!(
                "the convnet closes {:.0}% (AUC) and {:.0}% (mAP@500) of the gap from the baseline to the upper bound",
                auc * 100.0,
                map * 100.0
            );
        }
    }
    println!("wrote {}", layout::EVAL_COLDSTART);
    Ok(Outcome::Success)
}

//! `deepcuts cf`, `eval-cf` and `import-factors`.

use std::path::PathBuf;

use super::{interrupt, progress, Outcome};
use crate::cf::metrics::EvalTable;
use crate::cf::wmf::WmfConfig;
use crate::project::cf_stage;
use crate::project::Project;

/// WMF settings shared by `cf` and `eval-cf` (defaults: the paper authors' WMF code).
#[derive(Debug, clap::Args)]
pub struct WmfArgs {
    /// Number of latent factors.
    #[arg(long, default_value_t = WmfConfig::default().factors)]
    factors: usize,
    /// ALS iterations.
    #[arg(long, default_value_t = WmfConfig::default().iterations)]
    iters: usize,
    /// α in the confidence 1 + α·log(1 + r/ε).
    #[arg(long, default_value_t = WmfConfig::default().alpha)]
    alpha: f32,
    /// ε in the confidence 1 + α·log(1 + r/ε).
    #[arg(long, default_value_t = WmfConfig::default().epsilon)]
    eps: f32,
    /// λ, the L2 regularisation.
    #[arg(long, default_value_t = WmfConfig::default().lambda)]
    reg: f32,
    /// Worker threads (default: all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Seed of the initial factors and of the held-out split.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

impl WmfArgs {
    fn config(&self) -> WmfConfig {
        WmfConfig {
            factors: self.factors,
            iterations: self.iters,
            alpha: self.alpha,
            epsilon: self.eps,
            lambda: self.reg,
            threads: self.threads,
            seed: self.seed,
            ..WmfConfig::default()
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct CfArgs {
    /// The project folder.
    dir: PathBuf,
    #[command(flatten)]
    wmf: WmfArgs,
    /// Hold out this fraction of each user's listens (recorded in cf/heldout.tsv for eval-cf).
    #[arg(long)]
    holdout: Option<f64>,
}

#[derive(Debug, clap::Args)]
pub struct EvalCfArgs {
    /// The project folder.
    dir: PathBuf,
    #[command(flatten)]
    wmf: WmfArgs,
    /// Fraction of listens (and of tracks, for the cold-start table) held out, when `cf` was
    /// not run with --holdout.
    #[arg(long, default_value_t = 0.2)]
    holdout: f64,
}

#[derive(Debug, clap::Args)]
pub struct ImportFactorsArgs {
    /// The project folder.
    dir: PathBuf,
    /// Item factors: .npy [tracks × F] in track order; CSV/TSV `id, f1, f2, …`; or Parquet as
    /// Spark MLlib ALS writes `itemFactors` (a file or a folder of part files). Ids are track
    /// ids of tracks.tsv (or the references of tracks added from a log).
    file: PathBuf,
}

pub fn cf(args: CfArgs) -> anyhow::Result<Outcome> {
    let project = Project::open(&args.dir)?;
    let config = args.wmf.config();
    let bar = progress::bar(config.iterations as u64, "wmf");
    let mut secs = Vec::new();
    let report = cf_stage::fit_project(
        &project,
        &config,
        args.holdout,
        &mut |r| {
            secs.push(r.secs);
            let loss = r.loss.map_or(String::new(), |l| format!(", loss {l:.5e}"));
            progress::note(
                &bar,
                format!("iteration {:2}: {:.1} ms{loss}", r.iteration, r.secs * 1e3),
            );
            bar.set_position(r.iteration as u64);
        },
        interrupt::cancel_flag(),
    )?;
    bar.finish_and_clear();
    let mean_ms = secs.iter().sum::<f64>() / secs.len().max(1) as f64 * 1e3;
    println!(
        "WMF: {} users × {} tracks, {} nonzeros ({} held out), {} factors, {} iterations, {mean_ms:.1} ms per iteration",
        report.users, report.tracks, report.nonzeros, report.heldout_nonzeros, config.factors, config.iterations
    );
    Ok(Outcome::Success)
}

pub fn eval_cf(args: EvalCfArgs) -> anyhow::Result<Outcome> {
    let project = Project::open(&args.dir)?;
    let config = args.wmf.config();
    let bar = progress::bar(config.iterations as u64, "wmf");
    let evaluation = cf_stage::evaluate_project(
        &project,
        &config,
        args.holdout,
        &mut |what, r| {
            bar.set_message(what.to_owned());
            bar.set_position(r.iteration as u64);
        },
        interrupt::cancel_flag(),
    )?;
    bar.finish_and_clear();
    println!("held-out listens, ranked among each user's unseen tracks:");
    print_table(&evaluation.heldout);
    println!("cold-start tracks (no listens in training), ranked among themselves:");
    print_table(&evaluation.cold_start);
    Ok(Outcome::Success)
}

pub fn import_factors(args: ImportFactorsArgs) -> anyhow::Result<Outcome> {
    let project = Project::open(&args.dir)?;
    let report = cf_stage::import_item_factors(&project, &args.file)?;
    for id in report.unmatched_ids.iter().take(10) {
        eprintln!("unmatched id: {id}");
    }
    println!(
        "{} factors for {} tracks written to cf/item_factors.npy; {} tracks had no row (zero factors), {} ids matched no track",
        report.factors,
        report.tracks,
        report.missing,
        report.unmatched_ids.len()
    );
    Ok(Outcome::Success)
}

/// Prints a method × metric table.
pub fn print_table(table: &EvalTable) {
    println!(
        "  {:<12} {:>8} {:>8} {:>9} {:>8} {:>7}",
        "method", "AUC", "mAP@500", "recall@50", "NDCG@50", "users"
    );
    for (method, m) in table {
        println!(
            "  {method:<12} {:>8.4} {:>8.4} {:>9.4} {:>8.4} {:>7}",
            m.auc, m.map, m.recall, m.ndcg, m.users
        );
    }
}

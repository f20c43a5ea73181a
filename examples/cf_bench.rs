//! The CF benchmark entry (until `deepcuts bench cf` wires `deepcuts::cf::bench`):
//!
//! ```text
//! cargo run --release --example cf_bench -- prepare DIR        # synthetic data + split
//! cargo run --release --example cf_bench -- run DIR [THREADS] [loss]  # fit, evaluate, compare
//! ```
//!
//! `bench/wmf_vs_implicit.py` runs both around the `implicit` library's fit.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use deepcuts::cf::bench::{prepare, run, SyntheticConfig};
use deepcuts::cf::wmf::WmfConfig;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: cf_bench prepare DIR | cf_bench run DIR [THREADS] [loss]";
    let (Some(command), Some(dir)) = (args.first(), args.get(1).map(PathBuf::from)) else {
        eprintln!("{usage}");
        return ExitCode::FAILURE;
    };
    let outcome = match command.as_str() {
        "prepare" => prepare(&dir, &SyntheticConfig::default(), 0.2).map(|split| {
            println!(
                "{}: {} users × {} items, {} train / {} held-out nonzeros",
                dir.display(),
                split.train.users(),
                split.train.items(),
                split.train.nnz(),
                split.heldout.nnz()
            );
        }),
        "run" => {
            let threads = args.get(2).and_then(|t| t.parse().ok()).unwrap_or(2);
            let config = WmfConfig {
                threads,
                compute_loss: args.get(3).is_some_and(|a| a == "loss"),
                ..WmfConfig::default()
            };
            run(
                &dir,
                &config,
                &mut |r| {
                    let loss = r.loss.map(|l| format!(", loss {l:.6e}")).unwrap_or_default();
                    eprintln!("wmf iteration {:2}: {:.1} ms{loss}", r.iteration, r.secs * 1e3);
                },
                &AtomicBool::new(false),
            )
            .map(|report| {
                let summary = |secs: &[f64]| {
                    let mut sorted = secs.to_vec();
                    sorted.sort_by(f64::total_cmp);
                    let median = sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN);
                    let mean = secs.iter().sum::<f64>() / secs.len().max(1) as f64;
                    (median * 1e3, mean * 1e3)
                };
                println!(
                    "{} users × {} items, {} train nonzeros, {} factors, {} CG steps, {} threads",
                    report.users,
                    report.items,
                    report.train_nnz,
                    config.factors,
                    config.cg_steps,
                    threads
                );
                let (wmf_median, wmf_mean) = summary(&report.wmf_secs_per_iteration);
                println!("deepcuts wmf: {wmf_median:.1} ms/iteration median, {wmf_mean:.1} mean");
                if let Some(implicit) = &report.implicit_secs_per_iteration {
                    let (median, mean) = summary(implicit);
                    println!("implicit:     {median:.1} ms/iteration median, {mean:.1} mean");
                    println!("time ratio (median): {:.2}", wmf_median / median);
                }
                for (method, m) in &report.metrics {
                    println!(
                        "{method:>9}: auc {:.4}  map@500 {:.4}  recall@50 {:.4}  ndcg@50 {:.4}  ({} users)",
                        m.auc, m.map, m.recall, m.ndcg, m.users
                    );
                }
                if let (Some(ours), Some(theirs)) =
                    (report.metrics.get("wmf"), report.metrics.get("implicit"))
                {
                    println!(
                        "recall@50 relative difference: {:+.2}%",
                        100.0 * (ours.recall - theirs.recall) / theirs.recall
                    );
                }
                if let Ok(json) = serde_json::to_string_pretty(&report) {
                    let _ = std::fs::write(dir.join("report.json"), json);
                }
            })
        }
        _ => {
            eprintln!("{usage}");
            return ExitCode::FAILURE;
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cf_bench: {e}");
            ExitCode::FAILURE
        }
    }
}

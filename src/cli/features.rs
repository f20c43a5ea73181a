//! `deepcuts features` and `merge-features`.

use std::path::PathBuf;

use anyhow::Context;

use super::{interrupt, progress, Outcome};
use crate::features::{self, ExtractOptions, FeatureStore, Shard};
use crate::project::Project;

#[derive(Debug, clap::Args)]
pub struct FeaturesArgs {
    /// The project folder.
    dir: PathBuf,
    /// Compute only shard I of N (1-based): tracks I-1, I-1+N, … into features/shard-I-of-N,
    /// to spread a large collection over machines; combine with `merge-features`.
    #[arg(long, value_parser = parse_shard)]
    shard: Option<Shard>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Try tracks that failed before again.
    #[arg(long)]
    retry_failed: bool,
}

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The project folder.
    dir: PathBuf,
    /// Shard folders written by `features --shard I/N` (possibly on other machines).
    #[arg(required = true)]
    shards: Vec<PathBuf>,
}

/// Parses `I/N` with 1 ≤ I ≤ N.
fn parse_shard(text: &str) -> Result<Shard, String> {
    let (index, count) = text
        .split_once('/')
        .ok_or_else(|| format!("`{text}`: expected I/N, e.g. 2/8"))?;
    let index: usize = index
        .trim()
        .parse()
        .map_err(|_| format!("`{text}`: I is not a number"))?;
    let count: usize = count
        .trim()
        .parse()
        .map_err(|_| format!("`{text}`: N is not a number"))?;
    if count == 0 || index == 0 || index > count {
        return Err(format!("`{text}`: need 1 ≤ I ≤ N"));
    }
    Ok(Shard {
        index: index - 1,
        count,
    })
}

pub fn run(args: FeaturesArgs) -> anyhow::Result<Outcome> {
    let project = Project::open(&args.dir)?;
    let shard = args.shard.unwrap_or(Shard::ALL);
    let options = ExtractOptions {
        retry_failed: args.retry_failed,
        threads: args.threads,
        sample: None,
    };
    let bar = progress::bar(0, "features");
    let started = std::time::Instant::now();
    let report = features::compute(
        &project,
        shard,
        options,
        &mut |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        },
        interrupt::cancel_flag(),
    )?;
    bar.finish_and_clear();
    for issue in &report.warned {
        eprintln!("warning: {issue}");
    }
    for issue in &report.failed {
        eprintln!("failed: {issue}");
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{} computed ({:.1} tracks/s; {} with warnings), {} already done, {} failed{}",
        report.computed,
        report.computed as f64 / secs.max(1e-9),
        report.warned.len(),
        report.already_done,
        report.failed.len(),
        if report.cancelled {
            "; interrupted, run again to resume"
        } else {
            ""
        }
    );
    Ok(if report.failed.is_empty() && !report.cancelled {
        Outcome::Success
    } else {
        Outcome::SomeFailed
    })
}

pub fn merge(args: MergeArgs) -> anyhow::Result<Outcome> {
    let project = Project::open(&args.dir)?;
    let mut store = features::open_store(&project, Shard::ALL)?;
    let tracks = project.catalog().track_count()?;
    for dir in &args.shards {
        anyhow::ensure!(
            dir.join(crate::features::store::ARRAY_FILE).is_file(),
            "{}: no feature array in this folder",
            dir.display()
        );
        let shard = shard_of_folder(dir).with_context(|| {
            format!(
                "{}: not a shard folder (features/shard-I-of-N)",
                dir.display()
            )
        })?;
        let shard_store = FeatureStore::open(dir, tracks, shard)?;
        let merged = store.merge(&shard_store)?;
        println!("{}: {merged} tracks merged", dir.display());
    }
    Ok(Outcome::Success)
}

/// The shard a folder named `shard-I-of-N` holds.
fn shard_of_folder(dir: &std::path::Path) -> Option<Shard> {
    let name = dir.file_name()?.to_str()?;
    let (index, count) = name.strip_prefix("shard-")?.split_once("-of-")?;
    parse_shard(&format!("{index}/{count}")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_from_arguments_and_folder_names() {
        assert_eq!(parse_shard("2/8"), Ok(Shard { index: 1, count: 8 }));
        assert!(parse_shard("0/8").is_err());
        assert!(parse_shard("9/8").is_err());
        assert!(parse_shard("x").is_err());
        assert_eq!(
            shard_of_folder(std::path::Path::new("/a/features/shard-3-of-4")),
            Some(Shard { index: 2, count: 4 })
        );
        assert_eq!(shard_of_folder(std::path::Path::new("/a/features")), None);
    }
}

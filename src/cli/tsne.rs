//! `deepcuts tsne` (a project's map, or any `.npy` matrix's) and `deepcuts bench tsne`;
//! library: `analysis::tsne`.

use std::path::PathBuf;

use anyhow::Context;
use indicatif::ProgressBar;

use super::{interrupt, progress, Outcome};
use crate::analysis::tsne::bench::{self as tsne_bench, BhtsneMethod, ClusteredPoints, MapFigures};
use crate::analysis::tsne::stage::{map_file, map_project, MapError, MapOf};
use crate::analysis::tsne::trustworthiness::trustworthiness;
use crate::analysis::tsne::{Init, TsneParams, TsneProgress};
use crate::io::npy;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum InitArg {
    Pca,
    Random,
}

/// The map's parameters, shared by `tsne` and `bench tsne`.
#[derive(Debug, clap::Args)]
struct ParamArgs {
    /// Effective number of neighbours of each point (3·perplexity nearest neighbours are used).
    #[arg(long, default_value_t = TsneParams::default().perplexity)]
    perplexity: f64,
    /// Iterations in all, the 250 of early exaggeration included.
    #[arg(long, default_value_t = TsneParams::default().iterations)]
    iters: usize,
    /// Seeds the initial jitter (or positions, with --init random).
    #[arg(long, default_value_t = TsneParams::default().seed)]
    seed: u64,
    /// Worker threads (default: all cores); the map does not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    #[arg(long, value_enum, default_value_t = InitArg::Pca)]
    init: InitArg,
}

impl ParamArgs {
    fn params(&self) -> TsneParams {
        TsneParams {
            perplexity: self.perplexity,
            iterations: self.iters,
            seed: self.seed,
            threads: self.threads.unwrap_or(0),
            init: match self.init {
                InitArg::Pca => Init::Pca,
                InitArg::Random => Init::Random,
            },
            ..TsneParams::default()
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The project folder: maps its predicted factors to maps/tsne.npy, .csv and .json.
    #[arg(required_unless_present = "input", conflicts_with = "input")]
    dir: Option<PathBuf>,
    /// Which vectors to map.
    #[arg(long, value_enum, default_value_t = MapOf::Predicted)]
    of: MapOf,
    /// Map this float32 matrix [points, dims] instead of a project's (needs --out).
    #[arg(long, requires = "out")]
    input: Option<PathBuf>,
    /// Where the map of --input goes: float32 [points, 2] .npy.
    #[arg(long, requires = "input")]
    out: Option<PathBuf>,
    #[command(flatten)]
    params: ParamArgs,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let params = args.params.params();
    let cancel = interrupt::cancel_flag();
    let bar = progress::bar(params.iterations as u64, "t-SNE");
    let mut report = progress_reporter(&bar);
    let result = match (&args.dir, &args.input, &args.out) {
        (Some(dir), _, _) => {
            let of = args.of;
            map_project(dir, of, &params, &mut report, cancel).map(|map| {
                bar.finish_and_clear();
                let mapped = map.tracks - map.unmapped.len();
                let verb = if map.reused {
                    "up to date, reused"
                } else {
                    "written"
                };
                println!(
                    "{}: {verb} ({mapped} of {} tracks mapped)",
                    map.path.display(),
                    map.tracks
                );
                if !map.unmapped.is_empty() {
                    let why = match of {
                        MapOf::Predicted => "without predictions",
                        MapOf::Cf => "without listens",
                    };
                    println!(
                        "{} tracks {why} have NaN rows: {}",
                        map.unmapped.len(),
                        abbreviated(&map.unmapped)
                    );
                }
            })
        }
        (None, Some(input), Some(out)) => {
            map_file(input, out, &params, &mut report, cancel).map(|()| {
                bar.finish_and_clear();
                println!("{}: written", out.display());
            })
        }
        _ => anyhow::bail!("give a project folder, or --input X.npy --out Y.npy"),
    };
    match result {
        Ok(()) => Ok(Outcome::Success),
        Err(e) if e.is_cancelled() => {
            bar.abandon();
            anyhow::bail!("interrupted: nothing written")
        }
        Err(e @ MapError::Tsne { .. }) => Err(anyhow::Error::new(e).context("t-SNE")),
        Err(e) => Err(e.into()),
    }
}

/// The first ids and how many more.
fn abbreviated(ids: &[String]) -> String {
    const SHOWN: usize = 20;
    let mut text = ids
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > SHOWN {
        text.push_str(&format!(" … and {} more", ids.len() - SHOWN));
    }
    text
}

/// Moves `bar` through the neighbour search (as a message) and the iterations.
fn progress_reporter(bar: &ProgressBar) -> impl FnMut(TsneProgress) + '_ {
    move |event| match event {
        TsneProgress::Neighbours { done, points } => {
            bar.set_message(format!("neighbours {}%", 100 * done / points.max(1)));
        }
        TsneProgress::Iteration {
            done,
            kl_divergence,
            ..
        } => {
            if done == 1 {
                bar.set_message("t-SNE");
            }
            if let Some(kl) = kl_divergence {
                bar.set_message(format!("KL {kl:.3}"));
            }
            bar.set_position(done as u64);
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Synthetic points (20 Gaussian clusters).
    #[arg(long, default_value_t = 10_000)]
    points: usize,
    /// Their dimensions.
    #[arg(long, default_value_t = 40)]
    dims: usize,
    /// Iterations in all (openTSNE's default is 250 + 500 = 750).
    #[arg(long, default_value_t = 750)]
    iters: usize,
    /// Worker threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Seeds the synthetic clusters (another seed: data the code was not tuned on).
    #[arg(long, default_value_t = ClusteredPoints::default().seed)]
    data_seed: u64,
    /// Keep the points (points.npy) and the map (deepcuts.npy) here, for bench/tsne_peers.py.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Also run the bhtsne crate (Barnes-Hut and FIt-SNE modes) on the same points.
    #[arg(long)]
    bhtsne: bool,
    /// Only score these maps of DIR/points.npy (trustworthiness at k = 10); needs --dir.
    #[arg(long, num_args = 1.., requires = "dir")]
    score: Vec<PathBuf>,
}

pub fn bench(args: BenchArgs) -> anyhow::Result<Outcome> {
    let cancel = interrupt::cancel_flag();
    if !args.score.is_empty() {
        let dir = args.dir.context("--score needs --dir")?;
        let data: ndarray::Array2<f32> = npy::read_finite_f32(&dir.join("points.npy"))?;
        for path in &args.score {
            let map: ndarray::Array2<f32> = npy::read_as_f32(path)?;
            let t = trustworthiness(
                data.view(),
                map.view(),
                tsne_bench::TRUSTWORTHINESS_K,
                cancel,
            )
            .with_context(|| format!("scoring {}", path.display()))?;
            println!("{}: trustworthiness@10 {t:.4}", path.display());
        }
        return Ok(Outcome::Success);
    }
    let points = ClusteredPoints {
        points: args.points,
        dims: args.dims,
        seed: args.data_seed,
        ..ClusteredPoints::default()
    };
    eprintln!(
        "{} points × {} dims in {} clusters (seed {}), {} iterations, {} threads",
        points.points, points.dims, points.clusters, points.seed, args.iters, args.threads
    );
    let data = points.generate();
    if let Some(dir) = &args.dir {
        npy::write(&dir.join("points.npy"), &data)?;
    }
    let params = TsneParams {
        iterations: args.iters,
        threads: args.threads,
        ..TsneParams::default()
    };
    let bar = progress::bar(params.iterations as u64, "t-SNE");
    let ours =
        tsne_bench::run_deepcuts(data.view(), &params, &mut progress_reporter(&bar), cancel)?;
    bar.finish_and_clear();
    if let Some(dir) = &args.dir {
        npy::write(&dir.join("deepcuts.npy"), &ours.map)?;
    }
    print_figures(&ours);
    if args.bhtsne {
        for method in [BhtsneMethod::BarnesHut, BhtsneMethod::Interpolation] {
            print_figures(&tsne_bench::run_bhtsne(
                data.view(),
                &params,
                method,
                cancel,
            )?);
        }
    }
    Ok(Outcome::Success)
}

fn print_figures(figures: &MapFigures) {
    let memory = figures.peak_rss_bytes.map_or("?".to_owned(), |b| {
        format!("{:.0}", b as f64 / (1 << 20) as f64)
    });
    println!(
        "{:<22} {:>8.2} s  peak RSS {memory:>6} MiB  trustworthiness@10 {:.4}",
        figures.method, figures.secs, figures.trustworthiness
    );
}

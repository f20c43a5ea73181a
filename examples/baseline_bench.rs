//! Times the content baseline on synthetic excerpts (see `deepcuts::baseline::bench`).
//! Usage: `cargo run --release --example baseline_bench [TRACKS] [bow|mel-stats] [CODEBOOK_SIZE]`

use deepcuts::baseline::bench::run;
use deepcuts::baseline::{BagOfWordsConfig, BaselineConfig, FeatureConfig};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let tracks: usize = args.first().map_or(Ok(3000), |a| a.parse())?;
    let codebook_size: usize = args.get(2).map_or(Ok(256), |a| a.parse())?;
    let features = match args.get(1).map(String::as_str) {
        None | Some("bow") => FeatureConfig::BagOfWords(BagOfWordsConfig {
            codebook_size,
            ..BagOfWordsConfig::default()
        }),
        Some("mel-stats") => FeatureConfig::MelStatistics,
        Some(other) => anyhow::bail!("unknown feature set {other:?}: bow or mel-stats"),
    };
    let config = BaselineConfig {
        features,
        ..BaselineConfig::default()
    };
    let report = run(tracks, 40, &config)?;
    println!("{:?}", config.features);
    let cpu = |secs: Option<f64>| secs.map_or("?".into(), |s| format!("{s:.2}"));
    println!(
        "{} tracks, {} threads: generated in {:.2} s; fit in {:.2} s wall, {} s CPU",
        report.tracks,
        report.threads,
        report.generate_secs,
        report.fit_secs,
        cpu(report.fit_cpu_secs)
    );
    for stage in &report.stage_secs {
        println!(
            "  {}: {:.2} s wall, {} s CPU",
            stage.stage,
            stage.wall_secs,
            cpu(stage.cpu_secs)
        );
    }
    let fit = &report.fit;
    println!(
        "  k-means: {} frames, {} iterations, converged {}; λ {:.4}",
        fit.codebook_frames, fit.kmeans_iterations, fit.kmeans_converged, fit.lambda
    );
    println!(
        "predict: {:.0} tracks/s; valid MSE {:.4} (mean {:.4}), test MSE {:.4} (mean {:.4})",
        report.predict_tracks_per_sec,
        fit.valid_mse,
        fit.valid_mse_of_mean,
        report.test_mse,
        report.test_mse_of_mean
    );
    Ok(())
}

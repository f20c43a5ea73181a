//! The measurements behind `deepcuts bench analysis`: every playlist of a large project (all
//! filters both ways, all units, ranked and written) and similar-track queries over up to 1M
//! tracks, on random activations of the given network sizes.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use ndarray::Array2;
use rand::{Rng, SeedableRng};

use super::neighbours::CosineIndex;
use super::playlist_files::write_playlists;
use super::playlists::{all_playlists, Activations};
use super::results::{AnalysisError, Candidates, ProjectResults};
use crate::bench::timed_with_cpu;
use crate::convnet::ConvnetConfig;
use crate::project::Track;

/// Timings of `playlist --all` on a synthetic project.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlaylistTimings {
    pub tracks: usize,
    pub playlists: usize,
    /// Ranking every playlist: wall time, and CPU time of all threads (which, unlike wall
    /// time, does not grow when other work shares the cores).
    pub rank_secs: f64,
    pub rank_cpu_secs: f64,
    /// Writing each as JSON and M3U8.
    pub write_secs: f64,
    pub write_cpu_secs: f64,
}

/// Ranks and writes (into `dir`) every playlist of `tracks` random tracks under `config`'s
/// layer sizes, `k` entries each.
pub fn playlists(
    tracks: usize,
    config: &ConvnetConfig,
    k: usize,
    dir: &Path,
) -> Result<PlaylistTimings, AnalysisError> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let filters = config.filters[0];
    let units = config.dense.last().copied().unwrap_or(0);
    let mut random =
        |columns: usize| Array2::from_shape_simple_fn((tracks, columns), || rng.random::<f32>());
    let factors = random(config.factors);
    let activations = Activations {
        conv1_max: random(filters),
        conv1_mean: random(filters),
        conv1_peak: Array2::from_elem((tracks, filters), 100),
        fc2: random(units),
        similar: CosineIndex::of_nonzero(factors.view()),
    };
    let results = ProjectResults::from_parts(
        dir,
        (0..tracks as u32).map(synthetic_track).collect(),
        vec![true; tracks],
        config.clone(),
    );
    let cancel = AtomicBool::new(false);
    let (lists, rank_secs, rank_cpu_secs) =
        timed_with_cpu(|| all_playlists(&results, &activations, Candidates::All, k, &cancel));
    let lists = lists?;
    let named: Vec<(String, _)> = lists
        .into_iter()
        .map(|p| (p.query.file_stem(), p))
        .collect();
    let (written, write_secs, write_cpu_secs) =
        timed_with_cpu(|| write_playlists(&results, dir, &named, false, &cancel));
    written?;
    Ok(PlaylistTimings {
        tracks,
        playlists: named.len(),
        rank_secs,
        rank_cpu_secs,
        write_secs,
        write_cpu_secs,
    })
}

fn synthetic_track(id: u32) -> Track {
    Track {
        id,
        source: format!("/music/track{id:07}.ogg"),
        artist: format!("Artist {}", id % 997),
        title: format!("Song {id}"),
        album: String::new(),
        duration_secs: Some(180.0 + f64::from(id % 120)),
        tags: vec![format!("style{}", id % 14)],
        kind: String::new(),
    }
}

/// Timings of similar-track queries.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimilarTimings {
    pub tracks: usize,
    pub dims: usize,
    /// Building the index (normalising every vector).
    pub build_secs: f64,
    pub median_ms: f64,
    pub max_ms: f64,
    /// CPU time per query, all threads.
    pub cpu_ms: f64,
}

/// `queries` top-`k` cosine queries over `tracks` random `dims`-dimensional vectors.
pub fn similar(tracks: usize, dims: usize, queries: usize, k: usize) -> SimilarTimings {
    let mut rng = rand::rngs::StdRng::seed_from_u64(2);
    let vectors = Array2::from_shape_simple_fn((tracks, dims), || rng.random::<f32>() - 0.5);
    let started = Instant::now();
    let index = CosineIndex::of_nonzero(vectors.view());
    let ids = index.ids();
    let build_secs = started.elapsed().as_secs_f64();
    let queries = queries.max(1);
    let (mut times, _, cpu_secs): (Vec<f64>, _, _) = timed_with_cpu(|| {
        (0..queries)
            .map(|_| {
                let query = rng.random_range(0..tracks as u32);
                let started = Instant::now();
                let list = index.nearest(query, &ids, k);
                std::hint::black_box(list);
                started.elapsed().as_secs_f64() * 1000.0
            })
            .collect()
    });
    times.sort_by(f64::total_cmp);
    SimilarTimings {
        tracks,
        dims,
        build_secs,
        median_ms: times[times.len() / 2],
        max_ms: times[times.len() - 1],
        cpu_ms: cpu_secs * 1000.0 / queries as f64,
    }
}

//! Playlists (seed, "Analysis" and "Similarity-based playlists"): the tracks that most
//! excite a conv1 filter (by its maximum or its mean over time, each entry with the moment in
//! the file where the filter peaked), the tracks that most excite an fc2 unit, the tracks
//! nearest a query by cosine of predicted factors, query first, and the tracks inside a region
//! of the t-SNE map, most typical of the region first.

use std::sync::atomic::{AtomicBool, Ordering};

use ndarray::Array2;

use super::names::Named;
use super::neighbours::CosineIndex;
use super::regions::MapRegion;
use super::results::{AnalysisError, Candidates, FilterStat, ProjectResults};
use super::top_k::{top_k_columns, Scored};
use super::tsne::stage::MapOf;
use crate::audio::excerpt::excerpt_start;
use crate::audio::ANALYSIS_RATE_HZ;
use crate::convnet::config::{CENTRE_CROP_OFFSET, KERNEL_FRAMES};
use crate::dsp::mel::HOP_LENGTH;
use crate::project::Track;

/// What a playlist answers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PlaylistQuery {
    /// The tracks with the highest conv1 `stat` of `filter`.
    Filter { filter: usize, stat: FilterStat },
    /// The tracks with the highest fc2 activation of `unit`.
    Unit { unit: usize },
    /// The tracks nearest `track` by cosine of predicted factors; `track` first.
    Similar { track: u32 },
    /// The tracks inside a region of a map (a box or lasso drawn on it), ranked by cosine of
    /// their predicted factors to the region's mean direction: the most typical first.
    Region(MapRegion),
}

/// What a playlist's JSON says it answers: a filter or unit index, a track id, or a region.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum QueryJson {
    Index(u64),
    Region { of: MapOf, vertices: Vec<[f32; 2]> },
}

impl PlaylistQuery {
    /// The `kind` field of the JSON file.
    pub fn kind(&self) -> &'static str {
        match self {
            PlaylistQuery::Filter {
                stat: FilterStat::Max,
                ..
            } => "filter-max",
            PlaylistQuery::Filter {
                stat: FilterStat::Mean,
                ..
            } => "filter-mean",
            PlaylistQuery::Unit { .. } => "unit",
            PlaylistQuery::Similar { .. } => "similar",
            PlaylistQuery::Region(_) => "region",
        }
    }

    /// The `query` field of the JSON file: the filter index, unit index or track id the
    /// playlist is about, or the region's map and vertices.
    pub fn json(&self) -> QueryJson {
        match self {
            PlaylistQuery::Filter { filter, .. } => QueryJson::Index(*filter as u64),
            PlaylistQuery::Unit { unit } => QueryJson::Index(*unit as u64),
            PlaylistQuery::Similar { track } => QueryJson::Index(u64::from(*track)),
            PlaylistQuery::Region(region) => QueryJson::Region {
                of: region.of,
                vertices: region.vertices().to_vec(),
            },
        }
    }

    /// The default file name (without extension): `filter-12-max`, `unit-7`, `similar-123`,
    /// `region-predicted-1a2b3c4d` (a hash of the vertices).
    pub fn file_stem(&self) -> String {
        match self {
            PlaylistQuery::Filter { filter, stat } => format!("filter-{filter}-{}", stat.name()),
            PlaylistQuery::Unit { unit } => format!("unit-{unit}"),
            PlaylistQuery::Similar { track } => format!("similar-{track}"),
            PlaylistQuery::Region(region) => {
                format!("region-{}-{}", map_name(region.of), region.key())
            }
        }
    }

    /// The filter or unit whose saved name the playlist carries.
    pub fn named(&self) -> Option<Named> {
        match *self {
            PlaylistQuery::Filter { filter, .. } => Some(Named::Filter(filter)),
            PlaylistQuery::Unit { unit } => Some(Named::Unit(unit)),
            PlaylistQuery::Similar { .. } | PlaylistQuery::Region(_) => None,
        }
    }

    /// A title for people: "conv1 filter 12, max activation".
    pub fn title(&self) -> String {
        match self {
            PlaylistQuery::Filter { filter, stat } => {
                format!("conv1 filter {filter}, {} activation", stat.name())
            }
            PlaylistQuery::Unit { unit } => format!("fc2 unit {unit}"),
            PlaylistQuery::Similar { track } => format!("similar to track {track}"),
            PlaylistQuery::Region(region) => {
                format!("{} on the {} map", region.shape(), map_name(region.of))
            }
        }
    }
}

fn map_name(of: MapOf) -> &'static str {
    match of {
        MapOf::Predicted => "predicted",
        MapOf::Cf => "cf",
    }
}

/// One entry: a track, its score and, for filter playlists, where in the file the filter
/// peaked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlaylistEntry {
    pub id: u32,
    /// Activation (filters, units) or cosine similarity (similar).
    pub score: f32,
    /// Seconds from the start of the file to the middle of the filter's strongest window.
    pub peak_secs: Option<f64>,
}

/// A ranked playlist, best first.
#[derive(Debug, Clone, PartialEq)]
pub struct Playlist {
    pub query: PlaylistQuery,
    pub from: Candidates,
    pub entries: Vec<PlaylistEntry>,
}

/// The predictions every playlist reads, loaded once (the app keeps them; the CLI loads them
/// for one command).
#[derive(Debug, Clone)]
pub struct Activations {
    /// `[tracks, filters]` each.
    pub conv1_max: Array2<f32>,
    pub conv1_mean: Array2<f32>,
    pub conv1_peak: Array2<u32>,
    /// `[tracks, units]`.
    pub fc2: Array2<f32>,
    /// Cosine search over the predicted factors.
    pub similar: CosineIndex,
}

impl Activations {
    pub fn load(results: &ProjectResults) -> Result<Self, AnalysisError> {
        Ok(Self {
            conv1_max: results.conv1(FilterStat::Max)?,
            conv1_mean: results.conv1(FilterStat::Mean)?,
            conv1_peak: results.conv1_peak()?,
            fc2: results.fc2()?,
            similar: CosineIndex::of_predictions(results)?,
        })
    }

    fn conv1(&self, stat: FilterStat) -> &Array2<f32> {
        match stat {
            FilterStat::Max => &self.conv1_max,
            FilterStat::Mean => &self.conv1_mean,
        }
    }
}

/// The playlist answering `query`: `k` tracks from `from`, best first.
pub fn playlist(
    results: &ProjectResults,
    activations: &Activations,
    query: PlaylistQuery,
    from: Candidates,
    k: usize,
) -> Result<Playlist, AnalysisError> {
    let candidates = results.candidates(from)?;
    let scored: Vec<Scored> = match &query {
        &PlaylistQuery::Filter { filter, stat } => {
            results.check_filter(filter)?;
            let column = activations.conv1(stat).column(filter);
            super::top_k::top_k(candidates.iter().map(|&id| (id, column[id as usize])), k)
        }
        &PlaylistQuery::Unit { unit } => {
            results.check_unit(unit)?;
            let column = activations.fc2.column(unit);
            super::top_k::top_k(candidates.iter().map(|&id| (id, column[id as usize])), k)
        }
        &PlaylistQuery::Similar { track } => {
            results.predicted_track(track)?;
            activations.similar.nearest(track, &candidates, k)
        }
        PlaylistQuery::Region(region) => {
            region_tracks(results, &activations.similar, region, &candidates, k)?
        }
    };
    Ok(finish(results, activations, query, from, scored))
}

/// The candidates inside `region`, the `k` most typical first: by cosine to the normalised
/// mean of their unit vectors (the region's direction in the predicted space).
fn region_tracks(
    results: &ProjectResults,
    similar: &CosineIndex,
    region: &MapRegion,
    candidates: &[u32],
    k: usize,
) -> Result<Vec<Scored>, AnalysisError> {
    let map = results.map(region.of)?;
    let inside: Vec<u32> = candidates
        .iter()
        .copied()
        .filter(|&id| region.contains(map[id as usize]))
        .collect();
    let mut centre = vec![0.0f64; similar.dims()];
    for &id in &inside {
        for (sum, &x) in centre.iter_mut().zip(similar.vector(id)) {
            *sum += f64::from(x);
        }
    }
    let norm = centre.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-12);
    let centre: Vec<f32> = centre.iter().map(|x| (x / norm) as f32).collect();
    let k = k.min(inside.len());
    Ok(similar.nearest_to(&centre, inside.into_iter(), k))
}

/// Every filter's playlist by `stat`, in filter order: one pass over the activations.
pub fn filter_playlists(
    results: &ProjectResults,
    activations: &Activations,
    stat: FilterStat,
    from: Candidates,
    k: usize,
) -> Result<Vec<Playlist>, AnalysisError> {
    let candidates = results.candidates(from)?;
    let tops = top_k_columns(activations.conv1(stat).view(), &candidates, k);
    Ok(tops
        .into_iter()
        .enumerate()
        .map(|(filter, scored)| {
            let query = PlaylistQuery::Filter { filter, stat };
            finish(results, activations, query, from, scored)
        })
        .collect())
}

/// Every filter's max and mean playlists and every unit's, as `deepcuts playlist --all`
/// writes them; one pass over each activation matrix.
pub fn all_playlists(
    results: &ProjectResults,
    activations: &Activations,
    from: Candidates,
    k: usize,
    cancel: &AtomicBool,
) -> Result<Vec<Playlist>, AnalysisError> {
    let mut playlists = Vec::new();
    for stat in FilterStat::ALL {
        playlists.extend(filter_playlists(results, activations, stat, from, k)?);
        if cancel.load(Ordering::Relaxed) {
            return Err(AnalysisError::Cancelled);
        }
    }
    playlists.extend(unit_playlists(results, activations, from, k)?);
    Ok(playlists)
}

/// Every fc2 unit's playlist, in unit order: one pass over the activations.
pub fn unit_playlists(
    results: &ProjectResults,
    activations: &Activations,
    from: Candidates,
    k: usize,
) -> Result<Vec<Playlist>, AnalysisError> {
    let candidates = results.candidates(from)?;
    let tops = top_k_columns(activations.fc2.view(), &candidates, k);
    Ok(tops
        .into_iter()
        .enumerate()
        .map(|(unit, scored)| {
            finish(
                results,
                activations,
                PlaylistQuery::Unit { unit },
                from,
                scored,
            )
        })
        .collect())
}

/// Adds the peak times of filter playlists.
fn finish(
    results: &ProjectResults,
    activations: &Activations,
    query: PlaylistQuery,
    from: Candidates,
    scored: Vec<Scored>,
) -> Playlist {
    let entries = scored
        .into_iter()
        .map(|(id, score)| PlaylistEntry {
            id,
            score,
            peak_secs: match &query {
                &PlaylistQuery::Filter { filter, .. } => Some(peak_secs(
                    &results.tracks[id as usize],
                    activations.conv1_peak[[id as usize, filter]],
                )),
                _ => None,
            },
        })
        .collect();
    Playlist {
        query,
        from,
        entries,
    }
}

/// Seconds from the start of `track`'s file to the middle of conv1 output frame `frame`:
/// the network sees excerpt frames from [`CENTRE_CROP_OFFSET`], conv1 frame t covers frames
/// t .. t + 4 of that crop, and excerpt frame f is centred on sample f·hop of the excerpt,
/// which starts at the middle-30-s offset of the track (DESIGN.md).
pub fn peak_secs(track: &Track, frame: u32) -> f64 {
    let rate = f64::from(ANALYSIS_RATE_HZ);
    let samples = track
        .duration_secs
        .map_or(0, |d| (d * rate).round() as usize);
    let centre_frame =
        CENTRE_CROP_OFFSET as f64 + f64::from(frame) + (KERNEL_FRAMES as f64 - 1.0) / 2.0;
    (excerpt_start(samples) as f64 + centre_frame * HOP_LENGTH as f64) / rate
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(duration_secs: Option<f64>) -> Track {
        Track {
            id: 0,
            source: String::new(),
            artist: String::new(),
            title: String::new(),
            album: String::new(),
            duration_secs,
            tags: Vec::new(),
            kind: String::new(),
        }
    }

    #[test]
    fn peak_time_by_hand() {
        // A 90-s track: n = 1_984_500 samples, excerpt starts at (n - 661_500) / 2 = 661_500
        // samples = 30 s. conv1 frame 0 covers crop frames 0..4 = excerpt frames 23..27,
        // centred on frame 24.5, i.e. 24.5 · 1024 / 22050 s after the excerpt's start.
        let secs = peak_secs(&track(Some(90.0)), 0);
        assert!((secs - (30.0 + 24.5 * 1024.0 / 22050.0)).abs() < 1e-9);
        // Frame 100 is 100 hops later.
        let later = peak_secs(&track(Some(90.0)), 100);
        assert!((later - secs - 100.0 * 1024.0 / 22050.0).abs() < 1e-9);
        // A short track (or an unknown length) starts its excerpt at 0.
        assert!((peak_secs(&track(Some(20.0)), 0) - 24.5 * 1024.0 / 22050.0).abs() < 1e-9);
        assert_eq!(peak_secs(&track(None), 0), peak_secs(&track(Some(1.0)), 0));
    }
}

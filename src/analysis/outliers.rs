//! The seed's proposed use ("What will this be used for?"): collaborative filtering
//! recommends intros, outros, interludes, covers and remixes because they are listened to with
//! the songs around them; the audio can tell they do not fit. Among a query's CF
//! recommendations (a user's top N, or a track's nearest WMF neighbours), each item is judged
//! by how much it sounds like the query: its cosine (of predicted factors) with the query track,
//! or with the closest of the tracks the user played. Items far below the rest of their list
//! (a robust z-score over the list) are flagged; each also gets its rank in the collection
//! ("sounds less like it than 80% of all tracks") as the explanation.

use std::collections::{HashMap, HashSet};

use ndarray::Array2;

use super::neighbours::{dot, CosineIndex};
use super::results::{AnalysisError, ProjectResults};
use super::top_k::{top_k, Scored};
use crate::io::npy;
use crate::project::{layout, Project, ProjectError};

/// Flag an item whose audio similarity lies this many robust standard deviations (1.4826 ×
/// the median absolute deviation) below its list's median.
pub const DEFAULT_FLAG_SPREAD: f64 = 2.0;

/// Collection ranks are taken among at most this many tracks (evenly spaced), so a user query
/// costs the same in a 1M-track project.
const RANK_SAMPLE: usize = 2000;

/// The smallest spread a list's similarities are judged on: cosine differences below this are
/// noise, even in a list whose tracks sound almost the same.
const MIN_SPREAD: f64 = 0.02;

/// One CF recommendation, judged by its audio.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    pub id: u32,
    /// The CF score that recommended it (dot product for users, cosine for tracks).
    pub cf_score: f32,
    /// Cosine of its predicted factors with the query track's, or with the closest track the
    /// user played.
    pub audio_similarity: f32,
    /// Share of the collection (tracks with predictions) that sounds more like the query:
    /// 0 = the closest track there is, 1 = the farthest.
    pub audio_rank: f64,
    /// How many robust standard deviations below its list's median similarity it lies.
    pub spread_below: f64,
    pub flagged: bool,
}

/// A query's CF recommendations, best CF score first, each judged.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    pub items: Vec<Judged>,
}

/// Who the recommendations are for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OutlierQuery {
    /// A user, by name.
    User(String),
    /// A track, by id.
    Track(u32),
}

/// What the outlier filter reads, loaded once: predicted factors, WMF item and user factors,
/// each user's plays.
pub struct OutlierData {
    audio: CosineIndex,
    cf_items: CosineIndex,
    cf_item_factors: Array2<f32>,
    cf_user_factors: Option<Array2<f32>>,
    /// User name → row of `cf_user_factors`.
    user_rows: HashMap<String, usize>,
    /// User name → `(track, count)` plays.
    plays: HashMap<String, Vec<(u32, u32)>>,
    /// Total plays of each track.
    pub popularity: Vec<u64>,
    /// The tracks collection ranks are measured among.
    rank_sample: Vec<u32>,
}

impl OutlierData {
    pub fn load(results: &ProjectResults) -> Result<Self, AnalysisError> {
        let audio = CosineIndex::of_predictions(results)?;
        let cf_item_factors = results
            .cf_factors()?
            .ok_or_else(|| AnalysisError::Missing {
                path: results.root().join(layout::ITEM_FACTORS),
                stage: "cf",
            })?;
        let cf_items = CosineIndex::of_nonzero(cf_item_factors.view());
        let user_path = results.root().join(layout::USER_FACTORS);
        let cf_user_factors = if user_path.is_file() {
            Some(npy::read_finite_f32(&user_path)?)
        } else {
            None
        };
        let user_rows = read_users_tsv(&results.root().join(layout::USERS_TSV))?;
        let project = Project::open(results.root())?;
        let counts = project.catalog().plays().map_err(ProjectError::from)?;
        let mut popularity = vec![0u64; results.tracks.len()];
        let mut plays: HashMap<String, Vec<(u32, u32)>> = HashMap::new();
        for &(user, track, count) in &counts.triplets {
            if let Some(total) = popularity.get_mut(track as usize) {
                *total += u64::from(count);
            }
            plays
                .entry(counts.users[user as usize].clone())
                .or_default()
                .push((track, count));
        }
        let ids = audio.ids();
        let step = ids.len().div_ceil(RANK_SAMPLE).max(1);
        let rank_sample = ids.into_iter().step_by(step).collect();
        Ok(Self {
            audio,
            cf_items,
            cf_item_factors,
            cf_user_factors,
            user_rows,
            plays,
            popularity,
            rank_sample,
        })
    }

    /// The `n` CF recommendations of `query`, judged by their audio; items more than
    /// `flag_spread` robust standard deviations below their list's median are flagged.
    pub fn judge(
        &self,
        results: &ProjectResults,
        query: &OutlierQuery,
        n: usize,
        flag_spread: f64,
    ) -> Result<Judgement, AnalysisError> {
        let (reference, recommended) = match query {
            OutlierQuery::Track(track) => {
                results.predicted_track(*track)?;
                if !self.cf_items.contains(*track) {
                    return Err(AnalysisError::NoCandidates {
                        reason: format!("track {track} has no listens, so no CF neighbours"),
                    });
                }
                let mut list = self.cf_items.nearest(*track, &self.cf_items.ids(), n + 1);
                list.remove(0);
                (vec![*track], list)
            }
            OutlierQuery::User(name) => self.user_recommendations(results, name, n)?,
        };
        Ok(self.judge_list(&reference, recommended, flag_spread))
    }

    /// The tracks a user played that have predictions (what their recommendations should
    /// sound like) and their top `n` CF items among tracks they have not played.
    fn user_recommendations(
        &self,
        results: &ProjectResults,
        name: &str,
        n: usize,
    ) -> Result<(Vec<u32>, Vec<Scored>), AnalysisError> {
        let unknown = || AnalysisError::NoCandidates {
            reason: format!("no user `{name}` with listens in the WMF factors"),
        };
        let row = *self.user_rows.get(name).ok_or_else(unknown)?;
        let users = self.cf_user_factors.as_ref().ok_or_else(unknown)?;
        let user = users.row(row);
        if user.len() != self.cf_item_factors.ncols() {
            return Err(AnalysisError::Invalid {
                path: results.root().join(layout::USER_FACTORS),
                reason: format!(
                    "{} factors, the item factors have {}",
                    user.len(),
                    self.cf_item_factors.ncols()
                ),
            });
        }
        let played = self.plays.get(name).map_or(&[][..], Vec::as_slice);
        let reference: Vec<u32> = played
            .iter()
            .map(|&(track, _)| track)
            .filter(|&track| self.audio.contains(track))
            .collect();
        if reference.is_empty() {
            return Err(AnalysisError::NoCandidates {
                reason: format!("user `{name}` played no track with a prediction"),
            });
        }
        let seen: HashSet<u32> = played.iter().map(|&(t, _)| t).collect();
        let user: Vec<f32> = user.to_vec();
        let scores = (0..self.cf_item_factors.nrows() as u32)
            .filter(|id| !seen.contains(id) && self.cf_items.contains(*id))
            .map(|id| {
                let item = self.cf_item_factors.row(id as usize);
                let score = item.as_slice().map_or_else(
                    || item.iter().zip(&user).map(|(a, b)| a * b).sum(),
                    |item| dot(item, &user),
                );
                (id, score)
            });
        Ok((reference, top_k(scores, n)))
    }

    /// How much track `id` sounds like the closest of `reference`.
    fn similarity(&self, reference: &[u32], id: u32) -> f32 {
        let vector = self.audio.vector(id);
        reference
            .iter()
            .map(|&r| dot(self.audio.vector(r), vector))
            .fold(f32::NEG_INFINITY, f32::max)
    }

    /// Judges `recommended` against the audio of `reference`.
    fn judge_list(
        &self,
        reference: &[u32],
        recommended: Vec<(u32, f32)>,
        flag_spread: f64,
    ) -> Judgement {
        let mut collection: Vec<f32> = self
            .rank_sample
            .iter()
            .map(|&id| self.similarity(reference, id))
            .collect();
        collection.sort_unstable_by(f32::total_cmp);
        let similarities: Vec<f32> = recommended
            .iter()
            .map(|&(id, _)| self.similarity(reference, id))
            .collect();
        let (median, spread) = robust_spread(&similarities);
        let spread = spread.max(MIN_SPREAD);
        let items = recommended
            .into_iter()
            .zip(similarities)
            .map(|((id, cf_score), audio_similarity)| {
                let present = self.audio.contains(id);
                // Sampled tracks strictly more similar than this one.
                let closer =
                    collection.len() - collection.partition_point(|&s| s <= audio_similarity);
                let spread_below = (median - f64::from(audio_similarity)) / spread;
                Judged {
                    id,
                    cf_score,
                    audio_similarity,
                    audio_rank: if present {
                        closer as f64 / collection.len().max(1) as f64
                    } else {
                        1.0
                    },
                    spread_below,
                    flagged: present && spread_below > flag_spread,
                }
            })
            .collect();
        Judgement { items }
    }

    /// The users with WMF factors and plays, by name.
    pub fn users(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .user_rows
            .keys()
            .filter(|name| self.plays.contains_key(*name))
            .map(String::as_str)
            .collect();
        names.sort_unstable();
        names
    }

    /// Whether track `id` has listens (a non-zero WMF vector).
    pub fn has_listens(&self, id: u32) -> bool {
        self.cf_items.contains(id)
    }
}

/// The median of `values` and their robust standard deviation (1.4826 × the median absolute
/// deviation, which equals the standard deviation for normal data and ignores a few outliers).
fn robust_spread(values: &[f32]) -> (f64, f64) {
    fn median(mut v: Vec<f64>) -> f64 {
        if v.is_empty() {
            return 0.0;
        }
        v.sort_unstable_by(f64::total_cmp);
        let mid = v.len() / 2;
        if v.len().is_multiple_of(2) {
            (v[mid - 1] + v[mid]) / 2.0
        } else {
            v[mid]
        }
    }
    let centre = median(values.iter().map(|&v| f64::from(v)).collect());
    let deviation = median(
        values
            .iter()
            .map(|&v| (f64::from(v) - centre).abs())
            .collect(),
    );
    (centre, 1.4826 * deviation)
}

/// `row<TAB>user` after a header line; a missing file is no users.
fn read_users_tsv(path: &std::path::Path) -> Result<HashMap<String, usize>, AnalysisError> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(HashMap::new());
    };
    let mut rows = HashMap::new();
    for (number, line) in text.lines().enumerate().skip(1) {
        let parsed = line
            .split_once('\t')
            .and_then(|(row, user)| Some((row.trim().parse::<usize>().ok()?, user)));
        let Some((row, user)) = parsed else {
            return Err(AnalysisError::Invalid {
                path: std::path::PathBuf::from(format!("{}:{}", path.display(), number + 1)),
                reason: "expected `row<TAB>user`".into(),
            });
        };
        rows.insert(user.to_owned(), row);
    }
    Ok(rows)
}

/// Precision at the number planted (which equals recall there) of three rankings of the items
/// of many recommendation lists, pooled over lists.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct OutlierScores {
    pub lists: usize,
    pub items: usize,
    /// Atypical items (intro, outro, interlude, cover, remix) among them.
    pub planted: usize,
    /// By audio similarity (least similar first).
    pub audio: f64,
    /// Expected value of a random ranking.
    pub random: f64,
    /// Least played first.
    pub popularity: f64,
    /// Among flagged items, the share that is planted, and the share of planted that is
    /// flagged.
    pub flag_precision: f64,
    pub flag_recall: f64,
}

/// Scores the audio ranking against random and popularity on `judgements` of the planted
/// items `is_planted` (the demo world's atypical kinds).
pub fn score(
    judgements: &[Judgement],
    is_planted: &dyn Fn(u32) -> bool,
    popularity: &[u64],
) -> OutlierScores {
    let mut scores = OutlierScores {
        lists: judgements.len(),
        ..OutlierScores::default()
    };
    let (mut audio_hits, mut popularity_hits, mut random_hits) = (0usize, 0usize, 0.0f64);
    let (mut flagged, mut flagged_planted) = (0usize, 0usize);
    for judgement in judgements {
        let items = &judgement.items;
        let planted = items.iter().filter(|j| is_planted(j.id)).count();
        scores.items += items.len();
        scores.planted += planted;
        if items.is_empty() {
            continue;
        }
        let hits_at = |mut order: Vec<&Judged>, key: &dyn Fn(&Judged) -> f64| {
            order.sort_by(|a, b| key(b).total_cmp(&key(a)).then(a.id.cmp(&b.id)));
            order
                .iter()
                .take(planted)
                .filter(|j| is_planted(j.id))
                .count()
        };
        audio_hits += hits_at(items.iter().collect(), &|j| -f64::from(j.audio_similarity));
        popularity_hits += hits_at(items.iter().collect(), &|j| {
            -(popularity.get(j.id as usize).copied().unwrap_or(0) as f64)
        });
        random_hits += (planted * planted) as f64 / items.len() as f64;
        flagged += items.iter().filter(|j| j.flagged).count();
        flagged_planted += items
            .iter()
            .filter(|j| j.flagged && is_planted(j.id))
            .count();
    }
    let per_planted = |hits: f64| hits / scores.planted.max(1) as f64;
    scores.audio = per_planted(audio_hits as f64);
    scores.popularity = per_planted(popularity_hits as f64);
    scores.random = per_planted(random_hits);
    scores.flag_precision = flagged_planted as f64 / flagged.max(1) as f64;
    scores.flag_recall = per_planted(flagged_planted as f64);
    scores
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(id: u32, audio_similarity: f32) -> Judged {
        Judged {
            id,
            cf_score: 0.0,
            audio_similarity,
            audio_rank: 0.0,
            spread_below: 0.0,
            flagged: audio_similarity < 0.5,
        }
    }

    #[test]
    fn robust_spread_by_hand() {
        // Median 3; deviations 2, 1, 0, 1, 97 → median 1.
        let (median, spread) = robust_spread(&[1.0, 2.0, 3.0, 4.0, 100.0]);
        assert_eq!(median, 3.0);
        assert!((spread - 1.4826).abs() < 1e-12);
        assert_eq!(robust_spread(&[]), (0.0, 0.0));
    }

    #[test]
    fn scores_by_hand() {
        // One list of four; items 2 and 3 are planted. Audio (least similar first) puts 3
        // first, then 0: one hit of two. Popularity (least played first) puts 2 and 3 first:
        // two hits. Random expects 2 · 2 / 4 = 1 hit.
        let lists = [Judgement {
            items: vec![
                judged(0, 0.1),
                judged(1, 0.9),
                judged(2, 0.8),
                judged(3, 0.05),
            ],
        }];
        let popularity = [50, 40, 1, 2];
        let s = score(&lists, &|id| id >= 2, &popularity);
        assert_eq!((s.lists, s.items, s.planted), (1, 4, 2));
        assert!((s.audio - 0.5).abs() < 1e-12);
        assert!((s.popularity - 1.0).abs() < 1e-12);
        assert!((s.random - 0.5).abs() < 1e-12);
        // Flagged: 0 and 3; one of them planted; one of two planted flagged.
        assert!((s.flag_precision - 0.5).abs() < 1e-12);
        assert!((s.flag_recall - 0.5).abs() < 1e-12);
    }
}

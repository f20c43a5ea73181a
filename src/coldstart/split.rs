//! The train / validation / test split of a project's tracks, drawn once from a seed and kept
//! in `split.tsv` so that training, resuming and evaluation all see the same tracks.
//!
//! `split.tsv`: a header line `id<TAB>split`, then one line a track, `ID<TAB>train|valid|test`,
//! in id order. Only the tracks that were split are listed (those with features when it was
//! drawn).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rand::seq::SliceRandom;
use rand::SeedableRng;

/// The header line's fields.
pub const HEADER: [&str; 2] = ["id", "split"];

/// Which part of the split a track belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Part {
    /// Trains the convnet and the baseline; its listens train the cold-start WMF.
    Train,
    /// Chooses the best epoch and the baseline's ridge λ; its listens train the WMF too.
    Valid,
    /// Cold-start test tracks: their listens never reach the factors used as targets.
    Test,
}

impl Part {
    pub const ALL: [Part; 3] = [Part::Train, Part::Valid, Part::Test];

    /// The word in `split.tsv`.
    pub fn name(self) -> &'static str {
        match self {
            Part::Train => "train",
            Part::Valid => "valid",
            Part::Test => "test",
        }
    }

    fn parse(word: &str) -> Option<Self> {
        Part::ALL.into_iter().find(|p| p.name() == word)
    }
}

/// Shares of the validation and test parts; training gets the rest.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SplitFractions {
    pub valid: f64,
    pub test: f64,
}

impl Default for SplitFractions {
    /// 80 / 10 / 10.
    fn default() -> Self {
        Self {
            valid: 0.1,
            test: 0.1,
        }
    }
}

/// Why a split could not be drawn, read or written; names the file and line.
#[derive(Debug, thiserror::Error)]
pub enum SplitError {
    #[error("split fractions valid {valid} and test {test} must be > 0 with a sum below 1")]
    Fractions { valid: f64, test: f64 },
    #[error("{tracks} tracks cannot be split three ways: at least 3 are needed")]
    TooFewTracks { tracks: usize },
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: cannot write: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}, line {line}: {reason}")]
    Line {
        path: PathBuf,
        line: usize,
        reason: String,
    },
}

/// Track id → part, for the tracks that were split.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrackSplit {
    parts: BTreeMap<u32, Part>,
}

impl TrackSplit {
    /// Splits `tracks` at random from `seed`: `round(fraction × n)` tracks each for validation
    /// and test (at least one each), the rest for training. The same tracks and seed always
    /// give the same split, whatever the order of `tracks`.
    pub fn random(
        tracks: &[u32],
        fractions: SplitFractions,
        seed: u64,
    ) -> Result<Self, SplitError> {
        let SplitFractions { valid, test } = fractions;
        if !(valid > 0.0 && test > 0.0 && valid + test < 1.0) {
            return Err(SplitError::Fractions { valid, test });
        }
        let mut order = tracks.to_vec();
        order.sort_unstable();
        order.dedup();
        let n = order.len();
        if n < 3 {
            return Err(SplitError::TooFewTracks { tracks: n });
        }
        let count = |fraction: f64| ((fraction * n as f64).round() as usize).max(1);
        let n_test = count(test);
        let n_valid = count(valid).min(n - n_test - 1);
        order.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
        let parts = order
            .iter()
            .enumerate()
            .map(|(k, &track)| {
                let part = if k < n_test {
                    Part::Test
                } else if k < n_test + n_valid {
                    Part::Valid
                } else {
                    Part::Train
                };
                (track, part)
            })
            .collect();
        Ok(Self { parts })
    }

    /// The part of `track`, or `None` when it was not split.
    pub fn part(&self, track: u32) -> Option<Part> {
        self.parts.get(&track).copied()
    }

    /// The tracks of `part`, ascending.
    pub fn tracks(&self, part: Part) -> Vec<u32> {
        self.parts
            .iter()
            .filter(|(_, &p)| p == part)
            .map(|(&t, _)| t)
            .collect()
    }

    /// Every split track with its part, ascending by id.
    pub fn iter(&self) -> impl Iterator<Item = (u32, Part)> + '_ {
        self.parts.iter().map(|(&t, &p)| (t, p))
    }

    /// Number of split tracks.
    pub fn len(&self) -> usize {
        self.parts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// Writes `split.tsv` atomically.
    pub fn write(&self, path: &Path) -> Result<(), SplitError> {
        crate::io::atomic::write_atomic(path, |w| {
            writeln!(w, "{}", HEADER.join("\t"))?;
            for (track, part) in self.iter() {
                writeln!(w, "{track}\t{}", part.name())?;
            }
            Ok(())
        })
        .map_err(|source| SplitError::Write {
            path: path.to_owned(),
            source,
        })
    }

    /// Reads `split.tsv`, refusing ids at or above `track_count`, repeated ids and unknown
    /// parts, naming the line.
    pub fn read(path: &Path, track_count: usize) -> Result<Self, SplitError> {
        let text = std::fs::read_to_string(path).map_err(|source| SplitError::Read {
            path: path.to_owned(),
            source,
        })?;
        let bad = |line: usize, reason: String| SplitError::Line {
            path: path.to_owned(),
            line,
            reason,
        };
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
        match lines.next() {
            Some((_, header)) if header.split('\t').eq(HEADER) => {}
            _ => {
                return Err(bad(
                    1,
                    format!("expected the header `{}`", HEADER.join("<TAB>")),
                ))
            }
        }
        let mut parts = BTreeMap::new();
        for (line, content) in lines {
            if content.trim().is_empty() {
                continue;
            }
            let (id, word) = content
                .split_once('\t')
                .ok_or_else(|| bad(line, "expected `ID<TAB>train|valid|test`".into()))?;
            let track: u32 = id
                .trim()
                .parse()
                .map_err(|_| bad(line, format!("`{id}` is not a track id")))?;
            if track as usize >= track_count {
                return Err(bad(
                    line,
                    format!("track {track} is not in the catalog ({track_count} tracks)"),
                ));
            }
            let part = Part::parse(word.trim())
                .ok_or_else(|| bad(line, format!("`{word}` is not one of train, valid, test")))?;
            if parts.insert(track, part).is_some() {
                return Err(bad(line, format!("track {track} is listed twice")));
            }
        }
        Ok(Self { parts })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_refuses_bad_lines_naming_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("split.tsv");
        let cases = [
            ("track\tpart\n", 1, "header"),
            ("id\tsplit\n0\ttrain\n1\tholdout\n", 3, "holdout"),
            ("id\tsplit\n0\ttrain\n0\ttest\n", 3, "twice"),
            ("id\tsplit\n9\ttrain\n", 2, "not in the catalog"),
            ("id\tsplit\nx\ttrain\n", 2, "not a track id"),
        ];
        for (text, line, words) in cases {
            std::fs::write(&path, text).unwrap();
            let message = TrackSplit::read(&path, 5).unwrap_err().to_string();
            assert!(
                message.contains(&format!("split.tsv, line {line}:")) && message.contains(words),
                "{message}"
            );
        }
    }

    #[test]
    fn tiny_track_lists_are_refused_or_get_one_track_per_part() {
        assert!(matches!(
            TrackSplit::random(&[0, 1], SplitFractions::default(), 0),
            Err(SplitError::TooFewTracks { tracks: 2 })
        ));
        let split = TrackSplit::random(&[4, 5, 6], SplitFractions::default(), 0).unwrap();
        for part in Part::ALL {
            assert_eq!(split.tracks(part).len(), 1, "{part:?}");
        }
        let bad = SplitFractions {
            valid: 0.5,
            test: 0.5,
        };
        assert!(TrackSplit::random(&[0, 1, 2, 3], bad, 0).is_err());
    }
}

//! What batch stages (features, training, the baseline, prediction) report about a track they
//! left out or computed with a warning: one value, so the CLI and the app list them alike.

use serde::{Deserialize, Serialize};

/// A track a batch stage could not use (or used despite a problem), and why.
///
/// `reason` says what is wrong, naming the file where there is one, and never which command
/// to run: the CLI adds that, the app shows the reason as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("track {track}: {reason}")]
pub struct TrackIssue {
    /// The track's row (its id, the row of `tracks.tsv`).
    pub track: usize,
    pub reason: String,
}

impl TrackIssue {
    pub fn new(track: usize, reason: impl Into<String>) -> Self {
        Self {
            track,
            reason: reason.into(),
        }
    }
}

//! The experiment report (`deepcuts report`): the seed's three findings measured on one
//! project, each beside the goal it is held to. The cold-start table with the share of the
//! baseline → upper-bound gap the convnet closes (the paper closes 40% of the AUC gap); the
//! share of conv1 filters that are low-level (their top-k max-activation playlist ≥ 80% one
//! trait, 30 points above its share in the collection, while spanning ≥ 3 styles: "the genres
//! of the tracks in these playlists are quite varied"); the share of fc2 units that are
//! style-selective (top-k playlist ≥ 80% one style: "very selective for certain subgenres").

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use super::describe::{describe, Background, Description, Selectivity};
use super::names::Names;
use super::playlists::{filter_playlists, unit_playlists, Activations};
use super::results::{AnalysisError, Candidates, FilterStat, ProjectResults};
use crate::cf::metrics::{EvalTable, Metrics};
use crate::project::layout;

/// What the findings are held to (the demo world's goals; the paper's own figures are lower:
/// it closes 40% of the AUC gap on real music).
pub mod goals {
    /// Share of the baseline → upper-bound AUC gap the convnet closes.
    pub const AUC_GAP: f64 = 0.5;
    /// Share of the mAP@500 gap.
    pub const MAP_GAP: f64 = 0.3;
    /// Share of conv1 filters that are low-level.
    pub const LOW_LEVEL_FILTERS: f64 = 0.25;
    /// Share of fc2 units that are style-selective.
    pub const STYLE_UNITS: f64 = 0.5;
}

/// The rows of the cold-start table, worst to best as they should rank.
pub const METHODS: [&str; 4] = ["random", "baseline", "convnet", "upper_bound"];

/// The share of the baseline → upper-bound gap the convnet closes, per metric (1 = all of it;
/// negative when the convnet is below the baseline).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GapClosed {
    pub auc: f64,
    pub map: f64,
}

/// One finding against its goal; `met` is `None` when it could not be measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub goal: String,
    pub value: String,
    pub met: Option<bool>,
}

/// The report of one project.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentReport {
    /// Tracks per playlist.
    pub k: usize,
    pub from: Candidates,
    /// Tracks the playlists were drawn from.
    pub collection: usize,
    /// `eval/coldstart.json`, once `deepcuts eval` ran.
    pub coldstart: Option<EvalTable>,
    /// Over the conv1 filters' max-activation playlists.
    pub filters: Selectivity,
    /// Over the fc2 units' playlists.
    pub units: Selectivity,
}

impl ExperimentReport {
    /// `None` without a complete cold-start table or when the baseline reaches the upper bound.
    pub fn gap_closed(&self) -> Option<GapClosed> {
        let table = self.coldstart.as_ref()?;
        let (b, c, u) = (
            table.get("baseline")?,
            table.get("convnet")?,
            table.get("upper_bound")?,
        );
        let closed = |metric: fn(&Metrics) -> f64| share_closed(metric(b), metric(c), metric(u));
        Some(GapClosed {
            auc: closed(|m| m.auc)?,
            map: closed(|m| m.map)?,
        })
    }

    /// Whether random < baseline < convnet < upper bound on both AUC and mAP@500.
    pub fn ordered(&self) -> Option<bool> {
        let table = self.coldstart.as_ref()?;
        let rows: Option<Vec<&Metrics>> = METHODS.iter().map(|m| table.get(*m)).collect();
        let rows = rows?;
        let increasing = |metric: fn(&Metrics) -> f64| {
            rows.windows(2)
                .all(|pair| metric(pair[0]) < metric(pair[1]))
        };
        Some(increasing(|m| m.auc) && increasing(|m| m.map))
    }

    /// Every finding against its goal, in the order the report prints them.
    pub fn checks(&self) -> Vec<Check> {
        let gap = self.gap_closed();
        let ordered = self.ordered();
        let at_least = |value: Option<f64>, goal: f64| value.map(|v| v >= goal);
        let percent = |value: Option<f64>| value.map_or("not measured".into(), pct);
        let share = |part: usize, of: usize| (of > 0).then(|| part as f64 / of as f64);
        let low_level = share(self.filters.low_level, self.filters.playlists);
        let style_units = share(self.units.one_style, self.units.playlists);
        vec![
            Check {
                goal: "random < baseline < convnet < upper bound (AUC and mAP@500)".into(),
                value: match ordered {
                    Some(true) => "yes".into(),
                    Some(false) => "no".into(),
                    None => "not measured".into(),
                },
                met: ordered,
            },
            Check {
                goal: format!(
                    "the convnet closes ≥ {} of the baseline → upper-bound AUC gap",
                    pct(goals::AUC_GAP)
                ),
                value: percent(gap.map(|g| g.auc)),
                met: at_least(gap.map(|g| g.auc), goals::AUC_GAP),
            },
            Check {
                goal: format!("… and ≥ {} of the mAP@500 gap", pct(goals::MAP_GAP)),
                value: percent(gap.map(|g| g.map)),
                met: at_least(gap.map(|g| g.map), goals::MAP_GAP),
            },
            Check {
                goal: format!(
                    "≥ {} of conv1 filters low-level (top-{} max playlist ≥ {} one trait, {:.0} points above chance, ≥ {} styles)",
                    pct(goals::LOW_LEVEL_FILTERS),
                    self.k,
                    pct(Selectivity::SHARE),
                    Selectivity::LOW_LEVEL_ABOVE_CHANCE * 100.0,
                    Selectivity::LOW_LEVEL_STYLES
                ),
                value: format!(
                    "{} of {} ({})",
                    self.filters.low_level,
                    self.filters.playlists,
                    percent(low_level)
                ),
                met: at_least(low_level, goals::LOW_LEVEL_FILTERS),
            },
            Check {
                goal: format!(
                    "≥ {} of fc2 units style-selective (top-{} playlist ≥ {} one style)",
                    pct(goals::STYLE_UNITS),
                    self.k,
                    pct(Selectivity::SHARE)
                ),
                value: format!(
                    "{} of {} ({})",
                    self.units.one_style,
                    self.units.playlists,
                    percent(style_units)
                ),
                met: at_least(style_units, goals::STYLE_UNITS),
            },
        ]
    }

    /// `eval/report.json`.
    pub fn json(&self) -> serde_json::Value {
        let counts = |s: &Selectivity| {
            serde_json::json!({
                "playlists": s.playlists,
                "one_style_or_trait": s.one_style_or_trait,
                "one_style": s.one_style,
                "low_level": s.low_level,
            })
        };
        serde_json::json!({
            "k": self.k,
            "from": self.from.name(),
            "tracks": self.collection,
            "coldstart": self.coldstart,
            "gap_closed": self.gap_closed().map(|g| serde_json::json!({"auc": g.auc, "map500": g.map})),
            "filters": counts(&self.filters),
            "units": counts(&self.units),
            "goals": self.checks().iter().map(|c| serde_json::json!({
                "goal": c.goal,
                "value": c.value,
                "met": c.met,
            })).collect::<Vec<_>>(),
        })
    }
}

/// The share of the gap from `baseline` to `upper_bound` that `convnet` closes (1 = all of it,
/// negative below the baseline); `None` when there is no gap.
pub fn share_closed(baseline: f64, convnet: f64, upper_bound: f64) -> Option<f64> {
    let gap = upper_bound - baseline;
    (gap > 0.0).then(|| (convnet - baseline) / gap)
}

fn pct(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

/// Measures the report of the project in `dir` from its predictions (`deepcuts predict`) and,
/// when present, its cold-start table (`deepcuts eval`); top-`k` playlists drawn from `from`.
pub fn experiment_report(
    dir: &Path,
    k: usize,
    from: Candidates,
    cancel: &AtomicBool,
) -> Result<ExperimentReport, AnalysisError> {
    let coldstart = read_coldstart(&dir.join(layout::EVAL_COLDSTART))?;
    let results = ProjectResults::open_dir(dir)?;
    let activations = Activations::load(&results)?;
    let names = Names::load(dir)?;
    let candidates = results.candidates(from)?;
    let background = Background::new(&results, &candidates);
    let describe_all = |lists: Vec<super::playlists::Playlist>| -> Vec<Description> {
        lists
            .iter()
            .map(|list| describe(&results, list, &background, &names))
            .collect()
    };
    let filters = describe_all(filter_playlists(
        &results,
        &activations,
        FilterStat::Max,
        from,
        k,
    )?);
    if cancel.load(Ordering::Relaxed) {
        return Err(AnalysisError::Cancelled);
    }
    let units = describe_all(unit_playlists(&results, &activations, from, k)?);
    Ok(ExperimentReport {
        k,
        from,
        collection: candidates.len(),
        coldstart,
        filters: Selectivity::count(&filters),
        units: Selectivity::count(&units),
    })
}

/// The cold-start table, `None` when `deepcuts eval` has not run.
fn read_coldstart(path: &Path) -> Result<Option<EvalTable>, AnalysisError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => {
            return Err(AnalysisError::Invalid {
                path: path.to_owned(),
                reason: error.to_string(),
            })
        }
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|error| AnalysisError::Invalid {
            path: path.to_owned(),
            reason: format!("not a cold-start table: {error}"),
        })
}

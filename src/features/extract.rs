//! Computing the log-mel excerpt of every pending track into a [`FeatureStore`]: in parallel,
//! resumable (rows already journaled are skipped), cancellable, bad tracks skipped and reported,
//! and tracks that decoded with a warning journaled and reported with it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use rayon::prelude::*;

use super::store::{FeatureStore, RowStatus, StoreError};
use crate::audio::Decoded;
use crate::dsp::mel::MelSpectrogram;
use crate::track_issue::TrackIssue;

/// What a run did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ExtractReport {
    /// Rows computed in this run.
    pub computed: usize,
    /// Rows that were already done.
    pub already_done: usize,
    /// Rows that failed in this run, with the reason (the file and what is wrong).
    pub failed: Vec<TrackIssue>,
    /// Rows computed in this run whose audio decoded with a problem (truncated, packets
    /// skipped, length unknown), with the decoder's warnings: their excerpt may not be the
    /// true middle.
    pub warned: Vec<TrackIssue>,
    /// Whether the run stopped early because it was cancelled.
    pub cancelled: bool,
}

/// Options of a run.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExtractOptions {
    /// Try rows that failed before again (after the user fixed a file).
    pub retry_failed: bool,
    /// Worker threads; `None` uses all cores.
    pub threads: Option<usize>,
    /// Compute only this many of the pending rows, spread evenly over them (every k-th), so
    /// that a first pass covers the whole collection; `None`: all of them.
    pub sample: Option<usize>,
}

/// Computes every pending row among `rows` (full-array rows the store holds). `load(row)`
/// returns the row's 30-s excerpt at 22050 Hz with the decoder's warnings, or why it cannot;
/// it runs on worker threads. `progress(finished, total)` is called from the calling thread after each row.
/// Stops between rows when `cancel` is set; what was written stays written.
pub fn extract<L, E>(
    store: &mut FeatureStore,
    rows: &[usize],
    load: L,
    options: ExtractOptions,
    progress: &mut dyn FnMut(usize, usize),
    cancel: &AtomicBool,
) -> Result<ExtractReport, StoreError>
where
    L: Fn(usize) -> Result<Decoded, E> + Sync,
    E: std::fmt::Display,
{
    let mut report = ExtractReport::default();
    let pending: Vec<usize> = rows
        .iter()
        .copied()
        .filter(|&row| match store.status(row) {
            RowStatus::Done => {
                report.already_done += 1;
                false
            }
            RowStatus::Failed(_) => options.retry_failed,
            RowStatus::Pending => true,
        })
        .collect();
    let pending = match options.sample {
        Some(n) if n < pending.len() => spread(&pending, n),
        _ => pending,
    };
    let total = pending.len();
    progress(0, total);
    if total == 0 {
        return Ok(report);
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads.unwrap_or(0))
        .build()
        .map_err(|e| StoreError::Io {
            path: "thread pool".into(),
            source: std::io::Error::other(e),
        })?;
    // Workers compute; this thread writes rows and the journal, in completion order. The
    // channel is bounded so finished spectrograms never pile up in memory.
    // Each result: the spectrogram and the decoder's warnings joined, or why there is none.
    type Computed = Result<(Vec<f32>, Option<String>), String>;
    let (sender, receiver) = mpsc::sync_channel::<(usize, Computed)>(16);
    let mel = MelSpectrogram::new();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            pool.install(|| {
                pending
                    .par_iter()
                    .for_each_with((sender, mel.clone()), |(sender, mel), &row| {
                        if cancel.load(Ordering::Relaxed) {
                            return;
                        }
                        let result = match load(row) {
                            Ok(decoded) => {
                                let values = mel.compute(&decoded.samples);
                                let warning = (!decoded.warnings.is_empty())
                                    .then(|| decoded.warnings.join("; "));
                                Ok((values.into_raw_vec_and_offset().0, warning))
                            }
                            Err(error) => Err(error.to_string()),
                        };
                        // The receiver only goes away on an error, when results are moot.
                        let _ = sender.send((row, result));
                    })
            });
        });
        let mut finished = 0;
        for (row, result) in receiver {
            match result {
                Ok((values, warning)) => {
                    store.write_row_warned(row, &values, warning.as_deref())?;
                    report.computed += 1;
                    if let Some(warning) = warning {
                        report.warned.push(TrackIssue::new(row, warning));
                    }
                }
                Err(reason) => {
                    store.fail_row(row, &reason)?;
                    report.failed.push(TrackIssue::new(row, reason));
                }
            }
            finished += 1;
            progress(finished, total);
        }
        Ok::<_, StoreError>(())
    })?;
    report.cancelled =
        cancel.load(Ordering::Relaxed) && report.computed + report.failed.len() < total;
    Ok(report)
}

/// `n` of `rows` (n < rows.len()) at even steps from the first: row `⌊i·len/n⌋` for i < n.
fn spread(rows: &[usize], n: usize) -> Vec<usize> {
    (0..n).map(|i| rows[i * rows.len() / n]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::{ANALYSIS_RATE_HZ, EXCERPT_SAMPLES};
    use crate::features::store::{Shard, ROW_VALUES};

    fn tone(row: usize) -> Vec<f32> {
        let hz = 200.0 + 100.0 * row as f32;
        (0..EXCERPT_SAMPLES)
            .map(|i| (std::f32::consts::TAU * hz * i as f32 / 22050.0).sin())
            .collect()
    }

    fn decoded(samples: Vec<f32>, warnings: &[&str]) -> Decoded {
        Decoded {
            samples,
            source_rate_hz: ANALYSIS_RATE_HZ,
            warnings: warnings.iter().map(|w| w.to_string()).collect(),
        }
    }

    #[test]
    fn computes_pending_rows_skips_bad_ones_and_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = FeatureStore::open(dir.path(), 6, Shard::ALL).unwrap();
        let load = |row: usize| match row {
            3 => Err("three.mp3: not a recognised audio format"),
            2 => Ok(decoded(
                tone(row),
                &["two.ogg: stream ends early", "and more"],
            )),
            _ => Ok(decoded(tone(row), &[])),
        };
        let cancel = AtomicBool::new(false);
        let rows: Vec<usize> = (0..4).collect();
        let report = extract(
            &mut store,
            &rows,
            load,
            ExtractOptions::default(),
            &mut |_, _| {},
            &cancel,
        )
        .unwrap();
        assert_eq!(report.computed, 3);
        assert_eq!(
            report.failed,
            [TrackIssue::new(
                3,
                "three.mp3: not a recognised audio format"
            )]
        );
        // A warned row is done, and its warnings are reported and journaled.
        let warned = [TrackIssue::new(2, "two.ogg: stream ends early; and more")];
        assert_eq!(report.warned, warned);
        assert_eq!(store.status(2), RowStatus::Done);
        assert_eq!(store.warnings(), warned);
        // The stored row is the spectrogram of that track, to float16 precision.
        let mut stored = vec![0.0; ROW_VALUES];
        store.read_row(1, &mut stored).unwrap();
        let direct = MelSpectrogram::new().compute(&tone(1));
        for (a, b) in stored.iter().zip(direct.iter()) {
            assert!((a - b).abs() <= b.abs() * 1e-3 + 1e-3, "{a} vs {b}");
        }
        // A second run over all rows only computes the new ones; the failure is remembered.
        drop(store);
        let mut store = FeatureStore::open(dir.path(), 6, Shard::ALL).unwrap();
        let rows: Vec<usize> = (0..6).collect();
        let mut calls = Vec::new();
        let report = extract(
            &mut store,
            &rows,
            load,
            ExtractOptions::default(),
            &mut |done, total| calls.push((done, total)),
            &cancel,
        )
        .unwrap();
        assert_eq!(
            (report.computed, report.already_done, report.failed.len()),
            (2, 3, 0)
        );
        assert_eq!(calls.last(), Some(&(2, 2)));
        assert_eq!(store.counts(), (5, 1, 0));
    }

    #[test]
    fn a_cancelled_run_writes_nothing_more() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = FeatureStore::open(dir.path(), 4, Shard::ALL).unwrap();
        let cancel = AtomicBool::new(true);
        let rows: Vec<usize> = (0..4).collect();
        let report = extract(
            &mut store,
            &rows,
            |r| Ok::<_, String>(decoded(tone(r), &[])),
            ExtractOptions::default(),
            &mut |_, _| {},
            &cancel,
        )
        .unwrap();
        assert!(report.cancelled);
        assert_eq!(store.counts(), (0, 0, 4));
    }

    #[test]
    fn a_sample_computes_rows_spread_over_the_pending_ones_and_the_rest_later() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = FeatureStore::open(dir.path(), 10, Shard::ALL).unwrap();
        let cancel = AtomicBool::new(false);
        let load = |r| Ok::<_, String>(decoded(tone(r), &[]));
        let rows: Vec<usize> = (0..10).collect();
        let sample = ExtractOptions {
            sample: Some(4),
            ..ExtractOptions::default()
        };
        let report = extract(&mut store, &rows, load, sample, &mut |_, _| {}, &cancel).unwrap();
        assert_eq!(report.computed, 4);
        // Every 2.5th row from the first: 0, 2, 5, 7.
        let done: Vec<usize> = (0..10)
            .filter(|&r| store.status(r) == RowStatus::Done)
            .collect();
        assert_eq!(done, [0, 2, 5, 7]);
        // A sample as large as what is left computes all of it.
        let rest = ExtractOptions {
            sample: Some(6),
            ..ExtractOptions::default()
        };
        let report = extract(&mut store, &rows, load, rest, &mut |_, _| {}, &cancel).unwrap();
        assert_eq!((report.computed, report.already_done), (6, 4));
        assert_eq!(store.counts(), (10, 0, 0));
    }
}

//! Reading many excerpts in parallel and turning each into something small (sampled frames,
//! a feature vector), skipping bad tracks with the reason, reporting progress, cancellable.

use std::sync::atomic::{AtomicBool, Ordering};

use ndarray::ArrayView2;
use rayon::prelude::*;

use super::{BaselineError, ExcerptSource};
use crate::dsp::mel::{EXCERPT_FRAMES, N_MELS};

/// Tracks read between two progress reports and cancel checks.
const CHUNK_TRACKS: usize = 64;

/// Reads each track of `tracks` from `source` on the rayon pool and applies `map` to its
/// excerpt (`[EXCERPT_FRAMES, N_MELS]`). Returns one entry per track, in order: the value, or
/// why the track was skipped (the source's reason, a non-finite value, or `map`'s error).
/// `progress(done, total)` runs on the calling thread; `Err(Cancelled)` once `cancel` is set.
pub fn map_excerpts<T, F>(
    source: &dyn ExcerptSource,
    tracks: &[usize],
    map: F,
    progress: &mut dyn FnMut(usize, usize),
    cancel: &AtomicBool,
) -> Result<Vec<Result<T, String>>, BaselineError>
where
    T: Send,
    F: Fn(usize, ArrayView2<f32>) -> Result<T, BaselineError> + Sync,
{
    let mut results = Vec::with_capacity(tracks.len());
    progress(0, tracks.len());
    for chunk in tracks.chunks(CHUNK_TRACKS) {
        if cancel.load(Ordering::Relaxed) {
            return Err(BaselineError::Cancelled);
        }
        let mapped: Vec<Result<T, String>> = chunk
            .par_iter()
            .map_init(
                || vec![0f32; EXCERPT_FRAMES * N_MELS],
                |buffer, &track| {
                    source
                        .read_excerpt(track, buffer)
                        .and_then(|()| check_finite(buffer))
                        .and_then(|()| {
                            let excerpt = ArrayView2::from_shape((EXCERPT_FRAMES, N_MELS), buffer)
                                .expect("the buffer holds exactly one excerpt");
                            map(track, excerpt).map_err(|e| e.to_string())
                        })
                        .map_err(|reason| format!("track {track}: {reason}"))
                },
            )
            .collect();
        results.extend(mapped);
        progress(results.len(), tracks.len());
    }
    Ok(results)
}

/// Names the first NaN or infinite value of an excerpt.
fn check_finite(excerpt: &[f32]) -> Result<(), String> {
    match excerpt.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => Err(format!(
            "log-mel value at frame {}, band {} is not finite ({})",
            i / N_MELS,
            i % N_MELS,
            excerpt[i]
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_reports_bad_tracks() {
        let source = |track: usize, out: &mut [f32]| match track {
            3 => Err("t3.ogg: truncated".to_string()),
            _ => {
                out.fill(track as f32);
                if track == 5 {
                    out[2 * N_MELS + 7] = f32::NAN;
                }
                Ok(())
            }
        };
        let tracks: Vec<usize> = (0..100).rev().collect();
        let cancel = AtomicBool::new(false);
        let mut calls = Vec::new();
        let results = map_excerpts(
            &source,
            &tracks,
            |_, excerpt| Ok(excerpt[[10, 3]]),
            &mut |done, total| calls.push((done, total)),
            &cancel,
        )
        .unwrap();
        assert_eq!(results.len(), 100);
        for (&track, result) in tracks.iter().zip(&results) {
            match track {
                3 => assert_eq!(result.as_ref().unwrap_err(), "track 3: t3.ogg: truncated"),
                5 => assert!(result.as_ref().unwrap_err().contains("frame 2, band 7")),
                _ => assert_eq!(*result.as_ref().unwrap(), track as f32),
            }
        }
        assert_eq!(calls.first(), Some(&(0, 100)));
        assert_eq!(calls.last(), Some(&(100, 100)));
        let cancel = AtomicBool::new(true);
        let cancelled = map_excerpts(&source, &tracks, |_, _| Ok(()), &mut |_, _| {}, &cancel);
        assert!(matches!(cancelled, Err(BaselineError::Cancelled)));
    }
}

//! What the spectrogram view shows, computed on background threads by library calls: the
//! stored log-mel excerpt (or the whole track's, computed as `deepcuts mel --full` does) and
//! conv1's activations over the excerpt (the CPU inference path `predict` uses).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use ndarray::{Array2, ArrayView2, Axis};

use crate::audio::ANALYSIS_RATE_HZ;
use crate::convnet::config::{CENTRE_CROP_OFFSET, EXCERPT_FRAMES};
use crate::convnet::{InferDevice, InferEngine, InferOptions};
use crate::dsp::mel::{MelSpectrogram, HOP_LENGTH, N_MELS};
use crate::features::{self, RowStatus, Shard};
use crate::project::audio_source::TrackAudio;
use crate::project::Project;

/// Seconds between log-mel frames.
pub const HOP_SECS: f64 = HOP_LENGTH as f64 / ANALYSIS_RATE_HZ as f64;

/// A log-mel spectrogram placed on the track's time line.
pub struct MelImage {
    /// dB, time-major: [frames, 128].
    pub values: Array2<f32>,
    /// Track time of frame 0 (frames are centred: frame t is at `start_secs + t · hop`).
    pub start_secs: f64,
    /// The dB range the colours span.
    pub min_db: f32,
    pub max_db: f32,
}

impl MelImage {
    fn new(values: Array2<f32>, start_secs: f64) -> Self {
        let max_db = values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        // 80 dB below the peak, as librosa's displays do: quieter detail is noise.
        let min_db = values
            .iter()
            .copied()
            .fold(f32::INFINITY, f32::min)
            .max(max_db - 80.0);
        Self {
            values,
            start_secs,
            min_db,
            max_db: max_db.max(min_db + 1.0),
        }
    }

    pub fn frames(&self) -> usize {
        self.values.nrows()
    }

    pub fn duration_secs(&self) -> f64 {
        self.frames() as f64 * HOP_SECS
    }
}

/// The stored excerpt of track `row` (the features stage's output).
pub fn stored_excerpt(dir: &Path, row: usize, excerpt_start_secs: f64) -> Result<MelImage, String> {
    let project = Project::open(dir).map_err(|e| e.to_string())?;
    let store = features::open_store(&project, Shard::ALL).map_err(|e| e.to_string())?;
    match store.status(row) {
        RowStatus::Done => {}
        RowStatus::Pending => {
            return Err(
                "no features yet: run the features stage (Jobs), or show the whole track".into(),
            )
        }
        RowStatus::Failed(reason) => return Err(format!("feature extraction failed: {reason}")),
    }
    let mut values = Array2::<f32>::zeros((EXCERPT_FRAMES, N_MELS));
    let out = values
        .as_slice_mut()
        .ok_or("the spectrogram buffer is not contiguous")?;
    store.read_row(row, out).map_err(|e| e.to_string())?;
    Ok(MelImage::new(values, excerpt_start_secs))
}

/// The whole track's log-mel, decoded (or synthesized) and computed now.
pub fn whole_track(audio: &TrackAudio, row: usize) -> Result<MelImage, String> {
    let samples = audio.whole(row).map_err(|e| e.to_string())?;
    Ok(MelImage::new(MelSpectrogram::new().compute(&samples), 0.0))
}

/// conv1 after ReLU over a track's excerpt, on the network's centre crop.
pub struct Activations {
    /// [filters, conv1 frames].
    pub conv1: Array2<f32>,
    /// Track time of conv1 frame 0's centre; frame t covers crop frames `t … t + 3`.
    pub start_secs: f64,
}

impl Activations {
    /// Track time of conv1 frame `t`.
    pub fn time_secs(&self, t: usize) -> f64 {
        self.start_secs + t as f64 * HOP_SECS
    }
}

/// A loaded network and the weights file (path, modification time) it came from.
struct LoadedNet {
    path: PathBuf,
    modified: Option<SystemTime>,
    net: Arc<InferEngine>,
}

/// The network, loaded once per weights file (and reloaded when the file changes).
#[derive(Default, Clone)]
pub struct NetCache {
    inner: Arc<Mutex<Option<LoadedNet>>>,
}

impl NetCache {
    fn get(&self, path: &Path) -> Result<Arc<InferEngine>, String> {
        let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        let mut cached = self
            .inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(loaded) = cached.as_ref() {
            if loaded.path == path && loaded.modified == modified {
                return Ok(Arc::clone(&loaded.net));
            }
        }
        // One thread: the view asks for one track at a time, and the jobs need the cores.
        let net = Arc::new(
            crate::predict::load_net(path, &InferDevice::Cpu, 1).map_err(|e| e.to_string())?,
        );
        *cached = Some(LoadedNet {
            path: path.to_owned(),
            modified,
            net: Arc::clone(&net),
        });
        Ok(net)
    }
}

/// conv1's activations of `mel` (a stored excerpt) under the network in `weights`.
pub fn activations(
    cache: &NetCache,
    weights: &Path,
    mel: ArrayView2<'_, f32>,
    excerpt_start_secs: f64,
) -> Result<Activations, String> {
    let net = cache.get(weights)?;
    let outputs = net
        .run_excerpts(
            &[mel],
            InferOptions {
                conv1: true,
                conv1_stats: false,
            },
        )
        .map_err(|e| e.to_string())?;
    let conv1 = outputs
        .conv1
        .ok_or("the network returned no conv1 activations")?
        .index_axis_move(Axis(0), 0);
    // conv1 frame t spans crop frames t … t + 3, i.e. excerpt frames 23 + t … 26 + t: its
    // centre is 1.5 frames after its first.
    let start_secs = excerpt_start_secs + (CENTRE_CROP_OFFSET as f64 + 1.5) * HOP_SECS;
    Ok(Activations { conv1, start_secs })
}

//! The cold-start CF factors of the NIPS 2013 protocol: WMF fitted on every listen except
//! those of the test tracks (their users keep their other listens). Its item factors for the
//! training and validation tracks are what the convnet and the baseline learn to predict; its
//! user factors score every method of the evaluation.
//!
//! Saved in the project, so that `eval` reuses what `train` computed:
//! `cf/coldstart/item_factors.npy` [tracks × F] (test tracks and tracks without listens have
//! zero rows), `cf/coldstart/user_factors.npy` [users × F] (users in the catalog's order), and,
//! written last, `cf/coldstart/meta.json` with a fingerprint of the training listens and the
//! WMF settings: a changed split or new plays make the saved factors stale.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use super::split::{Part, TrackSplit};
use super::ColdstartError;
use crate::cf::eval::Split;
use crate::cf::sparse::{PlayCounts, SparseError};
use crate::cf::wmf::{self, Factors, IterationReport, WmfConfig};
use crate::io::npy;
use crate::project::{layout, Layout};

/// Splits the listens by track: `train` holds every listen of a track outside the test part,
/// `heldout` every listen of a test track. Both keep the full users × tracks shape.
pub fn hold_out_test_listens(
    counts: &PlayCounts,
    split: &TrackSplit,
) -> Result<Split, SparseError> {
    let mut train = Vec::with_capacity(counts.nnz());
    let mut heldout = Vec::new();
    for (user, track, count) in counts.by_user().triplets() {
        if split.part(track) == Some(Part::Test) {
            heldout.push((user, track, count));
        } else {
            train.push((user, track, count));
        }
    }
    let (users, tracks) = (counts.users(), counts.items());
    Ok(Split {
        train: PlayCounts::from_triplets(users, tracks, train)?,
        heldout: PlayCounts::from_triplets(users, tracks, heldout)?,
    })
}

/// What the saved factors were computed from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Meta {
    /// Of the training listens and the settings that decide the result.
    fingerprint: String,
    users: usize,
    tracks: usize,
    train_listens: usize,
    wmf: WmfConfig,
}

/// A fingerprint of `train` and the settings of `config` that decide the factors (not the
/// thread count, which does not change them): FNV-1a over their bytes, 16 hex digits.
pub fn fingerprint(train: &PlayCounts, config: &WmfConfig) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for n in [
        train.users(),
        train.items(),
        config.factors,
        config.iterations,
    ] {
        eat(&(n as u64).to_le_bytes());
    }
    eat(&(config.cg_steps as u64).to_le_bytes());
    eat(&config.seed.to_le_bytes());
    for v in [config.alpha, config.epsilon, config.lambda] {
        eat(&v.to_bits().to_le_bytes());
    }
    for (user, item, count) in train.by_user().triplets() {
        eat(&user.to_le_bytes());
        eat(&item.to_le_bytes());
        eat(&count.to_bits().to_le_bytes());
    }
    format!("{hash:016x}")
}

/// The saved factors when they were computed from exactly `train` and `config`; `None` when
/// missing or stale.
pub fn load_fresh(
    layout: &Layout,
    train: &PlayCounts,
    config: &WmfConfig,
) -> Result<Option<Factors>, ColdstartError> {
    let meta_path = layout.path(layout::COLDSTART_META);
    let Ok(text) = std::fs::read_to_string(&meta_path) else {
        return Ok(None);
    };
    let Ok(meta) = serde_json::from_str::<Meta>(&text) else {
        return Ok(None);
    };
    if meta.fingerprint != fingerprint(train, config) {
        return Ok(None);
    }
    let read = |relative: &str, rows: usize| -> Result<Array2<f32>, ColdstartError> {
        let path = layout.path(relative);
        let array = npy::read_finite_f32(&path)?;
        npy::check_shape(&path, array.shape(), &[Some(rows), Some(config.factors)])?;
        Ok(array)
    };
    Ok(Some(Factors {
        users: read(layout::COLDSTART_USER_FACTORS, train.users())?,
        items: read(layout::COLDSTART_ITEM_FACTORS, train.items())?,
    }))
}

/// The cold-start factors of `train`: the saved ones when fresh, else fitted with `config`
/// (reporting each iteration) and saved. Returns them and whether they were fitted now.
pub fn load_or_fit(
    layout: &Layout,
    train: &PlayCounts,
    config: &WmfConfig,
    progress: &mut dyn FnMut(&IterationReport),
    cancel: &AtomicBool,
) -> Result<(Factors, bool), ColdstartError> {
    if let Some(factors) = load_fresh(layout, train, config)? {
        return Ok((factors, false));
    }
    if train.nnz() == 0 {
        return Err(ColdstartError::NoListens);
    }
    let factors = wmf::fit(train, config, progress, cancel).map_err(|e| match e {
        wmf::WmfError::Cancelled => ColdstartError::Cancelled,
        other => other.into(),
    })?;
    save(layout, train, config, &factors)?;
    Ok((factors, true))
}

/// Writes the factors, then the meta file that makes them valid.
fn save(
    layout: &Layout,
    train: &PlayCounts,
    config: &WmfConfig,
    factors: &Factors,
) -> Result<(), ColdstartError> {
    npy::write(&layout.path(layout::COLDSTART_ITEM_FACTORS), &factors.items)?;
    npy::write(&layout.path(layout::COLDSTART_USER_FACTORS), &factors.users)?;
    let meta = Meta {
        fingerprint: fingerprint(train, config),
        users: train.users(),
        tracks: train.items(),
        train_listens: train.nnz(),
        wmf: config.clone(),
    };
    let json = serde_json::to_vec_pretty(&meta).expect("the meta record is plain data");
    write_file(&layout.path(layout::COLDSTART_META), &json)
}

pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ColdstartError> {
    crate::io::atomic::write_bytes_atomic(path, bytes).map_err(|source| ColdstartError::Write {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_follows_listens_and_settings_but_not_threads() {
        let a = PlayCounts::from_triplets(2, 3, [(0, 1, 2.0), (1, 2, 1.0)]).unwrap();
        let b = PlayCounts::from_triplets(2, 3, [(0, 1, 2.0), (1, 2, 3.0)]).unwrap();
        let config = WmfConfig::default();
        let threads = WmfConfig {
            threads: 7,
            ..WmfConfig::default()
        };
        let lambda = WmfConfig {
            lambda: 0.1,
            ..WmfConfig::default()
        };
        assert_eq!(fingerprint(&a, &config), fingerprint(&a, &threads));
        assert_ne!(fingerprint(&a, &config), fingerprint(&b, &config));
        assert_ne!(fingerprint(&a, &config), fingerprint(&a, &lambda));
        assert_eq!(fingerprint(&a, &config).len(), 16);
    }
}

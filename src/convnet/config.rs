//! The network's shape as data: filter counts, pool sizes, dense widths and the number of
//! factors. Stored as JSON in the weights file (metadata key `config`) so a weights file is
//! self-describing, and loadable from TOML or JSON files so sizes are configuration, not code.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Frames of a stored log-mel excerpt (30 s at hop 1024, 22050 Hz).
pub const EXCERPT_FRAMES: usize = 646;
/// Frames the network sees: a crop of the excerpt.
pub const CROP_FRAMES: usize = 599;
/// Offset of the inference crop (centred); training draws offsets in `0..=MAX_CROP_OFFSET`.
pub const CENTRE_CROP_OFFSET: usize = 23;
/// Largest crop offset: `EXCERPT_FRAMES - CROP_FRAMES`.
pub const MAX_CROP_OFFSET: usize = EXCERPT_FRAMES - CROP_FRAMES;
/// Temporal kernel width of every convolution.
pub const KERNEL_FRAMES: usize = 4;
/// Number of convolution layers.
pub const CONV_LAYERS: usize = 4;
/// Global temporal pooling statistics per channel: mean, max, L2.
pub const GLOBAL_POOL_STATS: usize = 3;

/// Sizes of a convnet (DESIGN.md). Unknown keys in a file are accepted and ignored, so files
/// written by later versions (with more keys) still load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvnetConfig {
    /// Mel bins of the input (input channels of conv1).
    pub n_mels: usize,
    /// Output channels of conv1..conv4.
    pub filters: [usize; CONV_LAYERS],
    /// Max-pool widths after conv1..conv3 (conv4 is followed by global pooling).
    pub pools: [usize; CONV_LAYERS - 1],
    /// Widths of the dense ReLU layers fc1, fc2, ...
    pub dense: Vec<usize>,
    /// Number of predicted CF factors.
    pub factors: usize,
}

/// Why a configuration cannot be used; names the file when there is one.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a valid convnet config: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{origin}: invalid convnet config: {message}")]
    Invalid { origin: String, message: String },
    #[error("unknown convnet preset {0:?} (known: paper, small)")]
    UnknownPreset(String),
}

impl ConvnetConfig {
    /// The seed's architecture: 256/256/512/512 filters, two dense layers of 2048.
    pub fn paper() -> Self {
        Self {
            n_mels: 128,
            filters: [256, 256, 512, 512],
            pools: [4, 2, 2],
            dense: vec![2048, 2048],
            factors: 40,
        }
    }

    /// The same structure, narrow enough to train on a CPU (demo world).
    pub fn small() -> Self {
        Self {
            n_mels: 128,
            filters: [64, 64, 128, 128],
            pools: [4, 2, 2],
            dense: vec![256, 256],
            factors: 40,
        }
    }

    /// A preset by name: `paper` or `small`.
    pub fn preset(name: &str) -> Result<Self, ConfigError> {
        match name {
            "paper" => Ok(Self::paper()),
            "small" => Ok(Self::small()),
            other => Err(ConfigError::UnknownPreset(other.to_owned())),
        }
    }

    /// Reads a config file: JSON when the name ends in `.json`, TOML otherwise.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let is_json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        let parsed: Result<Self, String> = if is_json {
            serde_json::from_str(&text).map_err(|e| e.to_string())
        } else {
            toml::from_str(&text).map_err(|e| e.to_string())
        };
        let config = parsed.map_err(|message| ConfigError::Parse {
            path: path.to_owned(),
            message,
        })?;
        config.validate(&path.display().to_string())?;
        Ok(config)
    }

    /// Parses the JSON stored in a weights file's metadata; `origin` names that file in errors.
    pub fn from_json(json: &str, origin: &str) -> Result<Self, ConfigError> {
        let config: Self = serde_json::from_str(json).map_err(|e| ConfigError::Parse {
            path: PathBuf::from(origin),
            message: e.to_string(),
        })?;
        config.validate(origin)?;
        Ok(config)
    }

    /// The JSON written to a weights file's metadata.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a struct of integers always serialises to JSON")
    }

    /// Checks that every size is positive and that the 599-frame crop survives all layers.
    pub fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            origin: origin.to_owned(),
            message,
        };
        if self.n_mels == 0 || self.factors == 0 {
            return Err(invalid("n_mels and factors must be positive".into()));
        }
        if self.filters.contains(&0) || self.pools.contains(&0) {
            return Err(invalid("filters and pools must be positive".into()));
        }
        if self.dense.is_empty() || self.dense.contains(&0) {
            return Err(invalid("dense needs at least one positive width".into()));
        }
        let lengths = self.conv_lengths();
        if lengths.contains(&0) || self.pooled_lengths().contains(&0) {
            return Err(invalid(format!(
                "a {CROP_FRAMES}-frame input shrinks to nothing (conv output lengths {lengths:?})"
            )));
        }
        Ok(())
    }

    /// Output length (frames) of each convolution for a `CROP_FRAMES` input:
    /// `[596, 146, 70, 32]` for the presets.
    pub fn conv_lengths(&self) -> [usize; CONV_LAYERS] {
        let mut lengths = [0; CONV_LAYERS];
        let mut input = CROP_FRAMES;
        for (layer, length) in lengths.iter_mut().enumerate() {
            *length = (input + 1).saturating_sub(KERNEL_FRAMES);
            input = match self.pools.get(layer) {
                Some(&pool) => *length / pool,
                None => *length,
            };
        }
        lengths
    }

    /// Length after each max-pool (conv1..conv3): `[149, 73, 35]` for the presets.
    pub fn pooled_lengths(&self) -> [usize; CONV_LAYERS - 1] {
        let lengths = self.conv_lengths();
        std::array::from_fn(|i| lengths[i] / self.pools[i])
    }

    /// Input channels of each convolution: `[n_mels, filters[0], filters[1], filters[2]]`.
    pub fn conv_inputs(&self) -> [usize; CONV_LAYERS] {
        [
            self.n_mels,
            self.filters[0],
            self.filters[1],
            self.filters[2],
        ]
    }

    /// Width of the global-pooling features: 3 × last filters.
    pub fn pooled_features(&self) -> usize {
        GLOBAL_POOL_STATS * self.filters[CONV_LAYERS - 1]
    }

    /// `(inputs, outputs)` of each dense layer, then of the output layer.
    pub fn dense_shapes(&self) -> Vec<(usize, usize)> {
        let mut widths = vec![self.pooled_features()];
        widths.extend(&self.dense);
        widths.push(self.factors);
        widths.windows(2).map(|w| (w[0], w[1])).collect()
    }

    /// Width of the last dense layer (the "high-level" units; fc2 in the presets).
    pub fn last_dense(&self) -> usize {
        *self
            .dense
            .last()
            .expect("a validated config has at least one dense layer")
    }

    /// Multiply-adds ×2 of one forward pass, for throughput figures (GFLOP/s).
    pub fn forward_flops(&self) -> f64 {
        let lengths = self.conv_lengths();
        let inputs = self.conv_inputs();
        let conv: usize = (0..CONV_LAYERS)
            .map(|i| 2 * lengths[i] * self.filters[i] * inputs[i] * KERNEL_FRAMES)
            .sum();
        let dense: usize = self.dense_shapes().iter().map(|(i, o)| 2 * i * o).sum();
        (conv + dense) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_have_the_designed_lengths() {
        // DESIGN.md's table: 596 → 149, 146 → 73, 70 → 35, 32.
        for config in [ConvnetConfig::paper(), ConvnetConfig::small()] {
            assert_eq!(config.conv_lengths(), [596, 146, 70, 32]);
            assert_eq!(config.pooled_lengths(), [149, 73, 35]);
            config.validate("preset").unwrap();
        }
        assert_eq!(ConvnetConfig::paper().pooled_features(), 1536);
        assert_eq!(
            ConvnetConfig::paper().dense_shapes(),
            vec![(1536, 2048), (2048, 2048), (2048, 40)]
        );
    }

    #[test]
    fn reads_json_with_extra_keys_and_toml() {
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("c.json");
        std::fs::write(
            &json,
            r#"{"n_mels": 128, "filters": [256, 256, 512, 512], "pools": [4, 2, 2],
                "dense": [2048, 2048], "factors": 40, "dropout": 0.5, "note": "later key"}"#,
        )
        .unwrap();
        assert_eq!(
            ConvnetConfig::from_file(&json).unwrap(),
            ConvnetConfig::paper()
        );
        let toml_path = dir.path().join("c.toml");
        std::fs::write(
            &toml_path,
            "n_mels = 128\nfilters = [64, 64, 128, 128]\npools = [4, 2, 2]\n\
             dense = [256, 256]\nfactors = 40\nextra = true\n",
        )
        .unwrap();
        assert_eq!(
            ConvnetConfig::from_file(&toml_path).unwrap(),
            ConvnetConfig::small()
        );
    }

    #[test]
    fn rejects_bad_configs_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "n_mels = 128\nfilters = [8, 8]\n").unwrap();
        let message = ConvnetConfig::from_file(&path).unwrap_err().to_string();
        assert!(message.contains("bad.toml"), "{message}");
        // Pools so wide that nothing is left for conv4.
        let mut config = ConvnetConfig::small();
        config.pools = [16, 8, 8];
        let message = config.validate("x.json").unwrap_err().to_string();
        assert!(
            message.contains("x.json") && message.contains("nothing"),
            "{message}"
        );
        assert!(ConvnetConfig::preset("huge").is_err());
    }
}

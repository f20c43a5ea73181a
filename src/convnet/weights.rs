//! Convnet weights in one safetensors file with PyTorch-compatible names and layouts
//! (DESIGN.md), so a model trained in PyTorch loads here and the other way round. The config
//! travels with the weights as JSON under the metadata key `config`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use safetensors::{Dtype, SafeTensors};

use super::config::{ConfigError, ConvnetConfig, CONV_LAYERS, KERNEL_FRAMES};

/// Metadata key holding the config JSON.
pub const CONFIG_METADATA_KEY: &str = "config";

/// What went wrong reading or writing a weights file; always names the file, and the tensor
/// when one is at fault.
#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a valid safetensors file: {message}")]
    Format { path: PathBuf, message: String },
    #[error("{path}: no convnet config in the metadata (key `config`)")]
    MissingConfig { path: PathBuf },
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{path}: tensor `{tensor}` is missing")]
    Missing { path: PathBuf, tensor: String },
    #[error("{path}: tensor `{tensor}` has shape {found:?}, expected {expected:?}")]
    Shape {
        path: PathBuf,
        tensor: String,
        found: Vec<usize>,
        expected: Vec<usize>,
    },
    #[error("{path}: tensor `{tensor}` has data type {dtype}, expected a float type")]
    DType {
        path: PathBuf,
        tensor: String,
        dtype: String,
    },
    #[error("{path}: tensor `{tensor}` has a non-finite value ({value}) at flat index {index}")]
    NotFinite {
        path: PathBuf,
        tensor: String,
        index: usize,
        value: f32,
    },
    #[error("{path}: tensor `input.std` has a non-positive value ({value}) at index {index}")]
    NonPositiveStd {
        path: PathBuf,
        index: usize,
        value: f32,
    },
    #[error("{path}: metadata key `{key}` is invalid: {message}")]
    Metadata {
        path: PathBuf,
        key: String,
        message: String,
    },
    #[error("{path}: cannot write: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A weight matrix (or kernel) and its bias, flat in PyTorch's row-major layout.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerWeights {
    /// conv: [out, in, 4]; dense: [out, in].
    pub weight: Vec<f32>,
    /// [out]
    pub bias: Vec<f32>,
}

/// All parameters of a convnet plus its input normalisation.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvnetWeights {
    pub config: ConvnetConfig,
    /// Per-mel-bin mean of the training inputs, dB: [n_mels].
    pub input_mean: Vec<f32>,
    /// Per-mel-bin standard deviation of the training inputs, dB, positive: [n_mels].
    pub input_std: Vec<f32>,
    /// conv1..conv4.
    pub convs: Vec<LayerWeights>,
    /// fc1, fc2, ...
    pub dense: Vec<LayerWeights>,
    /// The linear output layer: weight [factors, last dense].
    pub out: LayerWeights,
}

/// One named tensor's shape, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorSpec {
    pub name: String,
    pub shape: Vec<usize>,
}

/// The names and shapes a weights file of `config` holds (DESIGN.md), in a fixed order:
/// input.mean, input.std, conv{1..4}.{weight,bias}, fc{1..}.{weight,bias}, out.{weight,bias}.
pub fn tensor_specs(config: &ConvnetConfig) -> Vec<TensorSpec> {
    let spec = |name: String, shape: Vec<usize>| TensorSpec { name, shape };
    let mut specs = vec![
        spec("input.mean".into(), vec![config.n_mels]),
        spec("input.std".into(), vec![config.n_mels]),
    ];
    let inputs = config.conv_inputs();
    for (i, (&cin, &cout)) in inputs.iter().zip(&config.filters).enumerate() {
        specs.push(spec(
            format!("conv{}.weight", i + 1),
            vec![cout, cin, KERNEL_FRAMES],
        ));
        specs.push(spec(format!("conv{}.bias", i + 1), vec![cout]));
    }
    for (i, (cin, cout)) in config.dense_shapes().into_iter().enumerate() {
        let layer = if i < config.dense.len() {
            format!("fc{}", i + 1)
        } else {
            "out".to_owned()
        };
        specs.push(spec(format!("{layer}.weight"), vec![cout, cin]));
        specs.push(spec(format!("{layer}.bias"), vec![cout]));
    }
    specs
}

impl ConvnetWeights {
    /// Fresh weights for training, drawn as PyTorch's `nn.Conv1d` and `nn.Linear` draw them
    /// (weights and biases uniform in ±1/√fan_in), so that learning rates tuned on the
    /// reference implementation carry over; identity input normalisation (mean 0, std 1)
    /// until the training set's statistics are known.
    pub fn init(config: &ConvnetConfig, seed: u64) -> Self {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut layer = |fan_in: usize, fan_out: usize| {
            let limit = 1.0 / (fan_in as f32).sqrt();
            let mut draw = |n: usize| -> Vec<f32> {
                (0..n).map(|_| rng.random_range(-limit..limit)).collect()
            };
            LayerWeights {
                weight: draw(fan_in * fan_out),
                bias: draw(fan_out),
            }
        };
        let inputs = config.conv_inputs();
        let convs = (0..CONV_LAYERS)
            .map(|i| layer(inputs[i] * KERNEL_FRAMES, config.filters[i]))
            .collect();
        let shapes = config.dense_shapes();
        let (last, hidden) = shapes
            .split_last()
            .expect("dense_shapes always ends with the output layer");
        let dense = hidden.iter().map(|&(i, o)| layer(i, o)).collect();
        let out = layer(last.0, last.1);
        Self {
            config: config.clone(),
            input_mean: vec![0.0; config.n_mels],
            input_std: vec![1.0; config.n_mels],
            convs,
            dense,
            out,
        }
    }

    /// The tensors in `tensor_specs` order, as (name, data) pairs.
    pub fn tensors(&self) -> Vec<(TensorSpec, &[f32])> {
        let mut data: Vec<&[f32]> = vec![&self.input_mean, &self.input_std];
        for layer in self.convs.iter().chain(&self.dense).chain([&self.out]) {
            data.push(&layer.weight);
            data.push(&layer.bias);
        }
        tensor_specs(&self.config).into_iter().zip(data).collect()
    }

    /// Builds weights from named tensors; `take(spec)` returns the data of one tensor, already
    /// checked against `spec.shape`.
    pub fn from_tensors<E>(
        config: &ConvnetConfig,
        mut take: impl FnMut(&TensorSpec) -> Result<Vec<f32>, E>,
    ) -> Result<Self, E> {
        let mut tensors = tensor_specs(config)
            .into_iter()
            .map(|spec| take(&spec))
            .collect::<Result<Vec<_>, E>>()?
            .into_iter();
        let mut next = || {
            tensors
                .next()
                .expect("tensor_specs lists exactly the tensors read here")
        };
        let input_mean = next();
        let input_std = next();
        let mut pair = || LayerWeights {
            weight: next(),
            bias: next(),
        };
        let convs = (0..CONV_LAYERS).map(|_| pair()).collect();
        let dense = config.dense.iter().map(|_| pair()).collect();
        let out = pair();
        Ok(Self {
            config: config.clone(),
            input_mean,
            input_std,
            convs,
            dense,
            out,
        })
    }

    /// Loads and checks a weights file: config from the metadata, every tensor present with
    /// its shape, all values finite, `input.std` positive. Float16/bfloat16/float64 tensors are
    /// converted to float32.
    pub fn load(path: &Path) -> Result<Self, WeightsError> {
        let mut file = TensorFile::read(path)?;
        let config_json = file
            .metadata
            .get(CONFIG_METADATA_KEY)
            .ok_or_else(|| WeightsError::MissingConfig {
                path: path.to_owned(),
            })?
            .clone();
        let config = ConvnetConfig::from_json(&config_json, &path.display().to_string())?;
        let weights = Self::from_tensors(&config, |spec| file.take(spec))?;
        if let Some((index, &value)) = weights
            .input_std
            .iter()
            .enumerate()
            .find(|(_, &s)| s <= 0.0)
        {
            return Err(WeightsError::NonPositiveStd {
                path: path.to_owned(),
                index,
                value,
            });
        }
        Ok(weights)
    }

    /// Writes the weights atomically, with the config in the metadata.
    pub fn save(&self, path: &Path) -> Result<(), WeightsError> {
        write_tensor_file(path, &self.tensors(), &self.metadata())
    }

    /// The metadata written with the weights: the config JSON.
    pub fn metadata(&self) -> HashMap<String, String> {
        HashMap::from([(CONFIG_METADATA_KEY.to_owned(), self.config.to_json())])
    }
}

/// A safetensors file read whole, its tensors converted to float32, handed out by name with
/// shape and finiteness checks.
#[derive(Debug)]
pub struct TensorFile {
    path: PathBuf,
    /// The file's string metadata.
    pub metadata: HashMap<String, String>,
    tensors: HashMap<String, (Vec<usize>, Vec<f32>)>,
}

impl TensorFile {
    /// Reads every tensor of a safetensors file.
    pub fn read(path: &Path) -> Result<Self, WeightsError> {
        let bytes = std::fs::read(path).map_err(|source| WeightsError::Read {
            path: path.to_owned(),
            source,
        })?;
        let format = |message: String| WeightsError::Format {
            path: path.to_owned(),
            message,
        };
        let (_, header) = SafeTensors::read_metadata(&bytes).map_err(|e| format(e.to_string()))?;
        let metadata = header.metadata().clone().unwrap_or_default();
        let file = SafeTensors::deserialize(&bytes).map_err(|e| format(e.to_string()))?;
        let mut tensors = HashMap::new();
        for (name, view) in file.iter() {
            let data = to_f32(view.dtype(), view.data()).ok_or_else(|| WeightsError::DType {
                path: path.to_owned(),
                tensor: name.to_owned(),
                dtype: format!("{:?}", view.dtype()),
            })?;
            tensors.insert(name.to_owned(), (view.shape().to_vec(), data));
        }
        Ok(Self {
            path: path.to_owned(),
            metadata,
            tensors,
        })
    }

    /// Reads only the string metadata of a safetensors file (its header), not the tensors.
    pub fn read_metadata(path: &Path) -> Result<HashMap<String, String>, WeightsError> {
        use std::io::Read;
        let read_err = |source| WeightsError::Read {
            path: path.to_owned(),
            source,
        };
        let format = |message: &str| WeightsError::Format {
            path: path.to_owned(),
            message: message.to_owned(),
        };
        let mut file = std::fs::File::open(path).map_err(read_err)?;
        let mut length = [0u8; 8];
        file.read_exact(&mut length).map_err(read_err)?;
        // safetensors caps the header at 100 MB.
        let length = usize::try_from(u64::from_le_bytes(length))
            .ok()
            .filter(|&n| n <= 100_000_000)
            .ok_or_else(|| format("header length out of range"))?;
        let mut header = vec![0u8; length];
        file.read_exact(&mut header).map_err(read_err)?;
        #[derive(serde::Deserialize)]
        struct Header {
            #[serde(rename = "__metadata__", default)]
            metadata: HashMap<String, String>,
        }
        serde_json::from_slice::<Header>(&header)
            .map(|header| header.metadata)
            .map_err(|e| format(&format!("header: {e}")))
    }

    /// Removes and returns one tensor, checking its shape and that every value is finite.
    pub fn take(&mut self, spec: &TensorSpec) -> Result<Vec<f32>, WeightsError> {
        let (shape, data) =
            self.tensors
                .remove(&spec.name)
                .ok_or_else(|| WeightsError::Missing {
                    path: self.path.clone(),
                    tensor: spec.name.clone(),
                })?;
        if shape != spec.shape {
            return Err(WeightsError::Shape {
                path: self.path.clone(),
                tensor: spec.name.clone(),
                found: shape,
                expected: spec.shape.clone(),
            });
        }
        if let Some((index, &value)) = data.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(WeightsError::NotFinite {
                path: self.path.clone(),
                tensor: spec.name.clone(),
                index,
                value,
            });
        }
        Ok(data)
    }
}

/// Converts little-endian tensor bytes of a float type to f32; `None` for other types.
fn to_f32(dtype: Dtype, bytes: &[u8]) -> Option<Vec<f32>> {
    let values = match dtype {
        Dtype::F32 => bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        Dtype::F64 => bytes
            .chunks_exact(8)
            .map(|b| {
                let mut word = [0; 8];
                word.copy_from_slice(b);
                f64::from_le_bytes(word) as f32
            })
            .collect(),
        Dtype::F16 => bytes
            .chunks_exact(2)
            .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        Dtype::BF16 => bytes
            .chunks_exact(2)
            .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        _ => return None,
    };
    Some(values)
}

/// Writes float32 tensors and string metadata to a safetensors file, atomically.
pub fn write_tensor_file(
    path: &Path,
    tensors: &[(TensorSpec, &[f32])],
    metadata: &HashMap<String, String>,
) -> Result<(), WeightsError> {
    let bytes: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, data)| data.iter().flat_map(|v| v.to_le_bytes()).collect())
        .collect();
    let format = |message: String| WeightsError::Format {
        path: path.to_owned(),
        message,
    };
    let views = tensors
        .iter()
        .zip(&bytes)
        .map(|((spec, _), data)| {
            safetensors::tensor::TensorView::new(Dtype::F32, spec.shape.clone(), data)
                .map(|view| (spec.name.clone(), view))
                .map_err(|e| format(format!("tensor `{}`: {e}", spec.name)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let serialised =
        safetensors::serialize(views, Some(metadata.clone())).map_err(|e| format(e.to_string()))?;
    crate::io::atomic::write_bytes_atomic(path, &serialised).map_err(|source| WeightsError::Write {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> ConvnetConfig {
        ConvnetConfig {
            n_mels: 128,
            filters: [8, 8, 16, 16],
            pools: [4, 2, 2],
            dense: vec![32, 32],
            factors: 10,
        }
    }

    #[test]
    fn reads_the_pytorch_reference_file() {
        // Written by reference.py (PyTorch + safetensors): names, layouts and config agree.
        let weights =
            ConvnetWeights::load(Path::new("tests/data/convnet/tiny.safetensors")).unwrap();
        assert_eq!(weights.config, tiny());
        assert_eq!(weights.convs[0].weight.len(), 8 * 128 * 4);
        assert_eq!(weights.dense[1].weight.len(), 32 * 32);
        assert_eq!(weights.out.bias.len(), 10);
        // reference.py draws std in [15, 18).
        assert!(weights.input_std.iter().all(|&s| (15.0..18.0).contains(&s)));
    }

    #[test]
    fn round_trips_through_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.safetensors");
        let weights = ConvnetWeights::init(&tiny(), 7);
        weights.save(&path).unwrap();
        assert_eq!(ConvnetWeights::load(&path).unwrap(), weights);
    }

    #[test]
    fn the_header_alone_gives_the_metadata_the_safetensors_crate_reads() {
        // The PyTorch-written reference file, and a truncated copy whose tensors are gone.
        let path = Path::new("tests/data/convnet/tiny.safetensors");
        let bytes = std::fs::read(path).unwrap();
        let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
        let expected = header.metadata().clone().unwrap();
        assert!(expected.contains_key(CONFIG_METADATA_KEY));
        assert_eq!(TensorFile::read_metadata(path).unwrap(), expected);
        let dir = tempfile::tempdir().unwrap();
        let cut = dir.path().join("cut.safetensors");
        let header_end = 8 + u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        std::fs::write(&cut, &bytes[..header_end]).unwrap();
        assert_eq!(TensorFile::read_metadata(&cut).unwrap(), expected);
        std::fs::write(&cut, &bytes[..header_end - 1]).unwrap();
        assert!(matches!(
            TensorFile::read_metadata(&cut),
            Err(WeightsError::Read { .. })
        ));
        std::fs::write(&cut, u64::MAX.to_le_bytes()).unwrap();
        assert!(matches!(
            TensorFile::read_metadata(&cut),
            Err(WeightsError::Format { .. })
        ));
    }

    /// Writes the tiny weights with one tensor replaced by `edit`.
    fn write_edited(
        path: &Path,
        edit: impl Fn(&TensorSpec, &[f32]) -> Option<(TensorSpec, Vec<f32>)>,
    ) {
        let weights = ConvnetWeights::init(&tiny(), 1);
        let edited: Vec<(TensorSpec, Vec<f32>)> = weights
            .tensors()
            .into_iter()
            .filter_map(|(spec, data)| edit(&spec, data))
            .collect();
        let borrowed: Vec<(TensorSpec, &[f32])> = edited
            .iter()
            .map(|(s, d)| (s.clone(), d.as_slice()))
            .collect();
        write_tensor_file(path, &borrowed, &weights.metadata()).unwrap();
    }

    #[test]
    fn names_the_file_and_tensor_when_something_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.safetensors");
        let keep = |s: &TensorSpec, d: &[f32]| Some((s.clone(), d.to_vec()));

        write_edited(&path, |s, d| {
            (s.name != "fc2.bias").then(|| keep(s, d)).flatten()
        });
        let message = ConvnetWeights::load(&path).unwrap_err().to_string();
        assert!(message.contains("bad.safetensors") && message.contains("`fc2.bias` is missing"));

        write_edited(&path, |s, d| {
            if s.name == "conv3.weight" {
                let shape = vec![16, 8, 3];
                Some((
                    TensorSpec {
                        name: s.name.clone(),
                        shape,
                    },
                    d[..16 * 8 * 3].to_vec(),
                ))
            } else {
                keep(s, d)
            }
        });
        let message = ConvnetWeights::load(&path).unwrap_err().to_string();
        assert!(message.contains("`conv3.weight` has shape [16, 8, 3], expected [16, 8, 4]"));

        write_edited(&path, |s, d| {
            let mut d = d.to_vec();
            if s.name == "out.weight" {
                d[5] = f32::NAN;
            }
            Some((s.clone(), d))
        });
        let message = ConvnetWeights::load(&path).unwrap_err().to_string();
        assert!(message.contains("`out.weight` has a non-finite value (NaN) at flat index 5"));

        std::fs::write(&path, b"not a safetensors file").unwrap();
        let message = ConvnetWeights::load(&path).unwrap_err().to_string();
        assert!(message.contains("bad.safetensors") && message.contains("not a valid"));

        let missing = dir.path().join("absent.safetensors");
        assert!(ConvnetWeights::load(&missing)
            .unwrap_err()
            .to_string()
            .contains("absent"));
    }

    #[test]
    fn refuses_a_file_without_config() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("noconfig.safetensors");
        let weights = ConvnetWeights::init(&tiny(), 1);
        write_tensor_file(&path, &weights.tensors(), &HashMap::new()).unwrap();
        let message = ConvnetWeights::load(&path).unwrap_err().to_string();
        assert!(message.contains("noconfig.safetensors") && message.contains("no convnet config"));
    }
}

//! The convnet as a candle model, for training (autograd) and as a second, independent
//! forward pass. Layers work around two candle 0.11.1 autograd bugs (PLATFORM.md): 1-D
//! convolutions run as conv2d on `[B, C, 1, L]` with a contiguous `[O, C, 1, K]` kernel, and
//! max-pooling is `reshape` + `max` over the window axis rather than `max_pool2d`.

use candle_core::{DType, Device, Result, Tensor, Var, D};

use super::config::{ConvnetConfig, CONV_LAYERS, KERNEL_FRAMES};
use super::weights::{ConvnetWeights, LayerWeights, TensorSpec};

/// Added to the sum of squares before the square root of L2 pooling: the gradient of
/// `sqrt(s)` is infinite at `s = 0`, which a channel that is all zero after ReLU reaches.
pub const L2_POOL_EPSILON: f64 = 1e-12;

/// A trainable weight and bias.
#[derive(Debug)]
pub struct Layer {
    /// conv: [out, in, 1, 4] (contiguous); dense: [out, in].
    pub weight: Var,
    /// [out]
    pub bias: Var,
}

/// The convnet of DESIGN.md with candle tensors.
#[derive(Debug)]
pub struct ConvnetModel {
    config: ConvnetConfig,
    /// [1, n_mels, 1]
    input_mean: Tensor,
    /// [1, n_mels, 1]
    input_std: Tensor,
    convs: Vec<Layer>,
    dense: Vec<Layer>,
    out: Layer,
}

/// What one forward pass produces.
#[derive(Debug)]
pub struct ForwardOutputs {
    /// Predicted factors: [batch, factors].
    pub out: Tensor,
    /// conv1 after ReLU, when asked for: [batch, filters[0], 596].
    pub conv1: Option<Tensor>,
    /// Global temporal pooling, mean | max | L2 per channel: [batch, 3 × filters[3]].
    pub pooled: Tensor,
    /// The last dense layer after ReLU (and dropout when training): [batch, units].
    pub last_dense: Tensor,
}

/// 1-D convolution over time, stride 1, no padding, as conv2d on a height-1 image.
/// x: [batch, in, frames], weight: [out, in, 1, kernel] → [batch, out, frames - kernel + 1].
/// No bias: callers add it after pooling (max commutes with adding a per-channel constant).
pub fn conv_time(x: &Tensor, weight: &Tensor) -> Result<Tensor> {
    x.unsqueeze(2)?
        .conv2d(&weight.contiguous()?, 0, 1, 1, 1)?
        .squeeze(2)
}

/// Non-overlapping max-pool over time; a trailing partial window is dropped (as PyTorch).
/// x: [batch, channels, frames] → [batch, channels, frames / width].
pub fn max_pool_time(x: &Tensor, width: usize) -> Result<Tensor> {
    let (batch, channels, frames) = x.dims3()?;
    let windows = frames / width;
    let x = if windows * width == frames {
        x.clone()
    } else {
        x.narrow(2, 0, windows * width)?
    };
    x.reshape((batch, channels, windows, width))?.max(D::Minus1)
}

/// Global temporal pooling: per channel mean, max and L2 norm (with `L2_POOL_EPSILON`),
/// concatenated in that order. x: [batch, channels, frames] → [batch, 3 × channels].
pub fn global_pool(x: &Tensor) -> Result<Tensor> {
    let mean = x.mean(2)?;
    let max = x.max(2)?;
    let l2 = x.sqr()?.sum(2)?.affine(1.0, L2_POOL_EPSILON)?.sqrt()?;
    Tensor::cat(&[mean, max, l2], 1)
}

/// Adds a per-channel bias: x: [batch, channels, frames], bias: [channels].
pub fn add_channel_bias(x: &Tensor, bias: &Tensor) -> Result<Tensor> {
    x.broadcast_add(&bias.reshape((1, (), 1))?)
}

/// Affine layer as in PyTorch: x: [batch, in], weight: [out, in], bias: [out] → [batch, out].
pub fn linear(x: &Tensor, weight: &Tensor, bias: &Tensor) -> Result<Tensor> {
    x.matmul(&weight.t()?)?.broadcast_add(bias)
}

impl ConvnetModel {
    /// Builds the model from weights, in `dtype` (F32 to train, F64 for gradient checks).
    pub fn from_weights(weights: &ConvnetWeights, dtype: DType, device: &Device) -> Result<Self> {
        let config = weights.config.clone();
        let var = |data: &[f32], shape: &[usize]| {
            Var::from_tensor(&Tensor::from_slice(data, shape, device)?.to_dtype(dtype)?)
        };
        let layer = |w: &LayerWeights, shape: &[usize]| -> Result<Layer> {
            Ok(Layer {
                weight: var(&w.weight, shape)?,
                bias: var(&w.bias, &[shape[0]])?,
            })
        };
        let inputs = config.conv_inputs();
        let convs = (0..CONV_LAYERS)
            .map(|i| {
                layer(
                    &weights.convs[i],
                    &[config.filters[i], inputs[i], 1, KERNEL_FRAMES],
                )
            })
            .collect::<Result<_>>()?;
        let shapes = config.dense_shapes();
        let dense = weights
            .dense
            .iter()
            .zip(&shapes)
            .map(|(w, &(i, o))| layer(w, &[o, i]))
            .collect::<Result<_>>()?;
        let (last_in, last_out) = shapes[shapes.len() - 1];
        let out = layer(&weights.out, &[last_out, last_in])?;
        let channel =
            |data: &[f32]| Tensor::from_slice(data, (1, config.n_mels, 1), device)?.to_dtype(dtype);
        Ok(Self {
            input_mean: channel(&weights.input_mean)?,
            input_std: channel(&weights.input_std)?,
            config,
            convs,
            dense,
            out,
        })
    }

    pub fn config(&self) -> &ConvnetConfig {
        &self.config
    }

    /// The trainable parameters with their file names (`conv1.weight`, ...), in file order.
    pub fn named_vars(&self) -> Vec<(String, &Var)> {
        let mut names = Vec::new();
        let layers = self.convs.iter().chain(&self.dense).chain([&self.out]);
        let prefixes = (1..=CONV_LAYERS)
            .map(|i| format!("conv{i}"))
            .chain((1..=self.dense.len()).map(|i| format!("fc{i}")))
            .chain(["out".to_owned()]);
        for (layer, prefix) in layers.zip(prefixes) {
            names.push((format!("{prefix}.weight"), &layer.weight));
            names.push((format!("{prefix}.bias"), &layer.bias));
        }
        names
    }

    /// Copies the parameters out into PyTorch-layout weights (float32).
    pub fn to_weights(&self) -> Result<ConvnetWeights> {
        let flat = |t: &Tensor| t.flatten_all()?.to_dtype(DType::F32)?.to_vec1::<f32>();
        let vars = self.named_vars();
        let mut data = vec![flat(&self.input_mean)?, flat(&self.input_std)?];
        for (_, var) in &vars {
            data.push(flat(var.as_tensor())?);
        }
        let mut data = data.into_iter();
        ConvnetWeights::from_tensors(&self.config, |_: &TensorSpec| {
            Ok(data
                .next()
                .expect("named_vars follows tensor_specs order, plus the two input tensors"))
        })
    }

    /// Replaces the input normalisation: mean, std: [n_mels].
    pub fn set_input_normalisation(&mut self, mean: &[f32], std: &[f32]) -> Result<()> {
        let (dtype, device) = (self.input_mean.dtype(), self.input_mean.device().clone());
        let channel =
            |data: &[f32]| Tensor::from_slice(data, (1, data.len(), 1), &device)?.to_dtype(dtype);
        self.input_mean = channel(mean)?;
        self.input_std = channel(std)?;
        Ok(())
    }

    /// Normalises raw log-mel crops per mel bin. x: [batch, n_mels, frames] (dB).
    pub fn normalise(&self, x: &Tensor) -> Result<Tensor> {
        x.broadcast_sub(&self.input_mean)?
            .broadcast_div(&self.input_std)
    }

    /// Forward pass on raw crops. x: [batch, n_mels, 599] (dB, not normalised).
    pub fn forward(&self, x: &Tensor, want_conv1: bool) -> Result<ForwardOutputs> {
        self.forward_normalised(&self.normalise(x)?, None, want_conv1)
    }

    /// Forward pass on normalised crops, with dropout when `dropout_masks` is given (one mask
    /// per dense layer, [batch, width], entries 0 or 1/(1-p)).
    /// x: [batch, n_mels, 599].
    pub fn forward_normalised(
        &self,
        x: &Tensor,
        dropout_masks: Option<&[Tensor]>,
        want_conv1: bool,
    ) -> Result<ForwardOutputs> {
        let mut h = x.clone();
        let mut conv1 = None;
        for (i, layer) in self.convs.iter().enumerate() {
            let y = conv_time(&h, layer.weight.as_tensor())?;
            if i == 0 && want_conv1 {
                conv1 = Some(add_channel_bias(&y, layer.bias.as_tensor())?.relu()?);
            }
            // Pool before bias and ReLU: the same values, on a quarter (half) of the frames.
            let y = match self.config.pools.get(i) {
                Some(&width) => max_pool_time(&y, width)?,
                None => y,
            };
            h = add_channel_bias(&y, layer.bias.as_tensor())?.relu()?;
        }
        let pooled = global_pool(&h)?;
        let mut h = pooled.clone();
        for (i, layer) in self.dense.iter().enumerate() {
            h = linear(&h, layer.weight.as_tensor(), layer.bias.as_tensor())?.relu()?;
            if let Some(masks) = dropout_masks {
                h = h.mul(&masks[i])?;
            }
        }
        let out = linear(&h, self.out.weight.as_tensor(), self.out.bias.as_tensor())?;
        Ok(ForwardOutputs {
            out,
            conv1,
            pooled,
            last_dense: h,
        })
    }
}

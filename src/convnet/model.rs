//! The convnet as a candle model, for training (autograd) and as a second forward pass beside
//! the inference path (both checked against the PyTorch reference vectors). Activations are
//! time-major (`[batch, frames, channels]`, the layout of the stored log-mels) so that each
//! convolution runs over the whole batch as one signal (Winograd products,
//! `temporal_conv.rs`), and each convolution with its max-pooling, bias and
//! ReLU is one fused op (`conv_block.rs`), as is each dense layer (`dense.rs`). These have their
//! own gradients, which avoids candle 0.11.1's autograd bugs (PLATFORM.md: conv1d's weight
//! gradient, max_pool2d's backward) and the copies its generic backward pass makes.

use candle_core::{DType, Device, Result, Tensor, Var};

use super::config::{ConvnetConfig, CONV_LAYERS, KERNEL_FRAMES};
use super::conv_block::conv_pool_bias_relu;
use super::dense::dense;
use super::pooling::pool_bias_relu;
use super::temporal_conv::conv_time;
use super::weights::{ConvnetWeights, LayerWeights, TensorSpec};

/// Added to the sum of squares before the square root of L2 pooling: the gradient of
/// `sqrt(s)` is infinite at `s = 0`, which a channel that is all zero after ReLU reaches.
pub const L2_POOL_EPSILON: f64 = 1e-12;

/// A trainable weight and bias.
#[derive(Debug)]
pub struct Layer {
    /// conv: [4, in, out] (tap-major, see `temporal_conv.rs`); dense: [out, in].
    pub weight: Var,
    /// [out]
    pub bias: Var,
}

/// The convnet of DESIGN.md with candle tensors.
#[derive(Debug)]
pub struct ConvnetModel {
    config: ConvnetConfig,
    /// [n_mels]
    input_mean: Tensor,
    /// [n_mels]
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

/// Global temporal pooling: per channel mean, max and L2 norm (with `L2_POOL_EPSILON`),
/// concatenated in that order. x: [batch, frames, channels] → [batch, 3 × channels].
pub fn global_pool(x: &Tensor) -> Result<Tensor> {
    let mean = x.mean(1)?;
    let max = x.max(1)?;
    let l2 = x.sqr()?.sum(1)?.affine(1.0, L2_POOL_EPSILON)?.sqrt()?;
    Tensor::cat(&[mean, max, l2], 1)
}

/// A conv kernel from PyTorch's [out, in, 4] to the model's [4, in, out], or back.
pub fn swap_kernel_layout(kernel: &Tensor) -> Result<Tensor> {
    kernel.permute((2, 1, 0))?.contiguous()
}

impl ConvnetModel {
    /// Builds the model from weights, in `dtype` (F32 to train, F64 for gradient checks).
    pub fn from_weights(weights: &ConvnetWeights, dtype: DType, device: &Device) -> Result<Self> {
        let config = weights.config.clone();
        let tensor = |data: &[f32], shape: &[usize]| {
            Tensor::from_slice(data, shape, device)?.to_dtype(dtype)
        };
        let layer = |w: &LayerWeights, weight: Tensor| -> Result<Layer> {
            Ok(Layer {
                weight: Var::from_tensor(&weight)?,
                bias: Var::from_tensor(&tensor(&w.bias, &[w.bias.len()])?)?,
            })
        };
        let inputs = config.conv_inputs();
        let convs = (0..CONV_LAYERS)
            .map(|i| {
                let shape = [config.filters[i], inputs[i], KERNEL_FRAMES];
                let kernel = swap_kernel_layout(&tensor(&weights.convs[i].weight, &shape)?)?;
                layer(&weights.convs[i], kernel)
            })
            .collect::<Result<_>>()?;
        let shapes = config.dense_shapes();
        let dense = weights
            .dense
            .iter()
            .zip(&shapes)
            .map(|(w, &(i, o))| layer(w, tensor(&w.weight, &[o, i])?))
            .collect::<Result<_>>()?;
        let (last_in, last_out) = shapes[shapes.len() - 1];
        let out = layer(
            &weights.out,
            tensor(&weights.out.weight, &[last_out, last_in])?,
        )?;
        Ok(Self {
            input_mean: tensor(&weights.input_mean, &[config.n_mels])?,
            input_std: tensor(&weights.input_std, &[config.n_mels])?,
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
    /// Conv weights are in the model's [4, in, out] layout.
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

    /// A parameter-shaped tensor (a var, a gradient, a momentum) flattened in the file's
    /// PyTorch layout: conv kernels are turned back to [out, in, 4].
    pub fn file_layout(name: &str, tensor: &Tensor) -> Result<Vec<f32>> {
        let tensor = if name.starts_with("conv") && name.ends_with(".weight") {
            swap_kernel_layout(tensor)?
        } else {
            tensor.clone()
        };
        tensor.flatten_all()?.to_dtype(DType::F32)?.to_vec1::<f32>()
    }

    /// Copies the parameters out into PyTorch-layout weights (float32).
    pub fn to_weights(&self) -> Result<ConvnetWeights> {
        let (mean, std) = self.input_normalisation()?;
        let mut data = vec![mean, std];
        for (name, var) in self.named_vars() {
            data.push(Self::file_layout(&name, var.as_tensor())?);
        }
        let mut data = data.into_iter();
        ConvnetWeights::from_tensors(&self.config, |_: &TensorSpec| {
            Ok(data
                .next()
                .expect("named_vars follows tensor_specs order, after the two input tensors"))
        })
    }

    /// The input normalisation: (mean, std), each [n_mels].
    pub fn input_normalisation(&self) -> Result<(Vec<f32>, Vec<f32>)> {
        let flat = |t: &Tensor| t.to_dtype(DType::F32)?.to_vec1::<f32>();
        Ok((flat(&self.input_mean)?, flat(&self.input_std)?))
    }

    /// Forward pass on raw crops in the network layout. x: [batch, n_mels, 599] (dB).
    pub fn forward(&self, x: &Tensor, want_conv1: bool) -> Result<ForwardOutputs> {
        let time_major = x
            .transpose(1, 2)?
            .broadcast_sub(&self.input_mean)?
            .broadcast_div(&self.input_std)?
            .contiguous()?;
        self.forward_normalised(&time_major, None, want_conv1)
    }

    /// Forward pass on normalised time-major crops, with dropout when `dropout_masks` is given
    /// (one mask per dense layer, [batch, width], entries 0 or 1/(1-p)).
    /// x: [batch, 599, n_mels].
    pub fn forward_normalised(
        &self,
        x: &Tensor,
        dropout_masks: Option<&[Tensor]>,
        want_conv1: bool,
    ) -> Result<ForwardOutputs> {
        let mut h = x.clone();
        let mut conv1 = None;
        for (i, layer) in self.convs.iter().enumerate() {
            let (weight, bias) = (layer.weight.as_tensor(), layer.bias.as_tensor());
            // conv4 is followed by global pooling: width 1 is bias and ReLU alone.
            let width = self.config.pools.get(i).copied().unwrap_or(1);
            h = if i == 0 && want_conv1 {
                // conv1's activations are wanted whole: convolve, then pool (bias added after).
                let y = conv_time(&h, weight)?;
                conv1 = Some(
                    y.broadcast_add(bias)?
                        .relu()?
                        .transpose(1, 2)?
                        .contiguous()?,
                );
                pool_bias_relu(&y, bias, width)?
            } else {
                conv_pool_bias_relu(&h, weight, bias, width)?
            };
        }
        let pooled = global_pool(&h)?;
        let mut h = pooled.clone();
        for (i, layer) in self.dense.iter().enumerate() {
            h = dense(&h, layer.weight.as_tensor(), layer.bias.as_tensor(), true)?;
            if let Some(masks) = dropout_masks {
                h = h.mul(&masks[i])?;
            }
        }
        let out = dense(
            &h,
            self.out.weight.as_tensor(),
            self.out.bias.as_tensor(),
            false,
        )?;
        Ok(ForwardOutputs {
            out,
            conv1,
            pooled,
            last_dense: h,
        })
    }
}

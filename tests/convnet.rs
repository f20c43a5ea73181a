//! The convnet against PyTorch (tests/data/convnet, made by reference.py) and against finite
//! differences, the GPU path against the CPU path (on lavapipe in CI), and training on a
//! synthetic problem.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failed unwrap is a failed test with a backtrace"
)]

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use deepcuts::convnet::bench::random_crops;
use deepcuts::convnet::infer::Conv1Stats;
use deepcuts::convnet::{
    ConvnetConfig, ConvnetModel, ConvnetWeights, CpuConvnet, InferDevice, InferEngine, InferOptions,
};
use deepcuts::gpu::AdapterChoice;
use deepcuts::io::npy::read_finite_f32;
use ndarray::{Array, ArrayD, IxDyn};

fn data(name: &str) -> PathBuf {
    Path::new("tests/data/convnet").join(name)
}

fn reference(config: &str, what: &str) -> ArrayD<f32> {
    read_finite_f32::<IxDyn>(&data(&format!("{config}.{what}.npy"))).unwrap()
}

/// Asserts agreement within `1e-4` of the reference's largest magnitude (testvectors README).
fn assert_close(what: &str, got: &ArrayD<f32>, want: &ArrayD<f32>) {
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    let scale = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(scale > 0.0, "{what}: reference is all zero");
    let worst = got
        .iter()
        .zip(want)
        .map(|(g, w)| (g - w).abs())
        .fold(0.0f32, f32::max);
    assert!(
        worst <= 1e-4 * scale,
        "{what}: max difference {worst} exceeds 1e-4 × {scale}"
    );
}

fn tensor_to_array(t: &Tensor) -> ArrayD<f32> {
    let shape = t.dims().to_vec();
    let data = t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    Array::from_shape_vec(IxDyn(&shape), data).unwrap()
}

#[test]
fn candle_model_matches_pytorch() {
    let input = read_finite_f32::<IxDyn>(&data("input.npy")).unwrap();
    let x = Tensor::from_slice(input.as_slice().unwrap(), input.shape(), &Device::Cpu).unwrap();
    for config in ["tiny", "small"] {
        let weights = ConvnetWeights::load(&data(&format!("{config}.safetensors"))).unwrap();
        let model = ConvnetModel::from_weights(&weights, DType::F32, &Device::Cpu).unwrap();
        let outputs = model.forward(&x, true).unwrap();
        let check = |what: &str, t: &Tensor| {
            assert_close(
                &format!("candle {config} {what}"),
                &tensor_to_array(t),
                &reference(config, what),
            )
        };
        check("out", &outputs.out);
        check("conv1", outputs.conv1.as_ref().unwrap());
        check("pooled", &outputs.pooled);
        check("fc2", &outputs.last_dense);
    }
}

/// The inference engines under test: the CPU path with 1 to 3 threads and the GPU path on
/// the fastest adapter (lavapipe in CI, installed by scripts/setup-system.sh), opened by the
/// engine or given to it.
fn engines(weights: &ConvnetWeights) -> Vec<(String, InferEngine)> {
    let mut engines: Vec<(String, InferEngine)> = [1, 2, 3]
        .into_iter()
        .map(|threads| {
            let engine = InferEngine::new(weights, &InferDevice::Cpu, threads).unwrap();
            (format!("cpu {threads} threads"), engine)
        })
        .collect();
    engines.push(("gpu".into(), gpu_engine(weights)));
    // As the app builds it: on a device it already has.
    let context = deepcuts::gpu::adapter::open(&AdapterChoice::Fastest).unwrap();
    let shared = InferEngine::new(weights, &InferDevice::Shared(Box::new(context)), 1).unwrap();
    assert!(shared.is_gpu(), "{}", shared.describe());
    engines.push(("gpu on a given device".into(), shared));
    engines
}

fn gpu_engine(weights: &ConvnetWeights) -> InferEngine {
    InferEngine::new(weights, &InferDevice::Gpu(AdapterChoice::Fastest), 1)
        .expect("a wgpu adapter (lavapipe: mesa-vulkan-drivers, scripts/setup-system.sh)")
}

const ALL_OUTPUTS: InferOptions = InferOptions {
    conv1: true,
    conv1_stats: true,
};

/// Checks conv1's summaries against conv1's activations: max, mean and a frame of the max
/// (any frame whose activation equals the max within the tolerance: near-ties may break
/// either way under another summation order).
fn assert_stats_match(label: &str, stats: Conv1Stats, conv1: ndarray::ArrayView3<f32>) {
    let max = conv1.map_axis(ndarray::Axis(2), |row| row.fold(0.0f32, |m, &v| m.max(v)));
    let mean = conv1.mean_axis(ndarray::Axis(2)).unwrap();
    let scale = max.fold(0.0f32, |m, &v| m.max(v));
    assert_close(
        &format!("{label} conv1 max"),
        &stats.max.into_dyn(),
        &max.clone().into_dyn(),
    );
    assert_close(
        &format!("{label} conv1 mean"),
        &stats.mean.into_dyn(),
        &mean.into_dyn(),
    );
    for ((track, filter), &peak) in stats.peak_frame.indexed_iter() {
        let at_peak = conv1[[track, filter, peak as usize]];
        assert!(
            (at_peak - max[[track, filter]]).abs() <= 1e-4 * scale,
            "{label}: track {track} filter {filter}: frame {peak} holds {at_peak}, the max is {}",
            max[[track, filter]]
        );
    }
}

#[test]
fn inference_on_cpu_and_gpu_matches_pytorch() {
    let input = read_finite_f32::<ndarray::Ix3>(&data("input.npy")).unwrap();
    for config in ["tiny", "small"] {
        let weights = ConvnetWeights::load(&data(&format!("{config}.safetensors"))).unwrap();
        for (engine_name, net) in engines(&weights) {
            let outputs = net.run(input.view(), ALL_OUTPUTS).unwrap();
            let label = |what: &str| format!("{engine_name} {config} {what}");
            assert_close(
                &label("out"),
                &outputs.factors.into_dyn(),
                &reference(config, "out"),
            );
            assert_close(
                &label("pooled"),
                &outputs.pooled.into_dyn(),
                &reference(config, "pooled"),
            );
            assert_close(
                &label("fc2"),
                &outputs.last_dense.into_dyn(),
                &reference(config, "fc2"),
            );
            let conv1 = reference(config, "conv1");
            assert_close(&label("conv1"), &outputs.conv1.unwrap().into_dyn(), &conv1);
            let conv1 = conv1.into_dimensionality::<ndarray::Ix3>().unwrap();
            assert_stats_match(&label(""), outputs.conv1_stats.unwrap(), conv1.view());
        }
    }
}

#[test]
fn inference_refuses_wrong_shapes_and_accepts_an_empty_batch() {
    let weights = ConvnetWeights::load(&data("tiny.safetensors")).unwrap();
    for (name, net) in engines(&weights) {
        let wrong = ndarray::Array3::<f32>::zeros((2, 128, 600));
        let message = net
            .run(wrong.view(), InferOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("[2, 128, 600]") && message.contains("599"),
            "{name}: {message}"
        );
        let short = ndarray::Array2::<f32>::zeros((640, 128));
        let message = net
            .run_excerpts(&[short.view()], InferOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("[640, 128]") && message.contains("646"),
            "{name}: {message}"
        );
        let empty = ndarray::Array3::<f32>::zeros((0, 128, 599));
        let outputs = net.run(empty.view(), ALL_OUTPUTS).unwrap();
        assert_eq!(outputs.factors.dim(), (0, 10), "{name}");
        assert_eq!(outputs.conv1.unwrap().dim(), (0, 8, 596), "{name}");
    }
}

#[test]
fn centre_crops_of_excerpts_give_the_reference_outputs() {
    // input.npy holds the centre crops (offset 23) of [646, 128] excerpts: embed each in an
    // excerpt whose other frames are garbage, and the outputs must not change.
    let input = read_finite_f32::<ndarray::Ix3>(&data("input.npy")).unwrap();
    let excerpts: Vec<ndarray::Array2<f32>> = input
        .outer_iter()
        .map(|crop| {
            let mut excerpt = ndarray::Array2::from_elem((646, 128), 1e3f32);
            excerpt
                .slice_mut(ndarray::s![23..622, ..])
                .assign(&crop.t());
            excerpt
        })
        .collect();
    let views: Vec<_> = excerpts.iter().map(|e| e.view()).collect();
    let weights = ConvnetWeights::load(&data("small.safetensors")).unwrap();
    for (name, net) in engines(&weights) {
        let outputs = net.run_excerpts(&views, InferOptions::default()).unwrap();
        assert_close(
            &format!("{name} excerpts out"),
            &outputs.factors.into_dyn(),
            &reference("small", "out"),
        );
    }
}

/// Random weights of `config` with a realistic input normalisation and non-zero biases.
fn random_weights(config: &ConvnetConfig, seed: u64) -> ConvnetWeights {
    let mut weights = ConvnetWeights::init(config, seed);
    weights.input_mean = (0..128).map(|i| -45.0 + 0.1 * i as f32).collect();
    weights.input_std = (0..128).map(|i| 20.0 + 0.05 * i as f32).collect();
    for layer in weights.convs.iter_mut().chain(&mut weights.dense) {
        for (i, b) in layer.bias.iter_mut().enumerate() {
            *b = 0.01 * ((i % 7) as f32 - 3.0);
        }
    }
    weights
}

#[test]
fn gpu_matches_cpu_on_both_configs_and_partial_batches() {
    // Batches of 1, 7 and 64 tracks leave partial GEMM tiles in every layer (128-row tiles
    // over tracks × frames, 128-column tiles over filters and the 40 factors).
    for config in [ConvnetConfig::small(), ConvnetConfig::paper()] {
        let weights = random_weights(&config, 5);
        let cpu = CpuConvnet::new(&weights, 2).unwrap();
        let gpu = gpu_engine(&weights);
        for batch in [1, 7, 64] {
            let crops = random_crops(&config, batch, 20 + batch as u64);
            let want = cpu.run(crops.view(), ALL_OUTPUTS).unwrap();
            let got = gpu.run(crops.view(), ALL_OUTPUTS).unwrap();
            let label = |what: &str| format!("gpu {:?} batch {batch} {what}", config.filters);
            assert_close(
                &label("factors"),
                &got.factors.into_dyn(),
                &want.factors.into_dyn(),
            );
            assert_close(
                &label("pooled"),
                &got.pooled.into_dyn(),
                &want.pooled.into_dyn(),
            );
            assert_close(
                &label("fc2"),
                &got.last_dense.into_dyn(),
                &want.last_dense.into_dyn(),
            );
            let conv1 = want.conv1.unwrap();
            assert_close(
                &label("conv1"),
                &got.conv1.unwrap().into_dyn(),
                &conv1.clone().into_dyn(),
            );
            assert_stats_match(&label(""), got.conv1_stats.unwrap(), conv1.view());
        }
    }
}

#[test]
fn a_lost_gpu_fails_the_run_naming_the_batch_and_a_shared_device_retries_on_the_cpu() {
    use deepcuts::predict::{predict_rows, BatchOptions};
    use std::sync::atomic::AtomicBool;

    let weights = ConvnetWeights::load(&data("small.safetensors")).unwrap();
    let input = read_finite_f32::<ndarray::Ix3>(&data("input.npy")).unwrap();
    // Excerpts whose centre crops are the reference inputs.
    let excerpts: Vec<ndarray::Array2<f32>> = input
        .outer_iter()
        .map(|crop| {
            let mut excerpt = ndarray::Array2::zeros((646, 128));
            excerpt
                .slice_mut(ndarray::s![23..622, ..])
                .assign(&crop.t());
            excerpt
        })
        .collect();
    let read = |row: usize, out: &mut [f32]| -> Result<(), String> {
        out.copy_from_slice(excerpts[row].as_slice().unwrap());
        Ok(())
    };
    let rows: Vec<usize> = (0..excerpts.len()).collect();
    let options = BatchOptions {
        batch: 1,
        conv1_stats: true,
    };
    let cancel = AtomicBool::new(false);

    // Without a fallback (--device gpu), a lost device ends the run with an error that
    // names the batch.
    let context = deepcuts::gpu::adapter::open(&AdapterChoice::Fastest).unwrap();
    let gpu = deepcuts::gpu::GpuConvnet::with_context(&weights, context.clone()).unwrap();
    let layout = deepcuts::gpu::convnet::InputLayout {
        frames: 646,
        offset: 23,
    };
    let values: Vec<f32> = excerpts[0].iter().copied().collect();
    let first = gpu.start(&values, 1, layout, InferOptions::default());
    assert!(first.unwrap().finish().is_ok());
    context.device.destroy();
    let error = gpu
        .start(&values, 1, layout, InferOptions::default())
        .and_then(|in_flight| in_flight.finish())
        .unwrap_err();
    assert!(
        matches!(
            error,
            deepcuts::gpu::GpuError::Batch {
                batch: 2,
                tracks: 1,
                ..
            }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("batch 2 (1 tracks)"), "{error}");

    // A shared device (the app's) that is lost: the run is done again on the CPU.
    let context = deepcuts::gpu::adapter::open(&AdapterChoice::Fastest).unwrap();
    let shared =
        InferEngine::new(&weights, &InferDevice::Shared(Box::new(context.clone())), 1).unwrap();
    assert!(shared.is_gpu());
    context.device.destroy();
    let out = predict_rows(&shared, &read, &rows, options, &mut |_, _| {}, &cancel).unwrap();
    assert!(out.device.contains("retried on the CPU"), "{}", out.device);
    assert_close(
        "after the fallback",
        &out.factors.into_dyn(),
        &reference("small", "out"),
    );
}

#[test]
fn every_wgsl_kernel_parses_and_validates() {
    // naga is the front end wgpu compiles WGSL with: a kernel it rejects fails here even on a
    // machine without any adapter.
    use naga::valid::{Capabilities, ValidationFlags, Validator};
    for kernel in deepcuts::gpu::kernels::ALL {
        let module = naga::front::wgsl::parse_str(kernel.wgsl)
            .unwrap_or_else(|e| panic!("{}: {}", kernel.name, e.emit_to_string(kernel.wgsl)));
        Validator::new(ValidationFlags::all(), Capabilities::default())
            .validate(&module)
            .unwrap_or_else(|e| panic!("{}: {}", kernel.name, e.emit_to_string(kernel.wgsl)));
    }
}

#[test]
fn fast_cpu_path_matches_candle_in_f64_on_the_paper_config() {
    // No PyTorch vectors exist for the paper sizes (wider layers, more accumulation): the
    // candle model's direct convolution in f64 is the reference.
    let config = ConvnetConfig::paper();
    let weights = random_weights(&config, 3);
    let crops = random_crops(&config, 3, 11);
    let outputs = CpuConvnet::new(&weights, 2)
        .unwrap()
        .run(
            crops.view(),
            InferOptions {
                conv1: true,
                conv1_stats: false,
            },
        )
        .unwrap();
    let model = ConvnetModel::from_weights(&weights, DType::F64, &Device::Cpu).unwrap();
    let x = Tensor::from_slice(crops.as_slice().unwrap(), crops.shape(), &Device::Cpu)
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap();
    let reference = model.forward(&x, true).unwrap();
    let f32_array = |t: &Tensor| tensor_to_array(&t.to_dtype(DType::F32).unwrap());
    assert_close(
        "paper out",
        &outputs.factors.into_dyn(),
        &f32_array(&reference.out),
    );
    assert_close(
        "paper pooled",
        &outputs.pooled.into_dyn(),
        &f32_array(&reference.pooled),
    );
    assert_close(
        "paper fc2",
        &outputs.last_dense.into_dyn(),
        &f32_array(&reference.last_dense),
    );
    let conv1 = f32_array(reference.conv1.as_ref().unwrap());
    assert_close("paper conv1", &outputs.conv1.unwrap().into_dyn(), &conv1);
}

// ---------------------------------------------------------------------------------------
// Gradient checks: candle's autograd through every layer type the trainer uses, against
// central finite differences in f64.

mod gradcheck {
    use candle_core::{DType, Device, Tensor, Var};
    use deepcuts::convnet::conv_block::conv_pool_bias_relu;
    use deepcuts::convnet::dense::dense;
    use deepcuts::convnet::loss::{mse_loss, wpe_loss, WpeBatch};
    use deepcuts::convnet::model::global_pool;
    use deepcuts::convnet::pooling::pool_bias_relu;
    use deepcuts::convnet::temporal_conv::conv_time;
    use deepcuts::convnet::{ConvnetConfig, ConvnetModel, ConvnetWeights};
    use rand::{Rng, SeedableRng};

    fn rng(seed: u64) -> rand::rngs::StdRng {
        rand::rngs::StdRng::seed_from_u64(seed)
    }

    /// A tensor of uniform values in `range`.
    fn uniform(shape: &[usize], range: std::ops::Range<f64>, seed: u64) -> Tensor {
        let mut rng = rng(seed);
        let n: usize = shape.iter().product();
        let data: Vec<f64> = (0..n).map(|_| rng.random_range(range.clone())).collect();
        Tensor::from_vec(data, shape, &Device::Cpu).unwrap()
    }

    fn var(shape: &[usize], range: std::ops::Range<f64>, seed: u64) -> Var {
        Var::from_tensor(&uniform(shape, range, seed)).unwrap()
    }

    fn scalar(t: &Tensor) -> f64 {
        t.to_scalar::<f64>().unwrap()
    }

    /// Compares the autograd gradient of `f` with respect to each var against central
    /// differences, on every element (or `samples` spread-out elements of large vars).
    fn check(vars: &[(&str, &Var)], f: impl Fn() -> Tensor, samples: usize) {
        let grads = f().backward().unwrap();
        let h = 1e-6;
        for (name, var) in vars {
            let grad = grads
                .get(var.as_tensor())
                .map(|g| g.flatten_all().unwrap().to_vec1::<f64>().unwrap())
                .unwrap_or_else(|| vec![0.0; var.elem_count()]);
            let original = var
                .as_tensor()
                .flatten_all()
                .unwrap()
                .to_vec1::<f64>()
                .unwrap();
            let shape = var.shape().clone();
            let step = (original.len() / samples).max(1);
            for i in (0..original.len()).step_by(step) {
                let at = |delta: f64| {
                    let mut values = original.clone();
                    values[i] += delta;
                    var.set(&Tensor::from_vec(values, &shape, &Device::Cpu).unwrap())
                        .unwrap();
                    scalar(&f())
                };
                let numeric = (at(h) - at(-h)) / (2.0 * h);
                var.set(&Tensor::from_vec(original.clone(), &shape, &Device::Cpu).unwrap())
                    .unwrap();
                let tolerance = 1e-6 + 1e-5 * numeric.abs().max(grad[i].abs());
                assert!(
                    (grad[i] - numeric).abs() <= tolerance,
                    "{name}[{i}]: autograd {} vs finite difference {numeric}",
                    grad[i]
                );
            }
        }
    }

    /// Σ t ⊙ R for a fixed random R: a scalar whose gradient reaches every element of t.
    fn weighted_sum(t: &Tensor, seed: u64) -> Tensor {
        let r = uniform(t.dims(), -1.0..1.0, seed);
        t.mul(&r).unwrap().sum_all().unwrap()
    }

    #[test]
    fn temporal_convolution() {
        // Batch 3 (candle's own conv1d gradient is wrong for batch > 1).
        let x = var(&[3, 11, 5], -1.0..1.0, 1);
        let w = var(&[4, 5, 6], -1.0..1.0, 2);
        check(
            &[("x", &x), ("w", &w)],
            || weighted_sum(&conv_time(&x, &w).unwrap(), 3),
            1000,
        );
        // The forward value by the definition y[b,t,o] = Σ_{k,c} w[k,c,o] x[b,t+k,c].
        let y = conv_time(&x, &w).unwrap().to_vec3::<f64>().unwrap();
        let xs = x.as_tensor().to_vec3::<f64>().unwrap();
        let ws = w.as_tensor().to_vec3::<f64>().unwrap();
        for b in 0..3 {
            for t in 0..8 {
                for o in 0..6 {
                    let want: f64 = (0..4)
                        .flat_map(|k| (0..5).map(move |c| (k, c)))
                        .map(|(k, c)| ws[k][c][o] * xs[b][t + k][c])
                        .sum();
                    assert!((y[b][t][o] - want).abs() < 1e-12);
                }
            }
        }
    }

    #[test]
    fn max_pooling_fused_with_bias_and_relu() {
        // 13 frames: widths 2 and 4 drop the last frame; width 1 is bias + ReLU alone. Inputs
        // are spread so that windows have distinct maxima and no pre-activation sits near 0.
        let x = var(&[2, 13, 3], -1.0..1.0, 4);
        let bias = var(&[3], -0.3..0.3, 5);
        for width in [1, 2, 4] {
            let f = || weighted_sum(&pool_bias_relu(&x, &bias, width).unwrap(), 6);
            check(&[("x", &x), ("bias", &bias)], f, 1000);
        }
        // The forward value by the definition.
        let xs = x.as_tensor().to_vec3::<f64>().unwrap();
        let bs = bias.as_tensor().to_vec1::<f64>().unwrap();
        let y = pool_bias_relu(&x, &bias, 4)
            .unwrap()
            .to_vec3::<f64>()
            .unwrap();
        for b in 0..2 {
            for j in 0..3 {
                for c in 0..3 {
                    let m = (0..4).map(|q| xs[b][4 * j + q][c]).fold(f64::MIN, f64::max);
                    assert_eq!(y[b][j][c], (m + bs[c]).max(0.0));
                }
            }
        }
    }

    #[test]
    fn convolution_fused_with_pooling_bias_and_relu() {
        // 3 tracks of 14 frames, kernel 4: 11 output frames, so widths 2 and 4 drop frames at
        // the end and the GEMM rows straddling two tracks must get no gradient.
        let x = var(&[3, 14, 5], -1.0..1.0, 11);
        let w = var(&[4, 5, 6], -1.0..1.0, 12);
        let bias = var(&[6], -0.3..0.3, 13);
        for width in [1, 2, 4] {
            let f = || weighted_sum(&conv_pool_bias_relu(&x, &w, &bias, width).unwrap(), 14);
            check(&[("x", &x), ("w", &w), ("bias", &bias)], f, 1000);
            // The forward value by the definition: max over the window of the convolution
            // y[b,t,o] = Σ_{k,c} w[k,c,o] x[b,t+k,c], plus the bias, then ReLU.
            let got = conv_pool_bias_relu(&x, &w, &bias, width)
                .unwrap()
                .to_vec3::<f64>()
                .unwrap();
            let xs = x.as_tensor().to_vec3::<f64>().unwrap();
            let ws = w.as_tensor().to_vec3::<f64>().unwrap();
            let bs = bias.as_tensor().to_vec1::<f64>().unwrap();
            assert_eq!(got[0].len(), 11 / width);
            for (b, track) in got.iter().enumerate() {
                for (j, row) in track.iter().enumerate() {
                    for (o, &value) in row.iter().enumerate() {
                        let conv = |t: usize| -> f64 {
                            (0..4)
                                .flat_map(|k| (0..5).map(move |c| (k, c)))
                                .map(|(k, c)| ws[k][c][o] * xs[b][t + k][c])
                                .sum()
                        };
                        let m = (0..width)
                            .map(|q| conv(j * width + q))
                            .fold(f64::MIN, f64::max);
                        assert!((value - (m + bs[o]).max(0.0)).abs() < 1e-12);
                    }
                }
            }
        }
    }

    #[test]
    fn global_pooling_with_an_all_zero_channel() {
        // Channel 1 is negative everywhere, so all zero after ReLU: L2 pooling must not give
        // NaN gradients there (the epsilon), and max pooling's ties must not leak gradient.
        let mut values = uniform(&[2, 7, 3], 0.1..1.0, 6).to_vec3::<f64>().unwrap();
        for frames in &mut values {
            for frame in frames.iter_mut() {
                frame[1] = -frame[1];
            }
        }
        let flat: Vec<f64> = values.into_iter().flatten().flatten().collect();
        let x =
            Var::from_tensor(&Tensor::from_vec(flat, (2, 7, 3), &Device::Cpu).unwrap()).unwrap();
        let f = || weighted_sum(&global_pool(&x.as_tensor().relu().unwrap()).unwrap(), 7);
        let grad = f().backward().unwrap();
        let grad = grad
            .get(x.as_tensor())
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f64>()
            .unwrap();
        assert!(grad.iter().all(|g| g.is_finite()));
        check(&[("x", &x)], f, 1000);
        // Mean, max and L2 of a positive channel by hand, in that order.
        let pooled = global_pool(&x.as_tensor().relu().unwrap())
            .unwrap()
            .to_vec2::<f64>()
            .unwrap();
        let channel: Vec<f64> = x.as_tensor().to_vec3::<f64>().unwrap()[0]
            .iter()
            .map(|f| f[2])
            .collect();
        let mean = channel.iter().sum::<f64>() / 7.0;
        let max = channel.iter().fold(0.0f64, |m, &v| m.max(v));
        let l2 = channel.iter().map(|v| v * v).sum::<f64>().sqrt();
        assert!((pooled[0][2] - mean).abs() < 1e-12);
        assert!((pooled[0][3 + 2] - max).abs() < 1e-12);
        assert!((pooled[0][6 + 2] - l2).abs() < 1e-9);
        assert!(
            pooled[0][6 + 1].abs() < 1e-5,
            "L2 of the zero channel is sqrt(epsilon)"
        );
    }

    #[test]
    fn dense_layers_and_relu() {
        let x = var(&[3, 5], -1.0..1.0, 8);
        let w = var(&[4, 5], -1.0..1.0, 9);
        let b = var(&[4], -1.0..1.0, 10);
        for relu in [false, true] {
            check(
                &[("x", &x), ("w", &w), ("b", &b)],
                || weighted_sum(&dense(&x, &w, &b, relu).unwrap(), 11),
                1000,
            );
            // The forward value by the definition y[i, o] = Σ_j x[i, j] w[o, j] + b[o].
            let y = dense(&x, &w, &b, relu).unwrap().to_vec2::<f64>().unwrap();
            let (xs, ws) = (
                x.as_tensor().to_vec2::<f64>().unwrap(),
                w.as_tensor().to_vec2::<f64>().unwrap(),
            );
            let bs = b.as_tensor().to_vec1::<f64>().unwrap();
            let mut active = 0;
            for i in 0..3 {
                for o in 0..4 {
                    let v: f64 = (0..5).map(|j| xs[i][j] * ws[o][j]).sum::<f64>() + bs[o];
                    let want = if relu { v.max(0.0) } else { v };
                    assert!((y[i][o] - want).abs() < 1e-12);
                    active += usize::from(v > 0.0);
                }
            }
            assert!(
                active > 0 && active < 12,
                "both sides of the ReLU are exercised"
            );
        }
        // ReLU away from its kink.
        let mut values = uniform(&[20], 0.05..1.0, 12).to_vec1::<f64>().unwrap();
        values.iter_mut().step_by(2).for_each(|v| *v = -*v);
        let z = Var::from_tensor(&Tensor::new(values.as_slice(), &Device::Cpu).unwrap()).unwrap();
        check(
            &[("z", &z)],
            || weighted_sum(&z.as_tensor().relu().unwrap(), 13),
            1000,
        );
    }

    #[test]
    fn losses() {
        let prediction = var(&[3, 4], -1.0..1.0, 14);
        let target = uniform(&[3, 4], -1.0..1.0, 15);
        check(
            &[("prediction", &prediction)],
            || mse_loss(&prediction, &target).unwrap(),
            1000,
        );

        let users = uniform(&[6, 4], -1.0..1.0, 16);
        let gram = users.t().unwrap().matmul(&users).unwrap();
        let rows = Tensor::new(&[0u32, 0, 2, 1], &Device::Cpu).unwrap();
        let user_rows = Tensor::new(&[1u32, 4, 2, 5], &Device::Cpu).unwrap();
        let plays = WpeBatch {
            rows,
            user_factors: users.index_select(&user_rows, 0).unwrap(),
            confidences: Tensor::new(&[3.0f64, 28.6, 1.5, 9.0], &Device::Cpu).unwrap(),
        };
        check(
            &[("prediction", &prediction)],
            || wpe_loss(&prediction, &gram, &plays, 6).unwrap(),
            1000,
        );
    }

    #[test]
    fn whole_network_with_dropout() {
        // Every parameter of a small network, through all layers, the dropout masks and the
        // loss, in float64.
        let config = ConvnetConfig {
            n_mels: 4,
            filters: [3, 3, 4, 4],
            pools: [4, 2, 2],
            dense: vec![5, 5],
            factors: 3,
        };
        let mut weights = ConvnetWeights::init(&config, 17);
        let mut r = rng(18);
        for layer in weights
            .convs
            .iter_mut()
            .chain(&mut weights.dense)
            .chain([&mut weights.out])
        {
            layer
                .bias
                .iter_mut()
                .for_each(|b| *b = r.random_range(-0.1..0.1));
        }
        let model = ConvnetModel::from_weights(&weights, DType::F64, &Device::Cpu).unwrap();
        let x = uniform(&[2, 599, 4], -2.0..2.0, 19);
        let masks: Vec<Tensor> = [20, 21]
            .iter()
            .map(|&seed| {
                let u = uniform(&[2, 5], 0.0..1.0, seed);
                u.ge(0.5)
                    .unwrap()
                    .to_dtype(DType::F64)
                    .unwrap()
                    .affine(2.0, 0.0)
                    .unwrap()
            })
            .collect();
        let target = uniform(&[2, 3], -0.5..0.5, 22);
        let f = || {
            let out = model
                .forward_normalised(&x, Some(&masks), false)
                .unwrap()
                .out;
            mse_loss(&out, &target).unwrap()
        };
        let named = model.named_vars();
        let vars: Vec<(&str, &Var)> = named.iter().map(|(n, v)| (n.as_str(), *v)).collect();
        check(&vars, f, 12);
    }
}

// ---------------------------------------------------------------------------------------
// Training on a synthetic problem: which of four mel bands carry energy decides the target.

mod training {
    use std::path::Path;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Mutex;

    use deepcuts::convnet::infer::InferOptions;
    use deepcuts::convnet::train::{
        train, EpochRecord, ExcerptSource, LrSchedule, Objective, SourceError, Split, StopReason,
        TrainError, TrainEvent, TrainJob, TrainOutcome, TrainSettings, WpeTargets, CHECKPOINT_FILE,
        HISTORY_FILE,
    };
    use deepcuts::convnet::{ConvnetConfig, ConvnetWeights, CpuConvnet};
    use ndarray::{Array2, ArrayView2};
    use rand::{Rng, SeedableRng};

    const BANDS: usize = 4;

    fn config() -> ConvnetConfig {
        ConvnetConfig {
            n_mels: 128,
            filters: [8, 8, 16, 16],
            pools: [4, 2, 2],
            dense: vec![32, 32],
            factors: BANDS,
        }
    }

    /// Track i has energy in the bands given by the bits of (i mod 15) + 1.
    fn active(track: usize) -> [bool; BANDS] {
        let bits = track % 15 + 1;
        std::array::from_fn(|band| bits >> band & 1 == 1)
    }

    /// Log-mel excerpts: noise around -60 dB, +30 dB (with a random envelope over time) on
    /// the 32 mel bins of each active band.
    struct Bands {
        tracks: usize,
    }

    impl ExcerptSource for Bands {
        fn n_tracks(&self) -> usize {
            self.tracks
        }

        fn excerpt(&self, track: usize) -> Result<Array2<f32>, SourceError> {
            let mut rng = rand::rngs::StdRng::seed_from_u64(track as u64);
            let bands = active(track);
            let mut excerpt = Array2::zeros((646, 128));
            for mut frame in excerpt.rows_mut() {
                let envelope: f32 = rng.random_range(0.3..1.0);
                for (bin, value) in frame.iter_mut().enumerate() {
                    let loud = bands[bin / 32];
                    *value = -60.0
                        + rng.random_range(-5.0..5.0)
                        + if loud { 30.0 * envelope } else { 0.0 };
                }
            }
            Ok(excerpt)
        }
    }

    /// Band indicators as factor vectors: [tracks, 4].
    fn band_factors(tracks: usize) -> Array2<f32> {
        Array2::from_shape_fn(
            (tracks, BANDS),
            |(t, b)| if active(t)[b] { 1.0 } else { 0.0 },
        )
    }

    fn split(tracks: usize) -> Split {
        Split {
            train: (0..tracks).filter(|t| t % 4 != 0).collect(),
            valid: (0..tracks).filter(|t| t % 4 == 0).collect(),
        }
    }

    fn settings(max_epochs: usize) -> TrainSettings {
        TrainSettings {
            max_epochs,
            batch_size: 16,
            learning_rate: 0.05,
            // Dropout 0.5 slows learning too much for 32-unit layers and a few epochs.
            dropout: 0.2,
            patience: 10,
            seed: 5,
            threads: 2,
            // A short average (~10 steps) for runs of a few dozen steps; resuming must restore it.
            average_decay: 0.9,
            ..TrainSettings::default()
        }
    }

    /// Runs `train`, collecting its events.
    fn run(
        source: &dyn ExcerptSource,
        objective: &Objective,
        settings: &TrainSettings,
        dir: &Path,
        resume: bool,
        cancel_after_epoch: Option<usize>,
    ) -> (Result<TrainOutcome, TrainError>, Vec<TrainEvent>) {
        let cancel = AtomicBool::new(false);
        let events = Mutex::new(Vec::new());
        let job = TrainJob {
            config: &config(),
            settings,
            source,
            objective,
            split: &split(source.n_tracks()),
            out_dir: dir,
            resume,
        };
        let mut progress = |event: TrainEvent| {
            if let TrainEvent::Epoch(EpochRecord { epoch, .. }) = event {
                if Some(epoch) == cancel_after_epoch {
                    cancel.store(true, Ordering::Relaxed);
                }
            }
            events.lock().unwrap().push(event);
        };
        let outcome = train(&job, &mut progress, &cancel);
        (outcome, events.into_inner().unwrap())
    }

    #[test]
    fn training_lowers_the_validation_loss_and_writes_usable_weights() {
        let source = Bands { tracks: 240 };
        let objective = Objective::Mse {
            factors: band_factors(240),
        };
        let dir = tempfile::tempdir().unwrap();
        let (outcome, events) = run(&source, &objective, &settings(10), dir.path(), false, None);
        let outcome = outcome.unwrap();
        let initial = outcome.history[0].valid_loss;
        assert_eq!(outcome.stop, StopReason::MaxEpochs);
        assert_eq!(outcome.history.len(), 11, "epoch 0 and ten epochs");
        // Better than predicting the training set's mean target: the bands were learned.
        let unit = |t: usize| {
            let v: Vec<f64> = active(t)
                .iter()
                .map(|&a| if a { 1.0 } else { 0.0 })
                .collect();
            let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
            v.into_iter().map(move |x| x / norm)
        };
        let (train_tracks, valid_tracks) = (split(240).train, split(240).valid);
        let mut mean = [0.0; BANDS];
        for &t in &train_tracks {
            mean.iter_mut()
                .zip(unit(t))
                .for_each(|(m, v)| *m += v / train_tracks.len() as f64);
        }
        let mean_baseline: f64 = valid_tracks
            .iter()
            .flat_map(|&t| unit(t).zip(mean).map(|(v, m)| (v - m).powi(2)))
            .sum::<f64>()
            / (valid_tracks.len() * BANDS) as f64;
        assert!(
            outcome.best_valid_loss < 0.5 * mean_baseline
                && outcome.best_valid_loss < 0.3 * initial,
            "validation loss {initial} → {} (mean predictor {mean_baseline}): {:?}",
            outcome.best_valid_loss,
            outcome.history
        );
        assert!(events.iter().any(|e| matches!(
            e,
            TrainEvent::Statistics {
                done: 180,
                total: 180
            }
        )));
        assert!(events.iter().any(|e| matches!(
            e,
            TrainEvent::Batch {
                validation: false,
                ..
            }
        )));

        // history.json holds the same records.
        let history: Vec<EpochRecord> =
            serde_json::from_slice(&std::fs::read(dir.path().join(HISTORY_FILE)).unwrap()).unwrap();
        assert_eq!(history.len(), outcome.history.len());
        for (read, kept) in history.iter().zip(&outcome.history) {
            assert_eq!(read.epoch, kept.epoch);
            assert!((read.valid_loss - kept.valid_loss).abs() <= 1e-12 * kept.valid_loss);
        }

        // The input normalisation is the training set's per-bin mean and std (brute force).
        let weights = ConvnetWeights::load(&outcome.weights_path).unwrap();
        let train_tracks = split(240).train;
        for bin in [0, 40, 127] {
            let values: Vec<f64> = train_tracks
                .iter()
                .flat_map(|&t| source.excerpt(t).unwrap().column(bin).to_vec())
                .map(f64::from)
                .collect();
            let mean = values.iter().sum::<f64>() / values.len() as f64;
            let std = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>()
                / values.len() as f64)
                .sqrt();
            assert!((f64::from(weights.input_mean[bin]) - mean).abs() < 1e-3);
            assert!((f64::from(weights.input_std[bin]) - std).abs() < 1e-3);
        }

        // The fast inference path on the saved weights reproduces the best validation loss:
        // the MSE to unit-norm targets of centre crops.
        let net = CpuConvnet::new(&weights, 2).unwrap();
        let valid = split(240).valid;
        let excerpts: Vec<Array2<f32>> =
            valid.iter().map(|&t| source.excerpt(t).unwrap()).collect();
        let views: Vec<ArrayView2<f32>> = excerpts.iter().map(|e| e.view()).collect();
        let predicted = net
            .run_excerpts(&views, InferOptions::default())
            .unwrap()
            .factors;
        let mut squared_error = 0.0;
        for (row, &track) in predicted.rows().into_iter().zip(&valid) {
            let target: Vec<f64> = active(track)
                .iter()
                .map(|&a| if a { 1.0 } else { 0.0 })
                .collect();
            let norm = target.iter().map(|v| v * v).sum::<f64>().sqrt();
            for (p, t) in row.iter().zip(&target) {
                squared_error += (f64::from(*p) - t / norm).powi(2);
            }
        }
        let mse = squared_error / (valid.len() * BANDS) as f64;
        assert!(
            (mse - outcome.best_valid_loss).abs() < 1e-4 * outcome.best_valid_loss.max(1e-3),
            "inference MSE {mse} vs training's validation loss {}",
            outcome.best_valid_loss
        );
    }

    #[test]
    fn a_cancelled_run_resumes_to_the_same_result() {
        let source = Bands { tracks: 96 };
        let objective = Objective::Mse {
            factors: band_factors(96),
        };
        // Masks and a schedule too: a resumed run replays the same masks and learning rates.
        let settings = TrainSettings {
            masks: 1,
            schedule: LrSchedule::Cosine,
            ..settings(3)
        };
        let straight = tempfile::tempdir().unwrap();
        let (whole, _) = run(&source, &objective, &settings, straight.path(), false, None);
        let whole = whole.unwrap();

        let interrupted = tempfile::tempdir().unwrap();
        let (first, _) = run(
            &source,
            &objective,
            &settings,
            interrupted.path(),
            false,
            Some(1),
        );
        let first = first.unwrap();
        assert_eq!(first.stop, StopReason::Cancelled);
        assert_eq!(
            first.history.len(),
            2,
            "epoch 0 and epoch 1 finished before the cancel"
        );
        assert!(interrupted.path().join(CHECKPOINT_FILE).exists());
        let (second, events) = run(
            &source,
            &objective,
            &settings,
            interrupted.path(),
            true,
            None,
        );
        let second = second.unwrap();
        assert!(
            !events
                .iter()
                .any(|e| matches!(e, TrainEvent::Statistics { .. })),
            "statistics come from the checkpoint"
        );
        assert_eq!(second.stop, StopReason::MaxEpochs);
        let losses = |o: &TrainOutcome| o.history.iter().map(|r| r.valid_loss).collect::<Vec<_>>();
        let (a, b) = (losses(&whole), losses(&second));
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() <= 1e-6 * x.abs(), "{a:?} vs {b:?}");
        }
        let wa = ConvnetWeights::load(&whole.weights_path).unwrap();
        let wb = ConvnetWeights::load(&second.weights_path).unwrap();
        for ((sa, da), (_, db)) in wa.tensors().into_iter().zip(wb.tensors()) {
            let worst = da
                .iter()
                .zip(db)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0f32, f32::max);
            assert!(worst <= 1e-5, "{}: differs by {worst}", sa.name);
        }
    }

    #[test]
    fn the_cosine_schedule_halves_the_rate_midway_and_nears_zero_at_the_end() {
        let cosine = TrainSettings {
            learning_rate: 0.8,
            max_epochs: 10,
            schedule: LrSchedule::Cosine,
            ..TrainSettings::default()
        };
        // Epoch e is (e - 1)/10 of the way: 0.4·(1 + cos(π·(e - 1)/10)).
        assert_eq!(cosine.learning_rate_at(1), 0.8);
        assert!((cosine.learning_rate_at(6) - 0.4).abs() < 1e-12);
        let last = 0.4 * (1.0 - (0.1 * std::f64::consts::PI).cos());
        assert!((cosine.learning_rate_at(10) - last).abs() < 1e-12);
        assert!(last < 0.02);
        let rates: Vec<f64> = (1..=10).map(|e| cosine.learning_rate_at(e)).collect();
        assert!(rates.windows(2).all(|w| w[1] < w[0]), "{rates:?}");
        let constant = TrainSettings {
            schedule: LrSchedule::Constant,
            ..cosine
        };
        assert!((1..=12).all(|e| constant.learning_rate_at(e) == 0.8));
    }

    #[test]
    fn a_run_without_a_weight_average_resumes_with_one_started_at_its_weights() {
        let source = Bands { tracks: 96 };
        let objective = Objective::Mse {
            factors: band_factors(96),
        };
        let dir = tempfile::tempdir().unwrap();
        let plain = TrainSettings {
            average_decay: 0.0,
            ..settings(1)
        };
        let (first, _) = run(&source, &objective, &plain, dir.path(), false, None);
        assert_eq!(first.unwrap().history.len(), 2);
        let (second, _) = run(&source, &objective, &settings(2), dir.path(), true, None);
        let second = second.unwrap();
        assert_eq!(
            second.history.len(),
            3,
            "epochs 0 and 1 kept, epoch 2 trained"
        );
        // Epoch 2 validates the average, started at epoch 1's weights: finite and comparable.
        let (one, two) = (second.history[1].valid_loss, second.history[2].valid_loss);
        assert!(two.is_finite() && two < 2.0 * one, "{one} → {two}");
    }

    /// Bands, with some tracks broken.
    struct Broken(Bands);

    impl ExcerptSource for Broken {
        fn n_tracks(&self) -> usize {
            self.0.n_tracks()
        }

        fn excerpt(&self, track: usize) -> Result<Array2<f32>, SourceError> {
            match track {
                3 => Err("feature file truncated".into()),
                5 => {
                    let mut e = self.0.excerpt(track)?;
                    e[[10, 20]] = f32::NAN;
                    Ok(e)
                }
                8 => Ok(Array2::zeros((100, 128))),
                _ => self.0.excerpt(track),
            }
        }
    }

    #[test]
    fn broken_excerpts_are_skipped_and_reported() {
        let source = Broken(Bands { tracks: 48 });
        let objective = Objective::Mse {
            factors: band_factors(48),
        };
        let dir = tempfile::tempdir().unwrap();
        let (outcome, events) = run(&source, &objective, &settings(2), dir.path(), false, None);
        let outcome = outcome.unwrap();
        let mut skipped: Vec<(usize, String)> = outcome
            .skipped
            .iter()
            .map(|s| (s.track, s.reason.clone()))
            .collect();
        skipped.sort();
        assert_eq!(skipped.len(), 3, "{skipped:?}");
        assert!(skipped[0].0 == 3 && skipped[0].1.contains("truncated"));
        assert!(skipped[1].0 == 5 && skipped[1].1.contains("NaN"));
        assert!(skipped[2].0 == 8 && skipped[2].1.contains("shape"));
        assert_eq!(
            events
                .iter()
                .filter(|e| matches!(e, TrainEvent::Skipped(_)))
                .count(),
            3
        );
        assert_eq!(outcome.history.len(), 3);
    }

    #[test]
    fn wpe_objective_trains() {
        // Users like bands: user u's factors are one-hot on band u % 4, and u played every
        // track with energy in that band, with counts 1..=3.
        let tracks = 96;
        let users = 8;
        let user_factors =
            Array2::from_shape_fn(
                (users, BANDS),
                |(u, b)| if u % BANDS == b { 1.0 } else { 0.0 },
            );
        let plays = (0..tracks)
            .map(|t| {
                (0..users)
                    .filter(|&u| active(t)[u % BANDS])
                    .map(|u| (u as u32, (1 + (t + u) % 3) as f32))
                    .collect()
            })
            .collect();
        let objective = Objective::Wpe(WpeTargets {
            user_factors,
            plays,
            alpha: 2.0,
            epsilon: 1e-6,
        });
        let dir = tempfile::tempdir().unwrap();
        let settings = TrainSettings {
            learning_rate: 0.002,
            ..settings(4)
        };
        let (outcome, _) = run(
            &Bands { tracks },
            &objective,
            &settings,
            dir.path(),
            false,
            None,
        );
        let outcome = outcome.unwrap();
        let initial = outcome.history[0].valid_loss;
        assert!(
            outcome.best_valid_loss < 0.5 * initial,
            "{:?}",
            outcome.history
        );
    }

    #[test]
    fn early_stopping_when_validation_does_not_improve() {
        // A learning rate so small that no weight changes: the validation loss never improves.
        let source = Bands { tracks: 32 };
        let objective = Objective::Mse {
            factors: band_factors(32),
        };
        let dir = tempfile::tempdir().unwrap();
        let settings = TrainSettings {
            learning_rate: 1e-30,
            patience: 2,
            ..settings(10)
        };
        let (outcome, _) = run(&source, &objective, &settings, dir.path(), false, None);
        let outcome = outcome.unwrap();
        assert_eq!(outcome.stop, StopReason::EarlyStopped);
        assert_eq!(outcome.best_epoch, 0);
        assert_eq!(
            outcome.history.len(),
            3,
            "epoch 0, then two without improvement"
        );
    }

    #[test]
    fn bad_inputs_are_refused_with_a_reason() {
        let source = Bands { tracks: 16 };
        let dir = tempfile::tempdir().unwrap();
        let wrong_width = Objective::Mse {
            factors: Array2::zeros((16, 3)),
        };
        let (result, _) = run(&source, &wrong_width, &settings(1), dir.path(), false, None);
        assert!(matches!(result, Err(TrainError::Invalid(m)) if m.contains("[16, 4]")));

        let objective = Objective::Mse {
            factors: band_factors(16),
        };
        let job_split = Split {
            train: vec![0, 99],
            valid: vec![1],
        };
        let job = TrainJob {
            config: &config(),
            settings: &settings(1),
            source: &source,
            objective: &objective,
            split: &job_split,
            out_dir: dir.path(),
            resume: false,
        };
        let result = train(&job, &mut |_| {}, &AtomicBool::new(false));
        assert!(matches!(result, Err(TrainError::Invalid(m)) if m.contains("track 99")));

        // A checkpoint of another config is not resumed.
        run(&source, &objective, &settings(1), dir.path(), false, None)
            .0
            .unwrap();
        let other = ConvnetConfig {
            dense: vec![16, 32],
            ..config()
        };
        let job = TrainJob {
            config: &other,
            resume: true,
            split: &split(16),
            ..job
        };
        let result = train(&job, &mut |_| {}, &AtomicBool::new(false));
        assert!(
            matches!(result, Err(TrainError::CheckpointMismatch { .. })),
            "{result:?}"
        );
    }
}

//! The convnet against PyTorch (tests/data/convnet, made by reference.py) and against finite
//! differences, and training on a synthetic problem.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failed unwrap is a failed test with a backtrace"
)]

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use deepcuts::convnet::bench::random_crops;
use deepcuts::convnet::{ConvnetConfig, ConvnetModel, ConvnetWeights, CpuConvnet, InferOptions};
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

#[test]
fn fast_cpu_path_matches_pytorch() {
    let input = read_finite_f32::<ndarray::Ix3>(&data("input.npy")).unwrap();
    for config in ["tiny", "small"] {
        let weights = ConvnetWeights::load(&data(&format!("{config}.safetensors"))).unwrap();
        for threads in [1, 2, 3] {
            let net = CpuConvnet::new(&weights, threads).unwrap();
            let options = InferOptions {
                conv1: true,
                conv1_stats: true,
            };
            let outputs = net.run(input.view(), options).unwrap();
            let label = |what: &str| format!("cpu {config} {threads} threads {what}");
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

            // Summaries against the reference activations: max, mean and the frame of the max.
            let stats = outputs.conv1_stats.unwrap();
            let conv1 = conv1.into_dimensionality::<ndarray::Ix3>().unwrap();
            let max = conv1.map_axis(ndarray::Axis(2), |row| row.fold(0.0f32, |m, &v| m.max(v)));
            let mean = conv1.mean_axis(ndarray::Axis(2)).unwrap();
            assert_close(
                &label("conv1 max"),
                &stats.max.into_dyn(),
                &max.clone().into_dyn(),
            );
            assert_close(
                &label("conv1 mean"),
                &stats.mean.into_dyn(),
                &mean.into_dyn(),
            );
            for ((track, filter), &peak) in stats.peak_frame.indexed_iter() {
                let at_peak = conv1[[track, filter, peak as usize]];
                assert!(
                    (at_peak - max[[track, filter]]).abs() <= 1e-4 * max[[track, filter]].max(1e-3)
                );
            }
        }
    }
}

#[test]
fn fast_cpu_path_matches_candle_in_f64_on_the_paper_config() {
    // No PyTorch vectors exist for the paper sizes (wider layers, more accumulation): the
    // candle model's direct convolution in f64 is the reference.
    let config = ConvnetConfig::paper();
    let mut weights = ConvnetWeights::init(&config, 3);
    weights.input_mean = (0..128).map(|i| -45.0 + 0.1 * i as f32).collect();
    weights.input_std = (0..128).map(|i| 20.0 + 0.05 * i as f32).collect();
    for layer in weights.convs.iter_mut().chain(&mut weights.dense) {
        for (i, b) in layer.bias.iter_mut().enumerate() {
            *b = 0.01 * ((i % 7) as f32 - 3.0);
        }
    }
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

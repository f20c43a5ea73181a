//! The convnet against PyTorch (tests/data/convnet, made by reference.py) and against finite
//! differences, and training on a synthetic problem.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failed unwrap is a failed test with a backtrace"
)]

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use deepcuts::convnet::{ConvnetModel, ConvnetWeights, CpuConvnet, InferOptions};
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

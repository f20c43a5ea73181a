//! The convnet that predicts a track's CF factors from its log-mel excerpt (DESIGN.md):
//! configuration, weights files, a candle model for training, a fast CPU inference path,
//! one inference interface over it and the GPU path (`crate::gpu`), and training.

mod augment;
pub mod bench;
pub mod config;
pub mod conv_block;
mod cpu_storage;
pub mod dense;
pub mod engine;
pub mod infer;
pub mod loss;
pub mod matmul;
pub mod model;
pub mod optimiser;
pub mod pooling;
pub mod temporal_conv;
pub mod threads;
pub mod train;
pub mod weight_average;
pub mod weights;
pub mod winograd;

pub use config::ConvnetConfig;
pub use engine::{InferDevice, InferEngine, Pending};
pub use infer::{CpuConvnet, InferOptions, InferOutputs};
pub use model::ConvnetModel;
pub use threads::init_threads;
pub use weights::ConvnetWeights;

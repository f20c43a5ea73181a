//! `deepcuts devices`: the GPU adapters wgpu sees, in the order `--device gpu` tries them,
//! and what `--device auto` would pick (library: `gpu::adapter`).

use super::Outcome;
use crate::gpu::list_adapters;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<Outcome> {
    let adapters = list_adapters();
    if adapters.is_empty() {
        println!("no GPU adapters (is a Vulkan driver installed?); inference runs on the CPU");
        return Ok(Outcome::Success);
    }
    for (index, summary) in adapters.iter().enumerate() {
        println!("{index}: {summary}, driver {}", summary.driver);
    }
    // The list is in `--device gpu`'s order, so `auto` takes its first unless it is software.
    let auto = match &adapters[0] {
        fastest if !fastest.is_software() => format!("{} (gpu)", fastest.name),
        _ => "the CPU (only software adapters; --device gpu or gpu:NAME uses them)".into(),
    };
    println!("--device auto runs on {auto}");
    Ok(Outcome::Success)
}

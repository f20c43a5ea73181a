//! `deepcuts filters`: the first-layer filters as a PNG in the seed's colours; library:
//! `analysis::filters`.

use std::path::PathBuf;

use super::Outcome;
use crate::analysis::describe::filters_by_selectivity;
use crate::analysis::filters::render;
use crate::analysis::names::Names;
use crate::analysis::playlists::Activations;
use crate::analysis::results::{Conv1Weights, ProjectResults};
use crate::convnet::ConvnetWeights;
use crate::project::{layout, Project};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The project folder.
    dir: PathBuf,
    /// The weights (default: the project's model/weights.safetensors).
    #[arg(long)]
    model: Option<PathBuf>,
    /// The PNG to write.
    #[arg(long)]
    out: PathBuf,
    /// Draw only this filter, enlarged.
    #[arg(long, value_name = "K")]
    filter: Option<usize>,
    /// Pixels per weight (default: 2 for all filters, 8 for one).
    #[arg(long, value_name = "PX")]
    scale: Option<usize>,
    /// Left to right by filter index, or most selective first (the naming help's score of
    /// each filter's max-activation playlist; needs predictions).
    #[arg(long, value_enum, default_value_t = Order::Index)]
    order: Order,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Order {
    Index,
    Selectivity,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let (weights, order) = match args.order {
        // The index order needs only the weights, so it works before any prediction.
        Order::Index => {
            let path = match &args.model {
                Some(path) => path.clone(),
                None => Project::open(&args.dir)?
                    .layout()
                    .path(layout::MODEL_WEIGHTS),
            };
            let weights = Conv1Weights::from_weights(&ConvnetWeights::load(&path)?)?;
            let order: Vec<usize> = (0..weights.filters).collect();
            (weights, order)
        }
        Order::Selectivity => {
            let results = ProjectResults::open_dir(&args.dir)?;
            let weights = results.conv1_weights(args.model.as_deref())?;
            let activations = Activations::load(&results)?;
            let names = Names::load(&args.dir)?;
            let order = filters_by_selectivity(&results, &activations, &names, 10)?;
            (weights, order)
        }
    };
    let (order, default_scale) = match args.filter {
        Some(k) => {
            anyhow::ensure!(
                k < weights.filters,
                "filter {k} is out of range: the network has {} conv1 filters (0 to {})",
                weights.filters,
                weights.filters.saturating_sub(1)
            );
            (vec![k], 8)
        }
        None => (order, 2),
    };
    let image = render(&weights, &order, args.scale.unwrap_or(default_scale));
    image.write_png(&args.out)?;
    println!(
        "wrote {} ({} × {} px, {} filter{} of {} mel bands × {} frames)",
        args.out.display(),
        image.width,
        image.height,
        order.len(),
        if order.len() == 1 { "" } else { "s" },
        weights.n_mels,
        weights.frames
    );
    Ok(Outcome::Success)
}

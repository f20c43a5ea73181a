//! `deepcuts playlist` (activation and similarity playlists as JSON + M3U8) and `deepcuts
//! describe` (naming help); library: `analysis::playlists`, `playlist_files`, `describe`.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use anyhow::Context;

use super::{interrupt, Outcome};
use crate::analysis::describe::{describe, ranking_tsv, Background, Description, Selectivity};
use crate::analysis::names::Names;
use crate::analysis::playlist_files::{write_playlists, PLAYLISTS_DIR};
use crate::analysis::playlists::{all_playlists, playlist, Activations, Playlist, PlaylistQuery};
use crate::analysis::regions::MapRegion;
use crate::analysis::results::{Candidates, FilterStat, ProjectResults};
use crate::analysis::tsne::stage::MapOf;

/// What to rank: exactly one of a filter, a unit, a track's neighbours or everything.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
pub struct Target {
    /// A conv1 filter: the tracks that excite it most (`--by max|mean`).
    #[arg(long, value_name = "K")]
    filter: Option<usize>,
    /// An fc2 unit: the tracks that excite it most.
    #[arg(long, value_name = "U")]
    unit: Option<usize>,
    /// A track id: the tracks nearest it by cosine of predicted factors, it first.
    #[arg(long, value_name = "TRACK")]
    similar: Option<u32>,
    /// A region of the t-SNE map (`--of` says which): `X,Y X,Y` opposite corners of a box, or
    /// three or more vertices of a polygon; the tracks inside, the most typical first (cosine
    /// to the region's mean predicted factors). -k caps the list.
    #[arg(long, value_name = "VERTICES", allow_hyphen_values = true)]
    region: Option<String>,
    /// Every filter both ways and every unit.
    #[arg(long)]
    all: bool,
}

#[derive(Debug, clap::Args)]
pub struct PlaylistArgs {
    /// The project folder (with predictions: `deepcuts predict`).
    dir: PathBuf,
    #[command(flatten)]
    target: Target,
    /// For filters: rank by the maximum over time (it fired) or the mean (it stays active).
    #[arg(long, value_enum, default_value_t = FilterStat::Max)]
    by: FilterStat,
    /// Tracks per playlist.
    #[arg(short, default_value_t = 10)]
    k: usize,
    /// Draw from every track with a prediction, or only the test split (as the seed did).
    #[arg(long, value_enum, default_value_t = Candidates::All)]
    from: Candidates,
    /// With --region: the map it is drawn on.
    #[arg(long, value_enum, default_value_t = MapOf::Predicted)]
    of: MapOf,
    /// File name in playlists/ (default: filter-K-max, unit-U, similar-TRACK,
    /// region-MAP-HASH).
    #[arg(long)]
    out: Option<String>,
    /// With --all: also render the demo tracks the playlists list as WAV files (a single
    /// playlist always renders its few).
    #[arg(long)]
    render_demo_audio: bool,
}

#[derive(Debug, clap::Args)]
pub struct DescribeArgs {
    /// The project folder (with predictions: `deepcuts predict`).
    dir: PathBuf,
    #[command(flatten)]
    target: DescribeTarget,
    /// Tracks per playlist.
    #[arg(short, default_value_t = 10)]
    k: usize,
    /// Draw from every track with a prediction, or only the test split.
    #[arg(long, value_enum, default_value_t = Candidates::All)]
    from: Candidates,
}

/// What to describe: a filter (both playlists), a unit or everything.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
pub struct DescribeTarget {
    #[arg(long, value_name = "K")]
    filter: Option<usize>,
    #[arg(long, value_name = "U")]
    unit: Option<usize>,
    /// Every filter and unit, ranked by selectivity into analysis/describe.tsv.
    #[arg(long)]
    all: bool,
}

pub fn playlist_command(args: PlaylistArgs) -> anyhow::Result<Outcome> {
    let results = ProjectResults::open_dir(&args.dir)?;
    let target = &args.target;
    let query = match (target.filter, target.unit, target.similar, &target.region) {
        (Some(filter), ..) => Some(PlaylistQuery::Filter {
            filter,
            stat: args.by,
        }),
        (_, Some(unit), ..) => Some(PlaylistQuery::Unit { unit }),
        (_, _, Some(track), _) => Some(PlaylistQuery::Similar { track }),
        (.., Some(region)) => Some(PlaylistQuery::Region(
            MapRegion::parse(args.of, region).context("--region")?,
        )),
        _ => None,
    };
    // Check the query before loading hundreds of MB of activations.
    match &query {
        Some(PlaylistQuery::Filter { filter, .. }) => results.check_filter(*filter),
        Some(PlaylistQuery::Unit { unit }) => results.check_unit(*unit),
        Some(PlaylistQuery::Similar { track }) => results.predicted_track(*track).map(|_| ()),
        Some(PlaylistQuery::Region(region)) => results.map(region.of).map(|_| ()),
        None => Ok(()),
    }?;
    let activations = Activations::load(&results)?;
    let cancel = interrupt::cancel_flag();
    let dir = args.dir.join(PLAYLISTS_DIR);
    let (named, render): (Vec<(String, Playlist)>, bool) = match query {
        Some(query) => {
            let name = args.out.clone().unwrap_or_else(|| query.file_stem());
            let list = playlist(&results, &activations, query, args.from, args.k)?;
            print_playlist(&results, &list);
            (vec![(name, list)], true)
        }
        None => {
            let lists = all_playlists(&results, &activations, args.from, args.k, cancel)?;
            let named = lists
                .into_iter()
                .map(|p| (p.query.file_stem(), p))
                .collect();
            (named, args.render_demo_audio)
        }
    };
    let report = write_playlists(&results, &dir, &named, render, cancel)?;
    if target.all {
        write_index(&dir, &named)?;
        println!(
            "wrote {} playlists ({} files) and index.tsv to {}",
            named.len(),
            report.files.len(),
            dir.display()
        );
    } else {
        for file in &report.files {
            println!("wrote {}", file.display());
        }
    }
    if report.rendered > 0 {
        println!(
            "rendered {} demo tracks into {}/audio",
            report.rendered,
            dir.display()
        );
    }
    if report.unrendered > 0 {
        println!(
            "{} demo tracks listed are not rendered yet: add --render-demo-audio to write their WAV files",
            report.unrendered
        );
    }
    Ok(Outcome::Success)
}

/// `playlists/index.tsv`: one line per playlist written by `--all`.
fn write_index(dir: &Path, named: &[(String, Playlist)]) -> anyhow::Result<()> {
    let mut text = String::from("name\tkind\tindex\ttitle\ttracks\n");
    for (name, list) in named {
        text.push_str(&format!(
            "{name}\t{}\t{}\t{}\t{}\n",
            list.query.kind(),
            serde_json::to_string(&list.query.json())?,
            list.query.title(),
            list.entries.len()
        ));
    }
    let path = dir.join("index.tsv");
    crate::io::atomic::write_bytes_atomic(&path, text.as_bytes())
        .with_context(|| format!("{}: cannot write", path.display()))
}

fn print_playlist(results: &ProjectResults, list: &Playlist) {
    println!("{}:", list.query.title());
    for (rank, entry) in list.entries.iter().enumerate() {
        let track = &results.tracks[entry.id as usize];
        let peak = entry
            .peak_secs
            .map(|s| format!("  peak {}:{:05.2}", (s / 60.0).floor(), s % 60.0))
            .unwrap_or_default();
        println!(
            "{:>3}. {:>6}  {:>9.4}{peak}  {} - {}  [{}]",
            rank + 1,
            entry.id,
            entry.score,
            track.artist,
            track.title,
            track.tags.join(", ")
        );
    }
}

pub fn describe_command(args: DescribeArgs) -> anyhow::Result<Outcome> {
    let results = ProjectResults::open_dir(&args.dir)?;
    let target = &args.target;
    let queries: Vec<PlaylistQuery> = match (target.filter, target.unit) {
        (Some(filter), _) => {
            results.check_filter(filter)?;
            FilterStat::ALL
                .iter()
                .map(|&stat| PlaylistQuery::Filter { filter, stat })
                .collect()
        }
        (_, Some(unit)) => {
            results.check_unit(unit)?;
            vec![PlaylistQuery::Unit { unit }]
        }
        _ => Vec::new(),
    };
    let activations = Activations::load(&results)?;
    let names = Names::load(&args.dir)?;
    let candidates = results.candidates(args.from)?;
    let background = Background::new(&results, &candidates);
    if target.all {
        let cancel = interrupt::cancel_flag();
        let collection = candidates.len();
        return describe_all(
            &args,
            &results,
            &activations,
            (&background, collection),
            &names,
            cancel,
        );
    }
    for query in queries {
        let list = playlist(&results, &activations, query, args.from, args.k)?;
        print_description(&describe(&results, &list, &background, &names));
    }
    Ok(Outcome::Success)
}

fn describe_all(
    args: &DescribeArgs,
    results: &ProjectResults,
    activations: &Activations,
    (background, collection): (&Background, usize),
    names: &Names,
    cancel: &AtomicBool,
) -> anyhow::Result<Outcome> {
    let lists = all_playlists(results, activations, args.from, args.k, cancel)?;
    let descriptions: Vec<Description> = lists
        .iter()
        .map(|list| describe(results, list, background, names))
        .collect();
    let path = args.dir.join("analysis/describe.tsv");
    crate::io::atomic::write_bytes_atomic(&path, ranking_tsv(&descriptions).as_bytes())
        .with_context(|| format!("{}: cannot write", path.display()))?;
    let of_kind = |kind: &str| {
        Selectivity::count(descriptions.iter().filter(move |d| d.query.kind() == kind))
    };
    println!(
        "top-{} playlists from {} tracks; ≥ {:.0}% one label; low-level = ≥ {:.0}% one trait ({:.0} points above the collection) across ≥ {} styles",
        args.k,
        collection,
        Selectivity::SHARE * 100.0,
        Selectivity::SHARE * 100.0,
        Selectivity::LOW_LEVEL_ABOVE_CHANCE * 100.0,
        Selectivity::LOW_LEVEL_STYLES
    );
    println!("playlists         count  one style or trait  one style  low-level");
    for (label, kind) in [
        ("conv1 filter max", "filter-max"),
        ("conv1 filter mean", "filter-mean"),
        ("fc2 unit", "unit"),
    ] {
        let s = of_kind(kind);
        println!(
            "{label:<17} {:>5}  {:>18}  {:>9}  {:>9}",
            s.playlists, s.one_style_or_trait, s.one_style, s.low_level
        );
    }
    println!("wrote {} (most selective first)", path.display());
    Ok(Outcome::Success)
}

fn print_description(description: &Description) {
    let name = description
        .name
        .as_deref()
        .map(|n| format!(" \"{n}\""))
        .unwrap_or_default();
    println!(
        "{}{name}: {} styles",
        description.query.title(),
        description.styles
    );
    for facet in &description.facets {
        let labels: Vec<String> = facet
            .labels
            .iter()
            .take(4)
            .map(|l| {
                format!(
                    "{} {:.0}% (collection {:.0}%, selectivity {:.2})",
                    l.label,
                    l.share * 100.0,
                    l.background * 100.0,
                    l.selectivity
                )
            })
            .collect();
        if !labels.is_empty() {
            println!("  {:<7} {}", facet.facet.name(), labels.join("; "));
        }
    }
    if let Some((facet, top)) = description.top() {
        println!(
            "  most selective: {} `{}` ({:.2})",
            facet.name(),
            top.label,
            top.selectivity
        );
    }
}

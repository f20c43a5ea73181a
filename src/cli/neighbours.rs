//! `deepcuts neighbours` (a track's audio and CF neighbours side by side) and `deepcuts
//! outliers` (CF recommendations whose audio does not fit); library: `analysis::neighbours`,
//! `analysis::outliers`.

use std::path::PathBuf;

use super::Outcome;
use crate::analysis::neighbours::NeighbourIndexes;
use crate::analysis::outliers::{score, Judgement, OutlierData, OutlierQuery, DEFAULT_FLAG_SPREAD};
use crate::analysis::results::ProjectResults;

#[derive(Debug, clap::Args)]
pub struct NeighboursArgs {
    /// The project folder (with predictions; CF neighbours need `deepcuts cf`).
    dir: PathBuf,
    /// The track id.
    track: u32,
    /// Tracks per list, the query included.
    #[arg(short, default_value_t = 10)]
    k: usize,
}

#[derive(Debug, clap::Args)]
pub struct OutliersArgs {
    /// The project folder (with predictions and `deepcuts cf`).
    dir: PathBuf,
    /// A user's top-N CF recommendations (the name in the listening log).
    #[arg(long, conflicts_with = "track")]
    user: Option<String>,
    /// A track's N nearest CF neighbours.
    #[arg(long)]
    track: Option<u32>,
    /// Recommendations per query.
    #[arg(short, default_value_t = 20)]
    k: usize,
    /// Flag an item whose audio similarity lies this many robust standard deviations below
    /// the median of its list.
    #[arg(long, default_value_t = DEFAULT_FLAG_SPREAD)]
    flag_spread: f64,
}

fn line(results: &ProjectResults, id: u32) -> String {
    let track = &results.tracks[id as usize];
    let kind = match track.kind.as_str() {
        "" | "regular" => String::new(),
        kind => format!(" ({kind})"),
    };
    if track.artist.is_empty() {
        format!("{}{kind}", track.title)
    } else {
        format!("{} - {}{kind}", track.artist, track.title)
    }
}

pub fn neighbours(args: NeighboursArgs) -> anyhow::Result<Outcome> {
    let results = ProjectResults::open_dir(&args.dir)?;
    results.predicted_track(args.track)?;
    let indexes = NeighbourIndexes::load(&results)?;
    let lists = indexes.lists(&results, args.track, args.k)?;
    let overlap = lists.overlap();
    println!("query {}: {}", args.track, line(&results, args.track));
    let cf = lists.cf.as_deref().unwrap_or(&[]);
    println!("{:<58} | CF (WMF factors)", "audio (predicted factors)");
    for rank in 1..lists.audio.len().max(cf.len()) {
        let cell = |list: &[(u32, f32)]| match list.get(rank) {
            Some(&(id, score)) => {
                let mark = if overlap.contains(&id) { '*' } else { ' ' };
                let text: String = line(&results, id).chars().take(40).collect();
                format!("{mark}{id:>6} {score:>6.3} {text}")
            }
            None => String::new(),
        };
        println!("{:<58} | {}", cell(&lists.audio), cell(cf));
    }
    match &lists.cf {
        None => {
            println!("(no CF neighbours: the track has no listens, or `deepcuts cf` has not run)")
        }
        Some(_) => println!(
            "overlap (*): {} of {}",
            overlap.len(),
            lists.audio.len().saturating_sub(1)
        ),
    }
    Ok(Outcome::Success)
}

pub fn outliers(args: OutliersArgs) -> anyhow::Result<Outcome> {
    let results = ProjectResults::open_dir(&args.dir)?;
    let data = OutlierData::load(&results)?;
    let query = match (&args.user, args.track) {
        (Some(user), _) => Some(OutlierQuery::User(user.clone())),
        (_, Some(track)) => Some(OutlierQuery::Track(track)),
        _ => None,
    };
    if let Some(query) = query {
        let judgement = data.judge(&results, &query, args.k, args.flag_spread)?;
        match &query {
            OutlierQuery::User(user) => println!("CF recommendations for user {user}:"),
            OutlierQuery::Track(id) => {
                println!("CF neighbours of {id}: {}", line(&results, *id))
            }
        }
        println!("  flag     id  CF score  audio cos  below list  sounds less like it than");
        for judged in &judgement.items {
            println!(
                "  {:<4} {:>6} {:>9.3} {:>10.3} {:>8.1} σ  {:>3.0}% of the collection  {}",
                if judged.flagged { "OUT" } else { "" },
                judged.id,
                judged.cf_score,
                judged.audio_similarity,
                judged.spread_below,
                judged.audio_rank * 100.0,
                line(&results, judged.id)
            );
        }
        return Ok(Outcome::Success);
    }
    evaluate(&args, &results, &data)
}

/// Without a query: how well the audio finds the planted atypical tracks (intros, outros,
/// interludes, covers, remixes) among every regular track's and every user's CF
/// recommendations, against random and popularity rankings.
fn evaluate(
    args: &OutliersArgs,
    results: &ProjectResults,
    data: &OutlierData,
) -> anyhow::Result<Outcome> {
    let planted = |id: u32| !matches!(results.tracks[id as usize].kind.as_str(), "" | "regular");
    anyhow::ensure!(
        results.tracks.iter().any(|t| planted(t.id)),
        "{}: no track has a kind (intro, outro, interlude, cover, remix) to evaluate against; \
         give --user or --track",
        args.dir.display()
    );
    let track_queries: Vec<OutlierQuery> = results
        .tracks
        .iter()
        .filter(|t| !planted(t.id) && results.predicted[t.id as usize] && data.has_listens(t.id))
        .map(|t| OutlierQuery::Track(t.id))
        .collect();
    let user_queries: Vec<OutlierQuery> = data
        .users()
        .into_iter()
        .map(|u| OutlierQuery::User(u.to_owned()))
        .collect();
    println!(
        "precision at the number planted (= recall there) of the atypical tracks among CF top-{}",
        args.k
    );
    println!("queries            lists   items  planted   audio  random  popularity  flagged: precision recall");
    for (label, queries) in [
        ("tracks' neighbours", track_queries),
        ("users' top N", user_queries),
    ] {
        let judgements: Vec<Judgement> = queries
            .iter()
            .filter_map(|q| data.judge(results, q, args.k, args.flag_spread).ok())
            .collect();
        let s = score(&judgements, &planted, &data.popularity);
        println!(
            "{label:<18} {:>5} {:>7} {:>8} {:>7.3} {:>7.3} {:>11.3}  {:>17.3} {:>6.3}",
            s.lists,
            s.items,
            s.planted,
            s.audio,
            s.random,
            s.popularity,
            s.flag_precision,
            s.flag_recall
        );
    }
    Ok(Outcome::Success)
}

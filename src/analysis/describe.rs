//! Naming help: what the tracks of a playlist have in common. For each facet (style, trait,
//! kind, artist) the labels of the playlist's tracks with their share in the playlist, their
//! share in the collection it was drawn from, and a selectivity score; plus the researcher's
//! saved name. Ranking every filter and unit by selectivity shows which ones found something.

use std::collections::HashMap;

use super::names::Names;
use super::playlists::{filter_playlists, Activations, Playlist, PlaylistQuery};
use super::results::{AnalysisError, Candidates, FilterStat, ProjectResults};
use crate::project::Track;

/// A way of labelling tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Facet {
    /// The first tag: the demo world's style, a file's genre.
    Style,
    /// The other tags (the demo world's trait words), without the kind.
    Trait,
    /// The catalog's kind (intro, outro, interlude, cover, remix; empty for regular tracks).
    Kind,
    Artist,
}

impl Facet {
    pub const ALL: [Facet; 4] = [Facet::Style, Facet::Trait, Facet::Kind, Facet::Artist];

    pub fn name(self) -> &'static str {
        match self {
            Facet::Style => "style",
            Facet::Trait => "trait",
            Facet::Kind => "kind",
            Facet::Artist => "artist",
        }
    }

    /// The labels `track` carries in this facet (several for traits).
    pub fn labels(self, track: &Track) -> Vec<&str> {
        match self {
            Facet::Style => track.tags.first().map(String::as_str).into_iter().collect(),
            Facet::Trait => track
                .tags
                .iter()
                .skip(1)
                .map(String::as_str)
                .filter(|tag| *tag != track.kind)
                .collect(),
            Facet::Kind => match track.kind.as_str() {
                "" | "regular" => Vec::new(),
                kind => vec![kind],
            },
            Facet::Artist => (!track.artist.is_empty())
                .then_some(track.artist.as_str())
                .into_iter()
                .collect(),
        }
    }
}

/// How often one label occurs.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelShare {
    pub label: String,
    /// Tracks of the playlist carrying it.
    pub count: usize,
    /// `count` / playlist length.
    pub share: f64,
    /// Its share in the collection the playlist was drawn from.
    pub background: f64,
    /// How far the playlist is above chance in this label: share − background. Near 1 when
    /// every track carries a label that is rare in the collection; near 0 when the playlist
    /// holds it no more often than the collection does, however common it is (a label 93% of
    /// the collection carries scores at most 0.07); negative when the playlist avoids it.
    pub selectivity: f64,
}

/// One facet's labels in a playlist, most frequent first (ties: most selective).
#[derive(Debug, Clone, PartialEq)]
pub struct FacetShares {
    pub facet: Facet,
    pub labels: Vec<LabelShare>,
}

/// Naming help for one playlist.
#[derive(Debug, Clone, PartialEq)]
pub struct Description {
    pub query: PlaylistQuery,
    /// The researcher's name for the filter or unit.
    pub name: Option<String>,
    pub facets: Vec<FacetShares>,
    /// Number of different styles in the playlist.
    pub styles: usize,
}

impl Description {
    /// The most selective style or trait label (what the playlist is most likely about).
    pub fn top(&self) -> Option<(Facet, &LabelShare)> {
        self.facets
            .iter()
            .filter(|f| matches!(f.facet, Facet::Style | Facet::Trait))
            .flat_map(|f| f.labels.iter().map(move |l| (f.facet, l)))
            .max_by(|a, b| {
                a.1.selectivity
                    .total_cmp(&b.1.selectivity)
                    .then(a.1.count.cmp(&b.1.count))
            })
    }

    /// The largest share any one style or trait has in the playlist (the "80% one style or
    /// trait" test).
    pub fn purity(&self) -> f64 {
        self.facets
            .iter()
            .filter(|f| matches!(f.facet, Facet::Style | Facet::Trait))
            .flat_map(|f| f.labels.iter().map(|l| l.share))
            .fold(0.0, f64::max)
    }

    /// The largest share of one style.
    pub fn style_purity(&self) -> f64 {
        self.facet(Facet::Style)
            .and_then(|f| f.labels.first())
            .map_or(0.0, |l| l.share)
    }

    /// Whether the playlist is at least `share` one trait, that many points above the trait's
    /// share in the collection, while spanning at least `styles` styles: a low-level property
    /// found across genres (the seed's first-layer finding). A trait most of the collection
    /// carries (a minor key, vocals) fills a playlist that often by chance, which is no finding.
    pub fn is_low_level(&self, share: f64, above_chance: f64, styles: usize) -> bool {
        self.styles >= styles
            && self.facet(Facet::Trait).is_some_and(|f| {
                f.labels
                    .iter()
                    .any(|l| l.share >= share && l.selectivity >= above_chance)
            })
    }

    pub fn facet(&self, facet: Facet) -> Option<&FacetShares> {
        self.facets.iter().find(|f| f.facet == facet)
    }

    /// The selectivity of the most selective style or trait: how far the playlist is above
    /// chance in what it is most about (−∞ for an empty playlist).
    pub fn selectivity(&self) -> f64 {
        self.top().map_or(f64::NEG_INFINITY, |(_, l)| l.selectivity)
    }
}

/// Positions in `descriptions`, most selective first (ties: earlier first): the order
/// filters and units are ranked in by the CLI and the app.
pub fn order_by_selectivity(descriptions: &[Description]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..descriptions.len()).collect();
    order.sort_by(|&a, &b| {
        descriptions[b]
            .selectivity()
            .total_cmp(&descriptions[a].selectivity())
            .then(a.cmp(&b))
    });
    order
}

/// Label frequencies of the collection playlists are drawn from, counted once.
#[derive(Debug, Clone)]
pub struct Background {
    tracks: usize,
    counts: HashMap<(Facet, String), usize>,
}

impl Background {
    /// Counts the labels of tracks `ids`.
    pub fn new(results: &ProjectResults, ids: &[u32]) -> Self {
        let mut counts = HashMap::new();
        for &id in ids {
            let track = &results.tracks[id as usize];
            for facet in Facet::ALL {
                for label in facet.labels(track) {
                    *counts.entry((facet, label.to_owned())).or_insert(0) += 1;
                }
            }
        }
        Self {
            tracks: ids.len(),
            counts,
        }
    }

    fn share(&self, facet: Facet, label: &str) -> f64 {
        let count = self
            .counts
            .get(&(facet, label.to_owned()))
            .copied()
            .unwrap_or(0);
        count as f64 / self.tracks.max(1) as f64
    }
}

/// Describes `playlist` against `background` (counted over the same candidates).
pub fn describe(
    results: &ProjectResults,
    playlist: &Playlist,
    background: &Background,
    names: &Names,
) -> Description {
    let len = playlist.entries.len().max(1) as f64;
    let facets = Facet::ALL
        .iter()
        .map(|&facet| {
            let mut counts: Vec<(String, usize)> = Vec::new();
            for entry in &playlist.entries {
                for label in facet.labels(&results.tracks[entry.id as usize]) {
                    match counts.iter_mut().find(|(l, _)| l == label) {
                        Some((_, count)) => *count += 1,
                        None => counts.push((label.to_owned(), 1)),
                    }
                }
            }
            let mut labels: Vec<LabelShare> = counts
                .into_iter()
                .map(|(label, count)| {
                    let share = count as f64 / len;
                    let background = background.share(facet, &label);
                    LabelShare {
                        label,
                        count,
                        share,
                        background,
                        selectivity: share - background,
                    }
                })
                .collect();
            labels.sort_by(|a, b| {
                b.count
                    .cmp(&a.count)
                    .then(b.selectivity.total_cmp(&a.selectivity))
                    .then(a.label.cmp(&b.label))
            });
            FacetShares { facet, labels }
        })
        .collect::<Vec<_>>();
    let styles = facets
        .iter()
        .find(|f| f.facet == Facet::Style)
        .map_or(0, |f| f.labels.len());
    let name = playlist.query.named().and_then(|what| names.get(what));
    Description {
        query: playlist.query.clone(),
        name: name.map(str::to_owned),
        facets,
        styles,
    }
}

/// The conv1 filters, most selective first (the top style or trait of each filter's top-`k`
/// max-activation playlist over every predicted track; ties by index): the order
/// `deepcuts filters --order selectivity` draws them in.
pub fn filters_by_selectivity(
    results: &ProjectResults,
    activations: &Activations,
    names: &Names,
    k: usize,
) -> Result<Vec<usize>, AnalysisError> {
    let candidates = results.candidates(Candidates::All)?;
    let background = Background::new(results, &candidates);
    let lists = filter_playlists(results, activations, FilterStat::Max, Candidates::All, k)?;
    let descriptions: Vec<Description> = lists
        .iter()
        .map(|list| describe(results, list, &background, names))
        .collect();
    Ok(order_by_selectivity(&descriptions))
}

/// The `--all` table: one row per playlist, most selective first.
pub fn ranking_tsv(descriptions: &[Description]) -> String {
    let mut sorted: Vec<&Description> = descriptions.iter().collect();
    sorted.sort_by(|a, b| b.selectivity().total_cmp(&a.selectivity()));
    let mut text = String::from(
        "playlist\tindex\tname\tselectivity\ttop_facet\ttop_label\ttop_share\ttop_background\tpurity\tstyles\ttop_style\ttop_style_share\n",
    );
    for d in sorted {
        let (facet, label) = d
            .top()
            .map_or(("", None), |(facet, label)| (facet.name(), Some(label)));
        let top_style = d.facet(Facet::Style).and_then(|f| f.labels.first());
        text.push_str(&format!(
            "{}\t{}\t{}\t{:.3}\t{}\t{}\t{:.2}\t{:.3}\t{:.2}\t{}\t{}\t{:.2}\n",
            d.query.kind(),
            serde_json::to_string(&d.query.json()).expect("plain data"),
            d.name.as_deref().unwrap_or(""),
            label.map_or(0.0, |l| l.selectivity),
            facet,
            label.map_or("", |l| l.label.as_str()),
            label.map_or(0.0, |l| l.share),
            label.map_or(0.0, |l| l.background),
            d.purity(),
            d.styles,
            top_style.map_or("", |l| l.label.as_str()),
            top_style.map_or(0.0, |l| l.share),
        ));
    }
    text
}

/// Counts over many descriptions, for the closing figures: how many are at least 80% one
/// style or trait, how many are low-level (≥ 80% one trait, ≥ 30 points above its share in the
/// collection, across ≥ 3 styles), how many are at least 80% one style.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Selectivity {
    pub playlists: usize,
    pub one_style_or_trait: usize,
    pub one_style: usize,
    pub low_level: usize,
}

impl Selectivity {
    pub const SHARE: f64 = 0.8;
    /// How far a low-level playlist's trait must be above its share in the collection.
    pub const LOW_LEVEL_ABOVE_CHANCE: f64 = 0.3;
    pub const LOW_LEVEL_STYLES: usize = 3;

    pub fn count<'a>(descriptions: impl IntoIterator<Item = &'a Description>) -> Self {
        let mut counts = Self::default();
        for d in descriptions {
            counts.playlists += 1;
            counts.one_style_or_trait += usize::from(d.purity() >= Self::SHARE);
            counts.one_style += usize::from(d.style_purity() >= Self::SHARE);
            counts.low_level += usize::from(d.is_low_level(
                Self::SHARE,
                Self::LOW_LEVEL_ABOVE_CHANCE,
                Self::LOW_LEVEL_STYLES,
            ));
        }
        counts
    }
}

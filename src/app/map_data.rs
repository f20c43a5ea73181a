//! What the map view shows, read off the UI thread: the project's t-SNE maps (`maps/tsne.npy`,
//! `maps/tsne_cf.npy`, `[tracks, 2]` float32, NaN rows unmapped) with a spatial index each, the
//! per-track values a colouring needs (plays, a conv1 filter's max, an fc2 unit), the colours
//! and legends, the t-SNE job and the PNG/CSV export.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use egui::Color32;
use egui_plot::PlotBounds;

use crate::analysis::describe::Facet;
use crate::analysis::filters::RgbImage;
use crate::analysis::results::{FilterStat, ProjectResults};
use crate::analysis::tsne::stage::{map_project, MapOf, ProjectMap};
use crate::analysis::tsne::{TsneParams, TsneProgress};
use crate::io::npy;

use super::background::{Message, Sender};
use super::colormap::Colormap;
use super::map_points::Versioned;
use super::project_data::ProjectData;
use super::spatial_index::PointGrid;

/// A fresh generation number for data uploaded to the GPU (unique across maps and colourings).
pub fn next_generation() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// One map, ready to draw and query.
pub struct LoadedMap {
    pub of: MapOf,
    /// `[tracks]` positions, map units; NaN for unmapped tracks.
    pub positions: Versioned<[[f32; 2]]>,
    pub grid: Arc<PointGrid>,
    /// The extent of the mapped points.
    pub bounds: PlotBounds,
    /// Tracks with a position.
    pub mapped: usize,
}

impl LoadedMap {
    /// A map of `positions` (also what tests and benchmarks build directly).
    pub fn new(of: MapOf, positions: Vec<[f32; 2]>) -> Self {
        let mut bounds = PlotBounds::NOTHING;
        let mut mapped = 0;
        for p in positions
            .iter()
            .filter(|p| p[0].is_finite() && p[1].is_finite())
        {
            bounds.extend_with(&egui_plot::PlotPoint::new(p[0], p[1]));
            mapped += 1;
        }
        let grid = Arc::new(PointGrid::new(&positions));
        Self {
            of,
            positions: Versioned {
                generation: next_generation(),
                data: Arc::from(positions),
            },
            grid,
            bounds,
            mapped,
        }
    }
}

/// Both maps of a project as far as they exist, and what can colour them.
pub struct LoadedMaps {
    pub dir: PathBuf,
    pub predicted: Option<LoadedMap>,
    pub cf: Option<LoadedMap>,
    /// conv1 filters and fc2 units with activations to colour by (0 without predictions).
    pub filters: usize,
    pub units: usize,
    /// Maps that exist but cannot be read, and why activations are not offered.
    pub problems: Vec<String>,
}

impl LoadedMaps {
    pub fn get(&self, of: MapOf) -> Option<&LoadedMap> {
        match of {
            MapOf::Predicted => self.predicted.as_ref(),
            MapOf::Cf => self.cf.as_ref(),
        }
    }
}

/// Reads the maps of the project in `dir`, which has `tracks` tracks.
pub fn load_maps(dir: &Path, tracks: usize) -> LoadedMaps {
    let mut problems = Vec::new();
    let mut read = |of: MapOf| {
        let path = dir.join(of.outputs()[0]);
        if !path.is_file() {
            return None;
        }
        match npy::read::<f32, ndarray::Ix2>(&path) {
            Ok(array) if array.dim() == (tracks, 2) => Some(LoadedMap::new(
                of,
                array.rows().into_iter().map(|r| [r[0], r[1]]).collect(),
            )),
            Ok(array) => {
                problems.push(format!(
                    "{}: shape {:?}, expected [{tracks}, 2]: remake the map",
                    path.display(),
                    array.dim()
                ));
                None
            }
            Err(error) => {
                problems.push(error.to_string());
                None
            }
        }
    };
    let predicted = read(MapOf::Predicted);
    let cf = read(MapOf::Cf);
    let (filters, units) = match ProjectResults::open_dir(dir) {
        Ok(results) => (results.filters(), results.units()),
        Err(error) => {
            problems.push(format!("no activations to colour by: {error}"));
            (0, 0)
        }
    };
    LoadedMaps {
        dir: dir.to_owned(),
        predicted,
        cf,
        filters,
        units,
        problems,
    }
}

/// What colours the points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColourBy {
    /// A catalog facet (style, trait, kind, artist): a category per track, its first label.
    Facet(Facet),
    /// Listens summed over users (log scale).
    Plays,
    /// conv1 filter k's maximum over the excerpt (`predict/conv1_max.npy`).
    Filter(usize),
    /// fc2 unit k's activation (`predict/fc2.npy`).
    Unit(usize),
}

impl ColourBy {
    pub fn name(self) -> String {
        match self {
            ColourBy::Facet(facet) => facet.name().to_owned(),
            ColourBy::Plays => "plays".to_owned(),
            ColourBy::Filter(k) => format!("conv1 filter {k} (max)"),
            ColourBy::Unit(k) => format!("fc2 unit {k}"),
        }
    }
}

/// Reads the `[tracks]` values of an activation colouring (hundreds of MB at 100k tracks:
/// a background task).
pub fn activation_values(dir: &Path, by: ColourBy) -> Result<Vec<f32>, String> {
    let results = ProjectResults::open_dir(dir).map_err(|e| e.to_string())?;
    let column = |array: ndarray::Array2<f32>, k: usize| array.column(k).to_vec();
    match by {
        ColourBy::Filter(k) => {
            results.check_filter(k).map_err(|e| e.to_string())?;
            Ok(column(
                results.conv1(FilterStat::Max).map_err(|e| e.to_string())?,
                k,
            ))
        }
        ColourBy::Unit(k) => {
            results.check_unit(k).map_err(|e| e.to_string())?;
            Ok(column(results.fc2().map_err(|e| e.to_string())?, k))
        }
        ColourBy::Facet(_) | ColourBy::Plays => Err("not an activation".to_owned()),
    }
}

/// Tableau 20 (Tableau's categorical palette, dark and light of ten hues).
const TABLEAU_20: [u32; 20] = [
    0x1f77b4, 0xaec7e8, 0xff7f0e, 0xffbb78, 0x2ca02c, 0x98df8a, 0xd62728, 0xff9896, 0x9467bd,
    0xc5b0d5, 0x8c564b, 0xc49c94, 0xe377c2, 0xf7b6d2, 0x7f7f7f, 0xc7c7c7, 0xbcbd22, 0xdbdb8d,
    0x17becf, 0x9edae5,
];

/// Okabe & Ito's colour-blind-safe palette without its black (invisible on a dark map).
const OKABE_ITO: [u32; 7] = [
    0xe69f00, 0x56b4e9, 0x009e73, 0xf0e442, 0x0072b2, 0xd55e00, 0xcc79a7,
];

/// The colour of categories beyond the palette, and of tracks without a label.
pub const OTHER: Color32 = Color32::from_rgb(0x70, 0x70, 0x70);

fn rgb(hex: u32) -> Color32 {
    Color32::from_rgb((hex >> 16) as u8, (hex >> 8) as u8, hex as u8)
}

/// The palette in use: Tableau 20, or Okabe–Ito when `colour_blind`. Tableau's dark hues come
/// before its light ones (so that a few categories get distinct hues, not a dark/light pair),
/// and its grey pair is left out, as grey means "other".
pub fn palette(colour_blind: bool) -> Vec<Color32> {
    if colour_blind {
        OKABE_ITO.iter().map(|&c| rgb(c)).collect()
    } else {
        let dark = TABLEAU_20.iter().step_by(2);
        let light = TABLEAU_20.iter().skip(1).step_by(2);
        dark.chain(light)
            .filter(|&&c| c != 0x7f7f7f && c != 0xc7c7c7)
            .map(|&c| rgb(c))
            .collect()
    }
}

/// One entry of a categorical legend.
pub struct Category {
    pub label: String,
    pub tracks: usize,
    pub colour: Color32,
}

/// What the colours mean.
pub enum Legend {
    /// Most frequent first; those past the palette are [`OTHER`].
    Categories(Vec<Category>),
    /// Viridis from `min` (dark) to `max` (yellow); `log`: over log10(1 + value).
    Scale { min: f32, max: f32, log: bool },
}

/// Each track's colour (before search dimming) and the legend.
pub struct Colouring {
    pub colours: Vec<Color32>,
    pub legend: Legend,
}

/// Categorical colours: each track's first label in `facet`, labels ranked by frequency.
pub fn categorical(project: &ProjectData, facet: Facet, colour_blind: bool) -> Colouring {
    let labels: Vec<Option<&str>> = project
        .tracks
        .iter()
        .map(|track| facet.labels(track).first().copied())
        .collect();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for label in labels.iter().flatten() {
        *counts.entry(label).or_default() += 1;
    }
    let mut ranked: Vec<(&str, usize)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let palette = palette(colour_blind);
    let colour_of: HashMap<&str, Color32> = ranked
        .iter()
        .enumerate()
        .map(|(i, (label, _))| (*label, palette.get(i).copied().unwrap_or(OTHER)))
        .collect();
    let colours = labels
        .iter()
        .map(|label| {
            label
                .and_then(|l| colour_of.get(l).copied())
                .unwrap_or(OTHER)
        })
        .collect();
    let mut legend: Vec<Category> = ranked
        .iter()
        .map(|(label, tracks)| Category {
            label: (*label).to_owned(),
            tracks: *tracks,
            colour: colour_of[label],
        })
        .collect();
    let unlabelled = labels.iter().filter(|l| l.is_none()).count();
    if unlabelled > 0 {
        legend.push(Category {
            label: format!("(no {})", facet.name()),
            tracks: unlabelled,
            colour: OTHER,
        });
    }
    Colouring {
        colours,
        legend: Legend::Categories(legend),
    }
}

/// Viridis over `values` (`[tracks]`; non-finite ones grey), scaled to their finite range.
pub fn continuous(values: &[f32], log: bool) -> Colouring {
    let scaled: Vec<f32> = values
        .iter()
        .map(|&v| if log { v.max(0.0).ln_1p() } else { v })
        .collect();
    let (min, max) = scaled
        .iter()
        .filter(|v| v.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let span = if max > min { max - min } else { 1.0 };
    let colours = scaled
        .iter()
        .map(|&v| {
            if v.is_finite() {
                Colormap::Viridis.color((v - min) / span)
            } else {
                OTHER
            }
        })
        .collect();
    let unscale = |v: f32| if log { v.exp_m1() } else { v };
    Colouring {
        colours,
        legend: Legend::Scale {
            min: if min.is_finite() { unscale(min) } else { 0.0 },
            max: if max.is_finite() { unscale(max) } else { 0.0 },
            log,
        },
    }
}

/// Each track's colouring as text, for the CSV export: its label, or its value.
pub fn colour_labels(project: &ProjectData, by: ColourBy, values: Option<&[f32]>) -> Vec<String> {
    (0..project.tracks.len())
        .map(|row| match by {
            ColourBy::Facet(facet) => facet
                .labels(&project.tracks[row])
                .first()
                .map_or(String::new(), |l| (*l).to_owned()),
            ColourBy::Plays => project.plays.get(row).map_or(String::new(), u64::to_string),
            ColourBy::Filter(_) | ColourBy::Unit(_) => values
                .and_then(|v| v.get(row))
                .map_or(String::new(), f32::to_string),
        })
        .collect()
}

/// Messages of the map's background work.
pub enum MapMessage {
    Loaded(Box<LoadedMaps>),
    Values {
        by: ColourBy,
        values: Result<Vec<f32>, String>,
    },
    Progress(TsneProgress),
    /// The t-SNE job ended (a cancelled run wrote nothing).
    Made(Result<ProjectMap, String>),
    /// An export ended: the files written, or why not.
    Exported(Result<String, String>),
}

/// Reads the maps of `project` in the background.
pub fn request_maps(sender: &Sender, project: &ProjectData) {
    let dir = project.dir.clone();
    let tracks = project.tracks.len();
    sender.spawn("maps", move |_| {
        Some(Message::Map(MapMessage::Loaded(Box::new(load_maps(
            &dir, tracks,
        )))))
    });
}

/// Reads an activation colouring's values in the background.
pub fn request_values(sender: &Sender, dir: PathBuf, by: ColourBy) {
    sender.spawn("map-values", move |_| {
        Some(Message::Map(MapMessage::Values {
            by,
            values: activation_values(&dir, by),
        }))
    });
}

/// Runs the t-SNE stage (`analysis::tsne::stage::map_project`, as `deepcuts tsne` does) in the
/// background; the old map stays on screen until the new one is loaded. Not `pipeline::run`'s
/// `tsne` stage: that one maps the predicted factors with default parameters, while this job takes
/// the researcher's perplexity, iterations and choice of factors.
pub fn start_map_job(
    sender: &Sender,
    dir: PathBuf,
    of: MapOf,
    params: TsneParams,
    cancel: Arc<AtomicBool>,
) {
    sender.spawn("tsne", move |sender| {
        let events = sender.clone();
        let mut progress = move |p| events.offer(Message::Map(MapMessage::Progress(p)));
        let made = map_project(&dir, of, &params, &mut progress, &cancel);
        Some(Message::Map(MapMessage::Made(
            made.map_err(|e| e.to_string()),
        )))
    });
}

/// Writes the map as `maps/<name>_view.png` (the points at `size_px` square, white
/// background, current colours) and `maps/<name>_view.csv` (`id,artist,title,x,y,colour`).
pub fn export(
    project: &ProjectData,
    map: &LoadedMap,
    colours: &[Color32],
    labels: &[String],
    size_px: u32,
) -> Result<String, String> {
    let stem = match map.of {
        MapOf::Predicted => "tsne_view",
        MapOf::Cf => "tsne_cf_view",
    };
    let folder = project.dir.join("maps");
    let png_path = folder.join(format!("{stem}.png"));
    let csv_path = folder.join(format!("{stem}.csv"));
    let coordinate = |v: f32| {
        if v.is_finite() {
            v.to_string()
        } else {
            String::new()
        }
    };
    crate::io::atomic::write_atomic(&csv_path, |file| {
        let mut csv = csv::Writer::from_writer(file);
        csv.write_record(["id", "artist", "title", "x", "y", "colour"])?;
        for (row, p) in map.positions.data.iter().enumerate() {
            let track = &project.tracks[row];
            csv.write_record([
                track.id.to_string(),
                track.artist.clone(),
                track.title.clone(),
                coordinate(p[0]),
                coordinate(p[1]),
                labels.get(row).cloned().unwrap_or_default(),
            ])?;
        }
        csv.flush()
    })
    .map_err(|e| format!("{}: {e}", csv_path.display()))?;
    rasterise(map, colours, size_px)
        .write_png(&png_path)
        .map_err(|e| e.to_string())?;
    Ok(format!(
        "map exported: {} and {}",
        png_path.display(),
        csv_path.display()
    ))
}

/// The points on a white square of `size_px`, 3-pixel dots, margins of 4 %.
fn rasterise(map: &LoadedMap, colours: &[Color32], size_px: u32) -> RgbImage {
    let size = size_px as usize;
    let mut image = RgbImage::new(size, size, [255; 3]);
    let pixels = &mut image.pixels;
    let (min, max) = (map.bounds.min(), map.bounds.max());
    let span = (max[0] - min[0]).max(max[1] - min[1]).max(1e-9);
    let inner = size as f64 * 0.92;
    let margin = size as f64 * 0.04;
    for (p, colour) in map.positions.data.iter().zip(colours) {
        if !(p[0].is_finite() && p[1].is_finite()) || colour.a() == 0 {
            continue;
        }
        let x = margin + (f64::from(p[0]) - min[0]) / span * inner;
        let y = margin + (max[1] - f64::from(p[1])) / span * inner;
        let (cx, cy) = (x as i64, y as i64);
        for dy in -1..=1 {
            for dx in -1..=1 {
                let (px, py) = (cx + dx, cy + dy);
                if px >= 0 && py >= 0 && (px as usize) < size && (py as usize) < size {
                    let at = (py as usize * size + px as usize) * 3;
                    let alpha = f32::from(colour.a()) / 255.0;
                    for (channel, value) in [colour.r(), colour.g(), colour.b()].iter().enumerate()
                    {
                        // Premultiplied colour over white.
                        let under = f32::from(pixels[at + channel]);
                        pixels[at + channel] = (f32::from(*value) + under * (1.0 - alpha)) as u8;
                    }
                }
            }
        }
    }
    image
}

//! The analysis commands on a hand-made project whose predictions are written by the test:
//! playlists against brute-force rankings and cosine, peak times by hand, the M3U8 against a
//! strict parser of the format, the filter PNG's pixels against hand-made weights, naming help
//! shares by hand, the outlier ranking on planted tracks, and bad input refused with nothing
//! written.

use std::path::Path;
use std::process::{Command, Output};

use deepcuts::analysis::describe::{describe, Background, Facet};
use deepcuts::analysis::names::Names;
use deepcuts::analysis::outliers::{score, OutlierData, OutlierQuery};
use deepcuts::analysis::playlists::{Playlist, PlaylistEntry, PlaylistQuery};
use deepcuts::analysis::results::{Candidates, ProjectResults};
use deepcuts::convnet::{ConvnetConfig, ConvnetWeights};
use deepcuts::io::npy;
use deepcuts::project::{NewTrack, Project};
use ndarray::Array2;

const TRACKS: usize = 40;
const FILTERS: usize = 4;
const UNITS: usize = 6;
const FACTORS: usize = 3;
/// Tracks without features: zero rows, listed as skipped in the report.
const UNPREDICTED: [usize; 2] = [3, 17];

fn deepcuts(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_deepcuts"))
        .args(args)
        .output()
        .expect("runs deepcuts")
}

fn ok(args: &[&str]) -> String {
    let output = deepcuts(args);
    assert!(
        output.status.success(),
        "deepcuts {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs a command that must fail with status 1; returns its stderr.
fn fails(args: &[&str]) -> String {
    let output = deepcuts(args);
    assert_eq!(
        output.status.code(),
        Some(1),
        "deepcuts {args:?} should fail"
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn tiny_config() -> ConvnetConfig {
    ConvnetConfig {
        n_mels: 128,
        filters: [FILTERS, 4, 4, 4],
        pools: [4, 2, 2],
        dense: vec![5, UNITS],
        factors: FACTORS,
    }
}

/// A deterministic pseudo-random value in [0, 1) for `(i, j, salt)`.
fn noise(i: usize, j: usize, salt: usize) -> f32 {
    let mut x = (i as u64 * 2_654_435_761) ^ (j as u64 * 40_503) ^ (salt as u64 * 97_531);
    x ^= x >> 13;
    x = x.wrapping_mul(0x5bd1_e995);
    x ^= x >> 15;
    (x % 10_007) as f32 / 10_007.0
}

fn styles(id: usize) -> &'static str {
    ["dub", "ballad", "gabber"][id % 3]
}

/// Writes a project of [`TRACKS`] tracks (file paths, two demo tracks), its split, and
/// predictions: activations from [`noise`], zero rows for [`UNPREDICTED`].
fn make_project(dir: &Path) -> Array2<f32> {
    let mut project = Project::create(dir).expect("project");
    let tracks: Vec<NewTrack> = (0..TRACKS)
        .map(|id| NewTrack {
            source: if id == 5 || id == 6 {
                format!("demo:1:{}", id - 5)
            } else {
                format!("/music/artist{}/track{id}.ogg", id % 5)
            },
            artist: format!("Artist {}", id % 5),
            title: format!("Song {id}"),
            album: "Album".into(),
            duration_secs: Some(60.0 + id as f64 * 7.5),
            tags: vec![styles(id).into(), trait_of(id).into()],
            kind: if id % 10 == 9 { "intro" } else { "regular" }.into(),
        })
        .collect();
    project.add_tracks(&tracks).expect("tracks");
    let rows = |columns: usize, salt: usize| {
        Array2::from_shape_fn((TRACKS, columns), |(i, j)| {
            if UNPREDICTED.contains(&i) {
                0.0
            } else {
                noise(i, j, salt) * 3.0
            }
        })
    };
    let factors = Array2::from_shape_fn((TRACKS, FACTORS), |(i, j)| {
        if UNPREDICTED.contains(&i) {
            0.0
        } else {
            noise(i, j, 9) - 0.5
        }
    });
    let peaks = Array2::from_shape_fn((TRACKS, FILTERS), |(i, j)| ((i * 13 + j * 7) % 596) as u32);
    npy::write(&dir.join("predict/conv1_max.npy"), &rows(FILTERS, 1)).expect("write");
    npy::write(&dir.join("predict/conv1_mean.npy"), &rows(FILTERS, 2)).expect("write");
    npy::write(&dir.join("predict/conv1_peak.npy"), &peaks).expect("write");
    npy::write(&dir.join("predict/fc2.npy"), &rows(UNITS, 3)).expect("write");
    npy::write(&dir.join("predict/factors.npy"), &factors).expect("write");
    let model = dir.join("model/weights.safetensors");
    ConvnetWeights::init(&tiny_config(), 1)
        .save(&model)
        .expect("weights");
    let report = serde_json::json!({
        "model": model,
        "config": tiny_config(),
        "tracks": TRACKS,
        "predicted": TRACKS - UNPREDICTED.len(),
        "skipped": UNPREDICTED.iter().map(|t| serde_json::json!({"track": t, "reason": "no features yet"})).collect::<Vec<_>>(),
        "cancelled": false,
    });
    std::fs::write(dir.join("predict/report.json"), report.to_string()).expect("report");
    let mut split = String::from("id\tsplit\n");
    for id in 0..TRACKS {
        split.push_str(&format!("{id}\t{}\n", ["train", "valid", "test"][id % 3]));
    }
    std::fs::write(dir.join("split.tsv"), split).expect("split");
    factors
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("playlist file")).expect("json")
}

/// Brute force: every candidate's score, sorted by score (desc) then id.
fn ranked(scores: impl Iterator<Item = (usize, f64)>, k: usize) -> Vec<(usize, f64)> {
    let mut all: Vec<(usize, f64)> = scores.collect();
    all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    all.truncate(k);
    all
}

fn ids_and_scores(json: &serde_json::Value) -> Vec<(usize, f64)> {
    json["tracks"]
        .as_array()
        .expect("tracks")
        .iter()
        .map(|t| {
            (
                t["id"].as_u64().expect("id") as usize,
                t["score"].as_f64().expect("score"),
            )
        })
        .collect()
}

fn predicted(id: usize) -> bool {
    !UNPREDICTED.contains(&id)
}

#[test]
fn activation_playlists_are_the_brute_force_top_k_with_peak_times_by_hand() {
    let dir = tempfile::tempdir().expect("temp");
    make_project(dir.path());
    let p = dir.path().to_str().expect("utf-8");
    let conv1_mean: Array2<f32> =
        npy::read(&dir.path().join("predict/conv1_mean.npy")).expect("read");
    let fc2: Array2<f32> = npy::read(&dir.path().join("predict/fc2.npy")).expect("read");

    ok(&["playlist", p, "--filter", "2", "--by", "mean", "-k", "7"]);
    let json = read_json(&dir.path().join("playlists/filter-2-mean.json"));
    assert_eq!(json["kind"], "filter-mean");
    assert_eq!(json["query"], 2);
    let want = ranked(
        (0..TRACKS)
            .filter(|&i| predicted(i))
            .map(|i| (i, f64::from(conv1_mean[[i, 2]]))),
        7,
    );
    let got = ids_and_scores(&json);
    assert_eq!(
        got.iter().map(|g| g.0).collect::<Vec<_>>(),
        want.iter().map(|w| w.0).collect::<Vec<_>>()
    );
    for (g, w) in got.iter().zip(&want) {
        assert!((g.1 - w.1).abs() < 1e-6);
    }
    // Peak: conv1 frame t = (13 i + 7 k) mod 596; excerpt start (n − 661500) / 2 samples with
    // n = 22050 · duration; the filter's window is centred on crop frame t + 1.5, excerpt frame
    // 23 + t + 1.5, at hop 1024.
    for track in json["tracks"].as_array().expect("tracks") {
        let id = track["id"].as_u64().expect("id") as usize;
        let t = ((id * 13 + 2 * 7) % 596) as f64;
        let n = ((60.0 + id as f64 * 7.5) * 22050.0f64).round() as usize;
        let start = n.saturating_sub(661_500) / 2;
        let want = (start as f64 + (23.0 + t + 1.5) * 1024.0) / 22050.0;
        let got = track["peak_secs"].as_f64().expect("peak_secs");
        assert!((got - want).abs() < 1e-3, "track {id}: {got} vs {want}");
    }

    // A unit from the test split only, under another name.
    ok(&[
        "playlist", p, "--unit", "4", "-k", "5", "--from", "test", "--out", "mine",
    ]);
    let json = read_json(&dir.path().join("playlists/mine.json"));
    assert_eq!(json["kind"], "unit");
    assert!(json["tracks"][0].get("peak_secs").is_none());
    let want = ranked(
        (0..TRACKS)
            .filter(|&i| predicted(i) && i % 3 == 2)
            .map(|i| (i, f64::from(fc2[[i, 4]]))),
        5,
    );
    assert_eq!(
        ids_and_scores(&json)
            .iter()
            .map(|g| g.0)
            .collect::<Vec<_>>(),
        want.iter().map(|w| w.0).collect::<Vec<_>>()
    );

    // --all: every filter both ways and every unit, each equal to its single playlist.
    ok(&["playlist", p, "--all", "-k", "7"]);
    let index = std::fs::read_to_string(dir.path().join("playlists/index.tsv")).expect("index");
    assert_eq!(index.lines().count(), 1 + 2 * FILTERS + UNITS);
    let again = read_json(&dir.path().join("playlists/filter-2-mean.json"));
    assert_eq!(
        ids_and_scores(&again)
            .iter()
            .map(|g| g.0)
            .collect::<Vec<_>>(),
        want_filter_ids(&conv1_mean)
    );
}

fn want_filter_ids(conv1_mean: &Array2<f32>) -> Vec<usize> {
    ranked(
        (0..TRACKS)
            .filter(|&i| predicted(i))
            .map(|i| (i, f64::from(conv1_mean[[i, 2]]))),
        7,
    )
    .into_iter()
    .map(|w| w.0)
    .collect()
}

#[test]
fn similar_playlist_is_brute_force_cosine_with_the_query_first() {
    let dir = tempfile::tempdir().expect("temp");
    let factors = make_project(dir.path());
    let p = dir.path().to_str().expect("utf-8");
    ok(&["playlist", p, "--similar", "8", "-k", "6"]);
    let got = ids_and_scores(&read_json(&dir.path().join("playlists/similar-8.json")));
    assert_eq!(got[0].0, 8);
    assert!((got[0].1 - 1.0).abs() < 1e-5);
    let cosine = |a: usize, b: usize| {
        let (x, y) = (factors.row(a), factors.row(b));
        let dot: f64 = x
            .iter()
            .zip(y)
            .map(|(p, q)| f64::from(*p) * f64::from(*q))
            .sum();
        let norm = |v: ndarray::ArrayView1<f32>| {
            v.iter().map(|p| f64::from(*p).powi(2)).sum::<f64>().sqrt()
        };
        dot / (norm(x) * norm(y))
    };
    let want = ranked(
        (0..TRACKS)
            .filter(|&i| predicted(i) && i != 8)
            .map(|i| (i, cosine(8, i))),
        5,
    );
    for (g, w) in got[1..].iter().zip(&want) {
        assert_eq!(g.0, w.0);
        assert!((g.1 - w.1).abs() < 1e-5);
    }
}

#[test]
fn region_playlist_is_the_tracks_inside_most_typical_first() {
    let dir = tempfile::tempdir().expect("temp");
    let factors = make_project(dir.path());
    let p = dir.path().to_str().expect("utf-8");
    // Track i on a lattice at (i mod 8, i div 8); track 20 unmapped.
    let at = |i: usize| [(i % 8) as f32, (i / 8) as f32];
    let map = Array2::from_shape_fn(
        (TRACKS, 2),
        |(i, axis)| {
            if i == 20 {
                f32::NAN
            } else {
                at(i)[axis]
            }
        },
    );
    npy::write(&dir.path().join("maps/tsne.npy"), &map).expect("map");
    // A triangle whose long edge is y = x + 0.1: lattice points with 1 <= x <= 3 and
    // 1 <= y <= x are inside, no point lies on an edge.
    let out = ok(&[
        "playlist",
        p,
        "--region",
        "0.5,0.6 3.5,0.6 3.5,3.6",
        "-k",
        "100",
        "--out",
        "triangle",
    ]);
    assert!(out.contains("lasso on the predicted map"), "{out}");
    let inside: Vec<usize> = (0..TRACKS)
        .filter(|&i| {
            let [x, y] = at(i);
            i != 20 && predicted(i) && (1.0..=3.0).contains(&x) && y >= 1.0 && y <= x
        })
        .collect();
    assert_eq!(inside, [9, 10, 11, 18, 19, 27]);
    let unit = |i: usize| {
        let row: Vec<f64> = factors.row(i).iter().map(|&v| f64::from(v)).collect();
        let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt();
        row.into_iter().map(|v| v / norm).collect::<Vec<f64>>()
    };
    let mut centre = vec![0.0; FACTORS];
    for &i in &inside {
        for (c, v) in centre.iter_mut().zip(unit(i)) {
            *c += v;
        }
    }
    let norm = centre.iter().map(|v| v * v).sum::<f64>().sqrt();
    let want = ranked(
        inside.iter().map(|&i| {
            let cosine: f64 = unit(i).iter().zip(&centre).map(|(a, b)| a * b / norm).sum();
            (i, cosine)
        }),
        100,
    );
    let json = read_json(&dir.path().join("playlists/triangle.json"));
    assert_eq!(json["kind"], "region");
    assert_eq!(json["query"]["of"], "predicted");
    assert_eq!(json["query"]["vertices"][2][1].as_f64(), Some(3.6));
    let got = ids_and_scores(&json);
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g.0, w.0);
        assert!((g.1 - w.1).abs() < 1e-5, "{g:?} {w:?}");
    }

    // Two corners make a box, edges inside; -k caps the list, most typical kept.
    ok(&[
        "playlist", p, "--region", "3,2 1,1", "-k", "2", "--out", "box",
    ]);
    let boxed = ids_and_scores(&read_json(&dir.path().join("playlists/box.json")));
    assert_eq!(boxed.len(), 2);
    let in_box = [9, 10, 11, 18, 19];
    assert!(boxed.iter().all(|(id, _)| in_box.contains(id)), "{boxed:?}");
    assert!(boxed[0].1 >= boxed[1].1);

    let error = fails(&["playlist", p, "--region", "0,0 1;2"]);
    assert!(
        error.contains("vertex 1") && error.contains("`1`"),
        "{error}"
    );
    let error = fails(&["playlist", p, "--region", "0,0 1,1", "--of", "cf"]);
    assert!(
        error.contains("tsne_cf.npy") && error.contains("tsne"),
        "{error}"
    );
}

/// A strict reader of extended M3U as players read it: `#EXTM3U` first; each entry is
/// `#EXTINF:<integer seconds>,<title>`, optional `#EXTVLCOPT:start-time=<seconds>`, then one
/// path line; no other lines, no blank lines, no control characters.
fn parse_m3u8(text: &str) -> Vec<(i64, String, Option<f64>, String)> {
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("#EXTM3U"));
    let mut entries = Vec::new();
    let mut pending: Option<(i64, String, Option<f64>)> = None;
    for line in lines {
        assert!(!line.is_empty(), "blank line");
        assert!(
            !line.chars().any(char::is_control),
            "control character in {line:?}"
        );
        if let Some(rest) = line.strip_prefix("#EXTINF:") {
            assert!(pending.is_none(), "two #EXTINF in a row");
            let (seconds, title) = rest.split_once(',').expect("#EXTINF:seconds,title");
            pending = Some((
                seconds.parse().expect("integer seconds"),
                title.to_owned(),
                None,
            ));
        } else if let Some(rest) = line.strip_prefix("#EXTVLCOPT:start-time=") {
            let entry = pending.as_mut().expect("#EXTVLCOPT after #EXTINF");
            entry.2 = Some(rest.parse().expect("start time in seconds"));
        } else if line.starts_with("#PLAYLIST:") {
            assert!(
                pending.is_none() && entries.is_empty(),
                "#PLAYLIST belongs in the header"
            );
        } else {
            assert!(!line.starts_with('#'), "unknown directive {line}");
            let (seconds, title, start) = pending.take().expect("#EXTINF before the path");
            entries.push((seconds, title, start, line.to_owned()));
        }
    }
    assert!(pending.is_none(), "#EXTINF without a path");
    entries
}

#[test]
fn m3u8_is_well_formed_and_demo_tracks_are_rendered_beside_it() {
    let dir = tempfile::tempdir().expect("temp");
    make_project(dir.path());
    let p = dir.path().to_str().expect("utf-8");
    // Filter 0's max playlist over all 40 tracks includes the demo tracks 5 and 6.
    ok(&["playlist", p, "--filter", "0", "-k", "38"]);
    let json = read_json(&dir.path().join("playlists/filter-0-max.json"));
    let text =
        std::fs::read_to_string(dir.path().join("playlists/filter-0-max.m3u8")).expect("m3u8");
    let entries = parse_m3u8(&text);
    let tracks = json["tracks"].as_array().expect("tracks");
    assert_eq!(entries.len(), 38);
    for ((seconds, title, start, path), track) in entries.iter().zip(tracks) {
        let id = track["id"].as_u64().expect("id") as usize;
        assert_eq!(*seconds, (60.0 + id as f64 * 7.5).round() as i64);
        assert_eq!(title, &format!("Artist {} - Song {id}", id % 5));
        let peak = track["peak_secs"].as_f64().expect("peak");
        assert!((start.expect("start time") - peak).abs() < 0.006);
        if id == 5 || id == 6 {
            // Relative to the playlist's folder, as M3U resolves it.
            let wav = dir.path().join("playlists").join(path);
            let reader = hound::WavReader::open(&wav).expect("rendered WAV");
            assert_eq!(reader.spec().sample_rate, 22050);
            let n = reader.duration() as f64 / 22050.0;
            assert!(n >= 60.0, "{n} s");
        } else {
            assert_eq!(path, &format!("/music/artist{}/track{id}.ogg", id % 5));
        }
    }
}

#[test]
fn filter_png_pixels_match_hand_made_weights() {
    let dir = tempfile::tempdir().expect("temp");
    let config = ConvnetConfig {
        filters: [3, 4, 4, 4],
        ..tiny_config()
    };
    let mut weights = ConvnetWeights::init(&config, 7);
    let conv1 = &mut weights.convs[0].weight;
    conv1.iter_mut().for_each(|w| *w = 0.0);
    // [filter, mel, frame]: filter 0 has −2 at (mel 0, frame 0) and 1 at (mel 127, frame 3);
    // filter 1 is zero; filter 2 has 3 at (mel 64, frame 1) and −1.5 at (mel 10, frame 2).
    let at = |k: usize, mel: usize, t: usize| (k * 128 + mel) * 4 + t;
    conv1[at(0, 0, 0)] = -2.0;
    conv1[at(0, 127, 3)] = 1.0;
    conv1[at(2, 64, 1)] = 3.0;
    conv1[at(2, 10, 2)] = -1.5;
    let model = dir.path().join("w.safetensors");
    weights.save(&model).expect("save");
    let project = dir.path().join("p");
    Project::create(&project).expect("project");
    let png = dir.path().join("filters.png");
    let draw = |extra: &[&str]| {
        let mut args = vec![
            "filters",
            project.to_str().expect("utf-8"),
            "--model",
            model.to_str().expect("utf-8"),
            "--out",
            png.to_str().expect("utf-8"),
        ];
        args.extend_from_slice(extra);
        ok(&args);
    };
    draw(&["--scale", "2"]);
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&png).expect("png"),
    ));
    let mut reader = decoder.read_info().expect("png header");
    let mut pixels = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut pixels).expect("png data");
    // 3 filters of 4 frames × 2 px, separated by 2 / 3 → 1-px lines: 3 · 8 + 2 = 26 wide;
    // 128 bands × 2 px = 256 high.
    assert_eq!((info.width, info.height), (26, 256));
    assert_eq!(info.color_type, png::ColorType::Rgb);
    let pixel = |x: usize, y: usize| {
        let i = (y * 26 + x) * 3;
        [pixels[i], pixels[i + 1], pixels[i + 2]]
    };
    let white = [255, 255, 255];
    // Filter 0 on its own scale (max |w| = 2): −2 → full red at the top left (lowest band on
    // top), 1 → half blue at the bottom right.
    for (x, y) in [(0, 0), (1, 1)] {
        assert_eq!(pixel(x, y), [255, 0, 0]);
    }
    assert_eq!(pixel(6, 254), [128, 128, 255]);
    assert_eq!(pixel(7, 255), [128, 128, 255]);
    assert_eq!(pixel(2, 0), white);
    assert_eq!(pixel(0, 2), white);
    // The separators are dark red, full height.
    for y in [0, 100, 255] {
        assert_eq!(pixel(8, y), [139, 0, 0]);
        assert_eq!(pixel(17, y), [139, 0, 0]);
    }
    // Filter 1 is all zero: white.
    assert!((9..17).all(|x| (0..256).all(|y| pixel(x, y) == white)));
    // Filter 2 (max |w| = 3): 3 → full blue at frame 1, band 64; −1.5 → half red.
    assert_eq!(pixel(18 + 2, 128), [0, 0, 255]);
    assert_eq!(pixel(18 + 4, 20), [255, 128, 128]);
    assert_eq!(pixel(18, 128), white);

    // One filter enlarged.
    draw(&["--filter", "2", "--scale", "3"]);
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&png).expect("png"),
    ));
    let reader = decoder.read_info().expect("png header");
    assert_eq!((reader.info().width, reader.info().height), (12, 384));
}

#[test]
fn naming_help_shares_by_hand() {
    let dir = tempfile::tempdir().expect("temp");
    make_project(dir.path());
    let results = ProjectResults::open_dir(dir.path()).expect("results");
    // Four tracks: 0 (dub, vibrato), 3 is unpredicted so take 6 (dub, drone), 9 (dub, drone,
    // intro), 12 (dub, vibrato).
    let playlist = Playlist {
        query: PlaylistQuery::Unit { unit: 1 },
        from: Candidates::All,
        entries: [0, 6, 9, 12]
            .iter()
            .map(|&id| PlaylistEntry {
                id,
                score: 1.0,
                peak_secs: None,
            })
            .collect(),
    };
    let candidates = results.candidates(Candidates::All).expect("candidates");
    let background = Background::new(&results, &candidates);
    let d = describe(&results, &playlist, &background, &Names::default());
    let style = &d.facet(Facet::Style).expect("styles").labels[0];
    // 38 predicted tracks; dub = id ≡ 0 mod 3 minus the unpredicted 3 → 13 of 38.
    assert_eq!((style.label.as_str(), style.count), ("dub", 4));
    assert!((style.share - 1.0).abs() < 1e-12);
    let q = 13.0 / 38.0;
    assert!((style.background - q).abs() < 1e-12);
    assert!((style.selectivity - (1.0 - q)).abs() < 1e-12);
    let traits = &d.facet(Facet::Trait).expect("traits").labels;
    // vibrato: ids ≡ 0 mod 4 → 10 tracks, none unpredicted; 2 of 4 in the playlist.
    let vibrato = traits
        .iter()
        .find(|l| l.label == "vibrato")
        .expect("vibrato");
    let q = 10.0 / 38.0;
    assert!((vibrato.share - 0.5).abs() < 1e-12);
    assert!((vibrato.selectivity - (0.5 - q)).abs() < 1e-12);
    let kinds = &d.facet(Facet::Kind).expect("kinds").labels;
    assert_eq!(kinds.len(), 1);
    assert_eq!((kinds[0].label.as_str(), kinds[0].count), ("intro", 1));
    assert_eq!(d.styles, 1);
    assert!((d.purity() - 1.0).abs() < 1e-12);
    assert_eq!(
        d.top().map(|(f, l)| (f, l.label.as_str())),
        Some((Facet::Style, "dub"))
    );

    // The CLI's describe names the saved name.
    std::fs::create_dir_all(dir.path().join("analysis")).expect("dir");
    std::fs::write(
        dir.path().join("analysis/names.tsv"),
        "kind\tindex\tname\nunit\t1\tthe dub unit\n",
    )
    .expect("names");
    let out = ok(&[
        "describe",
        dir.path().to_str().expect("utf-8"),
        "--unit",
        "1",
    ]);
    assert!(out.contains("\"the dub unit\""), "{out}");
    let out = ok(&["describe", dir.path().to_str().expect("utf-8"), "--all"]);
    let table = std::fs::read_to_string(dir.path().join("analysis/describe.tsv")).expect("tsv");
    assert_eq!(table.lines().count(), 1 + 2 * FILTERS + UNITS, "{out}");
}

#[test]
fn outliers_rank_planted_tracks_whose_audio_does_not_fit() {
    let dir = tempfile::tempdir().expect("temp");
    make_project(dir.path());
    // CF: every track of artist a listened together (the same factor); audio: tracks sound
    // like their artist (direction a · 0.6 rad), except 19 and 39, which sound unlike
    // everything.
    let cf = Array2::from_shape_fn((TRACKS, 5), |(i, j)| {
        if i % 5 == j {
            1.0
        } else {
            0.01 * noise(i, j, 4)
        }
    });
    let audio = Array2::from_shape_fn((TRACKS, FACTORS), |(i, j)| {
        let angle = (i % 5) as f32 * 0.6;
        if i % 20 == 19 {
            [0.0, 0.0, -1.0][j]
        } else {
            [angle.cos(), angle.sin(), 1.5][j]
        }
    });
    npy::write(&dir.path().join("cf/item_factors.npy"), &cf).expect("cf");
    npy::write(&dir.path().join("predict/factors.npy"), &audio).expect("audio");
    let mut project = Project::open(dir.path()).expect("project");
    project
        .add_plays(
            &["u".to_owned()],
            (0..TRACKS as u32).map(|t| (0, t, 1 + t % 3)),
        )
        .expect("plays");
    let results = ProjectResults::open_dir(dir.path()).expect("results");
    let data = OutlierData::load(&results).expect("data");
    // Track 4 (artist 4): its CF neighbours are artist 4's other seven tracks; 19 and 39 do
    // not sound like it.
    let judgement = data
        .judge(&results, &OutlierQuery::Track(4), 7, 2.0)
        .expect("judge");
    let mut listed: Vec<u32> = judgement.items.iter().map(|j| j.id).collect();
    listed.sort_unstable();
    assert_eq!(listed, vec![9, 14, 19, 24, 29, 34, 39]);
    let flagged: Vec<u32> = judgement
        .items
        .iter()
        .filter(|j| j.flagged)
        .map(|j| j.id)
        .collect();
    assert_eq!(flagged.len(), 2);
    assert!(flagged.contains(&19) && flagged.contains(&39));
    // 36 of the 38 predicted tracks sound more like track 4 than 19 does (sampled: all).
    let nineteen = judgement.items.iter().find(|j| j.id == 19).expect("19");
    assert!((nineteen.audio_rank - 36.0 / 38.0).abs() < 1e-12);
    let s = score(&[judgement], &|id| id % 20 == 19, &data.popularity);
    assert_eq!(s.planted, 2);
    assert!((s.audio - 1.0).abs() < 1e-12);
    assert!((s.random - 4.0 / 7.0 / 2.0).abs() < 1e-12);
    assert!((s.flag_precision - 1.0).abs() < 1e-12 && (s.flag_recall - 1.0).abs() < 1e-12);
}

#[test]
fn bad_input_is_refused_naming_what_is_wrong_and_nothing_is_written() {
    let dir = tempfile::tempdir().expect("temp");
    make_project(dir.path());
    let p = dir.path().to_str().expect("utf-8");
    let playlists = dir.path().join("playlists");
    let error = fails(&["playlist", p, "--filter", "4"]);
    assert!(
        error.contains("conv1 filter 4 is out of range") && error.contains("0 to 3"),
        "{error}"
    );
    let error = fails(&["playlist", p, "--unit", "99"]);
    assert!(error.contains("fc2 unit 99 is out of range"), "{error}");
    let error = fails(&["playlist", p, "--similar", "400"]);
    assert!(error.contains("track 400 is out of range"), "{error}");
    let error = fails(&["playlist", p, "--similar", "17"]);
    assert!(error.contains("track 17 has no prediction"), "{error}");
    let error = fails(&["describe", p, "--filter", "9"]);
    assert!(error.contains("out of range"), "{error}");
    assert!(!playlists.exists());

    // A weights file whose conv1 does not match the predictions.
    let other = dir.path().join("other.safetensors");
    ConvnetWeights::init(
        &ConvnetConfig {
            filters: [5, 4, 4, 4],
            ..tiny_config()
        },
        1,
    )
    .save(&other)
    .expect("weights");
    let png = dir.path().join("f.png");
    let error = fails(&[
        "filters",
        p,
        "--model",
        other.to_str().expect("utf-8"),
        "--out",
        png.to_str().expect("utf-8"),
        "--order",
        "selectivity",
    ]);
    assert!(
        error.contains("conv1 has 5 filters, the predictions have 4"),
        "{error}"
    );
    assert!(!png.exists());

    // NaN activations.
    let mut max: Array2<f32> = npy::read(&dir.path().join("predict/conv1_max.npy")).expect("read");
    max[[7, 1]] = f32::NAN;
    npy::write(&dir.path().join("predict/conv1_max.npy"), &max).expect("write");
    let error = fails(&["playlist", p, "--filter", "1"]);
    assert!(
        error.contains("conv1_max.npy") && error.contains("not finite"),
        "{error}"
    );
    assert!(!playlists.exists());

    // Predictions missing, or older than the model.
    std::fs::remove_file(dir.path().join("predict/report.json")).expect("remove");
    let error = fails(&["playlist", p, "--unit", "1"]);
    assert!(
        error.contains("report.json") && error.contains("run `deepcuts predict` first"),
        "{error}"
    );
    let empty = dir.path().join("empty");
    Project::create(&empty).expect("project");
    let error = fails(&["neighbours", empty.to_str().expect("utf-8"), "0"]);
    assert!(
        error.contains("report.json") && error.contains("deepcuts predict"),
        "{error}"
    );
    assert!(!playlists.exists());
}

/// The trait `make_project` gives track `id`.
fn trait_of(id: usize) -> &'static str {
    if id.is_multiple_of(4) {
        "vibrato"
    } else {
        "drone"
    }
}

/// Brute force over the columns of `activations`: how many have a top-`k` playlist (predicted
/// tracks, best first, ties by id) that is ≥ 80% one trait, at least 0.3 above the trait's
/// share among the predicted tracks, across ≥ 3 styles, and how many are ≥ 80% one style.
fn low_level_and_style_selective(activations: &Array2<f32>, k: usize) -> (usize, usize) {
    let (mut low_level, mut one_style) = (0, 0);
    for column in 0..activations.ncols() {
        let top = ranked(
            (0..TRACKS)
                .filter(|&i| predicted(i))
                .map(|i| (i, f64::from(activations[[i, column]]))),
            k,
        );
        let most = |label: fn(usize) -> &'static str| {
            let mut labels: Vec<&str> = top.iter().map(|&(id, _)| label(id)).collect();
            labels.sort_unstable();
            let styles = {
                let mut s = labels.clone();
                s.dedup();
                s.len()
            };
            let most = labels
                .chunk_by(|a, b| a == b)
                .map(<[&str]>::len)
                .max()
                .unwrap_or(0);
            (most, styles)
        };
        let (style, styles_spanned) = most(styles);
        let background = |t: &str| {
            let carrying = (0..TRACKS).filter(|&i| predicted(i) && trait_of(i) == t);
            carrying.count() as f64 / (0..TRACKS).filter(|&i| predicted(i)).count() as f64
        };
        let above_chance = ["vibrato", "drone"].iter().any(|&t| {
            let n = top.iter().filter(|&&(id, _)| trait_of(id) == t).count();
            n * 10 >= 8 * k && n as f64 / k as f64 - background(t) >= 0.3
        });
        low_level += usize::from(above_chance && styles_spanned >= 3);
        one_style += usize::from(style * 10 >= 8 * k);
    }
    (low_level, one_style)
}

#[test]
fn experiment_report_counts_filters_and_units_by_brute_force_and_states_the_goals() {
    let dir = tempfile::tempdir().expect("temp");
    make_project(dir.path());
    let p = dir.path().to_str().expect("utf-8");
    // Planted: filter 0 fires on vibrato in every style (low-level: a quarter of the tracks
    // carry it), filter 1 on dub vibrato only (one style: not low-level); units 0–2 each on one
    // style. The rest is noise, whose playlists are often ≥ 80% drone (three quarters of the
    // tracks carry it): by chance, so not low-level either.
    let conv1_max = Array2::from_shape_fn((TRACKS, FILTERS), |(i, j)| {
        let planted = match j {
            0 => trait_of(i) == "vibrato",
            1 => trait_of(i) == "vibrato" && styles(i) == "dub",
            _ => false,
        };
        noise(i, j, 11) + if planted { 10.0 } else { 0.0 }
    });
    let fc2 = Array2::from_shape_fn((TRACKS, UNITS), |(i, u)| {
        noise(i, u, 12)
            + if u < 3 && styles(i) == styles(u) {
                10.0
            } else {
                0.0
            }
    });
    npy::write(&dir.path().join("predict/conv1_max.npy"), &conv1_max).expect("write");
    npy::write(&dir.path().join("predict/fc2.npy"), &fc2).expect("write");

    // Without a cold-start table the shares are still measured.
    ok(&["report", p, "-k", "8"]);
    let json = read_json(&dir.path().join("eval/report.json"));
    assert!(json["coldstart"].is_null() && json["gap_closed"].is_null());
    assert!(json["goals"][0]["met"].is_null() && json["goals"][1]["met"].is_null());
    let (low_level, one_style) = low_level_and_style_selective(&conv1_max, 8);
    let (_, style_units) = low_level_and_style_selective(&fc2, 8);
    assert!((1..FILTERS).contains(&low_level), "planted filters 0 and 1");
    assert!((3..UNITS).contains(&style_units), "planted units 0–2");
    assert_eq!(json["filters"]["playlists"], FILTERS);
    assert_eq!(json["filters"]["low_level"], low_level);
    assert_eq!(json["filters"]["one_style"], one_style);
    assert_eq!(json["units"]["playlists"], UNITS);
    assert_eq!(json["units"]["one_style"], style_units);
    let share = |part: usize, of: usize| part as f64 / of as f64;
    assert_eq!(
        json["goals"][3]["met"],
        share(low_level, FILTERS) >= 0.25,
        "{json}"
    );
    assert_eq!(json["goals"][4]["met"], share(style_units, UNITS) >= 0.5);

    // A table by hand: AUC gap (0.92 − 0.8) / (1 − 0.8) = 60%, mAP gap (0.3 − 0.2) / (0.6 − 0.2)
    // = 25%; the methods in order on both metrics.
    let row = |auc: f64, map: f64| serde_json::json!({"auc": auc, "map500": map, "recall50": 0.5, "ndcg50": 0.5, "users": 9});
    let table = serde_json::json!({
        "random": row(0.5, 0.03),
        "baseline": row(0.8, 0.2),
        "convnet": row(0.92, 0.3),
        "upper_bound": row(1.0, 0.6),
    });
    std::fs::write(dir.path().join("eval/coldstart.json"), table.to_string()).expect("table");
    let out = ok(&["report", p, "-k", "8"]);
    let json = read_json(&dir.path().join("eval/report.json"));
    let closed = &json["gap_closed"];
    assert!(
        (closed["auc"].as_f64().expect("auc") - 0.6).abs() < 1e-12,
        "{json}"
    );
    assert!((closed["map500"].as_f64().expect("map") - 0.25).abs() < 1e-12);
    let met: Vec<&serde_json::Value> = (0..3).map(|g| &json["goals"][g]["met"]).collect();
    assert_eq!(met, [true, true, false], "{out}");
    assert!(out.contains("60%") && out.contains("25%"), "{out}");

    // The convnet below the baseline on mAP: not in order.
    let mut table = table;
    table["convnet"] = row(0.92, 0.1);
    std::fs::write(dir.path().join("eval/coldstart.json"), table.to_string()).expect("table");
    ok(&["report", p, "-k", "8"]);
    let json = read_json(&dir.path().join("eval/report.json"));
    assert_eq!(json["goals"][0]["met"], false);

    // A corrupt table is refused, naming the file; the old report stays.
    std::fs::write(dir.path().join("eval/coldstart.json"), "{\"convnet\": 1").expect("write");
    let error = fails(&["report", p]);
    assert!(
        error.contains("eval/coldstart.json") && error.contains("not a cold-start table"),
        "{error}"
    );
    assert_eq!(read_json(&dir.path().join("eval/report.json")), json);
}

//! Listening-log import: each format on small hand-written files (good lines kept, malformed
//! lines reported at the right line numbers, plays summed), matching by id, path and artist +
//! title, `add_missing`, progress and cancel, and property tests that feed every parser random
//! and garbled input. The expected numbers below are worked out by hand from the files in
//! `tests/data/usage/`.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers, not only #[test] functions: a failed unwrap is a failed test"
)]

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use deepcuts::usage::{
    CatalogTrack, Import, ImportOptions, Importer, LineError, LineProblem, Listen, ListenReader,
    LogFormat, MatchCounts, PlayCount, ReadError, TrackMap, TrackRef, UsageError,
};
use proptest::prelude::*;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/usage")
        .join(name)
}

/// Every listen and line error of a file.
fn read_file(path: &Path, format: LogFormat, user: Option<&str>) -> (Vec<Listen>, Vec<LineError>) {
    let reader = ListenReader::open(path, format, user).unwrap();
    split_items(reader)
}

fn split_items<R: std::io::BufRead>(reader: ListenReader<R>) -> (Vec<Listen>, Vec<LineError>) {
    let mut listens = Vec::new();
    let mut errors = Vec::new();
    for item in reader {
        match item {
            Ok(listen) => listens.push(listen),
            Err(ReadError::Line(error)) => errors.push(error),
            Err(error @ ReadError::Io { .. }) => panic!("{error}"),
        }
    }
    (listens, errors)
}

fn lines_of(errors: &[LineError]) -> Vec<u64> {
    errors.iter().map(|error| error.line).collect()
}

fn import_file(
    path: &Path,
    format: LogFormat,
    catalog: &[CatalogTrack],
    map: Option<&TrackMap>,
    add_missing: bool,
) -> Import {
    let options = ImportOptions {
        add_missing,
        ..ImportOptions::default()
    };
    let mut importer = Importer::new(catalog.iter().copied(), map, options);
    let mut listens = ListenReader::open(path, format, None).unwrap();
    importer
        .read(&mut listens, &mut |_| {}, &AtomicBool::new(false))
        .unwrap();
    importer.finish()
}

fn play(user: u32, track: u32, count: u32) -> PlayCount {
    PlayCount { user, track, count }
}

fn by_name(artist: &str, title: &str) -> TrackRef {
    TrackRef {
        artist: Some(artist.into()),
        title: Some(title.into()),
        ..TrackRef::default()
    }
}

// ---------------------------------------------------------------- Taste Profile

#[test]
fn taste_profile_keeps_good_lines_and_reports_bad_ones() {
    let path = data("taste_profile.txt");
    let (listens, errors) = read_file(&path, LogFormat::TasteProfile, None);
    let triplets: Vec<(&str, &str, u32)> = listens
        .iter()
        .map(|l| (l.user.as_str(), l.track.ids[0].as_str(), l.count))
        .collect();
    assert_eq!(
        triplets,
        [
            ("u1", "SOAAAAA0000000001", 3),
            ("u1", "SOBBBBB0000000002", 1),
            ("u2", "SOAAAAA0000000001", 5),
            ("u1", "SOAAAAA0000000001", 2),
            ("u3", "SOEEEEE0000000005", 7),
            ("u4", "SOEEEEE0000000005", 1),
            ("u2", "SOCCCCC0000000003", 4),
        ]
    );
    assert_eq!(lines_of(&errors), [4, 5, 8]);
    assert_eq!(
        errors[1].problem,
        LineProblem::FieldCount {
            expected: "3 tab-separated",
            found: 2
        }
    );
    assert_eq!(
        errors[2].problem,
        LineProblem::BadCount {
            value: "99999999999".into()
        }
    );
    assert!(errors.iter().all(|error| error.path == path));
    let message = errors[0].to_string();
    assert!(message.contains("taste_profile.txt:4:"), "{message}");
}

/// The catalog of the Taste Profile tests: one track found through each kind of key.
fn taste_catalog() -> Vec<CatalogTrack<'static>> {
    vec![
        // Song A's MSD track id, known only through the map.
        CatalogTrack {
            id: "TRAAAAA128F0000001",
            source: "/lib/a.flac",
            artist: "Someone",
            title: "Else",
        },
        // Song B's path in the map is relative to the music folder.
        CatalogTrack {
            id: "x1",
            source: "/home/me/Music/B/song b.mp3",
            artist: "",
            title: "",
        },
        // Song C's map name, in other case and without accents.
        CatalogTrack {
            id: "x2",
            source: "demo:2",
            artist: "sigur ros",
            title: "HOPPIPOLLA",
        },
    ]
}

#[test]
fn taste_profile_with_a_map_matches_by_id_path_and_artist_title() {
    let (map, map_report) = TrackMap::load(&data("unique_tracks.txt"), 5).unwrap();
    assert_eq!((map_report.entries, map_report.malformed.count), (4, 0));
    let import = import_file(
        &data("taste_profile.txt"),
        LogFormat::TasteProfile,
        &taste_catalog(),
        Some(&map),
        false,
    );
    // u3 and u4 played only song E, which the catalog lacks.
    assert_eq!(import.users, ["u1", "u2"]);
    assert_eq!(
        import.plays,
        [play(0, 0, 5), play(0, 1, 1), play(1, 0, 5), play(1, 2, 4)]
    );
    let stats = &import.stats;
    assert_eq!(
        (
            stats.lines_read,
            stats.skipped_lines,
            stats.listens,
            stats.plays
        ),
        (11, 1, 7, 23)
    );
    assert_eq!(stats.malformed.count, 3);
    assert_eq!(
        stats.matched,
        MatchCounts {
            by_id: 3,
            by_path: 1,
            by_artist_title: 1
        }
    );
    assert_eq!(stats.matched_plays, 15);
    assert_eq!((stats.unmatched_listens, stats.unmatched_plays), (2, 8));
    assert_eq!((stats.unmatched_tracks, stats.added_tracks), (1, 0));
    let lost = &stats.top_unmatched[0];
    assert_eq!((lost.listens, lost.plays), (2, 8));
    assert_eq!(lost.track.title.as_deref(), Some("Lost Song"));
    assert!(import.added.is_empty());
}

#[test]
fn add_missing_makes_unmatched_tracks_catalog_entries() {
    let (map, _) = TrackMap::load(&data("unique_tracks.txt"), 5).unwrap();
    let import = import_file(
        &data("taste_profile.txt"),
        LogFormat::TasteProfile,
        &taste_catalog(),
        Some(&map),
        true,
    );
    assert_eq!(import.users, ["u1", "u2", "u3", "u4"]);
    // Song E becomes track 3, after the three catalog tracks.
    assert_eq!(
        import.plays,
        [
            play(0, 0, 5),
            play(0, 1, 1),
            play(1, 0, 5),
            play(1, 2, 4),
            play(2, 3, 7),
            play(3, 3, 1),
        ]
    );
    assert_eq!(
        import.added,
        [TrackRef {
            ids: vec!["SOEEEEE0000000005".into(), "TREEEEE128F0000005".into()],
            mbid: None,
            path: None,
            artist: Some("Nobody Known".into()),
            title: Some("Lost Song".into()),
        }]
    );
    assert_eq!(import.stats.added_tracks, 1);
}

#[test]
fn without_a_map_bare_song_ids_are_listed_by_plays() {
    let import = import_file(
        &data("taste_profile.txt"),
        LogFormat::TasteProfile,
        &taste_catalog(),
        None,
        false,
    );
    assert!(import.plays.is_empty() && import.users.is_empty());
    let top: Vec<(&str, u64, u64)> = import
        .stats
        .top_unmatched
        .iter()
        .map(|t| (t.track.ids[0].as_str(), t.listens, t.plays))
        .collect();
    assert_eq!(
        top,
        [
            ("SOAAAAA0000000001", 3, 10),
            ("SOEEEEE0000000005", 2, 8),
            ("SOCCCCC0000000003", 1, 4),
            ("SOBBBBB0000000002", 1, 1),
        ]
    );
    assert_eq!(import.stats.unmatched_plays, 23);
}

// ---------------------------------------------------------------- Last.fm 1K

#[test]
fn lastfm_1k_reads_listens_and_reports_bad_lines() {
    let (listens, errors) = read_file(&data("lastfm_1k.tsv"), LogFormat::LastFm1k, None);
    assert_eq!(listens.len(), 5);
    assert!(listens.iter().all(|listen| listen.count == 1));
    assert_eq!(
        listens[1].track,
        TrackRef {
            ids: vec![],
            mbid: Some("f7c1f8f8-b935-45ed-8fc8-7def69d92a10".into()),
            path: None,
            artist: Some("坂本龍一".into()),
            title: Some("Composition 0919 (Live_2009_4_15)".into()),
        }
    );
    let problems: Vec<(u64, LineProblem)> =
        errors.into_iter().map(|e| (e.line, e.problem)).collect();
    assert_eq!(
        problems,
        [
            (
                5,
                LineProblem::BadTimestamp {
                    value: "not-a-time".into()
                }
            ),
            (
                6,
                LineProblem::FieldCount {
                    expected: "6 tab-separated",
                    found: 4
                }
            ),
            // "Mötley Crüe" in Latin-1: the byte 0xF6 after "user_000003\t…\t\tM".
            (7, LineProblem::InvalidUtf8 { valid_up_to: 35 }),
            (9, LineProblem::EmptyField { field: "user" }),
            (10, LineProblem::NoTrack),
        ]
    );
}

#[test]
fn lastfm_1k_matches_mbids_and_normalised_names() {
    let catalog = [
        CatalogTrack {
            id: "c0",
            source: "/m/deep dish.mp3",
            artist: "DEEP DISH",
            title: "Fuck me I'm famous (Pacha Ibiza) 09/28/2007",
        },
        CatalogTrack {
            id: "f7c1f8f8-b935-45ed-8fc8-7def69d92a10",
            source: "",
            artist: "Ryuichi Sakamoto",
            title: "Composition 0919",
        },
        CatalogTrack {
            id: "c2",
            source: "",
            artist: "Motley Crue",
            title: "Kickstart my heart",
        },
    ];
    let import = import_file(
        &data("lastfm_1k.tsv"),
        LogFormat::LastFm1k,
        &catalog,
        None,
        false,
    );
    assert_eq!(import.users, ["user_000001", "user_000002", "user_000003"]);
    assert_eq!(
        import.plays,
        [play(0, 0, 1), play(0, 1, 2), play(1, 0, 1), play(2, 2, 1)]
    );
    assert_eq!(
        import.stats.matched,
        MatchCounts {
            by_id: 2,
            by_path: 0,
            by_artist_title: 3
        }
    );
    assert_eq!(import.stats.malformed.count, 5);
}

// ---------------------------------------------------------------- ListenBrainz

#[test]
fn listenbrainz_jsonl_export_takes_the_user_from_user_json() {
    let path = data("lb_export/listens/2024/3.jsonl");
    let (listens, errors) = read_file(&path, LogFormat::ListenBrainz, None);
    assert!(listens.iter().all(|listen| listen.user == "rob"));
    let tracks: Vec<&TrackRef> = listens.iter().map(|listen| &listen.track).collect();
    let acid_king = TrackRef {
        ids: vec!["msid-a".into()],
        mbid: Some("mbid-a".into()),
        path: None,
        artist: Some("Acid King".into()),
        title: Some("2 Wheel Nation".into()),
    };
    let boc = TrackRef {
        ids: vec!["msid-c".into()],
        ..by_name("Boards of Canada", "Roygbiv")
    };
    assert_eq!(tracks, [&acid_king, &acid_king, &boc]);
    assert_eq!(lines_of(&errors), [3, 4, 7]);
    assert!(matches!(errors[0].problem, LineProblem::Json { .. }));
    assert_eq!(
        errors[1].problem,
        LineProblem::MissingField {
            field: "listened_at"
        }
    );
    // An explicit user wins over user.json.
    let (listens, _) = read_file(&path, LogFormat::ListenBrainz, Some("someone"));
    assert!(listens.iter().all(|listen| listen.user == "someone"));
}

#[test]
fn listenbrainz_json_array_reports_elements_by_their_first_line() {
    let (listens, errors) = read_file(
        &data("listenbrainz_array.json"),
        LogFormat::ListenBrainz,
        None,
    );
    let users: Vec<&str> = listens.iter().map(|l| l.user.as_str()).collect();
    assert_eq!(users, ["alice", "alice", "bob"]);
    assert_eq!(listens[0].track.mbid.as_deref(), Some("mbid-d"));
    assert_eq!(listens[1].track, by_name("deadmau5", "Everything Before"));
    assert_eq!(listens[2].track, by_name("Burial", "Archangel \"live\""));
    assert_eq!(lines_of(&errors), [16]);

    let catalog = [CatalogTrack {
        id: "mbid-d",
        source: "",
        artist: "Deadmau5",
        title: "Everything Before",
    }];
    let import = import_file(
        &data("listenbrainz_array.json"),
        LogFormat::ListenBrainz,
        &catalog,
        None,
        true,
    );
    assert_eq!(import.users, ["alice", "bob"]);
    assert_eq!(import.plays, [play(0, 0, 2), play(1, 1, 1)]);
    assert_eq!(
        (
            import.stats.matched.by_id,
            import.stats.matched.by_artist_title
        ),
        (1, 1)
    );
    assert_eq!(import.added, [by_name("Burial", "Archangel \"live\"")]);
}

// ---------------------------------------------------------------- CSV

#[test]
fn csv_without_header_reads_counts_and_classifies_tracks() {
    let (listens, errors) = read_file(&data("plays.csv"), LogFormat::Csv, None);
    let summary: Vec<(&str, &TrackRef, u32)> = listens
        .iter()
        .map(|l| (l.user.as_str(), &l.track, l.count))
        .collect();
    let one = TrackRef {
        path: Some("/music/A/one.mp3".into()),
        ..TrackRef::default()
    };
    let roygbiv = by_name("Boards of Canada", "Roygbiv");
    let track_42 = TrackRef {
        ids: vec!["track-42".into()],
        ..TrackRef::default()
    };
    assert_eq!(
        summary,
        [
            ("ann", &one, 3),
            ("ann", &roygbiv, 2),
            ("bob", &track_42, 1),
            ("carl", &one, 4),
            ("ann", &one, 1),
        ]
    );
    assert_eq!(lines_of(&errors), [5, 6]);

    let catalog = [
        CatalogTrack {
            id: "t0",
            source: "A/one.mp3",
            artist: "",
            title: "",
        },
        CatalogTrack {
            id: "t1",
            source: "",
            artist: "Boards Of Canada",
            title: "ROYGBIV",
        },
    ];
    let import = import_file(&data("plays.csv"), LogFormat::Csv, &catalog, None, false);
    assert_eq!(import.users, ["ann", "carl"]);
    assert_eq!(import.plays, [play(0, 0, 4), play(0, 1, 2), play(1, 0, 4)]);
    assert_eq!(import.stats.skipped_lines, 1);
    let top = &import.stats.top_unmatched;
    assert_eq!((top.len(), top[0].track.ids[0].as_str()), (1, "track-42"));
}

#[test]
fn csv_with_header_reads_a_scrobble_export() {
    let (listens, errors) = read_file(&data("scrobbles.csv"), LogFormat::Csv, None);
    // No user column: the file's stem names the listener.
    assert_eq!(listens.len(), 2);
    for listen in &listens {
        assert_eq!((listen.user.as_str(), listen.count), ("scrobbles", 1));
        assert_eq!(listen.track, by_name("Burial", "Archangel"));
    }
    let problems: Vec<(u64, LineProblem)> =
        errors.into_iter().map(|e| (e.line, e.problem)).collect();
    assert_eq!(
        problems,
        [
            (
                4,
                LineProblem::BadTimestamp {
                    value: "yesterday".into()
                }
            ),
            (5, LineProblem::NoTrack),
        ]
    );
}

// ---------------------------------------------------------------- reading machinery

#[test]
fn progress_reaches_the_file_size_and_cancel_stops() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.txt");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for i in 0..100_000 {
        writeln!(file, "user{}\tSO{:016}\t{}", i % 97, i % 1013, i % 7 + 1).unwrap();
    }
    drop(file);
    let size = std::fs::metadata(&path).unwrap().len();

    let mut importer = Importer::new([], None, ImportOptions::default());
    let mut listens = ListenReader::open(&path, LogFormat::TasteProfile, None).unwrap();
    let mut reports = Vec::new();
    importer
        .read(
            &mut listens,
            &mut |p| reports.push(p),
            &AtomicBool::new(false),
        )
        .unwrap();
    assert!(reports.len() > 2);
    assert!(reports
        .windows(2)
        .all(|w| w[0].bytes_read <= w[1].bytes_read));
    let last = reports.last().unwrap();
    assert_eq!((last.bytes_read, last.total_bytes), (size, Some(size)));
    assert_eq!(last.records_read, 100_000);
    let import = importer.finish();
    assert_eq!(import.stats.unmatched_tracks, 1013);

    let mut importer = Importer::new([], None, ImportOptions::default());
    let mut listens = ListenReader::open(&path, LogFormat::TasteProfile, None).unwrap();
    let outcome = importer.read(&mut listens, &mut |_| {}, &AtomicBool::new(true));
    assert!(matches!(outcome, Err(UsageError::Cancelled { path: p }) if p == path));
    assert!(listens.records_read() < 100_000);

    // Few but enormous garbage lines: the cancel is still seen within a bounded read.
    let garbage = dir.path().join("garbage.txt");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&garbage).unwrap());
    for _ in 0..12 {
        file.write_all(&vec![b'x'; 2 << 20]).unwrap();
        file.write_all(b"\n").unwrap();
    }
    drop(file);
    let mut importer = Importer::new([], None, ImportOptions::default());
    let mut listens = ListenReader::open(&garbage, LogFormat::Csv, None).unwrap();
    let outcome = importer.read(&mut listens, &mut |_| {}, &AtomicBool::new(true));
    assert!(matches!(outcome, Err(UsageError::Cancelled { .. })));
    assert!(listens.records_read() < 12);
}

#[test]
fn a_missing_file_is_an_open_error_naming_it() {
    let path = data("no-such-log.tsv");
    let error = ListenReader::open(&path, LogFormat::LastFm1k, None)
        .err()
        .unwrap();
    assert!(matches!(&error, UsageError::Open { path: p, .. } if *p == path));
    assert!(error.to_string().contains("no-such-log.tsv"));
}

#[test]
fn several_files_add_up_in_one_importer() {
    let mut importer = Importer::new(
        [],
        None,
        ImportOptions {
            add_missing: true,
            ..Default::default()
        },
    );
    for _ in 0..2 {
        let mut listens =
            ListenReader::open(&data("taste_profile.txt"), LogFormat::TasteProfile, None).unwrap();
        importer
            .read(&mut listens, &mut |_| {}, &AtomicBool::new(false))
            .unwrap();
    }
    let import = importer.finish();
    assert_eq!(import.stats.lines_read, 22);
    assert_eq!(import.stats.malformed.count, 6);
    // Song A: u1 played it 3 + 2 times per file.
    assert_eq!(import.plays[0], play(0, 0, 10));
    assert_eq!(
        import.plays.iter().map(|p| u64::from(p.count)).sum::<u64>(),
        46
    );
}

// ---------------------------------------------------------------- property tests

/// Imports `bytes` as `format` with an empty catalog and `add_missing`, checking the
/// invariants that hold for any input: every record is a listen, an error or a skip; error
/// lines are in range and in order; every counted play came from a listen.
fn import_bytes(format: LogFormat, bytes: &[u8]) -> (Import, Vec<LineError>) {
    let reader = ListenReader::new(bytes, "garbled", format, "default").unwrap();
    let (listens, errors) = split_items(reader);
    let mut importer = Importer::new(
        [],
        None,
        ImportOptions {
            add_missing: true,
            max_error_examples: usize::MAX,
            ..ImportOptions::default()
        },
    );
    let mut reader = ListenReader::new(bytes, "garbled", format, "default").unwrap();
    importer
        .read(&mut reader, &mut |_| {}, &AtomicBool::new(false))
        .unwrap();
    let import = importer.finish();
    let stats = &import.stats;
    assert_eq!(stats.listens, listens.len() as u64);
    assert_eq!(stats.malformed.examples, errors);
    assert_eq!(
        stats.lines_read,
        stats.listens + stats.malformed.count + stats.skipped_lines
    );
    let line_count = bytes.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    assert!(errors.iter().all(|e| (1..=line_count).contains(&e.line)));
    assert!(errors.windows(2).all(|w| w[0].line <= w[1].line));
    let counted: u64 = import.plays.iter().map(|p| u64::from(p.count)).sum();
    let plays: u64 = listens.iter().map(|l| u64::from(l.count)).sum();
    assert_eq!(counted, plays);
    assert_eq!(stats.plays, plays);
    assert!(listens.iter().all(|l| l.count >= 1 && l.track.has_key()));
    (import, errors)
}

/// Text made of the characters that matter to the four formats.
fn garbled_lines() -> impl Strategy<Value = Vec<u8>> {
    let line = prop_oneof![
        "[a-z0-9 \t,;\"{}\\[\\]:.\\-]{0,40}",
        "u[0-9]\tSO[A-Z0-9]{3}\t[0-9]{1,25}",
        "u[0-9]\t20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\t\t[a-z]{0,3}\t\t[a-z]{0,3}",
        "\\{\"listened_at\": [0-9e.\\-]{0,25}, \"track_metadata\": \\{\"artist_name\": \"[a-z]\", \"track_name\": \"[a-z\\\\\"]{0,4}\"\\}\\}",
        "(user|track|count|artist|title|uts)(,(user|track|count|artist|title|uts|[a-z]{0,3}|[0-9]{0,12})){0,4}",
    ];
    prop::collection::vec(line, 0..30).prop_map(|lines| lines.join("\n").into_bytes())
}

/// Cuts `bytes` at `cut` and drops a random invalid UTF-8 byte at `at`.
fn damage(mut bytes: Vec<u8>, cut: usize, at: usize, byte: u8) -> Vec<u8> {
    bytes.truncate(cut.min(bytes.len()));
    if !bytes.is_empty() {
        let at = at % bytes.len();
        bytes.insert(at, byte);
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..3000)) {
        for format in LogFormat::ALL {
            import_bytes(format, &bytes);
        }
        let mut array = b"[".to_vec();
        array.extend_from_slice(&bytes);
        import_bytes(LogFormat::ListenBrainz, &array);
    }

    #[test]
    fn random_lines_never_panic(
        text in garbled_lines(),
        cut in any::<usize>(),
        at in any::<usize>(),
        byte in 0x80u8..=0xFF,
    ) {
        let damaged = damage(text.clone(), cut, at, byte);
        for format in LogFormat::ALL {
            import_bytes(format, &text);
            import_bytes(format, &damaged);
        }
        let mut array = b"[".to_vec();
        array.extend_from_slice(&text.split(|&b| b == b'\n').collect::<Vec<_>>().join(&b","[..]));
        import_bytes(LogFormat::ListenBrainz, &array);
    }
}

/// One generated log line: a valid listen of `(user, track, count)`, or that listen garbled
/// in way `garble`, which every parser must report at its line.
#[derive(Clone, Debug)]
struct GenLine {
    user: u8,
    track: u8,
    count: u32,
    garble: Option<u8>,
}

fn gen_lines() -> impl Strategy<Value = Vec<GenLine>> {
    let line = (
        0u8..6,
        0u8..9,
        1u32..2000,
        prop::option::weighted(0.3, 0u8..6),
    )
        .prop_map(|(user, track, count, garble)| GenLine {
            user,
            track,
            count,
            garble,
        });
    prop::collection::vec(line, 1..60)
}

/// Renders a generated line in `format`. Every format writes track `t` as artist `Artist t`
/// and title `Title t` (or song id `SOt`), so tracks stay distinct after normalisation.
fn render(format: LogFormat, line: &GenLine) -> Vec<u8> {
    let (user, track, count) = (line.user, line.track, line.count);
    let valid = match format {
        LogFormat::TasteProfile => format!("user {user}\tSO{track:016}\t{count}"),
        LogFormat::LastFm1k => {
            format!("user {user}\t2009-05-04T23:08:57Z\t\tArtist {track}\t\tTitle \"{track}\"")
        }
        LogFormat::ListenBrainz => serde_json::json!({
            "user_name": format!("user {user}"),
            "listened_at": 1_700_000_000 + u64::from(count),
            "track_metadata": {
                "artist_name": format!("Artist {track}"),
                "track_name": format!("Title \"{track}\" ü"),
            },
        })
        .to_string(),
        LogFormat::Csv => format!("user {user},\"Artist {track} - Title, {track}\",{count}"),
    };
    let Some(garble) = line.garble else {
        return valid.into_bytes();
    };
    let mut bytes = valid.into_bytes();
    match (format, garble) {
        // Invalid UTF-8 inside the first field.
        (_, 0) => bytes.insert(2, 0xFF),
        // Truncated: JSON loses its closing brace, delimited text its last field.
        (LogFormat::ListenBrainz, 1) => bytes.truncate(bytes.len() / 2),
        (_, 1) => {
            let cut = bytes
                .iter()
                .rposition(|&b| b == b'\t' || b == b',')
                .unwrap_or(0);
            bytes.truncate(cut);
        }
        // Zero, huge or non-numeric counts; an impossible date.
        (LogFormat::TasteProfile | LogFormat::Csv, 2) => replace_count(&mut bytes, "0"),
        (LogFormat::TasteProfile | LogFormat::Csv, 3) => {
            replace_count(&mut bytes, "99999999999999999999999")
        }
        (LogFormat::TasteProfile | LogFormat::Csv, 4) => replace_count(&mut bytes, "12x"),
        (LogFormat::LastFm1k, 2..=4) => {
            bytes = String::from_utf8(bytes)
                .unwrap()
                .replace("05-04", "02-30")
                .into_bytes()
        }
        (LogFormat::ListenBrainz, 2..=4) => {
            bytes = String::from_utf8(bytes)
                .unwrap()
                .replace("\"listened_at\":", "\"listened_at\":-")
                .into_bytes()
        }
        // An empty user.
        (LogFormat::ListenBrainz, _) => {
            bytes = String::from_utf8(bytes)
                .unwrap()
                .replace("\"track_metadata\"", "\"track_meta\"")
                .into_bytes()
        }
        (_, _) => {
            let first = bytes.iter().position(|&b| b == b'\t' || b == b',').unwrap();
            bytes.drain(..first);
        }
    }
    bytes
}

fn replace_count(bytes: &mut Vec<u8>, count: &str) {
    let cut = bytes
        .iter()
        .rposition(|&b| b == b'\t' || b == b',')
        .unwrap();
    bytes.truncate(cut + 1);
    bytes.extend_from_slice(count.as_bytes());
}

/// The expected import of generated lines, by brute force: users and tracks numbered as first
/// met among the valid lines, plays summed per pair.
fn expected_import(lines: &[GenLine], counts: bool) -> (Vec<u8>, Vec<u8>, Vec<PlayCount>) {
    let mut users = Vec::new();
    let mut tracks = Vec::new();
    let mut sums: HashMap<(u32, u32), u32> = HashMap::new();
    for line in lines.iter().filter(|line| line.garble.is_none()) {
        let index = |list: &mut Vec<u8>, value: u8| match list.iter().position(|&v| v == value) {
            Some(i) => i as u32,
            None => {
                list.push(value);
                list.len() as u32 - 1
            }
        };
        let track = index(&mut tracks, line.track);
        let user = index(&mut users, line.user);
        *sums.entry((user, track)).or_default() += if counts { line.count } else { 1 };
    }
    let mut plays: Vec<PlayCount> = sums
        .into_iter()
        .map(|((user, track), count)| PlayCount { user, track, count })
        .collect();
    plays.sort();
    (users, tracks, plays)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Good lines are kept and summed exactly, garbled ones reported at their line numbers.
    #[test]
    fn garbled_lines_are_reported_where_they_are(lines in gen_lines(), blank_every in 2usize..9) {
        for format in LogFormat::ALL {
            let mut text = Vec::new();
            let mut line_numbers = Vec::new();
            let mut line_no = 0;
            for (i, line) in lines.iter().enumerate() {
                if i % blank_every == 1 {
                    text.extend_from_slice(b"\n");
                    line_no += 1;
                }
                text.extend_from_slice(&render(format, line));
                text.extend_from_slice(b"\n");
                line_no += 1;
                line_numbers.push(line_no);
            }
            let (import, errors) = import_bytes(format, &text);
            let garbled_at: Vec<u64> = lines
                .iter()
                .zip(&line_numbers)
                .filter(|(line, _)| line.garble.is_some())
                .map(|(_, &n)| n)
                .collect();
            prop_assert_eq!(lines_of(&errors), garbled_at, "{}", format);
            let counts = matches!(format, LogFormat::TasteProfile | LogFormat::Csv);
            let (users, tracks, plays) = expected_import(&lines, counts);
            let user_names: Vec<String> = users.iter().map(|u| format!("user {u}")).collect();
            prop_assert_eq!(&import.users, &user_names, "{}", format);
            prop_assert_eq!(&import.plays, &plays, "{}", format);
            let added: Vec<String> = import
                .added
                .iter()
                .map(|t| t.ids.first().cloned().or(t.artist.clone()).unwrap())
                .collect();
            let expected_added: Vec<String> = tracks
                .iter()
                .map(|t| match format {
                    LogFormat::TasteProfile => format!("SO{t:016}"),
                    _ => format!("Artist {t}"),
                })
                .collect();
            prop_assert_eq!(added, expected_added, "{}", format);
        }
    }
}

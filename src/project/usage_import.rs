//! Importing a listening log into a project: parse, match to the catalog, optionally add the
//! tracks it names that the catalog lacks, and add the summed play counts. The catalog changes
//! in one transaction at the end, so a cancelled or failed import changes nothing.

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use super::source::TrackSource;
use super::{NewTrack, Project, ProjectError};
use crate::usage::{
    CatalogTrack, ImportOptions, ImportProgress, ImportStats, Importer, ListenReader, LogFormat,
    TrackMap, TrackRef, UsageError,
};

/// What went wrong importing a log.
#[derive(Debug, thiserror::Error)]
pub enum UsageImportError {
    #[error(transparent)]
    Usage(#[from] UsageError),
    #[error(transparent)]
    Project(#[from] ProjectError),
}

/// What to import and how.
#[derive(Debug, Clone)]
pub struct UsageImport<'a> {
    pub file: &'a Path,
    pub format: LogFormat,
    /// A file mapping log ids to artist + title or paths (the MSD's `unique_tracks.txt`, …).
    pub map: Option<&'a Path>,
    /// Add the tracks the log names that match nothing, as tracks without audio.
    pub add_missing: bool,
    /// The user of a single-user log (ListenBrainz exports) when the file does not say.
    pub user: Option<&'a str>,
}

/// The outcome: the parser's and matcher's statistics, and what changed in the catalog.
#[derive(Debug)]
pub struct UsageImportReport {
    pub stats: ImportStats,
    pub users: usize,
    pub pairs: usize,
    pub tracks_added: usize,
}

/// Imports `request.file` into `project`.
pub fn import_usage(
    project: &mut Project,
    request: &UsageImport<'_>,
    progress: &mut dyn FnMut(ImportProgress),
    cancel: &AtomicBool,
) -> Result<UsageImportReport, UsageImportError> {
    let tracks = project.catalog().tracks().map_err(ProjectError::from)?;
    // A log-only track is known by the log reference it was added under, so importing the same
    // log again matches it by id; other tracks by their catalog id.
    let ids: Vec<String> = tracks
        .iter()
        .map(|t| match TrackSource::parse(&t.source) {
            TrackSource::LogOnly(reference) => reference,
            _ => t.id.to_string(),
        })
        .collect();
    let map = match request.map {
        Some(path) => Some(TrackMap::load(path, 10)?.0),
        None => None,
    };
    let catalog = tracks.iter().zip(&ids).map(|(t, id)| CatalogTrack {
        id,
        source: &t.source,
        artist: &t.artist,
        title: &t.title,
    });
    let options = ImportOptions {
        add_missing: request.add_missing,
        ..ImportOptions::default()
    };
    let mut importer = Importer::new(catalog, map.as_ref(), options);
    let mut reader = ListenReader::open(request.file, request.format, request.user)?;
    importer.read(&mut reader, progress, cancel)?;
    let import = importer.finish();
    let new_tracks = log_only_tracks(&import.added, &tracks_sources(&tracks));
    let tracks_added = project.add_tracks(&new_tracks)?;
    debug_assert_eq!(tracks_added, new_tracks.len());
    let pairs = import.plays.len();
    project.add_plays(
        &import.users,
        import.plays.iter().map(|p| (p.user, p.track, p.count)),
    )?;
    Ok(UsageImportReport {
        users: import.users.len(),
        pairs,
        tracks_added,
        stats: import.stats,
    })
}

fn tracks_sources(tracks: &[super::Track]) -> HashSet<String> {
    tracks.iter().map(|t| t.source.clone()).collect()
}

/// Catalog entries for unmatched log tracks, with unique `log:REFERENCE` sources (the
/// importer numbered them after the catalog's last track, so each must be added).
fn log_only_tracks(added: &[TrackRef], existing: &HashSet<String>) -> Vec<NewTrack> {
    let mut used = existing.clone();
    added
        .iter()
        .map(|r| {
            let reference = r
                .ids
                .first()
                .cloned()
                .or_else(|| r.mbid.clone())
                .or_else(|| r.path.clone())
                .unwrap_or_else(|| {
                    format!(
                        "{} - {}",
                        r.artist.as_deref().unwrap_or(""),
                        r.title.as_deref().unwrap_or("")
                    )
                });
            let mut source = TrackSource::LogOnly(reference.clone()).to_string();
            let mut n = 2;
            while !used.insert(source.clone()) {
                source = TrackSource::LogOnly(format!("{reference}#{n}")).to_string();
                n += 1;
            }
            NewTrack {
                source,
                artist: r.artist.clone().unwrap_or_default(),
                title: r.title.clone().unwrap_or_default(),
                ..NewTrack::default()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_match_existing_tracks_and_add_missing_ones_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut project = Project::create(&dir.path().join("p")).unwrap();
        project
            .add_tracks(&[NewTrack {
                source: "/music/a.ogg".into(),
                artist: "Ann".into(),
                title: "Alpha".into(),
                ..NewTrack::default()
            }])
            .unwrap();
        let log = dir.path().join("log.csv");
        std::fs::write(
            &log,
            "user,track,count\nu1,Ann - Alpha,3\nu2,Bob - Beta,2\nu1,Bob - Beta,1\nu2,bad line\n",
        )
        .unwrap();
        let request = UsageImport {
            file: &log,
            format: LogFormat::Csv,
            map: None,
            add_missing: true,
            user: None,
        };
        let cancel = AtomicBool::new(false);
        let report = import_usage(&mut project, &request, &mut |_| {}, &cancel).unwrap();
        assert_eq!(report.tracks_added, 1);
        assert_eq!(report.stats.malformed.count, 1);
        let tracks = project.catalog().tracks().unwrap();
        assert_eq!(tracks[1].source, "log:Bob - Beta");
        let plays = project.catalog().plays().unwrap();
        assert_eq!(plays.users, ["u1", "u2"]);
        assert_eq!(plays.triplets, [(0, 0, 3), (0, 1, 1), (1, 1, 2)]);
        // The same log again: nothing new is added, the counts add up.
        let report = import_usage(&mut project, &request, &mut |_| {}, &cancel).unwrap();
        assert_eq!(report.tracks_added, 0);
        assert_eq!(project.catalog().track_count().unwrap(), 2);
        let plays = project.catalog().plays().unwrap();
        assert_eq!(plays.triplets, [(0, 0, 6), (0, 1, 2), (1, 1, 4)]);
    }
}

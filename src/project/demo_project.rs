//! A complete project from the synthesized demo world: its catalog and simulated play counts.

use std::path::Path;

use super::{NewTrack, Project, ProjectError};
use crate::demo::{self, DemoWorld, WorldConfig};

/// Generates the demo world `config` and writes it as a new project in `dir`.
pub fn create_demo_project(
    dir: &Path,
    config: &WorldConfig,
) -> Result<(Project, DemoWorld), ProjectError> {
    let world = demo::generate(config);
    let mut project = Project::create(dir)?;
    let tracks: Vec<NewTrack> = world
        .tracks
        .iter()
        .map(|t| NewTrack {
            source: demo::format_source(config.seed, t.index),
            artist: t.artist.clone(),
            title: t.title.clone(),
            album: t.album.clone(),
            duration_secs: Some(t.duration_secs),
            tags: t.tags.clone(),
            kind: t.kind.name().to_owned(),
        })
        .collect();
    // A new project numbers tracks from 0 in order, so track ids are the demo indices the
    // play counts refer to.
    project.add_tracks(&tracks)?;
    project.add_plays(&world.users, world.plays.iter().copied())?;
    Ok((project, world))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_project_holds_the_world_row_for_row() {
        let dir = tempfile::tempdir().unwrap();
        let config = WorldConfig {
            tracks: 120,
            users: 50,
            seed: 7,
        };
        let (project, world) = create_demo_project(&dir.path().join("demo"), &config).unwrap();
        let tracks = project.catalog().tracks().unwrap();
        assert_eq!(tracks.len(), 120);
        for (track, demo) in tracks.iter().zip(&world.tracks) {
            assert_eq!(track.source, format!("demo:7:{}", demo.index));
            assert_eq!((&track.title, &track.artist), (&demo.title, &demo.artist));
        }
        let plays = project.catalog().plays().unwrap();
        let listeners_with_plays: std::collections::BTreeSet<u32> =
            world.plays.iter().map(|p| p.0).collect();
        assert_eq!(plays.users.len(), world.users.len());
        // Users are numbered by first appearance; compare through their names.
        let by_name = |users: &[String], triplets: &[(u32, u32, u32)]| {
            let mut named: Vec<(String, u32, u32)> = triplets
                .iter()
                .map(|&(u, t, c)| (users[u as usize].clone(), t, c))
                .collect();
            named.sort();
            named
        };
        assert_eq!(
            by_name(&plays.users, &plays.triplets),
            by_name(&world.users, &world.plays)
        );
        assert!(!listeners_with_plays.is_empty());
        assert!(dir.path().join("demo/tracks.tsv").is_file());
    }
}

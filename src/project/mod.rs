//! A project is a folder: the catalog and play counts in SQLite, `tracks.tsv`, and every
//! artifact the pipeline writes (layout in [`layout`] and README.md).

pub mod audio_import;
pub mod audio_source;
pub mod catalog;
pub mod cf_stage;
pub mod demo_project;
pub mod layout;
pub mod shipped_model;
pub mod source;
pub mod tracks_tsv;
pub mod usage_import;

use std::path::{Path, PathBuf};

pub use catalog::{Catalog, CatalogError, NewTrack, PlayCounts, Track};
pub use layout::Layout;

/// What went wrong opening or changing a project; names the folder or file.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("{path}: already a deepcuts project")]
    Exists { path: PathBuf },
    #[error("{path}: not a deepcuts project (no {database})", database = layout::DATABASE)]
    NotAProject { path: PathBuf },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

/// An open project folder.
pub struct Project {
    layout: Layout,
    catalog: Catalog,
}

impl Project {
    /// Makes `dir` (created when missing) a new, empty project.
    pub fn create(dir: &Path) -> Result<Self, ProjectError> {
        let layout = Layout::new(dir);
        let database = layout.path(layout::DATABASE);
        if database.exists() {
            return Err(ProjectError::Exists {
                path: dir.to_owned(),
            });
        }
        std::fs::create_dir_all(dir).map_err(|source| ProjectError::Io {
            path: dir.to_owned(),
            source,
        })?;
        let catalog = Catalog::create(&database)?;
        let project = Self { layout, catalog };
        project.write_tracks_tsv()?;
        Ok(project)
    }

    /// Opens the project in `dir`.
    pub fn open(dir: &Path) -> Result<Self, ProjectError> {
        let layout = Layout::new(dir);
        let database = layout.path(layout::DATABASE);
        if !database.is_file() {
            return Err(ProjectError::NotAProject {
                path: dir.to_owned(),
            });
        }
        let catalog = Catalog::open(&database)?;
        Ok(Self { layout, catalog })
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Adds tracks (deduplicated by source) and rewrites `tracks.tsv`; returns how many were new.
    pub fn add_tracks(&mut self, tracks: &[NewTrack]) -> Result<usize, ProjectError> {
        let added = self.catalog.add_tracks(tracks)?;
        if added > 0 {
            self.write_tracks_tsv()?;
        }
        Ok(added)
    }

    /// Adds play counts (see [`Catalog::add_plays`]).
    pub fn add_plays(
        &mut self,
        users: &[String],
        triplets: impl IntoIterator<Item = (u32, u32, u32)>,
    ) -> Result<(), ProjectError> {
        Ok(self.catalog.add_plays(users, triplets)?)
    }

    /// Rewrites `tracks.tsv` from the catalog, atomically.
    fn write_tracks_tsv(&self) -> Result<(), ProjectError> {
        let path = self.layout.path(layout::TRACKS_TSV);
        let tracks = self.catalog.tracks()?;
        crate::io::atomic::write_atomic(&path, |w| tracks_tsv::write(w, &tracks))
            .map_err(|source| ProjectError::Io { path, source })
    }
}

//! The catalog and play counts, in SQLite so researchers can query them directly.
//!
//! Schema (version [`SCHEMA_VERSION`], documented in README.md):
//! - `meta(key, value)`: `schema_version`, and change stamps the staleness checks read.
//! - `tracks(id, source, artist, title, album, duration_secs, tags, kind)`: `id` is the 0-based
//!   row of `tracks.tsv` and of every per-track array; `source` is an absolute file path,
//!   `demo:SEED:INDEX`, or `log:REF` for a track known only from a listening log.
//! - `users(id, name)`, `plays(user_id, track_id, count)`: summed play counts.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};

/// Bumped on any incompatible change of the tables above.
pub const SCHEMA_VERSION: u32 = 1;

const SCHEMA: &str = "
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE tracks (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL UNIQUE,
    artist TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL DEFAULT '',
    album TEXT NOT NULL DEFAULT '',
    duration_secs REAL,
    tags TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL DEFAULT ''
);
CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE plays (
    user_id INTEGER NOT NULL REFERENCES users(id),
    track_id INTEGER NOT NULL REFERENCES tracks(id),
    count INTEGER NOT NULL CHECK (count > 0),
    PRIMARY KEY (user_id, track_id)
) WITHOUT ROWID;
";

/// What went wrong with the catalog database; names the file.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("{path}: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("{path}: schema version {found}, this deepcuts reads version {SCHEMA_VERSION}")]
    SchemaVersion { path: PathBuf, found: String },
    #[error("{path}: play for track id {track_id}, which is not in the catalog")]
    UnknownTrack { path: PathBuf, track_id: u32 },
}

/// A track as the catalog stores it.
#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    /// The 0-based row of `tracks.tsv` and of every per-track array.
    pub id: u32,
    pub source: String,
    pub artist: String,
    pub title: String,
    pub album: String,
    pub duration_secs: Option<f64>,
    pub tags: Vec<String>,
    /// What kind of item the track is, where known (the demo world marks intros, covers, …).
    pub kind: String,
}

/// A track to add; the catalog assigns the id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewTrack {
    pub source: String,
    pub artist: String,
    pub title: String,
    pub album: String,
    pub duration_secs: Option<f64>,
    pub tags: Vec<String>,
    pub kind: String,
}

/// Play counts as sparse triplets over users and track ids.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlayCounts {
    /// User names; `user` in a triplet indexes this list.
    pub users: Vec<String>,
    /// `(user, track id, count)`, sorted by user then track.
    pub triplets: Vec<(u32, u32, u32)>,
}

/// The SQLite catalog of a project.
pub struct Catalog {
    db: Connection,
    path: PathBuf,
}

impl Catalog {
    /// Creates a new, empty catalog at `path` (which must not exist).
    pub fn create(path: &Path) -> Result<Self, CatalogError> {
        let db = Connection::open(path).map_err(|e| sqlite(path, e))?;
        let catalog = Self {
            db,
            path: path.to_owned(),
        };
        catalog.configure()?;
        catalog
            .db
            .execute_batch(&format!(
                "BEGIN; {SCHEMA} INSERT INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}'); COMMIT;"
            ))
            .map_err(|e| sqlite(path, e))?;
        Ok(catalog)
    }

    /// Opens an existing catalog, refusing another schema version.
    pub fn open(path: &Path) -> Result<Self, CatalogError> {
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE;
        let db = Connection::open_with_flags(path, flags).map_err(|e| sqlite(path, e))?;
        let catalog = Self {
            db,
            path: path.to_owned(),
        };
        catalog.configure()?;
        let version = catalog.meta("schema_version")?.unwrap_or_default();
        if version != SCHEMA_VERSION.to_string() {
            return Err(CatalogError::SchemaVersion {
                path: path.to_owned(),
                found: if version.is_empty() {
                    "missing".to_owned()
                } else {
                    version
                },
            });
        }
        Ok(catalog)
    }

    fn configure(&self) -> Result<(), CatalogError> {
        // WAL keeps readers (the GUI) working while a stage writes.
        self.db
            .execute_batch("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;")
            .map_err(|e| self.err(e))
    }

    fn err(&self, source: rusqlite::Error) -> CatalogError {
        sqlite(&self.path, source)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A value of the `meta` table.
    pub fn meta(&self, key: &str) -> Result<Option<String>, CatalogError> {
        self.db
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Sets a value of the `meta` table.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), CatalogError> {
        self.db
            .execute(
                "INSERT INTO meta VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2",
                [key, value],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Number of tracks.
    pub fn track_count(&self) -> Result<usize, CatalogError> {
        self.db
            .query_row("SELECT COUNT(*) FROM tracks", [], |r| r.get::<_, i64>(0))
            .map(|n| n as usize)
            .map_err(|e| self.err(e))
    }

    /// Whether any play count is recorded (without loading them).
    pub fn has_plays(&self) -> Result<bool, CatalogError> {
        self.db
            .query_row("SELECT EXISTS (SELECT 1 FROM plays)", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    /// Adds tracks whose source is not in the catalog yet, in order; returns how many were
    /// added (the rest were duplicates). One transaction: all or nothing.
    pub fn add_tracks(&mut self, tracks: &[NewTrack]) -> Result<usize, CatalogError> {
        let path = self.path.clone();
        let tx = self.db.transaction().map_err(|e| sqlite(&path, e))?;
        let mut next_id: i64 = tx
            .query_row("SELECT COALESCE(MAX(id) + 1, 0) FROM tracks", [], |r| {
                r.get(0)
            })
            .map_err(|e| sqlite(&path, e))?;
        let mut added = 0;
        {
            let mut insert = tx
                .prepare(
                    "INSERT OR IGNORE INTO tracks
                     (id, source, artist, title, album, duration_secs, tags, kind)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .map_err(|e| sqlite(&path, e))?;
            for t in tracks {
                let inserted = insert
                    .execute(params![
                        next_id,
                        t.source,
                        t.artist,
                        t.title,
                        t.album,
                        t.duration_secs,
                        t.tags.join(","),
                        t.kind
                    ])
                    .map_err(|e| sqlite(&path, e))?;
                if inserted == 1 {
                    next_id += 1;
                    added += 1;
                }
            }
        }
        tx.commit().map_err(|e| sqlite(&path, e))?;
        if added > 0 {
            self.touch("tracks_changed")?;
        }
        Ok(added)
    }

    /// All tracks in id order.
    pub fn tracks(&self) -> Result<Vec<Track>, CatalogError> {
        let mut query = self
            .db
            .prepare(
                "SELECT id, source, artist, title, album, duration_secs, tags, kind
                 FROM tracks ORDER BY id",
            )
            .map_err(|e| self.err(e))?;
        let rows = query
            .query_map([], |r| {
                let tags: String = r.get(6)?;
                Ok(Track {
                    id: r.get(0)?,
                    source: r.get(1)?,
                    artist: r.get(2)?,
                    title: r.get(3)?,
                    album: r.get(4)?,
                    duration_secs: r.get(5)?,
                    tags: tags
                        .split(',')
                        .filter(|t| !t.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    kind: r.get(7)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Adds play counts for users named in `users`; `(user, track id, count)` triplets index
    /// `users`. Counts for a (user, track) pair already present are summed. One transaction.
    pub fn add_plays(
        &mut self,
        users: &[String],
        triplets: impl IntoIterator<Item = (u32, u32, u32)>,
    ) -> Result<(), CatalogError> {
        let path = self.path.clone();
        let track_count = self.track_count()? as u32;
        let tx = self.db.transaction().map_err(|e| sqlite(&path, e))?;
        let mut user_ids = Vec::with_capacity(users.len());
        {
            let mut insert_user = tx
                .prepare("INSERT OR IGNORE INTO users (name) VALUES (?1)")
                .map_err(|e| sqlite(&path, e))?;
            let mut find_user = tx
                .prepare("SELECT id FROM users WHERE name = ?1")
                .map_err(|e| sqlite(&path, e))?;
            for name in users {
                insert_user.execute([name]).map_err(|e| sqlite(&path, e))?;
                let id: i64 = find_user
                    .query_row([name], |r| r.get(0))
                    .map_err(|e| sqlite(&path, e))?;
                user_ids.push(id);
            }
            let mut upsert = tx
                .prepare(
                    "INSERT INTO plays (user_id, track_id, count) VALUES (?1, ?2, ?3)
                     ON CONFLICT(user_id, track_id) DO UPDATE SET count = count + ?3",
                )
                .map_err(|e| sqlite(&path, e))?;
            for (user, track_id, count) in triplets {
                if track_id >= track_count {
                    return Err(CatalogError::UnknownTrack { path, track_id });
                }
                if count == 0 {
                    continue;
                }
                upsert
                    .execute(params![user_ids[user as usize], track_id, count])
                    .map_err(|e| sqlite(&path, e))?;
            }
        }
        tx.commit().map_err(|e| sqlite(&path, e))?;
        self.touch("plays_changed")
    }

    /// All play counts; users are numbered in the order of their first appearance.
    pub fn plays(&self) -> Result<PlayCounts, CatalogError> {
        let mut users_query = self
            .db
            .prepare("SELECT id, name FROM users ORDER BY id")
            .map_err(|e| self.err(e))?;
        let users: Vec<(i64, String)> = users_query
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(e))?
            .collect::<Result<_, _>>()
            .map_err(|e| self.err(e))?;
        let index: std::collections::HashMap<i64, u32> = users
            .iter()
            .enumerate()
            .map(|(i, (id, _))| (*id, i as u32))
            .collect();
        let mut plays_query = self
            .db
            .prepare("SELECT user_id, track_id, count FROM plays ORDER BY user_id, track_id")
            .map_err(|e| self.err(e))?;
        let triplets = plays_query
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, u32>(1)?,
                    r.get::<_, u32>(2)?,
                ))
            })
            .map_err(|e| self.err(e))?
            .map(|row| row.map(|(user, track, count)| (index[&user], track, count)))
            .collect::<Result<_, _>>()
            .map_err(|e| self.err(e))?;
        Ok(PlayCounts {
            users: users.into_iter().map(|(_, name)| name).collect(),
            triplets,
        })
    }

    /// Records that `what` changed now (a counter, so comparisons never depend on clocks).
    fn touch(&self, what: &str) -> Result<(), CatalogError> {
        let stamp = self
            .meta(what)?
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0)
            + 1;
        self.set_meta(what, &stamp.to_string())
    }
}

fn sqlite(path: &Path, source: rusqlite::Error) -> CatalogError {
    CatalogError::Sqlite {
        path: path.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(source: &str, title: &str) -> NewTrack {
        NewTrack {
            source: source.to_owned(),
            title: title.to_owned(),
            tags: vec!["a".into(), "b c".into()],
            ..NewTrack::default()
        }
    }

    #[test]
    fn tracks_are_numbered_in_order_and_deduplicated_by_source() {
        let dir = tempfile::tempdir().unwrap();
        let mut catalog = Catalog::create(&dir.path().join("c.sqlite")).unwrap();
        let added = catalog
            .add_tracks(&[
                track("/x.ogg", "X"),
                track("/y.ogg", "Y"),
                track("/x.ogg", "X2"),
            ])
            .unwrap();
        assert_eq!(added, 2);
        assert_eq!(catalog.add_tracks(&[track("/z.ogg", "Z")]).unwrap(), 1);
        let tracks = catalog.tracks().unwrap();
        let ids_titles: Vec<_> = tracks.iter().map(|t| (t.id, t.title.as_str())).collect();
        assert_eq!(ids_titles, [(0, "X"), (1, "Y"), (2, "Z")]);
        assert_eq!(tracks[0].tags, ["a", "b c"]);
    }

    #[test]
    fn plays_are_summed_and_unknown_tracks_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.sqlite");
        let mut catalog = Catalog::create(&path).unwrap();
        catalog
            .add_tracks(&[track("/x.ogg", "X"), track("/y.ogg", "Y")])
            .unwrap();
        let users = vec!["ann".to_owned(), "bob".to_owned()];
        assert!(!catalog.has_plays().unwrap());
        catalog
            .add_plays(&users, [(0, 1, 3), (1, 0, 1), (0, 1, 2)])
            .unwrap();
        assert!(catalog.has_plays().unwrap());
        catalog.add_plays(&["bob".to_owned()], [(0, 0, 4)]).unwrap();
        let plays = catalog.plays().unwrap();
        assert_eq!(plays.users, ["ann", "bob"]);
        assert_eq!(plays.triplets, [(0, 1, 5), (1, 0, 5)]);
        let err = catalog.add_plays(&users, [(0, 7, 1)]).unwrap_err();
        assert!(matches!(
            err,
            CatalogError::UnknownTrack { track_id: 7, .. }
        ));
        // The failed transaction left the counts alone.
        assert_eq!(catalog.plays().unwrap().triplets, [(0, 1, 5), (1, 0, 5)]);
    }

    #[test]
    fn another_schema_version_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.sqlite");
        let catalog = Catalog::create(&path).unwrap();
        catalog.set_meta("schema_version", "99").unwrap();
        drop(catalog);
        let err = Catalog::open(&path).err().unwrap();
        assert_eq!(
            err.to_string(),
            format!(
                "{}: schema version 99, this deepcuts reads version 1",
                path.display()
            )
        );
        std::fs::write(dir.path().join("junk.sqlite"), b"not a database at all").unwrap();
        assert!(Catalog::open(&dir.path().join("junk.sqlite")).is_err());
    }
}

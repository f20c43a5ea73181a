//! The names a researcher gives filters and units (`analysis/names.tsv`: a header, then
//! `kind<TAB>index<TAB>name` with kind `filter` or `unit`), read by the naming help and edited
//! by the app.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::results::AnalysisError;
use crate::io::atomic::write_bytes_atomic;

/// The file, inside the project.
pub const NAMES_TSV: &str = "analysis/names.tsv";

const HEADER: &str = "kind\tindex\tname";

/// What is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Named {
    /// A conv1 filter.
    Filter(usize),
    /// An fc2 unit.
    Unit(usize),
}

impl Named {
    fn kind(self) -> &'static str {
        match self {
            Named::Filter(_) => "filter",
            Named::Unit(_) => "unit",
        }
    }

    fn index(self) -> usize {
        match self {
            Named::Filter(i) | Named::Unit(i) => i,
        }
    }
}

/// Every saved name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Names {
    names: BTreeMap<Named, String>,
}

impl Names {
    /// Reads `project_dir/analysis/names.tsv`; a missing file is no names. A malformed line
    /// is an error naming the file and line.
    pub fn load(project_dir: &Path) -> Result<Self, AnalysisError> {
        let path = project_dir.join(NAMES_TSV);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => {
                return Err(AnalysisError::Invalid {
                    path,
                    reason: format!("cannot read: {e}"),
                })
            }
        };
        let mut names = BTreeMap::new();
        for (number, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l)) {
            if (number == 1 && line == HEADER) || line.trim().is_empty() {
                continue;
            }
            let bad = |reason: String| AnalysisError::Invalid {
                path: PathBuf::from(format!("{}:{number}", path.display())),
                reason,
            };
            let mut fields = line.splitn(3, '\t');
            let (Some(kind), Some(index), Some(name)) =
                (fields.next(), fields.next(), fields.next())
            else {
                return Err(bad("expected `kind<TAB>index<TAB>name`".into()));
            };
            let index: usize = index
                .trim()
                .parse()
                .map_err(|_| bad(format!("`{index}` is not an index")))?;
            let named = match kind.trim() {
                "filter" => Named::Filter(index),
                "unit" => Named::Unit(index),
                other => return Err(bad(format!("`{other}` is not `filter` or `unit`"))),
            };
            names.insert(named, name.to_owned());
        }
        Ok(Self { names })
    }

    /// The name of `what`, if one is saved.
    pub fn get(&self, what: Named) -> Option<&str> {
        self.names.get(&what).map(String::as_str)
    }

    /// Sets (or, with an empty name, removes) a name.
    pub fn set(&mut self, what: Named, name: &str) {
        let name: String = name
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let name = name.trim();
        if name.is_empty() {
            self.names.remove(&what);
        } else {
            self.names.insert(what, name.to_owned());
        }
    }

    /// Writes `project_dir/analysis/names.tsv` atomically (making `analysis/`).
    pub fn save(&self, project_dir: &Path) -> Result<(), AnalysisError> {
        let path = project_dir.join(NAMES_TSV);
        let mut text = format!("{HEADER}\n");
        for (what, name) in &self.names {
            text.push_str(&format!("{}\t{}\t{name}\n", what.kind(), what.index()));
        }
        write_bytes_atomic(&path, text.as_bytes())
            .map_err(|source| AnalysisError::Write { path, source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_bad_lines_are_named() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert_eq!(Names::load(dir.path()).expect("no file"), Names::default());
        let mut names = Names::default();
        names.set(Named::Filter(3), "low B\u{266d}\n");
        names.set(Named::Unit(12), "dub");
        names.set(Named::Unit(12), "dub\tsiren");
        names.save(dir.path()).expect("save");
        let text = std::fs::read_to_string(dir.path().join(NAMES_TSV)).expect("read");
        assert_eq!(
            text,
            "kind\tindex\tname\nfilter\t3\tlow B\u{266d}\nunit\t12\tdub siren\n"
        );
        let loaded = Names::load(dir.path()).expect("load");
        assert_eq!(loaded.get(Named::Filter(3)), Some("low B\u{266d}"));
        assert_eq!(loaded.get(Named::Unit(12)), Some("dub siren"));
        assert_eq!(loaded.get(Named::Filter(12)), None);

        std::fs::write(
            dir.path().join(NAMES_TSV),
            "kind\tindex\tname\nlayer\t1\tx\n",
        )
        .expect("write");
        let error = Names::load(dir.path()).expect_err("bad kind").to_string();
        assert!(
            error.contains("names.tsv:2") && error.contains("layer"),
            "{error}"
        );
    }
}

//! Finding audio files in folders, by extension (probing every file of a big library would
//! cost a read of each; decoding reports the files that turn out not to be audio).

use std::path::{Path, PathBuf};

/// Extensions of the containers the decoder opens.
pub const AUDIO_EXTENSIONS: &[&str] = &[
    "aac", "aif", "aifc", "aiff", "caf", "flac", "m4a", "mka", "mkv", "mp1", "mp2", "mp3", "mp4",
    "oga", "ogg", "opus", "wav", "wave", "webm",
];

/// Whether `path` has an audio extension (case-insensitive).
pub fn has_audio_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// The audio files under `root`, recursively, sorted by path; `root` itself when it is a file.
/// Unreadable folders are reported in the second list and skipped.
pub fn find_audio_files(root: &Path) -> (Vec<PathBuf>, Vec<(PathBuf, std::io::Error)>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    if root.is_file() {
        return (vec![root.to_owned()], errors);
    }
    let mut pending = vec![root.to_owned()];
    while let Some(dir) = pending.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) => {
                errors.push((dir, e));
                continue;
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => pending.push(path),
                Ok(_) if has_audio_extension(&path) => files.push(path),
                _ => {}
            }
        }
    }
    files.sort();
    (files, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_audio_recursively_and_skips_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a/b");
        std::fs::create_dir_all(&sub).unwrap();
        for name in ["a/x.OGG", "a/b/y.flac", "a/notes.txt", "z.mp3", "cover.jpg"] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        let (files, errors) = find_audio_files(dir.path());
        assert!(errors.is_empty());
        let names: Vec<_> = files
            .iter()
            .map(|p| {
                p.strip_prefix(dir.path())
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(names, ["a/b/y.flac", "a/x.OGG", "z.mp3"]);
        let missing = find_audio_files(&dir.path().join("nope"));
        assert!(missing.0.is_empty() && missing.1.len() == 1);
    }
}

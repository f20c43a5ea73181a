//! Where a track's audio comes from: a file, the demo synthesizer, or nowhere (a track known
//! only from a listening log). The catalog stores it as the `source` string.

use std::fmt;
use std::path::PathBuf;

/// A parsed `source` field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrackSource {
    /// An audio file (absolute path).
    File(PathBuf),
    /// Track `index` of the demo world generated from `seed`: `demo:SEED:INDEX`.
    Demo { seed: u64, index: usize },
    /// No audio: a track added from a listening log: `log:REFERENCE`.
    LogOnly(String),
}

impl TrackSource {
    /// Parses a catalog `source` string; anything that is not `demo:…` or `log:…` is a path.
    pub fn parse(source: &str) -> Self {
        if let Some(reference) = source.strip_prefix("log:") {
            return Self::LogOnly(reference.to_owned());
        }
        match crate::demo::parse_source(source) {
            Ok((seed, index)) => Self::Demo { seed, index },
            Err(_) => Self::File(PathBuf::from(source)),
        }
    }

    /// Whether there is audio to analyse or play.
    pub fn has_audio(&self) -> bool {
        !matches!(self, Self::LogOnly(_))
    }
}

impl fmt::Display for TrackSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "{}", path.display()),
            Self::Demo { seed, index } => f.write_str(&crate::demo::format_source(*seed, *index)),
            Self::LogOnly(reference) => write!(f, "log:{reference}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_every_kind() {
        for (text, parsed) in [
            ("/music/a.ogg", TrackSource::File("/music/a.ogg".into())),
            (
                "demo:42:17",
                TrackSource::Demo {
                    seed: 42,
                    index: 17,
                },
            ),
            ("log:SOABC123", TrackSource::LogOnly("SOABC123".into())),
            ("demo:x:1", TrackSource::File("demo:x:1".into())),
        ] {
            assert_eq!(TrackSource::parse(text), parsed);
            assert_eq!(parsed.to_string(), text);
        }
        assert!(!TrackSource::parse("log:x").has_audio());
    }
}

//! The `demo:<seed>:<index>` source strings that name demo tracks in `tracks.tsv`.

/// A source string that is not a well-formed demo source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    #[error("'{text}' is not a demo source (expected demo:<seed>:<index>)")]
    NotDemo { text: String },
    #[error("demo source '{text}': {reason}")]
    Malformed { text: String, reason: String },
}

/// `demo:<seed>:<index>`.
pub fn format_source(seed: u64, index: usize) -> String {
    format!("demo:{seed}:{index}")
}

/// Parses `demo:<seed>:<index>` into (seed, index).
pub fn parse_source(source: &str) -> Result<(u64, usize), SourceError> {
    let rest = source
        .strip_prefix("demo:")
        .ok_or_else(|| SourceError::NotDemo {
            text: source.to_string(),
        })?;
    let malformed = |reason: String| SourceError::Malformed {
        text: source.to_string(),
        reason,
    };
    let (seed, index) = rest
        .split_once(':')
        .ok_or_else(|| malformed("missing ':' between seed and index".to_string()))?;
    let seed = seed
        .parse::<u64>()
        .map_err(|e| malformed(format!("seed '{seed}': {e}")))?;
    let index = index
        .parse::<usize>()
        .map_err(|e| malformed(format!("index '{index}': {e}")))?;
    Ok((seed, index))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_round_trip() {
        assert_eq!(format_source(42, 7), "demo:42:7");
        assert_eq!(parse_source("demo:42:7"), Ok((42, 7)));
        assert_eq!(
            parse_source(&format_source(u64::MAX, 2999)),
            Ok((u64::MAX, 2999))
        );
    }

    #[test]
    fn bad_sources_say_what_is_wrong() {
        assert!(matches!(
            parse_source("music/a.mp3"),
            Err(SourceError::NotDemo { .. })
        ));
        for bad in [
            "demo:",
            "demo:1",
            "demo:x:1",
            "demo:1:-2",
            "demo:1:2:3",
            "demo::4",
        ] {
            let err = parse_source(bad).unwrap_err();
            assert!(matches!(err, SourceError::Malformed { .. }), "{bad}");
            assert!(err.to_string().contains(bad), "{err}");
        }
    }
}

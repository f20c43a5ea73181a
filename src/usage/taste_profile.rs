//! Million Song Dataset Taste Profile triplets (`train_triplets.txt`, the Echo Nest user data):
//! `user<TAB>song_id<TAB>play_count`, one (user, song) pair per line, for example
//! `b80344d063b5ccb3212f76538f3d9e43d87dca9e⇥SOAKIMP12A8C130995⇥1` (⇥: a tab). The song id is
//! kept as the track's id; a [`super::TrackMap`] (`unique_tracks.txt`) adds its MSD track id,
//! artist and title.

use super::reader::RecordParser;
use super::{as_text, parse_count, split_fields, LineProblem, Listen, TrackRef};

/// Parses Taste Profile triplets; fields are trimmed, blank lines skipped.
pub(crate) struct TasteProfileParser;

impl RecordParser for TasteProfileParser {
    fn parse(&mut self, record: &[u8]) -> Result<Option<Listen>, LineProblem> {
        let text = as_text(record)?;
        if text.trim().is_empty() {
            return Ok(None);
        }
        let [user, song, count] = split_fields::<3>(text.split('\t'), "3 tab-separated")?;
        let (user, song) = (user.trim(), song.trim());
        if user.is_empty() {
            return Err(LineProblem::EmptyField { field: "user" });
        }
        if song.is_empty() {
            return Err(LineProblem::EmptyField { field: "song id" });
        }
        let count = parse_count(count.trim())?;
        Ok(Some(Listen {
            user: user.to_owned(),
            track: TrackRef {
                ids: vec![song.to_owned()],
                ..TrackRef::default()
            },
            count,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Option<Listen>, LineProblem> {
        TasteProfileParser.parse(line.as_bytes())
    }

    #[test]
    fn reads_a_triplet() {
        let listen = parse("b80344d063b5ccb3212f76538f3d9e43d87dca9e\tSOAKIMP12A8C130995\t12")
            .unwrap()
            .unwrap();
        assert_eq!(listen.user, "b80344d063b5ccb3212f76538f3d9e43d87dca9e");
        assert_eq!(listen.track.ids, ["SOAKIMP12A8C130995"]);
        assert_eq!(listen.count, 12);
    }

    #[test]
    fn reports_what_is_wrong() {
        let cases = [
            (
                "u\tSO1",
                LineProblem::FieldCount {
                    expected: "3 tab-separated",
                    found: 2,
                },
            ),
            (
                "u SO1 3",
                LineProblem::FieldCount {
                    expected: "3 tab-separated",
                    found: 1,
                },
            ),
            ("\tSO1\t3", LineProblem::EmptyField { field: "user" }),
            ("u\t \t3", LineProblem::EmptyField { field: "song id" }),
            ("u\tSO1\t0", LineProblem::BadCount { value: "0".into() }),
            (
                "u\tSO1\t1e3",
                LineProblem::BadCount {
                    value: "1e3".into(),
                },
            ),
        ];
        for (line, problem) in cases {
            assert_eq!(parse(line), Err(problem), "{line:?}");
        }
        assert_eq!(parse("   "), Ok(None));
    }
}

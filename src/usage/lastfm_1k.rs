//! Last.fm 1K (Òscar Celma's `lastfm-dataset-1K`, file
//! `userid-timestamp-artid-artname-traid-traname.tsv`): one listen per line,
//! `userid<TAB>timestamp<TAB>artist-mbid<TAB>artist-name<TAB>track-mbid<TAB>track-name`, for
//! example `user_000001⇥2009-05-04T23:08:57Z⇥f1b1cf71-…⇥Deep Dish⇥⇥Fuck Me Im Famous` (⇥: a tab).
//! The MBIDs (and in rare lines the names) may be empty; the file has no quoting and no header.

use super::reader::RecordParser;
use super::timestamp::parse_iso8601_secs;
use super::{as_text, non_empty, split_fields, LineProblem, Listen, TrackRef};

/// Parses Last.fm 1K lines; every line is one play. The timestamp must be ISO 8601.
pub(crate) struct LastFm1kParser;

impl RecordParser for LastFm1kParser {
    fn parse(&mut self, record: &[u8]) -> Result<Option<Listen>, LineProblem> {
        let text = as_text(record)?;
        if text.trim().is_empty() {
            return Ok(None);
        }
        let [user, time, _artist_mbid, artist, track_mbid, title] =
            split_fields::<6>(text.split('\t'), "6 tab-separated")?;
        let user = user.trim();
        if user.is_empty() {
            return Err(LineProblem::EmptyField { field: "user" });
        }
        let time = time.trim();
        if parse_iso8601_secs(time).is_none() {
            return Err(LineProblem::BadTimestamp {
                value: LineProblem::quote(time),
            });
        }
        let track = TrackRef {
            ids: Vec::new(),
            mbid: non_empty(track_mbid),
            path: None,
            artist: non_empty(artist),
            title: non_empty(title),
        };
        if !track.has_key() {
            return Err(LineProblem::NoTrack);
        }
        Ok(Some(Listen {
            user: user.to_owned(),
            track,
            count: 1,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Option<Listen>, LineProblem> {
        LastFm1kParser.parse(line.as_bytes())
    }

    #[test]
    fn reads_a_listen_with_an_empty_track_mbid() {
        let line = "user_000001\t2009-05-04T23:08:57Z\tf1b1cf71-bd35-4e99-8624-24a6e15f133a\t\
                    Deep Dish\t\tFuck Me Im Famous (Pacha Ibiza)-09-28-2007";
        let listen = parse(line).unwrap().unwrap();
        assert_eq!(listen.user, "user_000001");
        assert_eq!(listen.count, 1);
        assert_eq!(listen.track.artist.as_deref(), Some("Deep Dish"));
        assert_eq!(
            listen.track.title.as_deref(),
            Some("Fuck Me Im Famous (Pacha Ibiza)-09-28-2007")
        );
        assert_eq!(listen.track.mbid, None);
        assert!(listen.track.ids.is_empty());
    }

    #[test]
    fn reports_what_is_wrong() {
        let cases = [
            (
                "u\t2009-05-04T23:08:57Z\t\tA\t\tT\textra",
                LineProblem::FieldCount {
                    expected: "6 tab-separated",
                    found: 7,
                },
            ),
            (
                "u\tyesterday\t\tA\t\tT",
                LineProblem::BadTimestamp {
                    value: "yesterday".into(),
                },
            ),
            (
                "\t2009-05-04T23:08:57Z\t\tA\t\tT",
                LineProblem::EmptyField { field: "user" },
            ),
            (
                "u\t2009-05-04T23:08:57Z\t\tArtist only\t\t",
                LineProblem::NoTrack,
            ),
        ];
        for (line, problem) in cases {
            assert_eq!(parse(line), Err(problem), "{line:?}");
        }
    }
}

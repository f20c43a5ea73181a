//! `tracks.tsv`: the track list researchers read next to the arrays. A header line, then
//! `id, source, artist, title, album, duration (seconds, empty when unknown), tags
//! (comma-separated)`, one track a line in id order.

use std::io::{self, Write};

use super::Track;

/// The header line's fields.
pub const HEADER: [&str; 7] = [
    "id", "source", "artist", "title", "album", "duration", "tags",
];

/// Writes the header and one line a track. Tabs and line breaks inside fields become spaces.
pub fn write(out: &mut dyn Write, tracks: &[Track]) -> io::Result<()> {
    writeln!(out, "{}", HEADER.join("\t"))?;
    for t in tracks {
        let duration = t
            .duration_secs
            .map_or(String::new(), |secs| format!("{secs:.3}"));
        let fields = [
            t.id.to_string(),
            clean(&t.source),
            clean(&t.artist),
            clean(&t.title),
            clean(&t.album),
            duration,
            clean(&t.tags.join(",")),
        ];
        writeln!(out, "{}", fields.join("\t"))?;
    }
    Ok(())
}

fn clean(field: &str) -> String {
    field.replace(['\t', '\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_header_and_escaped_rows() {
        let track = Track {
            id: 0,
            source: "/music/a\tb.ogg".into(),
            artist: "Ann".into(),
            title: "Line\nbreak".into(),
            album: String::new(),
            duration_secs: Some(61.25),
            tags: vec!["folk".into(), "live".into()],
            kind: String::new(),
        };
        let mut out = Vec::new();
        write(&mut out, &[track]).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "id\tsource\tartist\ttitle\talbum\tduration\ttags\n\
             0\t/music/a b.ogg\tAnn\tLine break\t\t61.250\tfolk,live\n"
        );
    }
}

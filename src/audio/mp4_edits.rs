//! The edit list of a track in an MP4/M4A file, which symphonia 0.6 does not apply. AAC
//! encoders put priming frames (1024 for ffmpeg, 2112 for iTunes) before the first audible one
//! and mark them with an edit (`moov/trak/edts/elst`) whose media time starts the presentation
//! later. Read straight from the `moov` box; anything unusual (several edits, a rate other than
//! 1, a broken box) gives `None` and the file plays untrimmed, as before.
//!
//! Only the edit's start is used. Its duration would also cut the encoder's padding from the
//! last packet, but ffmpeg 5.1, which librosa reads M4A files through, decodes that packet whole
//! (tests/data/audio/reference), and the analysed excerpt must be the one librosa cuts.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// A `moov` box larger than this is not read (real ones are kilobytes to a few megabytes).
const MAX_MOOV_BYTES: u64 = 64 << 20;

/// Where the presentation of track `track_id` (its `tkhd` id) in the MP4 file at `path`
/// starts, in the track's media timescale (its timestamps' unit), when the track has exactly
/// one non-empty edit at normal rate.
pub fn media_start(path: &Path, track_id: u32) -> Option<u64> {
    let moov = read_moov(path)?;
    for trak in boxes(&moov).filter(|(kind, _)| kind == b"trak") {
        let trak = trak.1;
        if tkhd_track_id(child(trak, b"tkhd")?)? != track_id {
            continue;
        }
        return single_edit_start(child(child(trak, b"edts")?, b"elst")?);
    }
    None
}

/// A box header: (type, whole box size, header length), from the header's bytes (`bytes`
/// holds at least 8, and 16 when there are that many) and the `available` bytes from the
/// box's start; `None` when malformed or overrunning.
fn box_header(bytes: &[u8], available: u64) -> Option<([u8; 4], u64, u64)> {
    let kind: [u8; 4] = bytes.get(4..8)?.try_into().ok()?;
    let (size, header_len) = match be_u32(bytes, 0)? {
        0 => (available, 8),
        1 => (be_u64(bytes, 8)?, 16),
        n => (u64::from(n), 8),
    };
    (header_len <= size && size <= available).then_some((kind, size, header_len))
}

/// The payload of the top-level `moov` box, found by walking the file's box headers.
fn read_moov(path: &Path) -> Option<Vec<u8>> {
    let mut file = File::open(path).ok()?;
    let file_len = file.metadata().ok()?.len();
    let mut pos = 0u64;
    while pos + 8 <= file_len {
        file.seek(SeekFrom::Start(pos)).ok()?;
        let mut header = [0u8; 16];
        let header_bytes = usize::try_from((file_len - pos).min(16)).ok()?;
        file.read_exact(&mut header[..header_bytes]).ok()?;
        let (kind, size, header_len) = box_header(&header[..header_bytes], file_len - pos)?;
        if &kind == b"moov" {
            let payload = size - header_len;
            if payload > MAX_MOOV_BYTES {
                return None;
            }
            file.seek(SeekFrom::Start(pos + header_len)).ok()?;
            let mut moov = vec![0u8; usize::try_from(payload).ok()?];
            file.read_exact(&mut moov).ok()?;
            return Some(moov);
        }
        pos += size;
    }
    None
}

/// The boxes in `data` as (type, payload); stops at the first malformed header.
fn boxes(mut data: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    std::iter::from_fn(move || {
        let (kind, size, header_len) = box_header(data, data.len() as u64)?;
        let (size, header_len) = (usize::try_from(size).ok()?, header_len as usize);
        let payload = &data[header_len..size];
        data = &data[size..];
        Some((kind, payload))
    })
}

/// The payload of the first child box of type `kind`.
fn child<'a>(data: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    boxes(data)
        .find(|(k, _)| k == kind)
        .map(|(_, payload)| payload)
}

fn be_u32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

fn be_u64(data: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(data.get(at..at + 8)?.try_into().ok()?))
}

/// The track id of a `tkhd` box.
fn tkhd_track_id(full_box: &[u8]) -> Option<u32> {
    let at = if *full_box.first()? == 1 { 20 } else { 12 };
    be_u32(full_box, at)
}

/// The media time of an `elst` box's only non-empty edit; empty edits (media time -1: a pause
/// before the track) are skipped.
fn single_edit_start(full_box: &[u8]) -> Option<u64> {
    let version = *full_box.first()?;
    let entries = be_u32(full_box, 4)? as usize;
    let entry_len = if version == 1 { 20 } else { 12 };
    let mut found = None;
    for entry in 0..entries {
        let at = 8 + entry * entry_len;
        // Each entry: segment duration, media time (signed), rate (16.16 fixed point).
        let (media_time, rate_at) = if version == 1 {
            (be_u64(full_box, at + 8)? as i64, at + 16)
        } else {
            (i64::from(be_u32(full_box, at + 4)? as i32), at + 8)
        };
        if media_time == -1 {
            continue;
        }
        let rate = be_u32(full_box, rate_at)?;
        if found.is_some() || media_time < 0 || rate != 0x0001_0000 {
            return None;
        }
        found = Some(media_time as u64);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mp4_box(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut out = (8 + payload.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(payload);
        out
    }

    /// A version-0 full box header plus the given big-endian words.
    fn full_box(kind: &[u8; 4], words: &[u32]) -> Vec<u8> {
        let mut payload = vec![0u8; 4];
        for w in words {
            payload.extend_from_slice(&w.to_be_bytes());
        }
        mp4_box(kind, &payload)
    }

    /// A file with `ftyp`, a large `mdat` before `moov`, and tracks (id, elst entries).
    fn file(tracks: &[(u32, &[(u32, i32)])]) -> Vec<u8> {
        // mvhd v0: creation, modification, timescale 1000, duration.
        let mut moov = full_box(b"mvhd", &[0, 0, 1000, 2500]);
        for &(id, edits) in tracks {
            let tkhd = full_box(b"tkhd", &[0, 0, id, 0, 2500]);
            let mut words = vec![edits.len() as u32];
            for &(duration, time) in edits {
                words.extend([duration, time as u32, 0x0001_0000]);
            }
            let edts = mp4_box(b"edts", &full_box(b"elst", &words));
            moov.extend(mp4_box(b"trak", &[tkhd, edts].concat()));
        }
        [
            mp4_box(b"ftyp", b"M4A \0\0\0\0"),
            mp4_box(b"mdat", &[7u8; 5000]),
            mp4_box(b"moov", &moov),
        ]
        .concat()
    }

    fn edit_of(bytes: &[u8], track_id: u32) -> Option<u64> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.m4a");
        std::fs::write(&path, bytes).unwrap();
        media_start(&path, track_id)
    }

    #[test]
    fn the_edit_of_the_asked_for_track_is_read_after_the_media_data() {
        let bytes = file(&[(1, &[(100, 5)]), (2, &[(1000, -1), (2500, 1024)])]);
        assert_eq!(edit_of(&bytes, 2), Some(1024));
        assert_eq!(edit_of(&bytes, 1), Some(5));
        assert_eq!(edit_of(&bytes, 3), None);
    }

    #[test]
    fn unusual_or_broken_edit_lists_are_ignored() {
        assert_eq!(edit_of(&file(&[(1, &[(10, 0), (10, 50)])]), 1), None);
        assert_eq!(edit_of(&file(&[(1, &[])]), 1), None);
        let good = file(&[(1, &[(2500, 1024)])]);
        for cut in [0, 10, good.len() - 3] {
            assert_eq!(edit_of(&good[..cut], 1), None, "cut at {cut}");
        }
        let mut huge = good.clone();
        huge[16..20].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(edit_of(&huge, 1), None);
    }
}

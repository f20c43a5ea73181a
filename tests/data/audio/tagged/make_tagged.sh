#!/usr/bin/env bash
# Makes the tagged fixtures (needs ffmpeg): half a second of a 440 Hz tone with artist, title,
# album and genre tags in each metadata format (ID3v2, Vorbis comments in FLAC and Ogg, MP4 atoms).
set -euo pipefail
cd "$(dirname "$0")"
tags=(-metadata "artist=Ann Example" -metadata "title=Tagged Tone" -metadata "album=Fixtures" -metadata "genre=Test Tones")
src=(-f lavfi -i "sine=frequency=440:duration=0.5:sample_rate=22050")
ffmpeg -v error -y "${src[@]}" "${tags[@]}" -b:a 32k tagged.mp3
ffmpeg -v error -y "${src[@]}" "${tags[@]}" tagged.flac
ffmpeg -v error -y "${src[@]}" "${tags[@]}" -c:a libvorbis -q:a 0 tagged.ogg
ffmpeg -v error -y "${src[@]}" "${tags[@]}" -c:a aac -b:a 32k tagged.m4a

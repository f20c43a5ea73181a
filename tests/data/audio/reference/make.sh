#!/bin/sh
# Makes the decoding-fidelity fixtures that tests/audio.rs checks against ffmpeg, and records
# what ffmpeg (and libsndfile, when Python's soundfile is installed) decode from them. Needs
# ffmpeg (with libmp3lame) and lame; the tests themselves never run either.
#
# Every file carries the same mono chirp, 0.5·sin(2π(200 t + 300 t²)), at its own rate, so a
# shift of even one sample shows. For each file, reference.tsv records:
#   file, sample rate, ffmpeg's decoded sample count, libsndfile's ("-" where it cannot read the
#   file), and NAME.head.f32 holds ffmpeg's first 2048 decoded samples (mono, float32 LE): the
#   position of sample 0 as the reference decoder puts it.
#   ffmpeg: ffmpeg -i FILE -f f32le -ac 1 - | wc -c, divided by 4.
# Recorded with Debian 12's ffmpeg 5.1.9, LAME 3.100 and libsndfile 1.2.2 (pip's soundfile).
# libsndfile reads only 55526 samples of the VBR file without a header (its bitrate estimate);
# ffmpeg reads all of it, and so must we.
set -eu
cd "$(dirname "$0")"

wav() { # wav OUT RATE SECS
    ffmpeg -hide_banner -loglevel error -y \
        -f lavfi -i "aevalsrc=0.5*sin(2*PI*(200*t+300*t*t)):s=$2:d=$3" \
        -c:a pcm_s16le "$1"
}

# LAME, with its Xing/LAME header (encoder delay and padding) and without (-t), for every
# MPEG version: MPEG-1 (44.1, 48, 32 kHz), MPEG-2 (22.05, 24, 16 kHz), MPEG-2.5 (11.025, 8 kHz).
# LAME silently leaves the header out of CBR files whose frames are too small to hold it
# (32 kb/s at 44.1 kHz), hence these bitrates; check with grep -c Xing/Info after a change.
for spec in 44100:44.1:64 48000:48:64 32000:32:64 22050:22.05:64 24000:24:64 16000:16:64 \
    11025:11.025:32 8000:8:32; do
    IFS=: read -r rate khz kbps <<SPEC
$spec
SPEC
    wav in.wav "$rate" 1.3
    lame --quiet -m m --resample "$khz" -b "$kbps" in.wav "lame_${rate}.mp3"
    lame --quiet -t -m m --resample "$khz" -b "$kbps" in.wav "lame_${rate}_noxing.mp3"
done

# ffmpeg's own MP3 muxer, with and without its Xing header.
wav in.wav 44100 1.3
ffmpeg -hide_banner -loglevel error -y -i in.wav -map_metadata -1 -fflags +bitexact \
    -c:a libmp3lame -b:a 32k ffmpeg_44100.mp3
ffmpeg -hide_banner -loglevel error -y -i in.wav -map_metadata -1 -fflags +bitexact \
    -c:a libmp3lame -b:a 32k -write_xing 0 ffmpeg_44100_noxing.mp3

# A VBR MP3 without a header, long enough (34 s) that its excerpt is found by seeking: the
# length its first frame's bitrate suggests is wrong, so the excerpt's target must be checked.
wav in.wav 16000 34
lame --quiet -t -m m --resample 16 -V 9 in.wav lame_16000_vbr_noxing_34s.mp3

# AAC and ALAC in MP4, as ffmpeg writes them (with an edit list for AAC's priming; ffmpeg
# drops the priming but decodes the last packet whole, padding included).
for rate in 44100 22050; do
    wav in.wav "$rate" 1.3
    ffmpeg -hide_banner -loglevel error -y -i in.wav -map_metadata -1 -fflags +bitexact \
        -c:a aac -b:a 24k "aac_${rate}.m4a"
done
wav in.wav 16000 1.3
ffmpeg -hide_banner -loglevel error -y -i in.wav -map_metadata -1 -fflags +bitexact \
    -c:a alac alac_16000.m4a
rm in.wav

sndfile_count() { # what libsndfile reads (not its header estimate), or - when it cannot
    python3 -c 'import sys, soundfile; print(len(soundfile.read(sys.argv[1])[0]))' "$1" \
        2>/dev/null || echo -
}

printf 'file\trate_hz\tffmpeg_samples\tlibsndfile_samples\n' > reference.tsv
for f in *.mp3 *.m4a; do
    rate=$(ffprobe -v error -select_streams a:0 -show_entries stream=sample_rate -of csv=p=0 "$f" | cut -d, -f1)
    ffmpeg -hide_banner -loglevel error -y -i "$f" -f f32le -ac 1 decoded.f32
    samples=$(( $(wc -c < decoded.f32) / 4 ))
    head -c 8192 decoded.f32 > "${f%.*}.head.f32"
    printf '%s\t%s\t%s\t%s\n' "$f" "$rate" "$samples" "$(sndfile_count "$f")" >> reference.tsv
done
rm decoded.f32
cat reference.tsv
du -ch ./*.mp3 ./*.m4a ./*.f32 | tail -n 1

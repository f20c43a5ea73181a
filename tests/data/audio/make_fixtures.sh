#!/bin/sh
# Makes the small format fixtures that tests/audio.rs decodes. Needs ffmpeg (with libvorbis,
# libmp3lame and libopus); the tests themselves never run it.
#
# Every tone_* fixture carries the same known signal, so one spectral check fits all formats:
#   stereo files: left = 440 Hz sine, right = 1000 Hz sine (the mono mix holds both);
#   mono files:   440 Hz + 1000 Hz sines summed.
# Each sine has amplitude 0.25. Rates, channel counts and durations differ per file on purpose
# (they exercise the resampler and the channel averaging) and are listed in tests/audio.rs.
set -eu
cd "$(dirname "$0")"

# make OUT RATE CHANNELS DURATION_SECS ENCODER_ARGS...
make() {
    out=$1 rate=$2 channels=$3 secs=$4
    shift 4
    a="sine=frequency=440:sample_rate=$rate:duration=$secs"
    b="sine=frequency=1000:sample_rate=$rate:duration=$secs"
    # lavfi's sine has amplitude 1/8; double it to 0.25.
    if [ "$channels" = 2 ]; then
        graph="[0:a][1:a]amerge=inputs=2,volume=2[out]"
    else
        graph="[0:a][1:a]amix=inputs=2:normalize=0,volume=2[out]"
    fi
    ffmpeg -hide_banner -loglevel error -y -f lavfi -i "$a" -f lavfi -i "$b" \
        -filter_complex "$graph" -map "[out]" -map_metadata -1 -fflags +bitexact \
        "$@" "$out"
}

make tone_vorbis.ogg     44100 2 2.5 -c:a libvorbis -q:a 0
make tone_mp3.mp3        44100 2 2.5 -c:a libmp3lame -b:a 48k
make tone_aac.m4a        44100 2 2.5 -c:a aac -b:a 48k
make tone_opus.opus      48000 2 2.5 -c:a libopus -b:a 32k
make tone_flac.flac      48000 1 1.5 -c:a flac -compression_level 8
make tone_alac.m4a       16000 1 1.0 -c:a alac -compression_level 2
make tone_s16.wav        22050 1 1.0 -c:a pcm_s16le
make tone_f32.wav        8000  1 1.2 -c:a pcm_f32le
make tone_s16be.aiff     11025 1 1.5 -c:a pcm_s16be
# A container symphonia reads holding a codec it cannot decode (AC-3): the unsupported-codec case.
make tone_ac3.mka        48000 1 0.3 -c:a ac3 -b:a 32k

# A 32-s track, long enough that its excerpt is found by seeking: a chirp whose phase is
# 2π(200 t + 28.125 t²) (200 Hz at 0 s rising to 2000 Hz at 32 s), amplitude 0.5, so any
# misplaced sample shows. Opus at 6 kb/s keeps it small.
ffmpeg -hide_banner -loglevel error -y \
    -f lavfi -i "aevalsrc=0.5*sin(2*PI*(200*t+28.125*t*t)):s=48000:d=32" \
    -map_metadata -1 -fflags +bitexact -c:a libopus -b:a 6k chirp32_opus.opus

ls -l tone_* chirp32_*
du -ch tone_* chirp32_* | tail -n 1

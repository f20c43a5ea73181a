"""`deepcuts mel` against librosa on real files: the log-mel of the middle 30 s.

    pip install librosa
    python3 bench/mel_vs_librosa.py target/release/deepcuts FILE...

For each file prints the median and 95th percentile of |deepcuts − librosa| in dB over the
bins librosa puts above -80 dB (below that float rounding near the 1e-10 floor dominates),
and the length librosa.load decodes (22050 Hz). librosa reads MP3 through libsndfile and M4A
through audioread (ffmpeg). Python is a development tool here, never a dependency of deepcuts.
"""
import os, subprocess, sys, tempfile
import numpy as np
import librosa

sys.path.insert(0, os.path.dirname(__file__))
from librosa_mel import SR, excerpt, logmel  # noqa: E402


def main(deepcuts, files):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "mel.npy")
        for path in files:
            subprocess.run([deepcuts, "mel", path, "--out", out], check=True)
            ours = np.load(out)
            y, _ = librosa.load(path, sr=SR, mono=True)
            theirs = logmel(excerpt(y))
            loud = theirs > -80
            diff = np.abs(ours - theirs)[loud]
            print(f"{os.path.basename(path)}\t{len(y)} samples\tmedian {np.median(diff):.4f} dB"
                  f"\tp95 {np.percentile(diff, 95):.4f} dB")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])

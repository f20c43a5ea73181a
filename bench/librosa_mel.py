"""librosa's side of `deepcuts bench mel`: the same stages on the same files.

    python3 -m venv .venv-bench && .venv-bench/bin/pip install librosa
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 .venv-bench/bin/python bench/librosa_mel.py [FILE...]

Prints the log-mel time of one 30-s excerpt (single thread, best of many runs) and, for each
file, librosa.load (whole file, default soxr_hq resampler, mono, 22050 Hz) + the excerpt's mel.
Python is a development tool here, never a dependency of deepcuts.
"""
import sys, time
import numpy as np
import librosa

SR, EXCERPT = 22050, 661500


def logmel(y):
    return librosa.power_to_db(librosa.feature.melspectrogram(
        y=y, sr=SR, n_fft=2048, hop_length=1024, window='hann', center=True, pad_mode='constant',
        power=2.0, n_mels=128, fmin=0, fmax=11025, htk=False, norm='slaney'),
        ref=1.0, amin=1e-10, top_db=None).T


def excerpt(y):
    start = max(0, (len(y) - EXCERPT) // 2)
    y = y[start:start + EXCERPT]
    return np.pad(y, (0, EXCERPT - len(y)))


def main(files):
    y = np.random.default_rng(0).standard_normal(EXCERPT).astype(np.float32) * 0.1
    logmel(y)
    runs = []
    for _ in range(30):
        t = time.perf_counter(); logmel(y); runs.append(time.perf_counter() - t)
    print(f"librosa {librosa.__version__} log-mel of a 30-s excerpt: best {min(runs)*1e3:.2f} ms, median {np.median(runs)*1e3:.2f} ms")
    total = 0.0
    for path in files:
        t = time.perf_counter()
        y, _ = librosa.load(path, sr=SR, mono=True)
        logmel(excerpt(y))
        dt = time.perf_counter() - t
        total += dt
        print(f"{path}: load + mel {dt*1e3:.0f} ms ({len(y)/SR:.0f} s of audio)")
    if files:
        print(f"librosa load + mel: {total:.2f} s for {len(files)} files, {total/len(files)*1e3:.0f} ms/file")


if __name__ == "__main__":
    main(sys.argv[1:])

"""Reference MFCCs for tests/baseline.rs, made by librosa (not by deepcuts).

Inputs are librosa's own log-mel excerpts in ../mel/ ([646, 128], time-major, dB).
librosa.feature.mfcc(S=...) applies an orthonormal DCT-II over the mel axis of a
power_to_db input; librosa.feature.delta is a Savitzky-Golay derivative (width 9,
mode 'interp'). Outputs are time-major like the inputs:

  sine440_mfcc.npy  [646, 20]  mfcc(S=sine440.T, n_mfcc=20).T
  chirp_mfcc_deltas.npy [646, 60]  [mfcc | delta(order=1) | delta(order=2)] of chirp,
                                    n_mfcc=20, each block .T

Run: python reference.py  (librosa 0.11, numpy 2, scipy 1.17)
"""
import numpy as np
import librosa

mel_dir = "../mel/"


def mfcc(name):
    logmel = np.load(mel_dir + name + ".npy").T  # [128, 646]
    return librosa.feature.mfcc(S=logmel, n_mfcc=20)  # [20, 646]


np.save("sine440_mfcc.npy", mfcc("sine440").T.astype(np.float32))
m = mfcc("chirp")
d1 = librosa.feature.delta(m, order=1)
d2 = librosa.feature.delta(m, order=2)
np.save("chirp_mfcc_deltas.npy", np.concatenate([m, d1, d2]).T.astype(np.float32))

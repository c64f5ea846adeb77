"""The benchmark's judge: fixed measures that are not any optimiser's fitness.

Both sounds are first brought to the same length (the target's) and to the
same loudness (RMS at -20 dBFS), so level never counts. Then:

``lsd_db``
    Multi-resolution log-spectral distance in dB: for FFT sizes 512, 1024,
    2048 and 4096 (Hann window, hop a quarter of the size), the magnitude
    spectrum in dB floored 80 dB below the louder sound's peak; per frame the
    root-mean-square dB difference over bins; averaged over frames and then
    over resolutions. 0 for identical sounds.
``mfcc13_mae``, ``mfcc20_mae``
    Mean absolute error between MFCC matrices (13 and 20 coefficients,
    FFT 2048, hop 512, librosa defaults otherwise), the measure of
    spiegelib's evaluation and of Yee-King et al. (2018).

The judge never changes to suit an optimiser: the benchmark's comparisons
are only fair because it stays fixed. The LSD lives in :mod:`gascar.closeness`,
which also gives it to users (match, compare, reports) with a verdict.
"""

from __future__ import annotations

import numpy as np

from ..closeness import FFT_SIZES, FLOOR_DB, RMS_DBFS, log_spectral_distance_db, normalise
from ..jit import first_use

__all__ = ["FFT_SIZES", "FLOOR_DB", "MEASURES", "NEAR_PERFECT_DB", "RMS_DBFS", "judge", "log_spectral_distance_db", "mfcc_mae",
           "normalise"]

MEASURES = ("lsd_db", "mfcc13_mae", "mfcc20_mae")
#: A match is near-perfect when its judged LSD is at most this (dB); the benchmarks' tables count them.
NEAR_PERFECT_DB = 3.0


def mfcc_mae(a: np.ndarray, b: np.ndarray, sample_rate: int, n_mfcc: int) -> float:
    """Mean absolute error between the MFCCs of two normalised sounds."""
    import librosa

    kw = dict(sr=sample_rate, n_mfcc=n_mfcc, n_fft=2048, hop_length=512)
    with first_use("mfcc"):
        ma = librosa.feature.mfcc(y=a.astype(np.float32), **kw)
    mb = librosa.feature.mfcc(y=b.astype(np.float32), **kw)
    return float(np.mean(np.abs(ma - mb)))


def judge(target: np.ndarray, candidate: np.ndarray, sample_rate: int) -> dict[str, float]:
    """Every judged measure of ``candidate`` against ``target``.

    Parameters
    ----------
    target : ndarray, shape (n_samples,)
    candidate : ndarray, shape (m,)
        Cropped or padded to the target's length.
    sample_rate : int

    Returns
    -------
    dict
        ``lsd_db``, ``mfcc13_mae``, ``mfcc20_mae``.
    """
    n = int(np.asarray(target).shape[-1])
    a = normalise(np.asarray(target), n)
    b = normalise(np.asarray(candidate), n)
    return {
        "lsd_db": log_spectral_distance_db(a, b, sample_rate),
        "mfcc13_mae": mfcc_mae(a, b, sample_rate, 13),
        "mfcc20_mae": mfcc_mae(a, b, sample_rate, 20),
    }

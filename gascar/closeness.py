"""How close two sounds are, in a unit and words a person can read: the judged log-spectral distance and a verdict.

The fitness (0 = identical, lower is better) is the optimiser's measure: a
weighted sum of normalised components that means little to a user. Next to
it GASCAR reports the judged log-spectral distance (LSD, in dB: how far
apart the two spectra are, frame by frame, at the same loudness; see
:func:`log_spectral_distance_db`), the measure of ``gascar bench``, and a
plain verdict from it:

==============  ===========  =====================================================================
verdict         LSD (dB)     where the threshold comes from (``gascar bench closeness``)
==============  ===========  =====================================================================
near-identical  <= 3.0       9 in 10 pairs of the same sound changed slightly (5-cent detune,
                             note-off 10 % later, 16-bit quantisation) are within it
close           <= 7.5       only a quarter of the pairs of different presets of one synth are
                             this close
resembles       <= 10.7      half of the pairs of unrelated sounds (presets of different synths,
                             different real instruments) are this close
far             > 10.7       as far apart as unrelated sounds usually are
==============  ===========  =====================================================================

The spreads behind the thresholds are measured by ``gascar bench closeness``
(docs/bench/bench-closeness.md, pairs in docs/bench/closeness-pairs.json.gz). The measure never changes to suit an
optimiser: :mod:`gascar.bench.judge` judges the benchmarks with these functions.
"""

from __future__ import annotations

import numpy as np

FFT_SIZES = (512, 1024, 2048, 4096)
FLOOR_DB = 80.0
RMS_DBFS = -20.0

#: Upper LSD (dB) of each verdict but the last, from the measured spreads (see the module docstring).
VERDICTS = (("near-identical", 3.0), ("close", 7.5), ("resembles", 10.7), ("far", float("inf")))
#: What each verdict means, for the report page.
MEANINGS = {
    "near-identical": "as close as the same sound slightly changed (a 5-cent detune, a later note-off)",
    "close": "closer than three in four pairs of different presets of one synth",
    "resembles": "closer than half of all pairs of unrelated sounds, but clearly different",
    "far": "as far apart as unrelated sounds usually are",
}


def normalise(x: np.ndarray, n_samples: int) -> np.ndarray:
    """Crop or zero-pad to ``n_samples`` and scale to an RMS of -20 dBFS.

    Parameters
    ----------
    x : ndarray, shape (m,)

    Returns
    -------
    ndarray, shape (n_samples,), float64
        All zeros if ``x`` is silent.
    """
    y = np.zeros(n_samples)
    m = min(n_samples, x.shape[-1])
    y[:m] = np.nan_to_num(np.asarray(x[:m], dtype=np.float64))
    rms = np.sqrt(np.mean(y**2))
    return y * (10 ** (RMS_DBFS / 20) / rms) if rms > 1e-12 else y


def log_spectral_distance_db(a: np.ndarray, b: np.ndarray, sample_rate: int) -> float:
    """Multi-resolution log-spectral distance (dB) between two normalised sounds.

    For FFT sizes 512, 1024, 2048 and 4096 (Hann window, hop a quarter of
    the size), the magnitude spectrum in dB floored 80 dB below the louder
    sound's peak; per frame the root-mean-square dB difference over bins;
    averaged over frames and then over resolutions. 0 for identical sounds.

    Parameters
    ----------
    a, b : ndarray, shape (n_samples,)
        Same length.
    """
    from scipy import signal  # here: the CLI imports this module at start-up, scipy is slow to import

    out = []
    for n_fft in FFT_SIZES:
        if a.size < n_fft // 2:
            continue
        kw = dict(fs=sample_rate, window="hann", nperseg=n_fft, noverlap=n_fft - n_fft // 4, boundary="zeros", padded=True)
        # A sound shorter than the window is zero-padded to it (as the frames past its end already are);
        # sounds of at least n_fft samples, every benchmark's, are judged exactly as before.
        pad = (0, max(0, n_fft - a.size))
        sa = np.abs(signal.stft(np.pad(a, pad), **kw)[2])
        sb = np.abs(signal.stft(np.pad(b, pad), **kw)[2])
        floor = max(sa.max(), sb.max(), 1e-12) * 10 ** (-FLOOR_DB / 20)
        da = 20 * np.log10(np.maximum(sa, floor))
        db = 20 * np.log10(np.maximum(sb, floor))
        out.append(float(np.mean(np.sqrt(np.mean((da - db) ** 2, axis=0)))))
    return float(np.mean(out)) if out else 0.0


def judged_lsd_db(target: np.ndarray, candidate: np.ndarray, sample_rate: int) -> float:
    """The judged LSD (dB) of ``candidate`` against ``target`` (cropped or padded to its length, both at one loudness).

    Parameters
    ----------
    target : ndarray, shape (n_samples,)
    candidate : ndarray, shape (m,)
    """
    n = int(np.asarray(target).shape[-1])
    return log_spectral_distance_db(normalise(np.asarray(target), n), normalise(np.asarray(candidate), n), sample_rate)


def verdict(lsd_db: float) -> str:
    """``"near-identical"``, ``"close"``, ``"resembles"`` or ``"far"`` for a judged LSD in dB."""
    for word, upper in VERDICTS:
        if lsd_db <= upper:
            return word
    return VERDICTS[-1][0]


def describe(lsd_db: float) -> str:
    """``"close (judged 4.2 dB from the target)"``: the verdict and the distance, for summaries."""
    return f"{verdict(lsd_db)} (judged {lsd_db:.1f} dB from the target)"


def scale() -> str:
    """The verdicts' scale in one line: ``"near-identical <= 3 dB, close <= 7.5 dB, ..."``."""
    parts = [f"{word} <= {upper:g} dB" for word, upper in VERDICTS[:-1]]
    return ", ".join(parts) + f", {VERDICTS[-1][0]} beyond"

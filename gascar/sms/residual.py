"""The stochastic residual: the sound's noise, as a spectral envelope in bands over time.

What the partials leave is noise (breath, bow, hammer, hiss). It is
measured on a Blackman-Harris STFT (sidelobes 92 dB down, so strong low
partials do not leak into the bins between them) of at least 12 periods.
Per frame and per band of :func:`band_edges_hz`, its level is the median
power of the bins that no present partial's main lobe covers, divided by
ln 2 (the median of an exponentially distributed power is its mean times
ln 2). A band whose every bin lies under a partial takes the level of its
nearest neighbour in frequency.

Levels are power per bin of that STFT; :func:`band_gains` turns them into
the gain of unit-variance white noise filtered to the band (by a mask of
its FFT), which is how the spectral voice renders them.
"""

from __future__ import annotations

import warnings

import numpy as np

from .tracks import analysis_window

#: Edges (Hz) of the residual's bands below 10 kHz, about a third of an octave above 1 kHz.
BAND_EDGES_HZ = (0.0, 150.0, 300.0, 450.0, 600.0, 800.0, 1000.0, 1250.0, 1600.0, 2000.0, 2500.0, 3150.0, 4000.0,
                 5000.0, 6300.0, 8000.0, 10000.0, 12500.0, 16000.0, 20000.0)
#: Bins either side of a present partial's peak that belong to it (the Blackman-Harris main lobe is +-4 bins).
LOBE_BINS = 4


def band_edges_hz(sample_rate: int) -> np.ndarray:
    """Band edges up to Nyquist: :data:`BAND_EDGES_HZ` below it, then Nyquist.

    Returns
    -------
    ndarray, shape (n_bands + 1,), float64
    """
    nyquist = 0.5 * sample_rate
    inner = [e for e in BAND_EDGES_HZ if e < nyquist - 500.0]
    return np.array(inner + [nyquist])


def residual_bands(mag: np.ndarray, partial_freq_hz: np.ndarray, sample_rate: int, n_fft: int) -> np.ndarray:
    """Noise level per frame and band.

    Parameters
    ----------
    mag : ndarray, shape (n_frames, n_bins)
        :func:`gascar.sms.tracks.stft` magnitudes with the ``"blackmanharris"`` window.
    partial_freq_hz : ndarray, shape (n_frames, n_partials)
        Present partials' frequencies (NaN where absent), from
        :func:`gascar.sms.tracks.track_partials`.
    sample_rate, n_fft : int

    Returns
    -------
    ndarray, shape (n_frames, n_bands), float64
        Mean power per bin of the noise in each band (:func:`band_edges_hz`).
    """
    n_frames, n_bins = mag.shape
    edges = band_edges_hz(sample_rate)
    bin_hz = sample_rate / n_fft
    power = mag**2
    free = np.ones((n_frames, n_bins), dtype=bool)
    pk = np.rint(partial_freq_hz / bin_hz)
    for off in range(-LOBE_BINS, LOBE_BINS + 1):
        idx = pk + off
        ok = np.isfinite(idx) & (idx >= 0) & (idx < n_bins)
        rows = np.broadcast_to(np.arange(n_frames)[:, None], idx.shape)[ok]
        free[rows, idx[ok].astype(np.int64)] = False
    bins_hz = np.arange(n_bins) * bin_hz
    n_bands = edges.size - 1
    out = np.full((n_frames, n_bands), np.nan)
    for b in range(n_bands):
        sel = (bins_hz >= edges[b]) & (bins_hz < edges[b + 1])
        if b == 0:
            sel &= bins_hz > 0  # no DC
        p = np.where(free[:, sel], power[:, sel], np.nan)
        enough = np.sum(np.isfinite(p), axis=1) >= 2
        with warnings.catch_warnings():  # frames whose band is all under partials give NaN, filled below
            warnings.simplefilter("ignore", RuntimeWarning)
            med = np.nanmedian(np.where(enough[:, None], p, np.nan), axis=1)
        out[:, b] = med / np.log(2.0)
    # Bands covered by partials take their nearest measured neighbour's level.
    for i in range(n_frames):
        row = out[i]
        known = np.flatnonzero(np.isfinite(row))
        if known.size == 0:
            out[i] = 0.0
        elif known.size < n_bands:
            missing = np.flatnonzero(~np.isfinite(row))
            near = known[np.argmin(np.abs(missing[:, None] - known[None, :]), axis=1)]
            row[missing] = row[near]
    return out


def band_gains(power_per_bin: np.ndarray, n_fft: int) -> np.ndarray:
    """Gain of unit-variance white noise, masked to a band, that gives ``power_per_bin`` in the residual's STFT.

    White noise of variance 1 has a mean power per bin of ``sum(window ** 2)``
    in any band, and masking it to the band keeps that, so the gain is
    ``sqrt(power / sum(window ** 2))``.

    Parameters
    ----------
    power_per_bin : ndarray, any shape
    n_fft : int

    Returns
    -------
    ndarray, same shape, float64
    """
    w = analysis_window(n_fft, "blackmanharris")
    return np.sqrt(np.maximum(power_per_bin, 0.0) / float(np.sum(w**2)))

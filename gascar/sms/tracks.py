"""Sinusoidal partial tracks: which partials a sound has, and each one's frequency and amplitude over time.

Serra and Smith's spectral modelling (1990) splits a sound into sinusoids
and a stochastic residual. Here the sinusoids are found once for the whole
note, then followed frame by frame:

1. :func:`stft` (Hann window, centred frames) of the whole sound.
2. :func:`find_partials`: the peaks of the *peak-hold* spectrum (the
   loudest each bin gets over the note's loud frames, so partials that die
   in the attack count too) that stand :data:`PROMINENCE_DB` above their
   neighbourhood's median, strongest first, no two closer than half the
   f0 (pitched) or three bins, at most ``max_partials``. Frequencies come
   from parabolic interpolation of the log spectrum.
3. :func:`track_partials`: in every frame, each partial's peak near its
   frequency (moved with the pYIN contour, for vibrato and glides); a peak
   that does not stand :data:`FRAME_PROMINENCE_DB` above the frame's local
   floor counts as absent (amplitude 0).
4. :func:`fit_inharmonicity`: the stiff-string coefficient ``B`` of
   ``f_k = k f0 sqrt(1 + B k^2)`` from partials near whole multiples of f0.

scipy and librosa give STFTs and peak finders; what they lack is following
a given set of partials through a note with its pitch contour and telling a
present partial from the noise floor, which is what this module adds.
"""

from __future__ import annotations

import numpy as np

#: A peak of the peak-hold spectrum must stand this far above its neighbourhood's median (dB).
PROMINENCE_DB = 6.0
#: ... and lie within this range of the spectrum's strongest bin (dB).
RANGE_DB = 80.0
#: In a frame, a partial's peak must stand this far above the frame's local median to count as present (dB).
FRAME_PROMINENCE_DB = 6.0
#: Frames within this many dB of the loudest frame make the peak-hold spectrum.
LOUD_FRAMES_DB = 50.0
#: Width of the neighbourhood whose lower percentile is a bin's local floor, in bins (odd), and the percentile:
#: a low one, since a harmonic sound's main lobes cover most bins where partials are dense.
FLOOR_BINS = 31
FLOOR_PERCENTILE = 20


def fft_size(sample_rate: int, f0_hz: float | None, periods: float = 6.0, smallest: int = 1024) -> int:
    """STFT size for a note: at least ``periods`` periods of f0 (harmonics that many bins apart), a power of two
    within ``smallest`` .. 4096 (2048 for unpitched sounds).
    """
    if not f0_hz:
        return max(2048, smallest)
    n = 2 ** int(np.ceil(np.log2(periods * sample_rate / f0_hz)))
    return int(min(max(n, smallest), 4096))


def analysis_window(n_fft: int, kind: str = "hann") -> np.ndarray:
    """The STFT window: ``"hann"`` (the partial tracks) or ``"blackmanharris"`` (the residual: -92 dB sidelobes)."""
    if kind == "hann":
        return np.hanning(n_fft + 2)[1:-1]
    from scipy.signal.windows import blackmanharris

    return blackmanharris(n_fft, sym=False)


def stft(samples: np.ndarray, n_fft: int, hop: int, window: str = "hann") -> np.ndarray:
    """Magnitude STFT with centred frames.

    Parameters
    ----------
    samples : ndarray, shape (n_samples,)
    n_fft, hop : int
    window : str
        See :func:`analysis_window`.

    Returns
    -------
    ndarray, shape (n_frames, n_fft // 2 + 1), float64
        Frame ``i`` is centred on sample ``i * hop``; ``n_frames = 1 + n_samples // hop``.
    """
    x = np.asarray(samples, dtype=np.float64)
    n_frames = 1 + x.size // hop
    padded = np.concatenate([np.zeros(n_fft // 2), x, np.zeros(n_fft // 2 + hop)])
    fr = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop][:n_frames]
    return np.abs(np.fft.rfft(fr * analysis_window(n_fft, window), axis=1))


def window_gain(n_fft: int) -> float:
    """Peak magnitude of a unit-amplitude sinusoid centred on a bin, under :func:`stft`'s Hann window."""
    return float(analysis_window(n_fft).sum() / 2.0)


def _db(x: np.ndarray) -> np.ndarray:
    return 20.0 * np.log10(np.maximum(x, 1e-12))


def _parabolic(mag_db: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Interpolated peak position (bins) and level (dB) at local maxima ``k`` of rows of ``mag_db``.

    ``mag_db`` is ``(n_bins,)`` or ``(n_rows, n_bins)`` with ``k`` of shape ``(n_rows, m)``.
    """
    k = np.clip(k, 1, mag_db.shape[-1] - 2)
    if mag_db.ndim == 1:
        a, b, c = mag_db[k - 1], mag_db[k], mag_db[k + 1]
    else:
        rows = np.arange(mag_db.shape[0])[:, None]
        a, b, c = mag_db[rows, k - 1], mag_db[rows, k], mag_db[rows, k + 1]
    den = a - 2.0 * b + c
    delta = np.where(np.abs(den) > 1e-12, 0.5 * (a - c) / np.where(np.abs(den) > 1e-12, den, 1.0), 0.0)
    delta = np.clip(delta, -0.5, 0.5)
    return k + delta, b - 0.25 * (a - c) * delta


def find_partials(
    mag: np.ndarray, sample_rate: int, n_fft: int, *, f0_hz: float | None, max_partials: int
) -> np.ndarray:
    """Frequencies of the sound's partials, from the peak-hold spectrum of its loud frames.

    Parameters
    ----------
    mag : ndarray, shape (n_frames, n_bins)
        :func:`stft` magnitudes.
    sample_rate, n_fft : int
    f0_hz : float or None
        The note's f0 for pitched sounds (peaks closer than half of it are
        one partial); ``None`` for unpitched ones.
    max_partials : int

    Returns
    -------
    ndarray, shape (n_partials,), float64
        Frequencies in Hz, ascending; at most ``max_partials``, possibly none.
    """
    frame_db = _db(np.sqrt(np.mean(mag**2, axis=1)))
    loud = frame_db >= frame_db.max() - LOUD_FRAMES_DB
    hold_db = _db(np.sqrt(np.mean(mag[loud] ** 2, axis=0)))
    from scipy.ndimage import percentile_filter  # on first use: listing synths imports no scipy

    floor = percentile_filter(hold_db, FLOOR_PERCENTILE, size=FLOOR_BINS, mode="nearest")
    inner = hold_db[1:-1]
    is_peak = (inner > hold_db[:-2]) & (inner >= hold_db[2:])
    is_peak &= inner - floor[1:-1] >= PROMINENCE_DB
    is_peak &= inner >= hold_db.max() - RANGE_DB
    k = np.flatnonzero(is_peak) + 1
    if k.size == 0:
        return np.zeros(0)
    pos, level = _parabolic(hold_db, k)
    bin_hz = sample_rate / n_fft
    freqs = pos * bin_hz
    keep = (freqs > 20.0) & (freqs < 0.45 * sample_rate)
    freqs, level = freqs[keep], level[keep]
    min_sep = 0.5 * f0_hz if f0_hz else 3.0 * bin_hz
    chosen: list[float] = []
    for j in np.argsort(-level, kind="stable"):
        if all(abs(freqs[j] - c) >= min_sep for c in chosen):
            chosen.append(float(freqs[j]))
            if len(chosen) == max_partials:
                break
    return np.sort(np.array(chosen))


def track_partials(
    mag: np.ndarray, freqs_hz: np.ndarray, sample_rate: int, n_fft: int, pitch_ratio: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Frequency and amplitude of each partial in each frame.

    Parameters
    ----------
    mag : ndarray, shape (n_frames, n_bins)
        :func:`stft` magnitudes.
    freqs_hz : ndarray, shape (n_partials,)
        From :func:`find_partials`.
    sample_rate, n_fft : int
    pitch_ratio : ndarray, shape (n_frames,)
        Each frame's f0 over the note's (1 where unknown): partials move with it.

    Returns
    -------
    freq_hz : ndarray, shape (n_frames, n_partials)
        NaN where the partial is absent.
    amp : ndarray, shape (n_frames, n_partials)
        Linear sinusoid amplitude (a full-scale sine is 1); 0 where absent.
    """
    n_frames, n_bins = mag.shape
    k = freqs_hz.size
    if k == 0:
        return np.zeros((n_frames, 0)), np.zeros((n_frames, 0))
    bin_hz = sample_rate / n_fft
    mag_db = _db(mag)
    from scipy.ndimage import percentile_filter

    floor = percentile_filter(mag_db, FLOOR_PERCENTILE, size=(1, FLOOR_BINS), mode="nearest")
    gaps = np.diff(freqs_hz)
    left = np.concatenate([[np.inf], gaps])
    right = np.concatenate([gaps, [np.inf]])
    # Search up to 2.5 bins or 3 % of the frequency either side, and never past half-way to a neighbour.
    half = np.minimum(np.maximum(2.5, 0.03 * freqs_hz / bin_hz), 0.45 * np.minimum(left, right) / bin_hz)
    half = np.maximum(half, 1.0)
    centre = freqs_hz[None, :] / bin_hz * pitch_ratio[:, None]  # (n_frames, k)
    width = int(np.ceil(half.max()))
    offsets = np.arange(-width, width + 1)
    cand = np.rint(centre)[:, :, None].astype(np.int64) + offsets[None, None, :]
    inside = np.abs(cand - centre[:, :, None]) <= half[None, :, None]
    cand = np.clip(cand, 1, n_bins - 2)
    rows = np.arange(n_frames)[:, None, None]
    vals = np.where(inside, mag_db[rows, cand], -np.inf)
    best = cand[np.arange(n_frames)[:, None], np.arange(k)[None, :], np.argmax(vals, axis=2)]  # (n_frames, k)
    is_max = (mag_db[np.arange(n_frames)[:, None], best] >= mag_db[np.arange(n_frames)[:, None], best - 1]) & (
        mag_db[np.arange(n_frames)[:, None], best] >= mag_db[np.arange(n_frames)[:, None], best + 1])
    pos, level = _parabolic(mag_db, best)
    present = is_max & (level - floor[np.arange(n_frames)[:, None], best] >= FRAME_PROMINENCE_DB)
    freq = np.where(present, pos * bin_hz, np.nan)
    amp = np.where(present, 10.0 ** (level / 20.0) / window_gain(n_fft), 0.0)
    return freq, amp


def fit_inharmonicity(freqs_hz: np.ndarray, amps: np.ndarray, f0_hz: float) -> float:
    """Stiff-string coefficient ``B`` of partials near whole multiples of ``f0_hz``.

    ``f_k = k f_1 sqrt(1 + B k^2) / sqrt(1 + B)`` (the law of
    :func:`gascar.dsp.stiff_string_ratios`), fitted by weighted least
    squares of ``(f_k / k)^2`` against ``k^2``.

    Parameters
    ----------
    freqs_hz, amps : ndarray, shape (n_partials,)
        Each partial's frequency and a weight (its typical amplitude).
    f0_hz : float

    Returns
    -------
    float
        ``B`` >= 0; 0 when fewer than three partials are near harmonics.
    """
    if freqs_hz.size == 0:
        return 0.0
    b = 0.0
    weights = np.maximum(np.asarray(amps, dtype=np.float64), 0.0)
    # Label partials with harmonic numbers from the low ones up: a stiff string's upper partials drift
    # sharp by more than a harmonic spacing, so each fit predicts where the next, higher ones lie.
    for top in (8, 16, 32, 64, 128):
        k = _harmonic_numbers(freqs_hz, f0_hz, b)
        near = (k <= top) & (np.abs(freqs_hz - _stiff(k, f0_hz, b)) <= 0.2 * f0_hz) & (weights > 0)
        if near.sum() < 3 or np.unique(k[near]).size < 3:
            return b
        y = (freqs_hz[near] / k[near]) ** 2
        x = k[near] ** 2
        w = weights[near] / weights[near].max()
        A = np.stack([np.ones_like(x), x], axis=1) * w[:, None]
        (c0, c1), *_ = np.linalg.lstsq(A, y * w, rcond=None)
        b = float(max(0.0, c1 / c0)) if c0 > 0 else 0.0
        if k.max() <= top:
            break
    return b


def _stiff(k: np.ndarray, f0_hz: float, b: float) -> np.ndarray:
    return k * f0_hz * np.sqrt(1.0 + b * k * k) / np.sqrt(1.0 + b)


def _harmonic_numbers(freqs_hz: np.ndarray, f0_hz: float, b: float) -> np.ndarray:
    """The harmonic number whose stiff-string frequency lies nearest each frequency."""
    k = np.arange(1, int(freqs_hz.max() / f0_hz) + 3, dtype=np.float64)
    grid = _stiff(k, f0_hz, b)
    return k[np.argmin(np.abs(freqs_hz[:, None] - grid[None, :]), axis=1)]

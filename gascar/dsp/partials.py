"""The additive partial bank: decaying sine partials, stiff-string ratios and spectral shapes."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .arrays import voice_params
from .kernels import LOG_1E3

#: Number of partials of the additive bank.
N_PARTIALS = 48
#: Samples between renormalisations of the partial rotators.
_RENORM_BLOCK = 1024


@njit(cache=True, fastmath=False)
def _power(x, n):
    """``x ** n`` compiled without fast-math flags, for :func:`_partial_kernel`.

    numba compiles its implementation of ``float ** int`` once per process
    and hands it to every later caller with the flags of the first one: left
    in the fast-math kernel below, it gave every kernel compiled after it
    (subtractive, wavetable) a reassociated power, so a voice rendered
    differently (by about 1e-10) depending on which synth a process, or the
    on-disk cache, compiled first. Called here, it never carries fast-math.
    """
    return x**n


@njit(cache=True, fastmath={"reassoc"})
def _partial_kernel(freq_hz, amp, decay_s, sustain, sample_rate, out):
    # Each partial is one or two complex rotators z <- z * w, amplitude and
    # decay folded in (a steady one of magnitude a * sustain, a decaying one
    # of magnitude a * (1 - sustain) whose w has modulus r < 1), so a sample
    # costs four multiplies per rotator and no sin. The inner loop runs over
    # rotators, which the compiler vectorises (the "reassoc" flag lets it
    # reorder only the sum over rotators).
    n, ns = out.shape
    kmax = 2 * freq_hz.shape[1]
    re = np.empty(kmax, dtype=np.float32)
    im = np.empty(kmax, dtype=np.float32)
    wr = np.empty(kmax, dtype=np.float32)
    wi = np.empty(kmax, dtype=np.float32)
    mag = np.empty(kmax)  # expected modulus, tracked in float64 to renormalise drift
    fall = np.empty(kmax)  # modulus factor per renormalisation block
    for v in range(n):
        kn = 0
        s = min(max(sustain[v], 0.0), 1.0)
        floor = 1e-6 * max(np.max(amp[v]), 1e-6)  # 120 dB below the loudest partial
        for k in range(freq_hz.shape[1]):
            f = freq_hz[v, k]
            if not (f > 0.0 and f < 0.45 * sample_rate and amp[v, k] > 0.0):
                continue
            w = 2.0 * math.pi * f / sample_rate
            r = math.exp(-LOG_1E3 / max(decay_s[v, k] * sample_rate, 1.0))
            for steady in (True, False):
                m = amp[v, k] * (s if steady else 1.0 - s)
                if m <= 0.0:
                    continue
                q = 1.0 if steady else r
                re[kn] = m  # z = m exp(i 0): every partial starts at sine phase 0
                im[kn] = 0.0
                wr[kn] = q * math.cos(w)
                wi[kn] = q * math.sin(w)
                mag[kn] = m
                fall[kn] = _power(q, _RENORM_BLOCK)
                kn += 1
        for b in range(0, ns, _RENORM_BLOCK):
            for i in range(b, min(b + _RENORM_BLOCK, ns)):
                acc = np.float32(0.0)
                for k in range(kn):
                    xr = re[k]
                    xi = im[k]
                    acc += xi
                    re[k] = xr * wr[k] - xi * wi[k]
                    im[k] = xr * wi[k] + xi * wr[k]
                out[v, i] = acc
            # Renormalise float32 drift to the expected modulus; drop rotators 120 dB down.
            k = 0
            while k < kn:
                mag[k] *= fall[k]
                if mag[k] < floor:
                    kn -= 1
                    re[k], im[k], wr[k], wi[k], mag[k], fall[k] = re[kn], im[kn], wr[kn], wi[kn], mag[kn], fall[kn]
                    continue
                cur = math.sqrt(float(re[k]) * re[k] + float(im[k]) * im[k])
                if cur > 0.0:
                    g = mag[k] / cur
                    re[k] = re[k] * g
                    im[k] = im[k] * g
                k += 1


def partial_bank(
    freq_hz: np.ndarray, amp: np.ndarray, decay_s: np.ndarray, sustain: np.ndarray, n_samples: int, sample_rate: int
) -> np.ndarray:
    """A bank of decaying sinusoids (additive synthesis), summed per voice.

    Partial ``k`` of voice ``v`` is ``amp[v, k] * sin(2 pi f t) *
    (sustain + (1 - sustain) * 10 ** (-3 t / decay_s[v, k]))``. Partials at or
    above 0.45 of the sample rate, or with zero amplitude, are skipped (no
    aliasing, no cost); decaying parts are dropped once 120 dB below the
    loudest partial's amplitude.

    Parameters
    ----------
    freq_hz, amp, decay_s : ndarray, shape (n_voices, n_partials)
        Frequency, amplitude and decay time (T60) of every partial.
    sustain : ndarray, shape (n_voices,)
        Level in [0, 1] each partial decays to, relative to its start.
    n_samples, sample_rate : int

    Returns
    -------
    ndarray, shape (n_voices, n_samples), float32
    """
    f, a, d = (np.ascontiguousarray(x, dtype=np.float64) for x in (freq_hz, amp, decay_s))
    (s,) = voice_params(sustain)
    out = np.empty((f.shape[0], int(n_samples)), dtype=np.float32)
    _partial_kernel(f, a, d, np.ascontiguousarray(np.broadcast_to(s, (f.shape[0],))), float(sample_rate), out)
    return out


def stiff_string_ratios(inharmonicity: np.ndarray, n_partials: int = N_PARTIALS) -> np.ndarray:
    """Partial frequency ratios of a stiff string, normalised so partial 1 is 1.

    ``f_k = k f0 sqrt(1 + B k^2) / sqrt(1 + B)``: the stiff-string law with
    ``f0`` naming the first partial, so the note stays in tune as ``B`` grows.

    Parameters
    ----------
    inharmonicity : ndarray, shape (n_voices,)
        ``B``; 0 is harmonic, about 1e-4 a piano, 0.5 and more bar-like.
    n_partials : int

    Returns
    -------
    ndarray, shape (n_voices, n_partials)
    """
    b = np.asarray(inharmonicity, dtype=np.float64)[:, None]
    k = np.arange(1, n_partials + 1, dtype=np.float64)[None, :]
    return k * np.sqrt(1.0 + b * k * k) / np.sqrt(1.0 + b)


def spectral_shape(
    freq_hz: np.ndarray,
    f0_hz: np.ndarray,
    tilt_db_per_oct: np.ndarray,
    even_level: np.ndarray,
    peaks_hz: np.ndarray,
    peaks_db: np.ndarray,
    peak_width_oct: np.ndarray,
) -> np.ndarray:
    """Partial amplitudes from compact controls: tilt, odd/even balance, resonant peaks.

    Parameters
    ----------
    freq_hz : ndarray, shape (n_voices, n_partials)
    f0_hz, tilt_db_per_oct, even_level, peak_width_oct : ndarray, shape (n_voices,)
        Spectral slope above the first partial; level of even partials
        relative to odd ones (0 is clarinet-like); width (standard
        deviation, octaves) of the peaks.
    peaks_hz, peaks_db : ndarray, shape (n_voices, n_peaks)
        Centre and gain of each resonant peak (formant); gains add in dB.

    Returns
    -------
    ndarray, shape (n_voices, n_partials), float64
        Linear amplitudes, the loudest normalised to 1.
    """
    f = np.asarray(freq_hz, dtype=np.float64)
    octs = np.log2(np.maximum(f, 1e-6) / np.asarray(f0_hz, dtype=np.float64)[:, None])
    db = np.asarray(tilt_db_per_oct)[:, None] * octs
    width = np.maximum(np.asarray(peak_width_oct, dtype=np.float64), 1e-3)[:, None]
    for j in range(np.shape(peaks_hz)[1]):
        dist = np.log2(np.maximum(f, 1e-6) / np.asarray(peaks_hz)[:, j : j + 1])
        db = db + np.asarray(peaks_db)[:, j : j + 1] * np.exp(-0.5 * (dist / width) ** 2)
    amp = 10.0 ** (db / 20.0)
    amp[:, 1::2] *= np.asarray(even_level, dtype=np.float64)[:, None]
    return amp / np.maximum(amp.max(axis=1, keepdims=True), 1e-12)

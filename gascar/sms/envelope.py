"""The amplitude envelope of a note, and the ADSR that fits it.

:func:`amplitude_envelope` is the RMS level over short Hann windows (at
least 256 samples and 1.5 periods of f0, so a low note's waveform does not
ripple it), hop :data:`ENV_HOP`. :func:`fit_adsr` fits the ADSR of
:func:`gascar.dsp.adsr` (an attack that reaches 1 after ``attack_s``, an
exponential decay towards ``sustain``, 60 dB closer after ``decay_s``, and
at the note-off a release of 60 dB per ``release_s``) to it in dB, by a
grid search: attack is the time the envelope first comes within 1 dB of its peak; decay and sustain minimise
the squared dB error from the peak to the note-off; release minimises it
after the note-off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Hop of :func:`amplitude_envelope` (samples at the analysis rate).
ENV_HOP = 64
#: Envelope levels are floored this far below the peak (dB).
ENV_FLOOR_DB = 80.0
#: Error below this level does not count in the fit (dB re peak): the floor of the fitness's envelope.
FIT_FLOOR_DB = -60.0
#: The attack ends when the envelope first comes this near its peak (dB).
PEAK_DB = 1.0
_DECAY_GRID_S = np.geomspace(0.01, 30.0, 48)
_RELEASE_GRID_S = np.geomspace(0.01, 8.0, 40)
_SUSTAIN_GRID = np.linspace(0.0, 1.0, 41)


@dataclass(frozen=True)
class ADSR:
    """An ADSR fitted to a note (the units of :func:`gascar.dsp.adsr`).

    Attributes
    ----------
    attack_s : float
        From the onset to the peak.
    decay_s : float
        T60 of the decay towards ``sustain``.
    sustain : float
        Linear level, 0 .. 1, relative to the peak.
    release_s : float
        T60 after the note-off.
    error_db : float
        RMS error of the fit over the note (dB, floored at :data:`FIT_FLOOR_DB`).
    """

    attack_s: float
    decay_s: float
    sustain: float
    release_s: float
    error_db: float

    def to_dict(self) -> dict:
        return {"attack_s": self.attack_s, "decay_s": self.decay_s, "sustain": self.sustain,
                "release_s": self.release_s, "error_db": self.error_db}


def amplitude_envelope(samples: np.ndarray, sample_rate: int, f0_hz: float | None = None) -> np.ndarray:
    """RMS level per hop of :data:`ENV_HOP` samples, in dB re the loudest, floored at -:data:`ENV_FLOOR_DB`.

    Parameters
    ----------
    samples : ndarray, shape (n_samples,)
    sample_rate : int
    f0_hz : float, optional
        Windows span at least 1.5 periods of it.

    Returns
    -------
    ndarray, shape (1 + n_samples // ENV_HOP,), float64
        Value ``i`` is centred on sample ``i * ENV_HOP``.
    """
    x = np.asarray(samples, dtype=np.float64)
    n = 256
    if f0_hz:
        n = max(n, int(np.ceil(1.5 * sample_rate / f0_hz)))
    n += n % 2
    w = np.hanning(n + 2)[1:-1]
    w /= w.sum()
    n_frames = 1 + x.size // ENV_HOP
    padded = np.concatenate([np.zeros(n // 2), x, np.zeros(n // 2 + ENV_HOP)])
    fr = np.lib.stride_tricks.sliding_window_view(padded, n)[::ENV_HOP][:n_frames]
    rms = np.sqrt(np.maximum(fr**2 @ w, 0.0))
    db = 20.0 * np.log10(np.maximum(rms, 1e-12) / max(float(rms.max()), 1e-12))
    return np.maximum(db, -ENV_FLOOR_DB)


def adsr_curve_db(times_s: np.ndarray, attack_s: float, decay_s: float, sustain: float, release_s: float,
                  hold_s: float) -> np.ndarray:
    """The level (dB re 1) of an ADSR at ``times_s``: an approximation of :func:`gascar.dsp.adsr` for fitting.

    The attack is taken as a straight rise in amplitude; decay, sustain and
    release are exact.
    """
    t = np.asarray(times_s, dtype=np.float64)
    a = np.where(t < attack_s, np.clip(t / max(attack_s, 1e-9), 0.0, 1.0), 0.0)
    d = sustain + (1.0 - sustain) * 10.0 ** (-3.0 * np.maximum(t - attack_s, 0.0) / decay_s)
    held = np.where(t < attack_s, a, d)
    at_hold = float(np.interp(hold_s, t, held)) if t.size else 1.0
    if hold_s < attack_s:
        at_hold = hold_s / max(attack_s, 1e-9)
    rel = at_hold * 10.0 ** (-3.0 * np.maximum(t - hold_s, 0.0) / release_s)
    lin = np.where(t < hold_s, held, rel)
    return 20.0 * np.log10(np.maximum(lin, 1e-6))


def fit_adsr(env_db: np.ndarray, sample_rate: int, hold_s: float) -> ADSR:
    """The ADSR nearest (in dB) to an envelope of :func:`amplitude_envelope`.

    Parameters
    ----------
    env_db : ndarray, shape (n_frames,)
    sample_rate : int
    hold_s : float
        The note-off (the analysis's estimate).

    Returns
    -------
    ADSR
    """
    t = np.arange(env_db.size) * ENV_HOP / sample_rate
    e = np.maximum(env_db, FIT_FLOOR_DB)
    peak = int(np.argmax(env_db >= env_db.max() - PEAK_DB))  # the first moment near the peak: a flat top's start
    hold_i = int(min(max(np.searchsorted(t, hold_s), peak + 1), env_db.size))
    # Attack: from the onset (where the note first rises within 40 dB of the peak) to the peak.
    onset = int(np.argmax(env_db >= -40.0))
    attack = max(float(t[peak] - t[onset]), 0.001)
    # Decay and sustain: a grid search over the held part.
    td = t[peak:hold_i] - t[peak]
    ed = e[peak:hold_i]
    if td.size >= 2:
        s = _SUSTAIN_GRID[:, None, None]
        d = _DECAY_GRID_S[None, :, None]
        lin = s + (1.0 - s) * 10.0 ** (-3.0 * td[None, None, :] / d)
        err = np.mean((np.maximum(20.0 * np.log10(np.maximum(lin, 1e-6)), FIT_FLOOR_DB) - ed) ** 2, axis=2)
        i, j = np.unravel_index(int(np.argmin(err)), err.shape)
        sustain, decay = float(_SUSTAIN_GRID[i]), float(_DECAY_GRID_S[j])
    else:
        sustain, decay = 1.0, 1.0
    # Release: 60 dB per release_s from the level at the note-off.
    tr = t[hold_i:] - hold_s
    er = e[hold_i:]
    if tr.size >= 2:
        start = float(e[hold_i - 1])
        lin = start + (-60.0 * tr[None, :] / _RELEASE_GRID_S[:, None])
        err = np.mean((np.maximum(lin, FIT_FLOOR_DB) - er[None, :]) ** 2, axis=1)
        release = float(_RELEASE_GRID_S[int(np.argmin(err))])
    else:
        release = 0.3
    curve = np.maximum(adsr_curve_db(t - t[onset], attack, decay, sustain, release, hold_s - t[onset]), FIT_FLOOR_DB)
    error = float(np.sqrt(np.mean((curve[onset:] - e[onset:]) ** 2)))
    return ADSR(attack, decay, sustain, release, error)

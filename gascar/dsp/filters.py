"""The filter: a state-variable filter (low-, high-, band-pass) with per-block cutoff modulation, and key tracking."""

from __future__ import annotations

import numpy as np

from .arrays import voice_params, voice_signal
from .kernels import KEYTRACK_REF_HZ, svf_kernel


def svf(
    x: np.ndarray,
    mode: np.ndarray,
    cutoff_hz: np.ndarray,
    resonance: np.ndarray,
    sample_rate: int,
    *,
    cutoff_oct: np.ndarray | None = None,
) -> np.ndarray:
    """Resonant state-variable filter (trapezoidal, zero-delay feedback).

    Stable for every cutoff (clipped to 5 Hz .. 0.49 of the sample rate) and
    resonance, including self-resonance (Q = 50) and cutoff near Nyquist.
    The bandpass output is normalised to unit gain at the centre.

    Parameters
    ----------
    x : ndarray, shape (n_voices, n_samples)
    mode : ndarray, shape (n_voices,)
        Index into :data:`FILTER_MODES` (0 lowpass, 1 highpass, 2 bandpass).
    cutoff_hz : ndarray, shape (n_voices,)
        Base cutoff (key tracking already applied by the caller).
    resonance : ndarray, shape (n_voices,)
        0 (Q = 0.5, no peak) .. 1 (Q = 50).
    sample_rate : int
    cutoff_oct : ndarray, shape (n_voices, n_samples), optional
        Cutoff modulation in octaves (envelope, LFO), applied at control
        rate: the coefficients are held for each block of
        :data:`CONTROL_BLOCK` samples.

    Returns
    -------
    ndarray, shape (n_voices, n_samples), float32
    """
    x = np.ascontiguousarray(x, dtype=np.float32)
    n, ns = x.shape
    m, c, r = (np.ascontiguousarray(np.broadcast_to(a, (n,))) for a in voice_params(mode, cutoff_hz, resonance))
    out = np.empty_like(x)
    svf_kernel(x, m, c, r, voice_signal(cutoff_oct, n, ns), float(sample_rate), out)
    return out


def keytrack(cutoff_hz: np.ndarray, f0_hz: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """Cutoff following the note: ``cutoff_hz * (f0_hz / C4) ** amount``.

    Parameters
    ----------
    cutoff_hz, f0_hz, amount : ndarray, shape (n_voices,)

    Returns
    -------
    ndarray, shape (n_voices,), float64
    """
    return np.asarray(cutoff_hz) * (np.asarray(f0_hz) / KEYTRACK_REF_HZ) ** np.asarray(amount)

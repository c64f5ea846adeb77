"""Array conventions shared by the DSP blocks: per-voice parameters, modulation signals, clipping, row batches."""

from __future__ import annotations

import numpy as np


def voice_params(*arrays: np.ndarray) -> list[np.ndarray]:
    """Per-voice parameters as contiguous float64 ``(n,)`` arrays of one length."""
    cols = [np.atleast_1d(np.asarray(a, dtype=np.float64)) for a in arrays]
    n = max(len(c) for c in cols)
    return [np.ascontiguousarray(np.broadcast_to(c, (n,))) for c in cols]


def voice_signal(x: np.ndarray | None, n: int, n_samples: int) -> np.ndarray:
    """A modulation signal as contiguous float32 ``(n, n_samples)``; ``(n, 0)`` when absent."""
    if x is None:
        return np.zeros((n, 0), dtype=np.float32)
    x = np.asarray(x, dtype=np.float32)
    return np.ascontiguousarray(np.broadcast_to(x, (n, n_samples)))


def clip_params(p: dict, bounds: dict) -> dict:
    """Per-voice parameters clipped to their ranges, NaN mapped to the low end.

    Genomes always map inside the ranges; this guards renders from physical
    values given directly (presets are validated, direct calls are not).

    Parameters
    ----------
    p
        Name to ``(n_voices,)`` array.
    bounds
        Name to ``(low, high)``.

    Returns
    -------
    dict
        Name to a new float64 ``(n_voices,)`` array.
    """
    out = {}
    for name, x in p.items():
        low, high = bounds[name]
        x = np.asarray(x, dtype=np.float64)
        out[name] = np.clip(np.where(np.isnan(x), low, x), low, high)
    return out


def voice_batches(n: int, size: int = 32):
    """Slices cutting ``range(n)`` voices into batches of ``size`` rendered at once (bounds a render's memory)."""
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


#: The old name of :func:`voice_batches`.
chunks = voice_batches

"""FM: four sine operators with envelopes, a modulation matrix and feedback, rendered in one kernel."""

from __future__ import annotations

import numpy as np

from .arrays import voice_params
from .kernels import fm_kernel


def fm_operators(
    freq_hz: np.ndarray,
    level: np.ndarray,
    attack_s: np.ndarray,
    decay_s: np.ndarray,
    sustain: np.ndarray,
    release_s: np.ndarray,
    feedback: np.ndarray,
    mod_matrix: np.ndarray,
    carriers: np.ndarray,
    hold_s: np.ndarray,
    n_samples: int,
    sample_rate: int,
) -> np.ndarray:
    """Four sine operators in phase-modulation (DX-style FM) with feedback on the last one.

    Operator ``k`` may only be modulated by operators ``j > k``, so one pass
    from the last operator to the first computes every sample. The last
    operator modulates itself through the mean of its two previous outputs
    (the DX7 trick that keeps strong feedback stable). Each operator has an
    ADSR (shared release); a modulator at level 1 reaches an index of
    :data:`FM_MAX_INDEX` radians. Operators above 0.45 of the sample rate are
    muted. Carriers are summed and divided by their count.

    Parameters
    ----------
    freq_hz, level, attack_s, decay_s, sustain : ndarray, shape (n_voices, n_operators)
        Per-operator frequency, output level in [0, 1] and envelope.
    release_s, feedback, hold_s : ndarray, shape (n_voices,)
        Shared release, feedback in [0, 1] (index up to :data:`FM_MAX_FEEDBACK`),
        note-off time.
    mod_matrix : ndarray, shape (n_voices, n_operators, n_operators)
        ``mod_matrix[v, k, j] = 1`` when operator ``j`` modulates operator ``k``
        (only ``j > k`` is used).
    carriers : ndarray, shape (n_voices, n_operators)
        1 for operators heard at the output.
    n_samples, sample_rate : int

    Returns
    -------
    ndarray, shape (n_voices, n_samples), float32
    """
    arr = [np.ascontiguousarray(a, dtype=np.float64) for a in (freq_hz, level, attack_s, decay_s, sustain)]
    n = arr[0].shape[0]
    rel, fb, hold = (np.ascontiguousarray(np.broadcast_to(a, (n,))) for a in voice_params(release_s, feedback, hold_s))
    out = np.empty((n, int(n_samples)), dtype=np.float32)
    fm_kernel(
        *arr, rel, fb,
        np.ascontiguousarray(mod_matrix, dtype=np.float64), np.ascontiguousarray(carriers, dtype=np.float64),
        np.round(hold * sample_rate).astype(np.int64), float(sample_rate), out,
    )
    return out

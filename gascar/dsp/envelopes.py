"""Envelopes and the LFO: ADSR, exponential decay and low-frequency oscillators over whole batches."""

from __future__ import annotations

import numpy as np

from .arrays import voice_params
from .kernels import adsr_kernel, decay_kernel, lfo_kernel


def adsr(
    attack_s: np.ndarray,
    decay_s: np.ndarray,
    sustain: np.ndarray,
    release_s: np.ndarray,
    hold_s: np.ndarray,
    n_samples: int,
    sample_rate: int,
) -> np.ndarray:
    """ADSR envelopes with exponential segments and a note-off.

    The attack rises on an analogue-style curve (an exponential aiming at
    :data:`ATTACK_TARGET`) and reaches 1 after ``attack_s``; the decay falls
    exponentially towards ``sustain`` (60 dB closer after ``decay_s``); at
    ``hold_s`` the release falls from wherever the envelope is, 60 dB per
    ``release_s``.

    Parameters
    ----------
    attack_s, decay_s, sustain, release_s, hold_s : ndarray, shape (n_voices,)
        Segment times in seconds, sustain level in [0, 1], note-off time.
    n_samples, sample_rate : int

    Returns
    -------
    ndarray, shape (n_voices, n_samples), float32
        Levels in [0, 1].
    """
    a, d, s, r, h = voice_params(attack_s, decay_s, sustain, release_s, hold_s)
    hold_n = np.round(h * sample_rate).astype(np.int64)
    out = np.empty((len(a), int(n_samples)), dtype=np.float32)
    adsr_kernel(a, d, np.clip(s, 0.0, 1.0), r, hold_n, float(sample_rate), out)
    return out


def decay_env(decay_s: np.ndarray, n_samples: int, sample_rate: int) -> np.ndarray:
    """One-segment envelopes starting at 1 and falling 60 dB per ``decay_s``.

    Parameters
    ----------
    decay_s : ndarray, shape (n_voices,)
    n_samples, sample_rate : int

    Returns
    -------
    ndarray, shape (n_voices, n_samples), float32
    """
    (d,) = voice_params(decay_s)
    out = np.empty((len(d), int(n_samples)), dtype=np.float32)
    decay_kernel(d, float(sample_rate), out)
    return out


def lfo(rate_hz: np.ndarray, shape: np.ndarray, n_samples: int, sample_rate: int) -> np.ndarray:
    """Low-frequency oscillators starting at phase 0 (rising through 0).

    Parameters
    ----------
    rate_hz : ndarray, shape (n_voices,)
    shape : ndarray, shape (n_voices,)
        Index into :data:`LFO_SHAPES` (0 sine, 1 triangle).
    n_samples, sample_rate : int

    Returns
    -------
    ndarray, shape (n_voices, n_samples), float32
        Values in [-1, 1]; route them to pitch, cutoff or amplitude by scaling.
    """
    r, s = voice_params(rate_hz, shape)
    out = np.empty((len(r), int(n_samples)), dtype=np.float32)
    lfo_kernel(r, s, float(sample_rate), out)
    return out

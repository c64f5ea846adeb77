"""Effects and the output stage: drive, three-band EQ, vibrato, and the finishing gain, declick and fade."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .arrays import voice_params
from .kernels import drive_kernel, vibrato_kernel


def drive(x: np.ndarray, drive_db: np.ndarray) -> np.ndarray:
    """Saturation: a tanh-shaped soft clipper.

    The clipper sees the input ``drive_db - 20`` dB louder, so 0 dB is
    practically clean (third harmonic of a full-scale sine below -50 dB),
    20 dB saturates like ``tanh`` and 36 dB nearly squares the wave. The output
    is scaled so that an input peak of 1 stays 1.

    Parameters
    ----------
    x : ndarray, shape (n_voices, n_samples)
    drive_db : ndarray, shape (n_voices,)

    Returns
    -------
    ndarray, shape (n_voices, n_samples), float32
    """
    x = np.ascontiguousarray(x, dtype=np.float32)
    (d,) = voice_params(drive_db)
    out = np.empty_like(x)
    drive_kernel(x, np.ascontiguousarray(np.broadcast_to(10.0 ** ((d - 20.0) / 20.0), (x.shape[0],))), out)
    return out


def _shelf_coefs(f_hz, gain_db, sample_rate, high):
    """RBJ shelf (slope 1) biquad coefficients ``(b0, b1, b2, a1, a2)``, each ``(n,)``."""
    a = 10.0 ** (gain_db / 40.0)
    w0 = 2.0 * np.pi * f_hz / sample_rate
    cw, sw = np.cos(w0), np.sin(w0)
    alpha = sw / 2.0 * np.sqrt(2.0)
    sa = 2.0 * np.sqrt(a) * alpha
    s = -1.0 if high else 1.0
    b0 = a * ((a + 1) - s * (a - 1) * cw + sa)
    b1 = s * 2 * a * ((a - 1) - s * (a + 1) * cw)
    b2 = a * ((a + 1) - s * (a - 1) * cw - sa)
    a0 = (a + 1) + s * (a - 1) * cw + sa
    a1 = -s * 2 * ((a - 1) + s * (a + 1) * cw)
    a2 = (a + 1) + s * (a - 1) * cw - sa
    return np.stack([b0, b1, b2, a1, a2]) / a0


def _peak_coefs(f_hz, gain_db, q, sample_rate):
    a = 10.0 ** (gain_db / 40.0)
    w0 = 2.0 * np.pi * f_hz / sample_rate
    alpha = np.sin(w0) / (2.0 * q)
    cw = np.cos(w0)
    a0 = 1 + alpha / a
    return np.stack([1 + alpha * a, -2 * cw, 1 - alpha * a, -2 * cw, 1 - alpha / a]) / a0


@njit(cache=True)
def _biquad3_kernel(x, coefs, active, out):
    n, ns = x.shape
    for v in range(n):
        if not active[v]:
            for i in range(ns):
                out[v, i] = x[v, i]
            continue
        c = coefs[v]
        b00, b01, b02, a01, a02 = c[0, 0], c[0, 1], c[0, 2], c[0, 3], c[0, 4]
        b10, b11, b12, a11, a12 = c[1, 0], c[1, 1], c[1, 2], c[1, 3], c[1, 4]
        b20, b21, b22, a21, a22 = c[2, 0], c[2, 1], c[2, 2], c[2, 3], c[2, 4]
        s01 = s02 = s11 = s12 = s21 = s22 = 0.0
        for i in range(ns):
            y = float(x[v, i])  # transposed direct form II, three sections in series
            z = b00 * y + s01
            s01 = b01 * y - a01 * z + s02
            s02 = b02 * y - a02 * z
            y = z
            z = b10 * y + s11
            s11 = b11 * y - a11 * z + s12
            s12 = b12 * y - a12 * z
            y = z
            z = b20 * y + s21
            s21 = b21 * y - a21 * z + s22
            s22 = b22 * y - a22 * z
            out[v, i] = z


def eq3(
    x: np.ndarray,
    low_db: np.ndarray,
    mid_db: np.ndarray,
    mid_hz: np.ndarray,
    high_db: np.ndarray,
    sample_rate: int,
    *,
    low_hz: float = 200.0,
    high_hz: float = 4000.0,
    mid_q: float = 0.9,
) -> np.ndarray:
    """Three-band EQ: low shelf, peak, high shelf (RBJ biquads in series).

    Voices whose three gains are all within 0.01 dB of 0 pass unchanged.

    Parameters
    ----------
    x : ndarray, shape (n_voices, n_samples)
    low_db, mid_db, mid_hz, high_db : ndarray, shape (n_voices,)
    sample_rate : int
    low_hz, high_hz, mid_q : float
        Shelf corner frequencies and the peak's Q.

    Returns
    -------
    ndarray, shape (n_voices, n_samples), float32
    """
    x = np.ascontiguousarray(x, dtype=np.float32)
    n = x.shape[0]
    lo, md, mf, hi = (np.broadcast_to(a, (n,)) for a in voice_params(low_db, mid_db, mid_hz, high_db))
    nyq = 0.45 * sample_rate
    coefs = np.stack(
        [
            _shelf_coefs(np.full(n, min(low_hz, nyq)), lo, sample_rate, high=False),
            _peak_coefs(np.minimum(mf, nyq), md, mid_q, sample_rate),
            _shelf_coefs(np.full(n, min(high_hz, nyq)), hi, sample_rate, high=True),
        ]
    ).transpose(2, 0, 1)
    active = (np.abs(lo) > 0.01) | (np.abs(md) > 0.01) | (np.abs(hi) > 0.01)
    out = np.empty_like(x)
    _biquad3_kernel(x, np.ascontiguousarray(coefs), active, out)
    return out


@njit(cache=True)
def _finish_kernel(x, gain, r, n_fade, out):
    n, ns = x.shape
    for v in range(n):
        g = gain[v]
        x1 = 0.0
        y1 = 0.0
        peak = 0.0
        for i in range(ns):
            xi = float(x[v, i])
            y = xi - x1 + r * y1
            x1 = xi
            y1 = y
            if i < n_fade:
                y *= 0.5 - 0.5 * math.cos(math.pi * (i + 0.5) / n_fade)
            y *= g
            out[v, i] = y
            if abs(y) > peak:
                peak = abs(y)
        if peak > 1.0:
            scale = 1.0 / peak
            for i in range(ns):
                out[v, i] *= scale


def finish(
    x: np.ndarray,
    gain_db: np.ndarray,
    sample_rate: int,
    *,
    dc_cutoff_hz: float = 10.0,
    fade_in_s: float = 0.001,
) -> np.ndarray:
    """Output stage: DC blocker, short fade-in, output gain and a peak guard.

    A voice whose peak would exceed 1 after the gain is scaled down to peak 1
    (per voice, so nothing clips and batches do not interact).

    Parameters
    ----------
    x : ndarray, shape (n_voices, n_samples)
    gain_db : ndarray, shape (n_voices,)
    sample_rate : int
    dc_cutoff_hz : float
        Corner of the one-pole DC-blocking highpass.
    fade_in_s : float
        Length of the raised-cosine fade-in that keeps note starts click-free.

    Returns
    -------
    ndarray, shape (n_voices, n_samples), float32
    """
    x = np.ascontiguousarray(x, dtype=np.float32)
    (g,) = voice_params(gain_db)
    g = np.ascontiguousarray(np.broadcast_to(10.0 ** (g / 20.0), (x.shape[0],)))
    r = math.exp(-2.0 * math.pi * dc_cutoff_hz / sample_rate)
    out = np.empty_like(x)
    _finish_kernel(x, g, r, max(1, int(round(fade_in_s * sample_rate))), out)
    return out


def vibrato(x: np.ndarray, rate_hz: np.ndarray, depth_st: np.ndarray, sample_rate: int) -> np.ndarray:
    """Vibrato as a modulated delay (peak pitch deviation ``depth_st``).

    Works on any signal, including a partial bank whose oscillators cannot
    follow a pitch change cheaply.

    Parameters
    ----------
    x : ndarray, shape (n_voices, n_samples)
    rate_hz, depth_st : ndarray, shape (n_voices,)
    sample_rate : int

    Returns
    -------
    ndarray, shape (n_voices, n_samples), float32
    """
    x = np.ascontiguousarray(x, dtype=np.float32)
    r, d = (np.ascontiguousarray(np.broadcast_to(a, (x.shape[0],))) for a in voice_params(rate_hz, depth_st))
    out = np.empty_like(x)
    vibrato_kernel(x, r, d, float(sample_rate), out)
    return out

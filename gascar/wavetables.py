"""Single-cycle wavetable frames for the vital synth: harmonic spectra, basic shapes, a target's own spectrum.

A frame is one cycle of :data:`FRAME_SIZE` samples, as a Vital wavetable
keyframe stores it (base64 of little-endian float32, :func:`encode_frame`).
Vital band-limits frames itself when it plays them, so frames here are
plain sums of harmonics or naive shapes.
"""

from __future__ import annotations

import base64
import binascii

import numpy as np

#: Samples in one wavetable frame (Vital's ``kWaveformSize``).
FRAME_SIZE = 2048
#: Lowest harmonic level a frame is built with; quieter harmonics are this level.
FLOOR_DB = -60.0
#: Labels of :func:`basic_shapes`' frames, in order.
BASIC_SHAPES = ("sine", "triangle", "saw", "square")


def _phase() -> np.ndarray:
    return np.arange(FRAME_SIZE, dtype=np.float64) / FRAME_SIZE


def harmonic_frames(levels_db: np.ndarray) -> np.ndarray:
    """Frames summing sine harmonics 1 .. K at the given levels, peak-normalised.

    Parameters
    ----------
    levels_db : ndarray, shape (n, K) or (K,)
        Level of each harmonic in dB (relative; values below
        :data:`FLOOR_DB` count as the floor).

    Returns
    -------
    ndarray, shape (n, FRAME_SIZE) or (FRAME_SIZE,), float32
        Peak 1 (a frame of only floor-level harmonics too).
    """
    levels = np.asarray(levels_db, dtype=np.float64)
    single = levels.ndim == 1
    levels = np.atleast_2d(levels)
    k = np.arange(1, levels.shape[1] + 1)
    amps = 10.0 ** (np.maximum(levels, FLOOR_DB) / 20.0)
    basis = np.sin(2.0 * np.pi * k[:, None] * _phase()[None, :])  # (K, FRAME_SIZE)
    frames = amps @ basis
    frames /= np.max(np.abs(frames), axis=1, keepdims=True)
    frames = frames.astype(np.float32)
    return frames[0] if single else frames


def basic_shapes() -> np.ndarray:
    """Sine, triangle, saw and square frames (:data:`BASIC_SHAPES`), naive, peak 1.

    Returns
    -------
    ndarray, shape (4, FRAME_SIZE), float32
    """
    x = _phase()
    return np.stack([
        np.sin(2.0 * np.pi * x),
        1.0 - 4.0 * np.abs(((x + 0.25) % 1.0) - 0.5),
        1.0 - 2.0 * ((x + 0.5) % 1.0),
        np.where(x < 0.5, 1.0, -1.0),
    ]).astype(np.float32)


def encode_frame(frame: np.ndarray) -> str:
    """A frame ``(FRAME_SIZE,)`` as Vital's ``wave_data``: base64 of little-endian float32."""
    f = np.asarray(frame, dtype="<f4")
    if f.shape != (FRAME_SIZE,):
        raise ValueError(f"a wavetable frame has {FRAME_SIZE} samples, got shape {f.shape}")
    return base64.b64encode(f.tobytes()).decode("ascii")


def decode_frame(wave_data: str) -> np.ndarray:
    """The frame ``(FRAME_SIZE,)`` float32 in a ``wave_data`` string; ValueError when it is not one."""
    try:
        raw = base64.b64decode(wave_data, validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise ValueError("wave_data is not base64") from None
    if len(raw) != 4 * FRAME_SIZE:
        raise ValueError(f"wave_data holds {len(raw)} bytes, not {4 * FRAME_SIZE} (one frame of {FRAME_SIZE} floats)")
    frame = np.frombuffer(raw, dtype="<f4").astype(np.float32)
    if not np.all(np.isfinite(frame)):
        raise ValueError("wave_data holds values that are not finite")
    return frame


def harmonic_levels_db(samples: np.ndarray, sample_rate: int, f0_hz: float, n_harmonics: int, *,
                       start_s: float = 0.0, end_s: float | None = None) -> np.ndarray:
    """Levels of a sound's harmonics 1 .. n: its own spectrum as the levels of a harmonic frame.

    The power spectrum is averaged over Hann frames of at least eight
    periods between ``start_s`` and ``end_s``; each harmonic's level is the
    power within a quarter of ``f0_hz`` of ``k * f0_hz`` (a sum over bins,
    so it does not depend on where the partial falls between bins).

    Parameters
    ----------
    samples : ndarray, shape (n_samples,)
    sample_rate : int
    f0_hz : float
    n_harmonics : int
    start_s, end_s : float
        The part of the sound to measure (default: all of it).

    Returns
    -------
    ndarray, shape (n_harmonics,), float64
        dB relative to the strongest harmonic, within [FLOOR_DB, 0];
        harmonics above Nyquist are at the floor.
    """
    x = np.asarray(samples, dtype=np.float64)
    a = int(max(0.0, start_s) * sample_rate)
    b = x.size if end_s is None else int(min(x.size, max(a + 1, end_s * sample_rate)))
    seg = x[a:b]
    n_fft = int(2 ** np.ceil(np.log2(max(256.0, 8.0 * sample_rate / f0_hz))))
    if seg.size < n_fft:
        seg = np.pad(seg, (0, n_fft - seg.size))
    hop = n_fft // 2
    win = np.hanning(n_fft)
    starts = range(0, seg.size - n_fft + 1, hop)
    power = np.mean([np.abs(np.fft.rfft(seg[s : s + n_fft] * win)) ** 2 for s in starts], axis=0)
    bin_hz = sample_rate / n_fft
    levels = np.full(n_harmonics, FLOOR_DB)
    amps = np.zeros(n_harmonics)
    for k in range(1, n_harmonics + 1):
        centre = k * f0_hz
        if centre + 0.25 * f0_hz >= 0.5 * sample_rate:
            break
        lo = int(np.floor((centre - 0.25 * f0_hz) / bin_hz))
        hi = int(np.ceil((centre + 0.25 * f0_hz) / bin_hz)) + 1
        amps[k - 1] = np.sqrt(power[max(lo, 0) : hi].sum())
    if amps.max() > 0:
        with np.errstate(divide="ignore"):
            db = 20.0 * np.log10(amps / amps.max())
        levels = np.clip(np.where(amps > 0, db, FLOOR_DB), FLOOR_DB, 0.0)
    return levels

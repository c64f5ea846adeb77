"""Oscillators and their tables: band-limited mipmapped single-cycle tables, the classic oscillator, noise, the wavetable oscillator."""

from __future__ import annotations

import numpy as np

from .arrays import voice_params, voice_signal
from .kernels import WAVETABLE_SIZE, osc_kernel, wavetable_kernel

#: Highest harmonic of the full-band mipmap level.
WAVETABLE_MAX_HARMONIC = 512
#: Mipmap levels, half an octave apart: level ``L`` keeps harmonics up to
#: ``floor(WAVETABLE_MAX_HARMONIC * 2 ** (-L / 2))`` (the last keeps one).
WAVETABLE_LEVELS = 19
#: Frame names of :func:`wavetable_frames`, in scanning order.
WAVETABLE_FRAMES = ("sine", "triangle", "square", "saw", "pulse25", "pulse12", "vowel_a", "vowel_i")


def frame_spectra(n_harmonics: int = WAVETABLE_MAX_HARMONIC) -> np.ndarray:
    """Complex harmonic spectra of the wavetable frames (additive definitions).

    Sine; triangle, square and saw from their Fourier series; pulses of duty
    1/4 and 1/8; and two formant-like frames whose harmonics follow a vowel
    envelope ("a": peaks near harmonics 3 and 5.5, "i": near 1.4 and 10.5,
    i.e. the formants of a 220 Hz voice) over a -6 dB/octave source.

    Parameters
    ----------
    n_harmonics : int

    Returns
    -------
    ndarray, shape (n_frames, n_harmonics + 1), complex128
        Coefficient ``h`` multiplies ``exp(i 2 pi h t)``; index 0 is DC (0).
    """
    h = np.arange(1, n_harmonics + 1, dtype=np.float64)
    odd = (h % 2) == 1
    spec = np.zeros((len(WAVETABLE_FRAMES), n_harmonics + 1), dtype=np.complex128)
    sine_coef = -0.5j  # sin(x) = (e^{ix} - e^{-ix}) / 2i
    spec[0, 1] = sine_coef
    spec[1, 1:] = np.where(odd, 8.0 / np.pi**2 * (-1.0) ** ((h - 1) // 2) / h**2, 0.0) * sine_coef
    spec[2, 1:] = np.where(odd, 4.0 / (np.pi * h), 0.0) * sine_coef
    spec[3, 1:] = 2.0 / np.pi * (-1.0) ** (h + 1) / h * sine_coef
    for row, duty in ((4, 0.25), (5, 0.125)):
        spec[row, 1:] = 0.5 * 2.0 * np.sin(np.pi * h * duty) / (np.pi * h)  # cosine series, pulse centred at 0
    for row, peaks in ((6, ((3.2, 1.0), (5.5, 0.6))), (7, ((1.4, 1.0), (10.5, 0.5)))):
        env = np.zeros_like(h)
        for centre, gain in peaks:
            env += gain * np.exp(-0.5 * (np.log2(h / centre) / 0.35) ** 2)
        spec[row, 1:] = (env + 0.02) / h * sine_coef
    return spec


def mipmap_harmonics() -> np.ndarray:
    """Top harmonic kept by each mipmap level, shape ``(WAVETABLE_LEVELS,)``, int64."""
    lev = np.arange(WAVETABLE_LEVELS)
    return np.maximum(np.floor(WAVETABLE_MAX_HARMONIC * 2.0 ** (-lev / 2.0) + 1e-9), 1).astype(np.int64)


def wavetable_frames() -> np.ndarray:
    """Band-limited single-cycle frames, one set per half octave (mipmaps).

    Level ``L`` keeps the harmonics up to ``mipmap_harmonics()[L]``; every
    frame is scaled so its full-band version peaks at 1 (the same scale at
    every level, so loudness does not jump between levels). One guard sample
    is appended to each frame for interpolation.

    Returns
    -------
    ndarray, shape (WAVETABLE_LEVELS, n_frames, WAVETABLE_SIZE + 1), float32
    """
    return mipmaps()[0].copy()


_MIPMAPS: list = []


def mipmaps() -> tuple[np.ndarray, np.ndarray]:
    """The shared mipmapped frames and their top harmonics, for the compiled kernels.

    Built once per process from constants (about 1.2 MB) and shared, not
    copied: callers must not write to them (:func:`wavetable_frames` returns
    a copy).

    Returns
    -------
    tables : ndarray, shape (WAVETABLE_LEVELS, n_frames, WAVETABLE_SIZE + 1), float32
    top_harmonic : ndarray, shape (WAVETABLE_LEVELS,), int64
    """
    if not _MIPMAPS:
        _MIPMAPS.extend(mipmaps_of(frame_spectra()))
    return _MIPMAPS[0], _MIPMAPS[1]


def mipmaps_of(spec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Half-octave mipmapped single-cycle frames of any harmonic spectra, as :func:`mipmaps` builds its own.

    Parameters
    ----------
    spec : ndarray, shape (n_frames, n_harmonics + 1), complex
        Coefficient ``h`` multiplies ``exp(i 2 pi h t)`` (index 0 is DC), as
        :func:`frame_spectra` gives; at most ``WAVETABLE_SIZE // 2`` harmonics.

    Returns
    -------
    tables : ndarray, shape (WAVETABLE_LEVELS, n_frames, WAVETABLE_SIZE + 1), float32
        Each frame scaled so its full-band version peaks at 1 (the same scale at every level).
    top_harmonic : ndarray, shape (WAVETABLE_LEVELS,), int64
    """
    top = mipmap_harmonics()
    full = np.zeros((spec.shape[0], WAVETABLE_SIZE // 2 + 1), dtype=np.complex128)
    full[:, : spec.shape[1]] = spec
    tables = np.empty((WAVETABLE_LEVELS, spec.shape[0], WAVETABLE_SIZE + 1), dtype=np.float32)
    scale = None
    for lev in range(WAVETABLE_LEVELS):
        s = full.copy()
        s[:, top[lev] + 1 :] = 0.0
        wave = np.fft.irfft(s, n=WAVETABLE_SIZE, axis=1) * WAVETABLE_SIZE
        if scale is None:
            scale = 1.0 / np.maximum(np.max(np.abs(wave), axis=1, keepdims=True), 1e-12)
        wave *= scale
        tables[lev, :, :WAVETABLE_SIZE] = wave
        tables[lev, :, WAVETABLE_SIZE] = wave[:, 0]
    return tables, top


def oscillator(
    wave: np.ndarray,
    f0_hz: np.ndarray,
    n_samples: int,
    sample_rate: int,
    *,
    pulse_width: np.ndarray | float = 0.5,
    pitch_st: np.ndarray | None = None,
) -> np.ndarray:
    """Band-limited oscillators: saw, pulse, triangle and sine from mipmapped tables.

    Each waveform is read from single-cycle tables band-limited per half
    octave (the :data:`WAVETABLE_FRAMES` mipmaps), choosing the richest table
    whose top harmonic stays below Nyquist, so nothing aliases (better than
    PolyBLEP, whose aliasing at high notes is only about 25 dB down). The pulse
    is the difference of two phase-shifted saws, so it has no DC at any width.

    Parameters
    ----------
    wave : ndarray, shape (n_voices,)
        Index into :data:`WAVEFORMS` (0 saw, 1 square/pulse, 2 triangle, 3 sine).
    f0_hz : ndarray, shape (n_voices,)
        Frequency; kept below 0.49 of the sample rate.
    n_samples, sample_rate : int
    pulse_width : float or ndarray, shape (n_voices,)
        Duty cycle of the pulse wave (0.5 is a square).
    pitch_st : ndarray, shape (n_voices, n_samples), optional
        Pitch modulation in semitones (LFO, pitch envelope), applied at
        control rate.

    Returns
    -------
    ndarray, shape (n_voices, n_samples), float32
        Zero-mean waveforms with peak about 1 (a narrow pulse reaches 2).
    """
    w, f, pw = voice_params(wave, f0_hz, pulse_width)
    n = len(w)
    out = np.empty((n, int(n_samples)), dtype=np.float32)
    tables, top = mipmaps()
    osc_kernel(tables, top, w, f, pw, voice_signal(pitch_st, n, int(n_samples)), float(sample_rate), out)
    return out


def white_noise(n_samples: int, seed: int = 0) -> np.ndarray:
    """White noise from a generator seeded explicitly (never global state).

    Every voice of a batch shares the same noise, so a voice renders the same
    alone or in a batch, and a small parameter change never re-rolls it.

    Parameters
    ----------
    n_samples : int
    seed : int

    Returns
    -------
    ndarray, shape (n_samples,), float32
        Uniform in [-1, 1).
    """
    return np.random.default_rng(seed).uniform(-1.0, 1.0, int(n_samples)).astype(np.float32)


def wavetable_osc(
    f0_hz: np.ndarray,
    position: np.ndarray,
    n_samples: int,
    sample_rate: int,
    *,
    pitch_st: np.ndarray | None = None,
    detune_cents: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Wavetable oscillator scanning :data:`WAVETABLE_FRAMES`, band-limited per half octave.

    Parameters
    ----------
    f0_hz : ndarray, shape (n_voices,)
    position : ndarray, shape (n_voices, n_samples)
        Scan position in [0, 1] over the frames (0 sine ... 1 last frame),
        interpolated linearly between neighbouring frames.
    n_samples, sample_rate : int
    pitch_st : ndarray, shape (n_voices, n_samples), optional
        Pitch modulation in semitones (control rate, stepped per block).
    detune_cents : float or ndarray, shape (n_voices,)
        When above 0, a second copy detuned upwards by this much is mixed
        in (unison); 0 costs nothing.

    Returns
    -------
    ndarray, shape (n_voices, n_samples), float32
    """
    f, dc = voice_params(f0_hz, detune_cents)
    n = len(f)
    pos = np.ascontiguousarray(np.broadcast_to(np.asarray(position, dtype=np.float32), (n, int(n_samples))))
    out = np.empty((n, int(n_samples)), dtype=np.float32)
    tables, top = mipmaps()
    wavetable_kernel(tables, top, f, pos, voice_signal(pitch_st, n, int(n_samples)),
                      np.ascontiguousarray(np.broadcast_to(dc, (n,))), float(sample_rate), out)
    return out

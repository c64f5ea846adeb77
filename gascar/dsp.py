"""Building blocks of the synth engine, as pure array functions over whole batches.

Every public function takes per-voice parameters as ``(n_voices,)`` arrays and
signals as ``(n_voices, n_samples)`` float32 arrays, and returns new arrays;
nothing here keeps state between calls. Per-sample recursions (envelopes,
oscillator phases, filters, feedback FM, partial banks) are numba kernels that
loop over the batch inside compiled code, one voice after another, so a voice
renders the same samples alone or in any batch. Modulation that needs an
``exp`` or ``tan`` (pitch, cutoff) is evaluated every :data:`CONTROL_BLOCK`
samples: pitch is interpolated linearly in between, filter coefficients are
held for the block. Sines and single-cycle tables are read with 32-bit
fixed-point phases (wrapping is free, no ``floor``).

Besides the array functions, small compiled scalar helpers (:func:`env_step`,
:func:`svf_tick`, :func:`table_read`, :func:`softclip` ...) build the fused
per-voice kernels :func:`subtractive_voices` and :func:`wavetable_voices`,
which render a whole voice in one pass without intermediate arrays. They live
here, beside the helpers they inline, because numba's on-disk cache does not
notice changes to functions called from other files.

Conventions: times are in seconds (``attack_s``), frequencies in Hz
(``cutoff_hz``), pitch offsets in semitones (``_st``), cutoff offsets in
octaves (``_oct``), levels in dB (``_db``) or linear 0..1. Envelope decay and
release times are T60s: the time to fall by 60 dB.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

#: Samples between two evaluations of pitch and cutoff modulation.
CONTROL_BLOCK = 16
#: Size of the sine lookup table (one cycle; one guard sample is appended).
SINE_TABLE_SIZE = 4096
#: The attack segment aims at this level and stops at 1 (an analogue-style curve).
ATTACK_TARGET = 1.5
#: Waveform codes of :func:`oscillator`.
WAVEFORMS = ("saw", "square", "triangle", "sine")
#: Filter mode codes of :func:`svf`.
FILTER_MODES = ("lowpass", "highpass", "bandpass")
#: LFO shape codes of :func:`lfo`.
LFO_SHAPES = ("sine", "triangle")
#: Reference pitch of key tracking (C4).
KEYTRACK_REF_HZ = 261.6255653005986

_SINE = np.sin(2.0 * np.pi * np.arange(SINE_TABLE_SIZE + 1) / SINE_TABLE_SIZE).astype(np.float32)
#: ln(1000): a T60 of t seconds is the per-sample factor exp(-LOG_1E3 / (t * sample_rate)).
LOG_1E3 = math.log(1000.0)
#: Levels below this are flushed to 0: subnormal floats make every operation on them ~100x slower.
_TINY = 1e-15


def _params(*arrays: np.ndarray) -> list[np.ndarray]:
    """Per-voice parameters as contiguous float64 ``(n,)`` arrays of one length."""
    cols = [np.atleast_1d(np.asarray(a, dtype=np.float64)) for a in arrays]
    n = max(len(c) for c in cols)
    return [np.ascontiguousarray(np.broadcast_to(c, (n,))) for c in cols]


def _signal(x: np.ndarray | None, n: int, n_samples: int) -> np.ndarray:
    """A modulation signal as contiguous float32 ``(n, n_samples)``; ``(n, 0)`` when absent."""
    if x is None:
        return np.zeros((n, 0), dtype=np.float32)
    x = np.asarray(x, dtype=np.float32)
    return np.ascontiguousarray(np.broadcast_to(x, (n, n_samples)))


# ---------------------------------------------------------------------------------------------
# scalar helpers (compiled into the kernels that call them)


#: One cycle in the 32-bit fixed-point phase of :func:`sine_fixed` and the table readers.
PHASE_ONE = 4294967296.0
PHASE_MASK = 0xFFFFFFFF
_TABLE_SHIFT = 32 - 12  # SINE_TABLE_SIZE == 2**12
_FRAC_MASK = (1 << _TABLE_SHIFT) - 1
_FRAC_SCALE = 1.0 / (1 << _TABLE_SHIFT)


@njit(cache=True)
def sine_fixed(p):
    """sin(2 pi p / 2**32) by table lookup; ``p`` is an int64 phase, any value (wraps)."""
    i = (p >> _TABLE_SHIFT) & (SINE_TABLE_SIZE - 1)
    fr = (p & _FRAC_MASK) * _FRAC_SCALE
    a = _SINE[i]
    return a + fr * (_SINE[i + 1] - a)


@njit(cache=True)
def env_coefs(attack_s, decay_s, release_s, sample_rate):
    """Per-sample coefficients of the exponential ADSR segments."""
    na = max(attack_s * sample_rate, 1.0)
    ca = 1.0 - (1.0 - 1.0 / ATTACK_TARGET) ** (1.0 / na)
    cd = 1.0 - math.exp(-LOG_1E3 / max(decay_s * sample_rate, 1.0))
    cr = math.exp(-LOG_1E3 / max(release_s * sample_rate, 1.0))
    return ca, cd, cr


@njit(cache=True)
def env_step(level, stage, i, hold_n, ca, cd, sustain, cr):
    """Advance an ADSR by one sample. Stages: 0 attack, 1 decay/sustain, 2 release."""
    if i >= hold_n:
        stage = 2
    if stage == 0:
        level += (ATTACK_TARGET - level) * ca
        if level >= 1.0:
            level = 1.0
            stage = 1
    elif stage == 1:
        level += (sustain - level) * cd
        if level < _TINY:
            level = 0.0
    else:
        level *= cr
        if level < _TINY:
            level = 0.0
    return level, stage


@njit(cache=True)
def softclip(x):
    """Rational tanh approximation, exactly +-1 beyond +-3 (branch-free, monotonic)."""
    x = min(max(x, -3.0), 3.0)
    x2 = x * x
    return x * (27.0 + x2) / (27.0 + 9.0 * x2)


@njit(cache=True)
def svf_g(cutoff_hz, sample_rate):
    """Prewarped gain ``tan(pi fc / sr)`` of the SVF, cutoff clipped to 5 Hz .. 0.49 sr."""
    fc = min(max(cutoff_hz, 5.0), 0.49 * sample_rate)
    return math.tan(math.pi * fc / sample_rate)


@njit(cache=True)
def svf_k(resonance):
    """Damping ``1 / Q`` of the SVF for resonance 0 (Q 0.5) .. 1 (Q 50)."""
    return 2.0 - 1.98 * min(max(resonance, 0.0), 1.0)


@njit(cache=True)
def svf_coefs(g, k):
    """State-space coefficients ``(a1, a2, a3)`` of the SVF for gain ``g`` and damping ``k``."""
    a1 = 1.0 / (1.0 + g * (g + k))
    a2 = g * a1
    return a1, a2, g * a2


@njit(cache=True)
def svf_tick(v0, ic1, ic2, a1, a2, a3, k, mode):
    """One sample of the trapezoidal (zero-delay feedback) SVF; returns ``(output, ic1, ic2)``.

    ``mode`` 0 lowpass, 1 highpass, 2 bandpass (unit gain at the centre).
    Coefficients come from :func:`svf_coefs`; callers update them at control
    rate, so no division runs per sample.
    """
    # Outputs from the current state (off the recursion's critical path) ...
    v1 = a1 * ic1 + a2 * (v0 - ic2)
    v2 = ic2 + a2 * ic1 + a3 * (v0 - ic2)
    if mode == 0:
        y = v2
    elif mode == 1:
        y = v0 - k * v1 - v2
    else:
        y = k * v1
    # ... and the state update written as a 2x2 state-space step, whose
    # dependency chain is one multiply and two adds shorter.
    n1 = (2.0 * a1 - 1.0) * ic1 - (2.0 * a2) * ic2 + (2.0 * a2) * v0
    n2 = (2.0 * a2) * ic1 + (1.0 - 2.0 * a3) * ic2 + (2.0 * a3) * v0
    return y, n1, n2


@njit(cache=True)
def lfo_value(phase, triangle):
    """LFO output in [-1, 1] at a 32-bit fixed-point phase (0 at phase 0, rising)."""
    if not triangle:
        return sine_fixed(phase)
    x = (phase & PHASE_MASK) * (1.0 / PHASE_ONE)
    if x < 0.25:
        return 4.0 * x
    if x < 0.75:
        return 2.0 - 4.0 * x
    return 4.0 * x - 4.0


# ---------------------------------------------------------------------------------------------
# envelopes and LFO


@njit(cache=True)
def _segment(row, start, end, target, level0, q, qpow, tiny):
    """``row[i] = target + (level0 - target) * q ** (i - start + 1)`` for ``start <= i < end``.

    Powers come from a running block factor times a table ``qpow[j] = q ** (j + 1)``,
    so the inner loop carries no recursion and vectorises. Returns the last value.
    """
    nb = qpow.shape[0]
    qb = qpow[nb - 1]
    span = level0 - target
    for b in range(start, end, nb):
        m = min(nb, end - b)
        for j in range(m):
            row[b + j] = target + span * qpow[j]
        span *= qb
        if abs(span) < tiny:
            span = 0.0
    if end > start:
        return row[end - 1]
    return level0


@njit(cache=True)
def _powers(q, qpow):
    x = 1.0
    for j in range(qpow.shape[0]):
        x *= q
        qpow[j] = x


@njit(cache=True)
def _adsr_row(row, attack_s, decay_s, sustain, release_s, hold_n, sample_rate, qpow):
    """One ADSR into ``row`` (any float array of the render's length)."""
    ns = row.shape[0]
    ca, cd, cr = env_coefs(attack_s, decay_s, release_s, sample_rate)
    h = min(max(hold_n, 0), ns)
    # attack: ATTACK_TARGET * (1 - (1 - ca) ** (i + 1)) until it reaches 1 (or note-off)
    qa = 1.0 - ca
    n_att = int(math.ceil(math.log(1.0 - 1.0 / ATTACK_TARGET) / math.log(qa))) if qa > 0.0 else 1
    end = min(n_att - 1, h)
    _powers(qa, qpow)
    level = _segment(row, 0, end, ATTACK_TARGET, 0.0, qa, qpow, _TINY)
    i = end
    if i < h:
        row[i] = 1.0
        i += 1
        _powers(1.0 - cd, qpow)
        level = _segment(row, i, h, sustain, 1.0, 1.0 - cd, qpow, _TINY)
        i = h
    _powers(cr, qpow)
    _segment(row, i, ns, 0.0, level, cr, qpow, _TINY)


@njit(cache=True)
def _adsr_kernel(attack_s, decay_s, sustain, release_s, hold_n, sample_rate, out):
    qpow = np.empty(CONTROL_BLOCK)
    for v in range(out.shape[0]):
        _adsr_row(out[v], attack_s[v], decay_s[v], sustain[v], release_s[v], hold_n[v], sample_rate, qpow)


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
    a, d, s, r, h = _params(attack_s, decay_s, sustain, release_s, hold_s)
    hold_n = np.round(h * sample_rate).astype(np.int64)
    out = np.empty((len(a), int(n_samples)), dtype=np.float32)
    _adsr_kernel(a, d, np.clip(s, 0.0, 1.0), r, hold_n, float(sample_rate), out)
    return out


@njit(cache=True)
def _decay_kernel(decay_s, sample_rate, out):
    n, ns = out.shape
    qpow = np.empty(CONTROL_BLOCK)
    for v in range(n):
        q = math.exp(-LOG_1E3 / max(decay_s[v] * sample_rate, 1.0))
        _powers(q, qpow)
        if ns > 0:
            out[v, 0] = 1.0
        _segment(out[v], 1, ns, 0.0, 1.0, q, qpow, _TINY)


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
    (d,) = _params(decay_s)
    out = np.empty((len(d), int(n_samples)), dtype=np.float32)
    _decay_kernel(d, float(sample_rate), out)
    return out


@njit(cache=True)
def _lfo_kernel(rate_hz, shape, sample_rate, out):
    n, ns = out.shape
    for v in range(n):
        inc = np.int64(rate_hz[v] / sample_rate * PHASE_ONE)
        tri = shape[v] >= 0.5
        phase = np.int64(0)
        for i in range(ns):
            out[v, i] = lfo_value(phase, tri)
            phase = (phase + inc) & PHASE_MASK


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
    r, s = _params(rate_hz, shape)
    out = np.empty((len(r), int(n_samples)), dtype=np.float32)
    _lfo_kernel(r, s, float(sample_rate), out)
    return out


# ---------------------------------------------------------------------------------------------
# band-limited single-cycle tables (oscillators and wavetable)

#: Samples per single-cycle frame (a power of two).
WAVETABLE_SIZE = 2048
#: Highest harmonic of the full-band mipmap level.
WAVETABLE_MAX_HARMONIC = 512
#: Mipmap levels, half an octave apart: level ``L`` keeps harmonics up to
#: ``floor(WAVETABLE_MAX_HARMONIC * 2 ** (-L / 2))`` (the last keeps one).
WAVETABLE_LEVELS = 19
#: Frame names of :func:`wavetable_frames`, in scanning order.
WAVETABLE_FRAMES = ("sine", "triangle", "square", "saw", "pulse25", "pulse12", "vowel_a", "vowel_i")
_SINE_FRAME, _TRIANGLE_FRAME, _SAW_FRAME = 0, 1, 3
_WT_SHIFT = 32 - 11  # WAVETABLE_SIZE == 2**11
_WT_FRAC_MASK = (1 << _WT_SHIFT) - 1
_WT_FRAC_SCALE = 1.0 / (1 << _WT_SHIFT)


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
        spec = frame_spectra()
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
                scale = 1.0 / np.max(np.abs(wave), axis=1, keepdims=True)
            wave *= scale
            tables[lev, :, :WAVETABLE_SIZE] = wave
            tables[lev, :, WAVETABLE_SIZE] = wave[:, 0]
        _MIPMAPS.extend([tables, top])
    return _MIPMAPS[0], _MIPMAPS[1]


@njit(cache=True)
def table_read(tab, p):
    """Linear-interpolated table read at a 32-bit fixed-point phase (any int64; wraps)."""
    i = (p >> _WT_SHIFT) & (WAVETABLE_SIZE - 1)
    fr = (p & _WT_FRAC_MASK) * _WT_FRAC_SCALE
    a = tab[i]
    return a + fr * (tab[i + 1] - a)


@njit(cache=True)
def frame_read(tables, level, frame, p):
    """:func:`table_read` of ``tables[level, frame]`` without making a view (views cost reference counting)."""
    i = (p >> _WT_SHIFT) & (WAVETABLE_SIZE - 1)
    fr = (p & _WT_FRAC_MASK) * _WT_FRAC_SCALE
    a = tables[level, frame, i]
    return a + fr * (tables[level, frame, i + 1] - a)


@njit(cache=True)
def mipmap_level(inc, top_harmonic):
    """Richest mipmap level whose top harmonic stays below Nyquist at ``inc`` cycles/sample."""
    lev = 0
    last = top_harmonic.shape[0] - 1
    while lev < last and top_harmonic[lev] * inc >= 0.5:
        lev += 1
    return lev



# ---------------------------------------------------------------------------------------------
# oscillators and noise


@njit(cache=True)
def _osc_kernel(tables, top_harmonic, wave, f0_hz, pulse_width, pitch_st, sample_rate, out):
    n, ns = out.shape
    modulated = pitch_st.shape[1] > 0
    for v in range(n):
        w = int(wave[v])
        frame = _SAW_FRAME if w <= 1 else (_TRIANGLE_FRAME if w == 2 else _SINE_FRAME)
        pulse = w == 1
        pw = min(max(pulse_width[v], 0.02), 0.98)
        lag = np.int64((1.0 - pw) * PHASE_ONE)  # pulse = saw(p) - saw(p - pw): DC-free
        base = min(max(f0_hz[v] / sample_rate, 1e-7), 0.49)
        p = np.int64(0)
        ii = np.int64(base * PHASE_ONE)
        step = np.int64(0)
        tab = tables[mipmap_level(base, top_harmonic), frame]
        for b in range(0, ns, CONTROL_BLOCK):
            if modulated:
                inc = min(max(base * 2.0 ** (pitch_st[v, b] / 12.0), 1e-7), 0.49)
                j = min(b + CONTROL_BLOCK, ns - 1)
                inc_next = min(max(base * 2.0 ** (pitch_st[v, j] / 12.0), 1e-7), 0.49)
                ii = np.int64(inc * PHASE_ONE)
                step = (np.int64(inc_next * PHASE_ONE) - ii) // CONTROL_BLOCK
                tab = tables[mipmap_level(max(inc, inc_next), top_harmonic), frame]
            for i in range(b, min(b + CONTROL_BLOCK, ns)):
                y = table_read(tab, p)
                if pulse:
                    y -= table_read(tab, p + lag)
                out[v, i] = y
                p = (p + ii) & PHASE_MASK
                ii += step


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
    w, f, pw = _params(wave, f0_hz, pulse_width)
    n = len(w)
    out = np.empty((n, int(n_samples)), dtype=np.float32)
    tables, top = mipmaps()
    _osc_kernel(tables, top, w, f, pw, _signal(pitch_st, n, int(n_samples)), float(sample_rate), out)
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


# ---------------------------------------------------------------------------------------------
# filter


@njit(cache=True)
def _svf_kernel(x, mode, cutoff_hz, resonance, cutoff_oct, sample_rate, out):
    n, ns = x.shape
    modulated = cutoff_oct.shape[1] > 0
    for v in range(n):
        m = int(mode[v])
        k = svf_k(resonance[v])
        base = cutoff_hz[v]
        a1, a2, a3 = svf_coefs(svf_g(base, sample_rate), k)
        ic1 = 0.0
        ic2 = 0.0
        for b in range(0, ns, CONTROL_BLOCK):
            if modulated:
                # Coefficients held for a block, taken at its middle.
                j = min(b + CONTROL_BLOCK // 2, ns - 1)
                a1, a2, a3 = svf_coefs(svf_g(base * 2.0 ** cutoff_oct[v, j], sample_rate), k)
            for i in range(b, min(b + CONTROL_BLOCK, ns)):
                y, ic1, ic2 = svf_tick(float(x[v, i]), ic1, ic2, a1, a2, a3, k, m)
                out[v, i] = y


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
    m, c, r = (np.ascontiguousarray(np.broadcast_to(a, (n,))) for a in _params(mode, cutoff_hz, resonance))
    out = np.empty_like(x)
    _svf_kernel(x, m, c, r, _signal(cutoff_oct, n, ns), float(sample_rate), out)
    return out


# ---------------------------------------------------------------------------------------------
# effects and output


@njit(cache=True)
def _drive_kernel(x, gain, out):
    n, ns = x.shape
    for v in range(n):
        g = gain[v]
        norm = 1.0 / softclip(g)
        for i in range(ns):
            out[v, i] = softclip(g * x[v, i]) * norm


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
    (d,) = _params(drive_db)
    out = np.empty_like(x)
    _drive_kernel(x, np.ascontiguousarray(np.broadcast_to(10.0 ** ((d - 20.0) / 20.0), (x.shape[0],))), out)
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
    lo, md, mf, hi = (np.broadcast_to(a, (n,)) for a in _params(low_db, mid_db, mid_hz, high_db))
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
    (g,) = _params(gain_db)
    g = np.ascontiguousarray(np.broadcast_to(10.0 ** (g / 20.0), (x.shape[0],)))
    r = math.exp(-2.0 * math.pi * dc_cutoff_hz / sample_rate)
    out = np.empty_like(x)
    _finish_kernel(x, g, r, max(1, int(round(fade_in_s * sample_rate))), out)
    return out


@njit(cache=True)
def _vibrato_kernel(x, rate_hz, depth_st, sample_rate, out):
    n, ns = x.shape
    for v in range(n):
        # A delay D(t) = A (1 - cos(w t)) shifts frequency by -dD/dt = -A w sin(w t);
        # D is evaluated every CONTROL_BLOCK samples and interpolated linearly.
        w = 2.0 * math.pi * rate_hz[v] / sample_rate
        ratio = 2.0 ** (depth_st[v] / 12.0) - 1.0
        amp = ratio / w if w > 0.0 else 0.0
        if amp <= 0.0:
            for i in range(ns):
                out[v, i] = x[v, i]
            continue
        inc = np.int64(rate_hz[v] / sample_rate * PHASE_ONE)
        quarter = np.int64(PHASE_ONE / 4.0)
        d_now = 0.0
        for b in range(0, ns, CONTROL_BLOCK):
            d_next = amp * (1.0 - sine_fixed(((b + CONTROL_BLOCK) * inc + quarter) & PHASE_MASK))
            step = (d_next - d_now) / CONTROL_BLOCK
            d = d_now
            for i in range(b, min(b + CONTROL_BLOCK, ns)):
                pos = i - d
                d += step
                if pos < 0.0:
                    out[v, i] = 0.0
                    continue
                j = int(pos)
                fr = pos - j
                a = x[v, j]
                c = x[v, j + 1] if j + 1 < ns else a
                out[v, i] = a + fr * (c - a)
            d_now = d_next


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
    r, d = (np.ascontiguousarray(np.broadcast_to(a, (x.shape[0],))) for a in _params(rate_hz, depth_st))
    out = np.empty_like(x)
    _vibrato_kernel(x, r, d, float(sample_rate), out)
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


def chunks(n: int, size: int = 32):
    """Slices cutting ``range(n)`` into runs of ``size`` (bounds a render's memory)."""
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


# ---------------------------------------------------------------------------------------------
# FM operators

#: Number of operators of :func:`fm_operators`.
N_OPERATORS = 4
#: Phase-modulation index (radians) of a modulator at level 1.
FM_MAX_INDEX = 8.0
#: Feedback index (radians) at feedback 1.
FM_MAX_FEEDBACK = 1.6


@njit(cache=True)
def _fm_kernel(freq_hz, level, attack_s, decay_s, sustain, release_s, feedback, mod, carrier, hold_n, sample_rate, out):
    # Phases are 32-bit fixed point (cycles x 2**32) held in int64: the chain
    # of four dependent lookups per sample is then about four times shorter
    # than with float phases and floor(). Envelopes are rendered first by the
    # vectorised ADSR, so the operator loop only reads them.
    n, ns = out.shape
    to_fix = PHASE_ONE
    idx = FM_MAX_INDEX / (2.0 * math.pi) * to_fix
    env = np.zeros((4, ns), dtype=np.float32)
    qpow = np.empty(CONTROL_BLOCK)
    inc = np.empty(4, dtype=np.int64)
    lev = np.empty(4)
    for v in range(n):
        n_car = 0.0
        for k in range(4):
            f = min(freq_hz[v, k] / sample_rate, 0.5)
            inc[k] = np.int64(f * to_fix)
            # An operator above 0.45 of the sample rate would only alias: it is muted.
            lev[k] = level[v, k] if f < 0.45 else 0.0
            if lev[k] > 0.0:
                _adsr_row(env[k], attack_s[v, k], decay_s[v, k], sustain[v, k], release_s[v], hold_n[v], sample_rate, qpow)
            n_car += carrier[v, k]
        fb = 0.5 * feedback[v] * FM_MAX_FEEDBACK / (2.0 * math.pi) * to_fix
        gain = 1.0 / max(n_car, 1.0)
        m = mod[v]
        m01, m02, m03, m12, m13, m23 = m[0, 1] * idx, m[0, 2] * idx, m[0, 3] * idx, m[1, 2] * idx, m[1, 3] * idx, m[2, 3] * idx
        c0, c1, c2, c3 = carrier[v, 0] * gain, carrier[v, 1] * gain, carrier[v, 2] * gain, carrier[v, 3] * gain
        l0, l1, l2, l3 = lev[0], lev[1], lev[2], lev[3]
        i0, i1, i2, i3 = inc[0], inc[1], inc[2], inc[3]
        p0 = p1 = p2 = p3 = np.int64(0)
        y1 = y2 = 0.0
        e0, e1, e2, e3 = env[0], env[1], env[2], env[3]
        row = out[v]
        # An operator at level 0 outputs exact zeros: skip it (cheap 2-operator patches).
        on0, on1, on2, on3 = l0 > 0.0, l1 > 0.0, l2 > 0.0, l3 > 0.0
        o0 = o1 = o2 = o3 = 0.0
        for i in range(ns):
            if on3:
                r3 = sine_fixed(p3 + np.int64(fb * (y1 + y2)))
                y2 = y1
                y1 = r3
                o3 = r3 * e3[i] * l3
            if on2:
                o2 = sine_fixed(p2 + np.int64(m23 * o3)) * e2[i] * l2
            if on1:
                o1 = sine_fixed(p1 + np.int64(m12 * o2 + m13 * o3)) * e1[i] * l1
            if on0:
                o0 = sine_fixed(p0 + np.int64(m01 * o1 + m02 * o2 + m03 * o3)) * e0[i] * l0
            row[i] = c0 * o0 + c1 * o1 + c2 * o2 + c3 * o3
            p0 = (p0 + i0) & PHASE_MASK
            p1 = (p1 + i1) & PHASE_MASK
            p2 = (p2 + i2) & PHASE_MASK
            p3 = (p3 + i3) & PHASE_MASK


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
    rel, fb, hold = (np.ascontiguousarray(np.broadcast_to(a, (n,))) for a in _params(release_s, feedback, hold_s))
    out = np.empty((n, int(n_samples)), dtype=np.float32)
    _fm_kernel(
        *arr, rel, fb,
        np.ascontiguousarray(mod_matrix, dtype=np.float64), np.ascontiguousarray(carriers, dtype=np.float64),
        np.round(hold * sample_rate).astype(np.int64), float(sample_rate), out,
    )
    return out


# ---------------------------------------------------------------------------------------------
# additive partial bank

#: Number of partials of the additive bank.
N_PARTIALS = 48
#: Samples between renormalisations of the partial rotators.
_RENORM_BLOCK = 1024


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
                fall[kn] = q**_RENORM_BLOCK
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
    (s,) = _params(sustain)
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


# ---------------------------------------------------------------------------------------------
# wavetable oscillator

@njit(cache=True)
def _wavetable_kernel(tables, top_harmonic, f0_hz, position, pitch_st, detune_cents, sample_rate, out):
    n, ns = out.shape
    n_frames = tables.shape[1]
    modulated = pitch_st.shape[1] > 0
    for v in range(n):
        base = f0_hz[v] / sample_rate
        ratio2 = 2.0 ** (detune_cents[v] / 1200.0)
        unison = detune_cents[v] > 0.0
        p1 = np.int64(0)
        p2 = np.int64(PHASE_ONE / 3.0)  # the detuned copy starts a third of a cycle later
        inc = base
        for b in range(0, ns, CONTROL_BLOCK):
            if modulated:
                inc = base * 2.0 ** (pitch_st[v, b] / 12.0)
            inc = min(max(inc, 1e-7), 0.49)
            i1 = np.int64(inc * PHASE_ONE)
            i2 = np.int64(min(inc * ratio2, 0.49) * PHASE_ONE)
            lev = mipmap_level(inc * (ratio2 if unison else 1.0), top_harmonic)
            for i in range(b, min(b + CONTROL_BLOCK, ns)):
                pos = min(max(position[v, i], 0.0), 1.0) * (n_frames - 1)
                f = min(int(pos), n_frames - 2)
                fr = pos - f
                a = frame_read(tables, lev, f, p1)
                y = a + fr * (frame_read(tables, lev, f + 1, p1) - a)
                if unison:
                    a = frame_read(tables, lev, f, p2)
                    y = 0.5 * (y + a + fr * (frame_read(tables, lev, f + 1, p2) - a))
                    p2 = (p2 + i2) & PHASE_MASK
                out[v, i] = y
                p1 = (p1 + i1) & PHASE_MASK


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
    f, dc = _params(f0_hz, detune_cents)
    n = len(f)
    pos = np.ascontiguousarray(np.broadcast_to(np.asarray(position, dtype=np.float32), (n, int(n_samples))))
    out = np.empty((n, int(n_samples)), dtype=np.float32)
    tables, top = mipmaps()
    _wavetable_kernel(tables, top, f, pos, _signal(pitch_st, n, int(n_samples)),
                      np.ascontiguousarray(np.broadcast_to(dc, (n,))), float(sample_rate), out)
    return out


# ---------------------------------------------------------------------------------------------
# fused voices (one pass per voice, no intermediate arrays)

#: Parameter columns of :func:`subtractive_voices` (the subtractive synth's parameter names, in this order).
SUBTRACTIVE_COLUMNS = (
    "osc1_wave",
    "osc2_wave",
    "pulse_width",
    "osc2_semitones",
    "osc2_detune_cents",
    "osc_mix",
    "noise_level",
    "filter_type",
    "cutoff_hz",
    "resonance",
    "filter_keytrack",
    "filter_env_oct",
    "filter_attack_s",
    "filter_decay_s",
    "filter_sustain",
    "filter_release_s",
    "attack_s",
    "decay_s",
    "sustain",
    "release_s",
    "lfo_rate_hz",
    "lfo_shape",
    "lfo_to_pitch_st",
    "lfo_to_cutoff_oct",
    "lfo_to_amp",
    "pitch_env_st",
    "pitch_env_decay_s",
    "drive_db",
    "gain_db",
)
(
    _S_OSC1_WAVE, _S_OSC2_WAVE, _S_PULSE_WIDTH, _S_OSC2_ST, _S_OSC2_CENTS, _S_OSC_MIX, _S_NOISE, _S_FTYPE,
    _S_CUTOFF, _S_RES, _S_KEYTRACK, _S_FENV_OCT, _S_FATT, _S_FDEC, _S_FSUS, _S_FREL, _S_ATT, _S_DEC, _S_SUS,
    _S_REL, _S_LFO_RATE, _S_LFO_SHAPE, _S_LFO_PITCH, _S_LFO_CUT, _S_LFO_AMP, _S_PENV_ST, _S_PENV_DEC,
    _S_DRIVE, _S_GAIN,
) = range(29)


@njit(cache=True)
def subtractive_voices(P, f0_hz, hold_n, noise, tables, top, sample_rate, out):
    """Fused voice loop: oscillators, noise, filter, amplifier, LFO, drive (one pass per voice).

    Modulators (filter and pitch envelopes, LFO) are evaluated exactly every
    CONTROL_BLOCK samples; pitch and tremolo are interpolated linearly between
    those points, filter coefficients are held per block (from the mean
    cutoff gain); the amp envelope runs per sample.
    """
    n, ns = out.shape
    cb = CONTROL_BLOCK
    one = PHASE_ONE
    for v in range(n):
        w1 = min(max(int(P[v, _S_OSC1_WAVE]), 0), 3)
        w2 = min(max(int(P[v, _S_OSC2_WAVE]), 0), 3)
        pw = min(max(P[v, _S_PULSE_WIDTH], 0.02), 0.98)
        lag = np.int64((1.0 - pw) * one)
        fr1 = _SAW_FRAME if w1 <= 1 else (_TRIANGLE_FRAME if w1 == 2 else _SINE_FRAME)
        fr2 = _SAW_FRAME if w2 <= 1 else (_TRIANGLE_FRAME if w2 == 2 else _SINE_FRAME)
        mix = P[v, _S_OSC_MIX]
        g1 = 1.0 - mix
        use2 = mix > 0.0
        nl = P[v, _S_NOISE]
        mode = int(P[v, _S_FTYPE])
        k = svf_k(P[v, _S_RES])
        cut0 = P[v, _S_CUTOFF] * (f0_hz[v] / KEYTRACK_REF_HZ) ** P[v, _S_KEYTRACK]
        fenv_oct = P[v, _S_FENV_OCT]
        base1 = f0_hz[v] / sample_rate
        base2 = base1 * 2.0 ** (P[v, _S_OSC2_ST] / 12.0 + P[v, _S_OSC2_CENTS] / 1200.0)
        h = hold_n[v]
        fca, fcd, fcr = env_coefs(P[v, _S_FATT], P[v, _S_FDEC], P[v, _S_FREL], sample_rate)
        fsus = P[v, _S_FSUS]
        aca, acd, acr = env_coefs(P[v, _S_ATT], P[v, _S_DEC], P[v, _S_REL], sample_rate)
        asus = P[v, _S_SUS]
        pst = P[v, _S_PENV_ST]
        pc = math.exp(-LOG_1E3 / max(P[v, _S_PENV_DEC] * sample_rate, 1.0))
        linc = np.int64(P[v, _S_LFO_RATE] / sample_rate * one)
        ltri = P[v, _S_LFO_SHAPE] >= 0.5
        lp_st = P[v, _S_LFO_PITCH]
        lc_oct = P[v, _S_LFO_CUT]
        ld = 0.5 * P[v, _S_LFO_AMP]
        dg = 10.0 ** ((P[v, _S_DRIVE] - 20.0) / 20.0)
        dnorm = 1.0 / softclip(dg)

        # modulator state at sample index m (starts at 0)
        fe, fst = env_step(0.0, 0, 0, h, fca, fcd, fsus, fcr)
        pe = 1.0
        lph = np.int64(0)
        lv = lfo_value(lph, ltri)
        pitch = pst * pe + lp_st * lv
        c_inc1 = min(max(base1 * 2.0 ** (pitch / 12.0), 1e-7), 0.49)
        c_inc2 = min(max(base2 * 2.0 ** (pitch / 12.0), 1e-7), 0.49)
        c_g = svf_g(cut0 * 2.0 ** (fenv_oct * fe + lc_oct * lv), sample_rate)
        c_trem = 1.0 - ld + ld * lv

        p1 = np.int64(0)
        p2 = np.int64(0)
        ic1 = 0.0
        ic2 = 0.0
        ae = 0.0
        ast = 0
        for b in range(0, ns, cb):
            # advance the modulators one block ahead
            for j in range(b + 1, b + cb + 1):
                fe, fst = env_step(fe, fst, j, h, fca, fcd, fsus, fcr)
            pe *= pc ** cb
            if pe < 1e-15:
                pe = 0.0  # no subnormals
            lph = (lph + linc * cb) & PHASE_MASK
            lv = lfo_value(lph, ltri)
            pitch = pst * pe + lp_st * lv
            n_inc1 = min(max(base1 * 2.0 ** (pitch / 12.0), 1e-7), 0.49)
            n_inc2 = min(max(base2 * 2.0 ** (pitch / 12.0), 1e-7), 0.49)
            n_g = svf_g(cut0 * 2.0 ** (fenv_oct * fe + lc_oct * lv), sample_rate)
            n_trem = 1.0 - ld + ld * lv

            i1 = np.int64(c_inc1 * one)
            s1 = (np.int64(n_inc1 * one) - i1) // cb
            i2 = np.int64(c_inc2 * one)
            s2 = (np.int64(n_inc2 * one) - i2) // cb
            t1 = tables[mipmap_level(max(c_inc1, n_inc1), top), fr1]
            t2 = tables[mipmap_level(max(c_inc2, n_inc2), top), fr2]
            a1, a2, a3 = svf_coefs(0.5 * (c_g + n_g), k)
            trem = c_trem
            ts = (n_trem - c_trem) / cb
            for i in range(b, min(b + cb, ns)):
                o = table_read(t1, p1)
                if w1 == 1:
                    o -= table_read(t1, p1 + lag)
                x = g1 * o
                if use2:
                    o = table_read(t2, p2)
                    if w2 == 1:
                        o -= table_read(t2, p2 + lag)
                    x += mix * o
                    p2 = (p2 + i2) & PHASE_MASK
                    i2 += s2
                x += nl * noise[i]
                y, ic1, ic2 = svf_tick(x, ic1, ic2, a1, a2, a3, k, mode)
                ae, ast = env_step(ae, ast, i, h, aca, acd, asus, acr)
                y *= ae * trem
                out[v, i] = softclip(dg * y) * dnorm
                p1 = (p1 + i1) & PHASE_MASK
                i1 += s1
                trem += ts
            c_inc1, c_inc2, c_g, c_trem = n_inc1, n_inc2, n_g, n_trem


#: Parameter columns of :func:`wavetable_voices` (the wavetable synth's parameter names, in this order).
WAVETABLE_COLUMNS = (
    "position",
    "position_env",
    "position_decay_s",
    "unison_detune_cents",
    "lfo_rate_hz",
    "lfo_to_position",
    "lfo_to_pitch_st",
    "filter_type",
    "cutoff_hz",
    "resonance",
    "filter_keytrack",
    "filter_env_oct",
    "filter_attack_s",
    "filter_decay_s",
    "filter_sustain",
    "attack_s",
    "decay_s",
    "sustain",
    "release_s",
    "gain_db",
)
(
    _W_POS, _W_POS_ENV, _W_POS_DEC, _W_UNISON, _W_LFO_RATE, _W_LFO_POS, _W_LFO_PITCH, _W_FTYPE, _W_CUTOFF,
    _W_RES, _W_KEYTRACK, _W_FENV_OCT, _W_FATT, _W_FDEC, _W_FSUS, _W_ATT, _W_DEC, _W_SUS, _W_REL, _W_GAIN,
) = range(20)


@njit(cache=True)
def wavetable_voices(P, f0_hz, hold_n, tables, top, sample_rate, out):
    """Fused voice loop: scanned wavetable (optionally doubled), filter, amplifier (one pass per voice).

    Modulators (scan and filter envelopes, LFO) are evaluated exactly every
    CONTROL_BLOCK samples; scan position and pitch are interpolated linearly
    between those points, filter coefficients are held per block; the amp
    envelope runs per sample.
    """
    n, ns = out.shape
    cb = CONTROL_BLOCK
    one = PHASE_ONE
    last_frame = tables.shape[1] - 1
    for v in range(n):
        pos0 = P[v, _W_POS]
        pos_env = P[v, _W_POS_ENV]
        pc = math.exp(-LOG_1E3 / max(P[v, _W_POS_DEC] * sample_rate, 1.0))
        ratio2 = 2.0 ** (P[v, _W_UNISON] / 1200.0)
        unison = P[v, _W_UNISON] > 0.0
        linc = np.int64(P[v, _W_LFO_RATE] / sample_rate * one)
        l_pos = P[v, _W_LFO_POS]
        l_st = P[v, _W_LFO_PITCH]
        mode = int(P[v, _W_FTYPE])
        k = svf_k(P[v, _W_RES])
        cut0 = P[v, _W_CUTOFF] * (f0_hz[v] / KEYTRACK_REF_HZ) ** P[v, _W_KEYTRACK]
        fenv_oct = P[v, _W_FENV_OCT]
        base = f0_hz[v] / sample_rate
        h = hold_n[v]
        fca, fcd, fcr = env_coefs(P[v, _W_FATT], P[v, _W_FDEC], P[v, _W_REL], sample_rate)
        fsus = P[v, _W_FSUS]
        aca, acd, acr = env_coefs(P[v, _W_ATT], P[v, _W_DEC], P[v, _W_REL], sample_rate)
        asus = P[v, _W_SUS]

        fe, fst = env_step(0.0, 0, 0, h, fca, fcd, fsus, fcr)
        pe = 1.0
        lph = np.int64(0)
        lv = 0.0
        c_pos = min(max(pos0 + pos_env * pe + l_pos * lv, 0.0), 1.0) * last_frame
        c_inc = min(max(base * 2.0 ** (l_st * lv / 12.0), 1e-7), 0.49)
        c_g = svf_g(cut0 * 2.0 ** (fenv_oct * fe), sample_rate)

        p1 = np.int64(0)
        p2 = np.int64(one / 3.0)  # the detuned copy starts a third of a cycle later
        ic1 = 0.0
        ic2 = 0.0
        ae = 0.0
        ast = 0
        for b in range(0, ns, cb):
            for j in range(b + 1, b + cb + 1):
                fe, fst = env_step(fe, fst, j, h, fca, fcd, fsus, fcr)
            pe *= pc ** cb
            if pe < 1e-15:
                pe = 0.0  # no subnormals
            lph = (lph + linc * cb) & PHASE_MASK
            lv = lfo_value(lph, False)
            n_pos = min(max(pos0 + pos_env * pe + l_pos * lv, 0.0), 1.0) * last_frame
            n_inc = min(max(base * 2.0 ** (l_st * lv / 12.0), 1e-7), 0.49)
            n_g = svf_g(cut0 * 2.0 ** (fenv_oct * fe), sample_rate)

            i1 = np.int64(c_inc * one)
            s1 = (np.int64(n_inc * one) - i1) // cb
            i2 = np.int64(min(c_inc * ratio2, 0.49) * one)
            s2 = (np.int64(min(n_inc * ratio2, 0.49) * one) - i2) // cb
            lev = mipmap_level(max(c_inc, n_inc) * (ratio2 if unison else 1.0), top)
            pos = c_pos
            ps = (n_pos - c_pos) / cb
            a1, a2, a3 = svf_coefs(0.5 * (c_g + n_g), k)
            for i in range(b, min(b + cb, ns)):
                f = min(int(pos), last_frame - 1)
                fr = pos - f
                a = frame_read(tables, lev, f, p1)
                x = a + fr * (frame_read(tables, lev, f + 1, p1) - a)
                if unison:
                    a = frame_read(tables, lev, f, p2)
                    x = 0.5 * (x + a + fr * (frame_read(tables, lev, f + 1, p2) - a))
                    p2 = (p2 + i2) & PHASE_MASK
                    i2 += s2
                y, ic1, ic2 = svf_tick(x, ic1, ic2, a1, a2, a3, k, mode)
                ae, ast = env_step(ae, ast, i, h, aca, acd, asus, acr)
                out[v, i] = y * ae
                p1 = (p1 + i1) & PHASE_MASK
                i1 += s1
                pos += ps
            c_pos, c_inc, c_g = n_pos, n_inc, n_g


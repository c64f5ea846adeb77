"""Compiled per-sample code of the DSP blocks: scalar helpers, the kernels that call them, and the fused voices.

This file is longer than the others on purpose. numba's on-disk cache
(``cache=True``) keys a compiled function on its own source file only: a
change to a helper or a constant in *another* file leaves every caller's
cached machine code stale, silently. So each compiled function lives in
the same file as every compiled function and module constant it uses.
The scalar helpers (:func:`sine_fixed`, :func:`env_step`, :func:`svf_tick`,
:func:`table_read`, :func:`softclip` ...) are inlined by most kernels and
by the fused per-voice loops :func:`subtractive_voices` and
:func:`wavetable_voices`, so all of those sit here together; the array
functions that validate shapes and call them live in the section modules
(:mod:`~gascar.dsp.envelopes`, :mod:`~gascar.dsp.oscillators`,
:mod:`~gascar.dsp.filters`, :mod:`~gascar.dsp.effects`,
:mod:`~gascar.dsp.fm`). Kernels that use no shared helper (the EQ, the
output stage, the partial bank) live beside their array function.

Every kernel writes into a preallocated ``out`` array and loops over the
batch inside compiled code, one voice after another, so a voice renders
the same samples alone or in any batch.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# -- constants and scalar helpers (inlined by the kernels below) -----------------------------------

#: Samples between two evaluations of pitch and cutoff modulation.
CONTROL_BLOCK = 16
#: Size of the sine lookup table (one cycle; one guard sample is appended).
SINE_TABLE_SIZE = 4096
#: The attack segment aims at this level and stops at 1 (an analogue-style curve).
ATTACK_TARGET = 1.5
#: Reference pitch of key tracking (C4).
KEYTRACK_REF_HZ = 261.6255653005986
_SINE = np.sin(2.0 * np.pi * np.arange(SINE_TABLE_SIZE + 1) / SINE_TABLE_SIZE).astype(np.float32)
#: ln(1000): a T60 of t seconds is the per-sample factor exp(-LOG_1E3 / (t * sample_rate)).
LOG_1E3 = math.log(1000.0)
#: Levels below this are flushed to 0: subnormal floats make every operation on them ~100x slower.
_TINY = 1e-15
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


# -- envelopes and LFO -----------------------------------------------------------------------------

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
def adsr_kernel(attack_s, decay_s, sustain, release_s, hold_n, sample_rate, out):
    qpow = np.empty(CONTROL_BLOCK)
    for v in range(out.shape[0]):
        _adsr_row(out[v], attack_s[v], decay_s[v], sustain[v], release_s[v], hold_n[v], sample_rate, qpow)


@njit(cache=True)
def decay_kernel(decay_s, sample_rate, out):
    n, ns = out.shape
    qpow = np.empty(CONTROL_BLOCK)
    for v in range(n):
        q = math.exp(-LOG_1E3 / max(decay_s[v] * sample_rate, 1.0))
        _powers(q, qpow)
        if ns > 0:
            out[v, 0] = 1.0
        _segment(out[v], 1, ns, 0.0, 1.0, q, qpow, _TINY)


@njit(cache=True)
def lfo_kernel(rate_hz, shape, sample_rate, out):
    n, ns = out.shape
    for v in range(n):
        inc = np.int64(rate_hz[v] / sample_rate * PHASE_ONE)
        tri = shape[v] >= 0.5
        phase = np.int64(0)
        for i in range(ns):
            out[v, i] = lfo_value(phase, tri)
            phase = (phase + inc) & PHASE_MASK


# -- single-cycle table reads ----------------------------------------------------------------------

#: Samples per single-cycle frame (a power of two).
WAVETABLE_SIZE = 2048
SINE_FRAME, TRIANGLE_FRAME, SAW_FRAME = 0, 1, 3
_WT_SHIFT = 32 - 11  # WAVETABLE_SIZE == 2**11
_WT_FRAC_MASK = (1 << _WT_SHIFT) - 1
_WT_FRAC_SCALE = 1.0 / (1 << _WT_SHIFT)


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


# -- oscillator, filter and effects ----------------------------------------------------------------

@njit(cache=True)
def osc_kernel(tables, top_harmonic, wave, f0_hz, pulse_width, pitch_st, sample_rate, out):
    n, ns = out.shape
    modulated = pitch_st.shape[1] > 0
    for v in range(n):
        w = int(wave[v])
        frame = SAW_FRAME if w <= 1 else (TRIANGLE_FRAME if w == 2 else SINE_FRAME)
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


@njit(cache=True)
def svf_kernel(x, mode, cutoff_hz, resonance, cutoff_oct, sample_rate, out):
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


@njit(cache=True)
def drive_kernel(x, gain, out):
    n, ns = x.shape
    for v in range(n):
        g = gain[v]
        norm = 1.0 / softclip(g)
        for i in range(ns):
            out[v, i] = softclip(g * x[v, i]) * norm


@njit(cache=True)
def vibrato_kernel(x, rate_hz, depth_st, sample_rate, out):
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


# -- FM operators ----------------------------------------------------------------------------------

#: Phase-modulation index (radians) of a modulator at level 1.
FM_MAX_INDEX = 8.0
#: Feedback index (radians) at feedback 1.
FM_MAX_FEEDBACK = 1.6


@njit(cache=True)
def fm_kernel(freq_hz, level, attack_s, decay_s, sustain, release_s, feedback, mod, carrier, hold_n, sample_rate, out):
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


# -- wavetable oscillator --------------------------------------------------------------------------

@njit(cache=True)
def wavetable_kernel(tables, top_harmonic, f0_hz, position, pitch_st, detune_cents, sample_rate, out):
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


# -- fused voices (one pass per voice, no intermediate arrays) -------------------------------------

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
        fr1 = SAW_FRAME if w1 <= 1 else (TRIANGLE_FRAME if w1 == 2 else SINE_FRAME)
        fr2 = SAW_FRAME if w2 <= 1 else (TRIANGLE_FRAME if w2 == 2 else SINE_FRAME)
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


# -- row scatter of the modular synth (its modules render subsets of the voices) --


@njit(cache=True)
def add_rows(x, rows, y, gain):
    """``x[rows[r]] += gain[r] * y[r]`` in one pass, without temporaries."""
    for r in range(rows.shape[0]):
        row = rows[r]
        g = np.float32(gain[r])
        for i in range(x.shape[1]):
            x[row, i] += g * y[r, i]


@njit(cache=True)
def set_rows(x, rows, y):
    """``x[rows[r]] = y[r]``."""
    for r in range(rows.shape[0]):
        row = rows[r]
        for i in range(x.shape[1]):
            x[row, i] = y[r, i]

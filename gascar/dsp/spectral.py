"""Spectral-model voices: partials and band noise following breakpoint envelopes (sinusoids plus a residual).

:func:`spectral_voices` renders what :mod:`gascar.sms` measures: each
partial a sinusoid whose level (dB) follows its own breakpoints, then
continues at its own slope while the note is held and falls at its own
release slope after the note-off; the residual is white noise split into
fixed bands (:func:`noise_stems`), each band following its breakpoints the
same way. Levels are evaluated every :data:`SPECTRAL_BLOCK` samples and
ramped linearly in amplitude between; pitch (a breakpoint contour and a
vibrato) moves every partial's frequency at the same points. Partials are
complex rotators renormalised every block, as in
:func:`gascar.dsp.partial_bank`, so a sample costs a few multiplies per
partial and no ``sin``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

#: Samples between two evaluations of the envelopes and the pitch.
SPECTRAL_BLOCK = 128
#: Levels at or below this (dB) are silent.
SILENT_DB = -120.0


@njit(cache=True)
def _level(a, t, bp, nb, held, sus, rel, hold):
    """Level (dB) at sample ``t`` of a channel with breakpoint levels ``a`` at sample times ``bp[:nb]``.

    ``held``: the breakpoint index the last call stopped at (returned updated).
    """
    tn = min(t, hold)
    if tn <= bp[0]:
        lv = a[0]
    elif tn >= bp[nb - 1]:
        lv = a[nb - 1] + sus * (tn - bp[nb - 1])
    else:
        while held < nb - 2 and bp[held + 1] <= tn:
            held += 1
        span = bp[held + 1] - bp[held]
        fr = (tn - bp[held]) / span if span > 0.0 else 1.0
        lv = a[held] + fr * (a[held + 1] - a[held])
    if t > hold:
        lv += rel * (t - hold)
    return lv, held


@njit(cache=True, fastmath={"reassoc"})
def _spectral_kernel(ratio, f0_hz, hold_n, bp, amp_db, amp_off, sus, rel, pitch_st, pitch_amount, vib_rate, vib_depth,
                     stems, noise_db, noise_off, noise_sus, noise_rel, sample_rate, out):
    n, ns = out.shape
    nb = bp.shape[1]
    kmax = ratio.shape[1]
    nj = noise_db.shape[1]
    block = SPECTRAL_BLOCK
    re = np.empty(kmax, dtype=np.float32)
    im = np.empty(kmax, dtype=np.float32)
    wr = np.empty(kmax, dtype=np.float32)
    wi = np.empty(kmax, dtype=np.float32)
    amp = np.empty(kmax, dtype=np.float32)
    damp = np.empty(kmax, dtype=np.float32)
    idx = np.empty(kmax, dtype=np.int64)
    held = np.zeros(kmax, dtype=np.int64)
    gn = np.empty(nj, dtype=np.float32)
    dgn = np.empty(nj, dtype=np.float32)
    heldn = np.zeros(nj, dtype=np.int64)
    moving = False
    for v in range(n):
        hold = float(hold_n[v])
        # Partials that sound: below 0.45 of the sample rate and above silence at some breakpoint.
        kn = 0
        for k in range(kmax):
            f = ratio[v, k] * f0_hz[v]
            if not (0.0 < f < 0.45 * sample_rate):
                continue
            loud = SILENT_DB
            for b in range(nb):
                loud = max(loud, amp_db[b, k] + amp_off[v, k])
            if loud > SILENT_DB:
                idx[kn] = k
                kn += 1
        moving = vib_depth[v] > 0.0
        if pitch_amount[v] != 0.0:
            for b in range(nb):
                if pitch_st[b] != 0.0:
                    moving = True
        for j in range(kn):
            re[j] = 1.0
            im[j] = 0.0
            held[j] = 0
            k = idx[j]
            lv, held[j] = _level(amp_db[:, k], 0.0, bp[v], nb, 0, sus[v, k], rel[v, k], hold)
            lv += amp_off[v, k]
            amp[j] = 10.0 ** (lv / 20.0) if lv > SILENT_DB else 0.0
        for j in range(nj):
            heldn[j] = 0
            lv, heldn[j] = _level(noise_db[:, j], 0.0, bp[v], nb, 0, noise_sus[v, j], noise_rel[v, j], hold)
            lv += noise_off[v, j]
            gn[j] = 10.0 ** (lv / 20.0) if lv > SILENT_DB else 0.0
        pheld = 0
        for b0 in range(0, ns, block):
            b1 = min(b0 + block, ns)
            m = b1 - b0
            if moving or b0 == 0:
                tm = 0.5 * (b0 + b1)
                st = 0.0
                if pitch_amount[v] != 0.0:
                    st, pheld = _level(pitch_st, tm, bp[v], nb, pheld, 0.0, 0.0, hold + ns)
                    st *= pitch_amount[v]
                if vib_depth[v] > 0.0:
                    st += vib_depth[v] * math.sin(2.0 * math.pi * vib_rate[v] * tm / sample_rate)
                mult = 2.0 ** (st / 12.0)
                for j in range(kn):
                    w = 2.0 * math.pi * ratio[v, idx[j]] * f0_hz[v] * mult / sample_rate
                    wr[j] = math.cos(w)
                    wi[j] = math.sin(w)
            for j in range(kn):
                k = idx[j]
                lv, held[j] = _level(amp_db[:, k], float(b1), bp[v], nb, held[j], sus[v, k], rel[v, k], hold)
                lv += amp_off[v, k]
                target = 10.0 ** (lv / 20.0) if lv > SILENT_DB else 0.0
                damp[j] = (target - amp[j]) / m
            for j in range(nj):
                lv, heldn[j] = _level(noise_db[:, j], float(b1), bp[v], nb, heldn[j], noise_sus[v, j], noise_rel[v, j], hold)
                lv += noise_off[v, j]
                target = 10.0 ** (lv / 20.0) if lv > SILENT_DB else 0.0
                dgn[j] = (target - gn[j]) / m
            for i in range(b0, b1):
                acc = np.float32(0.0)
                for j in range(kn):
                    xr = re[j]
                    xi = im[j]
                    acc += amp[j] * xi
                    amp[j] += damp[j]
                    re[j] = xr * wr[j] - xi * wi[j]
                    im[j] = xr * wi[j] + xi * wr[j]
                for j in range(nj):
                    acc += gn[j] * stems[i, j]
                    gn[j] += dgn[j]
                out[v, i] = acc
            for j in range(kn):  # rotators back onto the unit circle
                g = 1.0 / math.sqrt(float(re[j]) * re[j] + float(im[j]) * im[j])
                re[j] *= g
                im[j] *= g


def noise_stems(edges_hz: np.ndarray, n_samples: int, sample_rate: int, seed: int = 0) -> np.ndarray:
    """White noise split into bands by masks of its FFT: one fixed, seeded signal per band.

    Parameters
    ----------
    edges_hz : ndarray, shape (n_bands + 1,)
    n_samples, sample_rate : int
    seed : int

    Returns
    -------
    ndarray, shape (n_samples, n_bands), float32
        Band ``j`` holds the bins within ``[edges[j], edges[j + 1])`` of unit-variance
        white noise (so its variance is the band's share of the spectrum); the
        bands sum to the white noise less what lies above the last edge.
    """
    n = int(n_samples)
    white = np.random.default_rng(seed).standard_normal(n)
    spec = np.fft.rfft(white)
    freqs = np.fft.rfftfreq(n, 1.0 / sample_rate)
    edges = np.asarray(edges_hz, dtype=np.float64)
    out = np.empty((n, edges.size - 1), dtype=np.float32)
    for j in range(edges.size - 1):
        mask = (freqs >= edges[j]) & (freqs < edges[j + 1])
        out[:, j] = np.fft.irfft(spec * mask, n)
    return out


def spectral_voices(
    ratio: np.ndarray,
    f0_hz: np.ndarray,
    hold_s: np.ndarray,
    times_s: np.ndarray,
    amp_db: np.ndarray,
    amp_offset_db: np.ndarray,
    sustain_db_per_s: np.ndarray,
    release_db_per_s: np.ndarray,
    pitch_st: np.ndarray,
    pitch_amount: np.ndarray,
    vibrato_rate_hz: np.ndarray,
    vibrato_depth_st: np.ndarray,
    stems: np.ndarray,
    noise_db: np.ndarray,
    noise_offset_db: np.ndarray,
    noise_sustain_db_per_s: np.ndarray,
    noise_release_db_per_s: np.ndarray,
    n_samples: int,
    sample_rate: int,
) -> np.ndarray:
    """Render partials and band noise that follow breakpoint envelopes.

    Parameters
    ----------
    ratio : ndarray, shape (n_voices, n_partials)
        Each partial's frequency over ``f0_hz``.
    f0_hz, hold_s : ndarray, shape (n_voices,)
        Pitch and note-off.
    times_s : ndarray, shape (n_voices, n_breakpoints)
        Breakpoint times, ascending, per voice (time warps move them).
    amp_db : ndarray, shape (n_breakpoints, n_partials)
        Each partial's level at each breakpoint, dB of a sinusoid's amplitude.
    amp_offset_db : ndarray, shape (n_voices, n_partials)
        Added to every level of a partial (spectral shaping, gain).
    sustain_db_per_s : ndarray, shape (n_voices, n_partials)
        Slope after the last breakpoint while the note is held.
    release_db_per_s : ndarray, shape (n_voices, n_partials)
        Slope after the note-off (added to the held level).
    pitch_st : ndarray, shape (n_breakpoints,)
        Pitch contour at the breakpoints (semitones), scaled by ``pitch_amount`` ``(n_voices,)``.
    vibrato_rate_hz, vibrato_depth_st : ndarray, shape (n_voices,)
    stems : ndarray, shape (n_samples, n_bands), float32
        :func:`noise_stems`.
    noise_db, noise_offset_db, noise_sustain_db_per_s, noise_release_db_per_s
        As for the partials, per band: ``(n_breakpoints, n_bands)``,
        ``(n_voices, n_bands)``, ``(n_voices, n_bands)``, ``(n_voices, n_bands)``.
    n_samples, sample_rate : int

    Returns
    -------
    ndarray, shape (n_voices, n_samples), float32
    """
    n = int(np.shape(f0_hz)[0])
    sr = float(sample_rate)
    c = np.ascontiguousarray
    out = np.empty((n, int(n_samples)), dtype=np.float32)
    _spectral_kernel(
        c(ratio, dtype=np.float64), c(f0_hz, dtype=np.float64), np.round(np.asarray(hold_s) * sr).astype(np.int64),
        c(np.asarray(times_s) * sr, dtype=np.float64), c(amp_db, dtype=np.float64), c(amp_offset_db, dtype=np.float64),
        c(np.asarray(sustain_db_per_s) / sr, dtype=np.float64), c(np.asarray(release_db_per_s) / sr, dtype=np.float64),
        c(pitch_st, dtype=np.float64), c(pitch_amount, dtype=np.float64), c(vibrato_rate_hz, dtype=np.float64),
        c(vibrato_depth_st, dtype=np.float64), c(stems, dtype=np.float32), c(noise_db, dtype=np.float64),
        c(noise_offset_db, dtype=np.float64), c(np.asarray(noise_sustain_db_per_s) / sr, dtype=np.float64),
        c(np.asarray(noise_release_db_per_s) / sr, dtype=np.float64), sr, out,
    )
    return out

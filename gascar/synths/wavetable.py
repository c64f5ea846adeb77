"""The wavetable synth: a scanned, band-limited wavetable oscillator through a resonant filter."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .. import dsp
from ..params import ParamSpace, ParamSpec
from .base import Synth, register

PARAMS = ParamSpace(
    [
        ParamSpec("position", 0.0, 1.0, default=0.4,
                  description="Scan position over the frames: sine, triangle, square, saw, pulse 25%, pulse 12%, vowel a, vowel i."),
        ParamSpec("position_env", -1.0, 1.0, default=0.0, description="How far the scan envelope moves the position (starts there, decays back)."),
        ParamSpec("position_decay_s", 0.01, 10.0, scale="log", unit="s", default=0.5, description="Decay (T60) of the scan envelope."),
        ParamSpec("unison_detune_cents", 0.0, 30.0, scale="curve", curve=2.0, unit="cent", default=0.0,
                  description="Detune of a second copy of the oscillator (0: single oscillator)."),
        ParamSpec("lfo_rate_hz", 0.1, 20.0, scale="log", unit="Hz", default=5.0, description="LFO rate."),
        ParamSpec("lfo_to_position", 0.0, 0.5, scale="curve", curve=2.0, default=0.0, description="LFO sweep of the scan position."),
        ParamSpec("lfo_to_pitch_st", 0.0, 2.0, scale="curve", curve=3.0, unit="st", default=0.0, description="Vibrato depth."),
        ParamSpec("filter_type", scale="choice", choices=dsp.FILTER_MODES, default="lowpass", description="Response of the resonant filter."),
        ParamSpec("cutoff_hz", 30.0, 18000.0, scale="log", unit="Hz", default=4000.0, description="Filter cutoff at C4 with the filter envelope at 0."),
        ParamSpec("resonance", 0.0, 1.0, scale="curve", curve=1.5, default=0.1, description="Filter resonance, up to self-oscillation."),
        ParamSpec("filter_keytrack", 0.0, 1.0, default=0.5, description="How far the cutoff follows the note (1: fully)."),
        ParamSpec("filter_env_oct", -4.0, 7.0, unit="oct", default=0.0, description="Cutoff sweep of the filter envelope, in octaves."),
        ParamSpec("filter_attack_s", 0.001, 2.0, scale="log", unit="s", default=0.005, description="Attack of the filter envelope."),
        ParamSpec("filter_decay_s", 0.01, 10.0, scale="log", unit="s", default=0.5, description="Decay (T60) of the filter envelope."),
        ParamSpec("filter_sustain", 0.0, 1.0, default=0.3, description="Sustain level of the filter envelope."),
        ParamSpec("attack_s", 0.001, 3.0, scale="log", unit="s", default=0.005, description="Attack of the amplitude envelope."),
        ParamSpec("decay_s", 0.01, 15.0, scale="log", unit="s", default=1.0, description="Decay (T60) of the amplitude envelope towards sustain."),
        ParamSpec("sustain", 0.0, 1.0, default=0.8, description="Sustain level of the amplitude envelope."),
        ParamSpec("release_s", 0.01, 5.0, scale="log", unit="s", default=0.3, description="Release (T60) of both envelopes after note-off."),
        ParamSpec("gain_db", -24.0, 6.0, unit="dB", default=0.0, description="Output level (loud voices are kept below full scale)."),
    ]
)

#: Physical range of every parameter; renders clip values given directly to it.
_BOUNDS = {spec.name: (spec.low, spec.high) for spec in PARAMS}


(POS, POS_ENV, POS_DEC, UNISON, LFO_RATE, LFO_POS, LFO_PITCH, FTYPE, CUTOFF, RES, KEYTRACK, FENV_OCT, FATT, FDEC, FSUS,
 ATT, DEC, SUS, REL, GAIN) = range(len(PARAMS.names))


@njit(cache=True)
def _kernel(P, f0_hz, hold_n, tables, top, sample_rate, out):
    """Fused voice loop: scanned wavetable (optionally doubled), filter, amplifier (one pass per voice).

    Modulators (scan and filter envelopes, LFO) are evaluated exactly every
    CONTROL_BLOCK samples; scan position and pitch are interpolated linearly
    between those points, filter coefficients are held per block; the amp
    envelope runs per sample.
    """
    n, ns = out.shape
    cb = dsp.CONTROL_BLOCK
    one = dsp.PHASE_ONE
    last_frame = tables.shape[1] - 1
    for v in range(n):
        pos0 = P[v, POS]
        pos_env = P[v, POS_ENV]
        pc = math.exp(-dsp.LOG_1E3 / max(P[v, POS_DEC] * sample_rate, 1.0))
        ratio2 = 2.0 ** (P[v, UNISON] / 1200.0)
        unison = P[v, UNISON] > 0.0
        linc = np.int64(P[v, LFO_RATE] / sample_rate * one)
        l_pos = P[v, LFO_POS]
        l_st = P[v, LFO_PITCH]
        mode = int(P[v, FTYPE])
        k = dsp.svf_k(P[v, RES])
        cut0 = P[v, CUTOFF] * (f0_hz[v] / dsp.KEYTRACK_REF_HZ) ** P[v, KEYTRACK]
        fenv_oct = P[v, FENV_OCT]
        base = f0_hz[v] / sample_rate
        h = hold_n[v]
        fca, fcd, fcr = dsp.env_coefs(P[v, FATT], P[v, FDEC], P[v, REL], sample_rate)
        fsus = P[v, FSUS]
        aca, acd, acr = dsp.env_coefs(P[v, ATT], P[v, DEC], P[v, REL], sample_rate)
        asus = P[v, SUS]

        fe, fst = dsp.env_step(0.0, 0, 0, h, fca, fcd, fsus, fcr)
        pe = 1.0
        lph = np.int64(0)
        lv = 0.0
        c_pos = min(max(pos0 + pos_env * pe + l_pos * lv, 0.0), 1.0) * last_frame
        c_inc = min(max(base * 2.0 ** (l_st * lv / 12.0), 1e-7), 0.49)
        c_g = dsp.svf_g(cut0 * 2.0 ** (fenv_oct * fe), sample_rate)

        p1 = np.int64(0)
        p2 = np.int64(one / 3.0)  # the detuned copy starts a third of a cycle later
        ic1 = 0.0
        ic2 = 0.0
        ae = 0.0
        ast = 0
        for b in range(0, ns, cb):
            for j in range(b + 1, b + cb + 1):
                fe, fst = dsp.env_step(fe, fst, j, h, fca, fcd, fsus, fcr)
            pe *= pc ** cb
            if pe < 1e-15:
                pe = 0.0  # no subnormals
            lph = (lph + linc * cb) & dsp.PHASE_MASK
            lv = dsp.lfo_value(lph, False)
            n_pos = min(max(pos0 + pos_env * pe + l_pos * lv, 0.0), 1.0) * last_frame
            n_inc = min(max(base * 2.0 ** (l_st * lv / 12.0), 1e-7), 0.49)
            n_g = dsp.svf_g(cut0 * 2.0 ** (fenv_oct * fe), sample_rate)

            i1 = np.int64(c_inc * one)
            s1 = (np.int64(n_inc * one) - i1) // cb
            i2 = np.int64(min(c_inc * ratio2, 0.49) * one)
            s2 = (np.int64(min(n_inc * ratio2, 0.49) * one) - i2) // cb
            lev = dsp.mipmap_level(max(c_inc, n_inc) * (ratio2 if unison else 1.0), top)
            pos = c_pos
            ps = (n_pos - c_pos) / cb
            a1, a2, a3 = dsp.svf_coefs(0.5 * (c_g + n_g), k)
            for i in range(b, min(b + cb, ns)):
                f = min(int(pos), last_frame - 1)
                fr = pos - f
                a = dsp.frame_read(tables, lev, f, p1)
                x = a + fr * (dsp.frame_read(tables, lev, f + 1, p1) - a)
                if unison:
                    a = dsp.frame_read(tables, lev, f, p2)
                    x = 0.5 * (x + a + fr * (dsp.frame_read(tables, lev, f + 1, p2) - a))
                    p2 = (p2 + i2) & dsp.PHASE_MASK
                    i2 += s2
                y, ic1, ic2 = dsp.svf_tick(x, ic1, ic2, a1, a2, a3, k, mode)
                ae, ast = dsp.env_step(ae, ast, i, h, aca, acd, asus, acr)
                out[v, i] = y * ae
                p1 = (p1 + i1) & dsp.PHASE_MASK
                i1 += s1
                pos += ps
            c_pos, c_inc, c_g = n_pos, n_inc, n_g


@register
class Wavetable(Synth):
    """A scanned wavetable oscillator (optionally doubled), resonant filter, filter and amp envelopes, LFO."""

    name = "wavetable"
    version = 1
    description = "Band-limited wavetable oscillator (8 frames, envelope- and LFO-scanned, unison), resonant filter, envelopes."
    params = PARAMS

    def _render(self, p, f0_hz, n_samples, sample_rate, hold_s):
        p = dsp.clip_params(p, _BOUNDS)
        n = len(f0_hz)
        # NaN parameters (possible through render_physical) must not reach table indices.
        P = np.nan_to_num(np.stack([p[name] for name in PARAMS.names], axis=1))
        hold_n = np.round(hold_s * sample_rate).astype(np.int64)
        tables, top = dsp.mipmaps()
        out = np.empty((n, n_samples), dtype=np.float32)
        _kernel(P, f0_hz, hold_n, tables, top, float(sample_rate), out)
        return dsp.finish(out, p["gain_db"], sample_rate)

"""The subtractive synth: two band-limited oscillators and noise through a resonant filter."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .. import dsp
from ..params import ParamSpace, ParamSpec
from .base import Synth, register

PARAMS = ParamSpace(
    [
        ParamSpec("osc1_wave", scale="choice", choices=dsp.WAVEFORMS, default="saw", description="Waveform of oscillator 1."),
        ParamSpec("osc2_wave", scale="choice", choices=dsp.WAVEFORMS, default="saw", description="Waveform of oscillator 2."),
        ParamSpec("pulse_width", 0.05, 0.5, unit="", default=0.5, description="Duty cycle of square waves (0.5 is square, less is nasal)."),
        ParamSpec("osc2_semitones", -12, 12, scale="integer", unit="st", default=0, description="Interval of oscillator 2 above oscillator 1."),
        ParamSpec("osc2_detune_cents", 0.0, 50.0, scale="curve", unit="cent", default=7.0, description="Detune of oscillator 2 (beating, chorus)."),
        ParamSpec("osc_mix", 0.0, 1.0, default=0.5, description="Balance of the oscillators: 0 only oscillator 1, 1 only oscillator 2."),
        ParamSpec("noise_level", 0.0, 1.0, scale="curve", curve=3.0, default=0.0, description="White noise added before the filter (breath, hiss, hits)."),
        ParamSpec("filter_type", scale="choice", choices=dsp.FILTER_MODES, default="lowpass", description="Response of the resonant filter."),
        ParamSpec("cutoff_hz", 30.0, 18000.0, scale="log", unit="Hz", default=2000.0, description="Filter cutoff at C4 with the filter envelope at 0."),
        ParamSpec("resonance", 0.0, 1.0, scale="curve", curve=1.5, default=0.2, description="Filter resonance, up to self-oscillation."),
        ParamSpec("filter_keytrack", 0.0, 1.0, default=0.5, description="How far the cutoff follows the note (1: fully)."),
        ParamSpec("filter_env_oct", -4.0, 7.0, unit="oct", default=2.0, description="Cutoff sweep of the filter envelope, in octaves."),
        ParamSpec("filter_attack_s", 0.001, 2.0, scale="log", unit="s", default=0.005, description="Attack of the filter envelope."),
        ParamSpec("filter_decay_s", 0.01, 10.0, scale="log", unit="s", default=0.5, description="Decay (T60) of the filter envelope."),
        ParamSpec("filter_sustain", 0.0, 1.0, default=0.3, description="Sustain level of the filter envelope."),
        ParamSpec("filter_release_s", 0.01, 5.0, scale="log", unit="s", default=0.3, description="Release (T60) of the filter envelope."),
        ParamSpec("attack_s", 0.001, 3.0, scale="log", unit="s", default=0.005, description="Attack of the amplitude envelope."),
        ParamSpec("decay_s", 0.01, 15.0, scale="log", unit="s", default=1.0, description="Decay (T60) of the amplitude envelope towards sustain."),
        ParamSpec("sustain", 0.0, 1.0, default=0.8, description="Sustain level of the amplitude envelope."),
        ParamSpec("release_s", 0.01, 5.0, scale="log", unit="s", default=0.3, description="Release (T60) after note-off."),
        ParamSpec("lfo_rate_hz", 0.1, 20.0, scale="log", unit="Hz", default=5.0, description="LFO rate."),
        ParamSpec("lfo_shape", scale="choice", choices=dsp.LFO_SHAPES, default="sine", description="LFO waveform."),
        ParamSpec("lfo_to_pitch_st", 0.0, 2.0, scale="curve", curve=3.0, unit="st", default=0.0, description="Vibrato depth."),
        ParamSpec("lfo_to_cutoff_oct", 0.0, 3.0, scale="curve", curve=2.0, unit="oct", default=0.0, description="Filter wobble depth."),
        ParamSpec("lfo_to_amp", 0.0, 1.0, scale="curve", curve=2.0, default=0.0, description="Tremolo depth."),
        ParamSpec("pitch_env_st", 0.0, 36.0, scale="curve", curve=2.0, unit="st", default=0.0, description="Pitch drop at note start (drums, plucks)."),
        ParamSpec("pitch_env_decay_s", 0.005, 1.0, scale="log", unit="s", default=0.05, description="Decay (T60) of the pitch drop."),
        ParamSpec("drive_db", 0.0, 36.0, scale="curve", curve=2.0, unit="dB", default=0.0, description="Saturation after the amplifier."),
        ParamSpec("gain_db", -24.0, 6.0, unit="dB", default=0.0, description="Output level (loud voices are kept below full scale)."),
    ]
)

#: Physical range of every parameter; renders clip values given directly to it.
_BOUNDS = {spec.name: (spec.low, spec.high) for spec in PARAMS}


_C = {name: i for i, name in enumerate(PARAMS.names)}
(OSC1_WAVE, OSC2_WAVE, PULSE_WIDTH, OSC2_ST, OSC2_CENTS, OSC_MIX, NOISE, FTYPE, CUTOFF, RES, KEYTRACK, FENV_OCT, FATT, FDEC, FSUS, FREL,
 ATT, DEC, SUS, REL, LFO_RATE, LFO_SHAPE, LFO_PITCH, LFO_CUT, LFO_AMP, PENV_ST, PENV_DEC, DRIVE, GAIN) = range(len(PARAMS.names))
_TABLE_FRAME = (3, 3, 1, 0)  # saw, square (two saws), triangle, sine -> mipmap frame


@njit(cache=True)
def _kernel(P, f0_hz, hold_n, noise, tables, top, frames, sample_rate, out):
    """Fused voice loop: oscillators, noise, filter, amplifier, LFO, drive (one pass per voice).

    Modulators (filter and pitch envelopes, LFO) are evaluated exactly every
    CONTROL_BLOCK samples; pitch and tremolo are interpolated linearly between
    those points, filter coefficients are held per block (from the mean
    cutoff gain); the amp envelope runs per sample.
    """
    n, ns = out.shape
    cb = dsp.CONTROL_BLOCK
    one = dsp.PHASE_ONE
    for v in range(n):
        w1 = min(max(int(P[v, OSC1_WAVE]), 0), 3)
        w2 = min(max(int(P[v, OSC2_WAVE]), 0), 3)
        pw = min(max(P[v, PULSE_WIDTH], 0.02), 0.98)
        lag = np.int64((1.0 - pw) * one)
        fr1 = frames[w1]
        fr2 = frames[w2]
        mix = P[v, OSC_MIX]
        g1 = 1.0 - mix
        use2 = mix > 0.0
        nl = P[v, NOISE]
        mode = int(P[v, FTYPE])
        k = dsp.svf_k(P[v, RES])
        cut0 = P[v, CUTOFF] * (f0_hz[v] / dsp.KEYTRACK_REF_HZ) ** P[v, KEYTRACK]
        fenv_oct = P[v, FENV_OCT]
        base1 = f0_hz[v] / sample_rate
        base2 = base1 * 2.0 ** (P[v, OSC2_ST] / 12.0 + P[v, OSC2_CENTS] / 1200.0)
        h = hold_n[v]
        fca, fcd, fcr = dsp.env_coefs(P[v, FATT], P[v, FDEC], P[v, FREL], sample_rate)
        fsus = P[v, FSUS]
        aca, acd, acr = dsp.env_coefs(P[v, ATT], P[v, DEC], P[v, REL], sample_rate)
        asus = P[v, SUS]
        pst = P[v, PENV_ST]
        pc = math.exp(-dsp.LOG_1E3 / max(P[v, PENV_DEC] * sample_rate, 1.0))
        linc = np.int64(P[v, LFO_RATE] / sample_rate * one)
        ltri = P[v, LFO_SHAPE] >= 0.5
        lp_st = P[v, LFO_PITCH]
        lc_oct = P[v, LFO_CUT]
        ld = 0.5 * P[v, LFO_AMP]
        dg = 10.0 ** ((P[v, DRIVE] - 20.0) / 20.0)
        dnorm = 1.0 / dsp.softclip(dg)

        # modulator state at sample index m (starts at 0)
        fe, fst = dsp.env_step(0.0, 0, 0, h, fca, fcd, fsus, fcr)
        pe = 1.0
        lph = np.int64(0)
        lv = dsp.lfo_value(lph, ltri)
        pitch = pst * pe + lp_st * lv
        c_inc1 = min(max(base1 * 2.0 ** (pitch / 12.0), 1e-7), 0.49)
        c_inc2 = min(max(base2 * 2.0 ** (pitch / 12.0), 1e-7), 0.49)
        c_g = dsp.svf_g(cut0 * 2.0 ** (fenv_oct * fe + lc_oct * lv), sample_rate)
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
                fe, fst = dsp.env_step(fe, fst, j, h, fca, fcd, fsus, fcr)
            pe *= pc ** cb
            if pe < 1e-15:
                pe = 0.0  # no subnormals
            lph = (lph + linc * cb) & dsp.PHASE_MASK
            lv = dsp.lfo_value(lph, ltri)
            pitch = pst * pe + lp_st * lv
            n_inc1 = min(max(base1 * 2.0 ** (pitch / 12.0), 1e-7), 0.49)
            n_inc2 = min(max(base2 * 2.0 ** (pitch / 12.0), 1e-7), 0.49)
            n_g = dsp.svf_g(cut0 * 2.0 ** (fenv_oct * fe + lc_oct * lv), sample_rate)
            n_trem = 1.0 - ld + ld * lv

            i1 = np.int64(c_inc1 * one)
            s1 = (np.int64(n_inc1 * one) - i1) // cb
            i2 = np.int64(c_inc2 * one)
            s2 = (np.int64(n_inc2 * one) - i2) // cb
            t1 = tables[dsp.mipmap_level(max(c_inc1, n_inc1), top), fr1]
            t2 = tables[dsp.mipmap_level(max(c_inc2, n_inc2), top), fr2]
            a1, a2, a3 = dsp.svf_coefs(0.5 * (c_g + n_g), k)
            trem = c_trem
            ts = (n_trem - c_trem) / cb
            for i in range(b, min(b + cb, ns)):
                o = dsp.table_read(t1, p1)
                if w1 == 1:
                    o -= dsp.table_read(t1, p1 + lag)
                x = g1 * o
                if use2:
                    o = dsp.table_read(t2, p2)
                    if w2 == 1:
                        o -= dsp.table_read(t2, p2 + lag)
                    x += mix * o
                    p2 = (p2 + i2) & dsp.PHASE_MASK
                    i2 += s2
                x += nl * noise[i]
                y, ic1, ic2 = dsp.svf_tick(x, ic1, ic2, a1, a2, a3, k, mode)
                ae, ast = dsp.env_step(ae, ast, i, h, aca, acd, asus, acr)
                y *= ae * trem
                out[v, i] = dsp.softclip(dg * y) * dnorm
                p1 = (p1 + i1) & dsp.PHASE_MASK
                i1 += s1
                trem += ts
            c_inc1, c_inc2, c_g, c_trem = n_inc1, n_inc2, n_g, n_trem


@register
class Subtractive(Synth):
    """Two oscillators plus noise, a resonant filter with its own envelope, an amplifier, an LFO."""

    name = "subtractive"
    version = 1
    description = "Two band-limited oscillators and noise through a resonant filter with its own envelope; amp envelope, LFO, drive."
    params = PARAMS

    def _render(self, p, f0_hz, n_samples, sample_rate, hold_s):
        p = dsp.clip_params(p, _BOUNDS)
        n = len(f0_hz)
        # NaN parameters (possible through render_physical) must not reach table indices.
        P = np.nan_to_num(np.stack([p[name] for name in PARAMS.names], axis=1))
        hold_n = np.round(hold_s * sample_rate).astype(np.int64)
        tables, top = dsp.mipmaps()
        out = np.empty((n, n_samples), dtype=np.float32)
        _kernel(P, f0_hz, hold_n, dsp.white_noise(n_samples), tables, top, np.array(_TABLE_FRAME, dtype=np.int64), float(sample_rate), out)
        return dsp.finish(out, p["gain_db"], sample_rate)

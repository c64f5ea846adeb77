"""The modular synth: every building block as a module with an on/off (masking) gene.

Sound sources (oscillator, second oscillator, 2-operator FM, wavetable,
partial bank, noise) are summed, then go through the optional filter, the
amplifier (always on), optional drive and EQ, and the output stage. A module
that is off costs nothing: each module renders only the voices that have it
switched on, so evolution can turn structure on and off (the masking genes of
Johnson's GA resynthesis) and a genome with most modules off renders quickly.
Pitch modulation (pitch envelope, LFO) reaches the two oscillators and the
wavetable.
"""

from __future__ import annotations

import numpy as np

from .. import dsp
from ..params import ParamSpace, ParamSpec
from . import keyboard, starts
from .additive import q_to_resonance
from .base import Synth, register
from .fm import ALGORITHM_NAMES, CARRIER_MASKS, MOD_MATRICES, operator_ratio

_SWITCHES = {
    "osc": ("on", "Band-limited oscillator at the note."),
    "osc2": ("off", "Second oscillator at an interval, detuned."),
    "fm": ("off", "Two-operator FM layer (a sine modulated by a sine)."),
    "wavetable": ("off", "Wavetable layer with envelope scanning."),
    "additive": ("off", "Partial bank layer with inharmonicity and per-partial decay."),
    "noise": ("off", "Band-pass filtered noise layer with its own decay."),
    "filter": ("on", "Resonant filter with its own envelope and key tracking."),
    "lfo": ("off", "LFO routed to pitch, cutoff and amplitude."),
    "pitch_env": ("off", "Pitch drop at note start."),
    "drive": ("off", "Saturation after the amplifier."),
    "eq": ("off", "Three-band EQ (low shelf, peak, high shelf)."),
}


def _g(group: str, *args, **kwargs) -> ParamSpec:
    return ParamSpec(*args, group=f"{group}_on", **kwargs)


PARAMS = ParamSpace(
    [ParamSpec.switch(f"{name}_on", default=default, description=desc) for name, (default, desc) in _SWITCHES.items()]
    + [
        _g("osc", "osc_wave", scale="choice", choices=dsp.WAVEFORMS, default="saw", description="Waveform of the oscillator."),
        _g("osc", "osc_level", 0.0, 1.0, default=1.0, description="Level of the oscillator."),
        _g("osc", "pulse_width", 0.05, 0.5, default=0.5, description="Duty cycle of square waves (both oscillators)."),
        _g("osc2", "osc2_wave", scale="choice", choices=dsp.WAVEFORMS, default="saw", description="Waveform of the second oscillator."),
        _g("osc2", "osc2_semitones", -12, 12, scale="integer", unit="st", default=0, description="Interval of the second oscillator."),
        _g("osc2", "osc2_detune_cents", 0.0, 50.0, scale="curve", unit="cent", default=7.0, description="Detune of the second oscillator."),
        _g("osc2", "osc2_level", 0.0, 1.0, default=0.5, description="Level of the second oscillator."),
        _g("fm", "fm_level", 0.0, 1.0, default=0.7, description="Level of the FM layer."),
        _g("fm", "fm_ratio_coarse", 0, 16, scale="integer", unit="ratio", default=1, description="Modulator ratio, whole part (0 means 0.5)."),
        _g("fm", "fm_ratio_fine", 0.0, 1.0, scale="curve", unit="ratio", default=0.0, description="Modulator ratio detune: coarse x (1 + fine)."),
        _g("fm", "fm_index", 0.0, 1.0, scale="curve", curve=1.5, default=0.3, description="Modulation index (1 = 8 rad)."),
        _g("fm", "fm_index_decay_s", 0.01, 20.0, scale="log", unit="s", default=1.0, description="Decay (T60) of the modulation index."),
        _g("wavetable", "wt_level", 0.0, 1.0, default=0.7, description="Level of the wavetable layer."),
        _g("wavetable", "wt_position", 0.0, 1.0, default=0.4, description="Scan position over the wavetable frames."),
        _g("wavetable", "wt_position_env", -1.0, 1.0, default=0.0, description="Scan envelope depth."),
        _g("wavetable", "wt_position_decay_s", 0.01, 10.0, scale="log", unit="s", default=0.5, description="Decay (T60) of the scan envelope."),
        _g("additive", "add_level", 0.0, 1.0, default=0.7, description="Level of the partial bank."),
        _g("additive", "add_inharmonicity", 0.0, 100.0, scale="curve", curve=6.0, default=0.0, description="Stiffness B of the partials."),
        _g("additive", "add_tilt_db_per_oct", -30.0, 6.0, unit="dB/oct", default=-6.0, description="Spectral slope of the partials."),
        _g("additive", "add_decay_s", 0.05, 30.0, scale="log", unit="s", default=3.0, description="Decay (T60) of the first partial."),
        _g("additive", "add_decay_tilt", 0.0, 2.0, default=0.5, description="How much faster higher partials decay."),
        _g("noise", "noise_level", 0.0, 1.0, scale="curve", curve=2.0, default=0.3, description="Level of the noise layer."),
        _g("noise", "noise_hz", 100.0, 10000.0, scale="log", unit="Hz", default=3000.0, description="Centre of the noise band."),
        _g("noise", "noise_q", 0.5, 10.0, scale="log", default=0.7, description="Narrowness of the noise band."),
        _g("noise", "noise_decay_s", 0.01, 20.0, scale="log", unit="s", default=0.2, description="Decay (T60) of the noise."),
        _g("filter", "filter_type", scale="choice", choices=dsp.FILTER_MODES, default="lowpass", description="Response of the filter."),
        _g("filter", "cutoff_hz", 30.0, 18000.0, scale="log", unit="Hz", default=2000.0, description="Filter cutoff at C4."),
        _g("filter", "resonance", 0.0, 1.0, scale="curve", curve=1.5, default=0.2, description="Filter resonance."),
        _g("filter", "filter_keytrack", 0.0, 1.0, default=0.5, description="How far the cutoff follows the note."),
        _g("filter", "filter_env_oct", -4.0, 7.0, unit="oct", default=2.0, description="Cutoff sweep of the filter envelope."),
        _g("filter", "filter_attack_s", 0.001, 2.0, scale="log", unit="s", default=0.005, description="Attack of the filter envelope."),
        _g("filter", "filter_decay_s", 0.01, 10.0, scale="log", unit="s", default=0.5, description="Decay (T60) of the filter envelope."),
        _g("filter", "filter_sustain", 0.0, 1.0, default=0.3, description="Sustain of the filter envelope."),
        _g("lfo", "lfo_rate_hz", 0.1, 20.0, scale="log", unit="Hz", default=5.0, description="LFO rate."),
        _g("lfo", "lfo_shape", scale="choice", choices=dsp.LFO_SHAPES, default="sine", description="LFO waveform."),
        _g("lfo", "lfo_to_pitch_st", 0.0, 2.0, scale="curve", curve=3.0, unit="st", default=0.1, description="Vibrato depth."),
        _g("lfo", "lfo_to_cutoff_oct", 0.0, 3.0, scale="curve", unit="oct", default=0.0, description="Filter wobble depth."),
        _g("lfo", "lfo_to_amp", 0.0, 1.0, scale="curve", default=0.0, description="Tremolo depth."),
        _g("pitch_env", "pitch_env_st", 0.0, 36.0, scale="curve", unit="st", default=12.0, description="Pitch drop at note start."),
        _g("pitch_env", "pitch_env_decay_s", 0.005, 1.0, scale="log", unit="s", default=0.05, description="Decay (T60) of the pitch drop."),
        _g("drive", "drive_db", 0.0, 36.0, scale="curve", unit="dB", default=12.0, description="Saturation gain."),
        _g("eq", "eq_low_db", -18.0, 18.0, unit="dB", default=0.0, description="Low shelf (200 Hz) gain."),
        _g("eq", "eq_mid_db", -18.0, 18.0, unit="dB", default=0.0, description="Peak gain."),
        _g("eq", "eq_mid_hz", 200.0, 8000.0, scale="log", unit="Hz", default=1000.0, description="Peak centre."),
        _g("eq", "eq_high_db", -18.0, 18.0, unit="dB", default=0.0, description="High shelf (4 kHz) gain."),
        ParamSpec("attack_s", 0.001, 3.0, scale="log", unit="s", default=0.005, description="Attack of the amplitude envelope."),
        ParamSpec("decay_s", 0.01, 15.0, scale="log", unit="s", default=1.0, description="Decay (T60) of the amplitude envelope."),
        ParamSpec("sustain", 0.0, 1.0, default=0.8, description="Sustain level of the amplitude envelope."),
        ParamSpec("release_s", 0.01, 5.0, scale="log", unit="s", default=0.3, description="Release (T60) after note-off."),
        ParamSpec("gain_db", -24.0, 6.0, unit="dB", default=0.0, description="Output level (loud voices are kept below full scale)."),
    ]
)


_STACK = ALGORITHM_NAMES.index("stack")


def _col(x: np.ndarray) -> np.ndarray:
    return x[:, None].astype(np.float32)


#: Keyboard parameters (see :mod:`gascar.synths.keyboard`): the shared three and velocity to cutoff.
KEYBOARD = keyboard.keyboard_space(
    ParamSpec("velocity_cutoff_oct", 0.0, 4.0, unit="oct", default=0.0,
              description="How far the filter's cutoff falls from velocity 127 to velocity 1 (softer is darker)."))
#: Envelope times that follow key_time_scaling.
KEY_TIMES = ("fm_index_decay_s", "wt_position_decay_s", "add_decay_s", "noise_decay_s", "filter_attack_s", "filter_decay_s",
             "pitch_env_decay_s", "attack_s", "decay_s", "release_s")


@register
class Modular(Synth):
    """Sources, filter, LFO, pitch envelope, drive and EQ, each switched by a masking gene."""

    name = "modular"
    version = 1
    description = "Oscillators, FM, wavetable, partials and noise, filter, LFO, pitch envelope, drive, EQ: each module with an on/off gene."
    params = PARAMS
    keyboard = KEYBOARD

    def start_physical(self, target) -> list[dict[str, float]]:
        """Starts from the analysis: the oscillator (the two likeliest waveforms) or the partial bank (tilt,
        inharmonicity, partial decay) through a low-pass with its envelope from the rolloff, noise when the
        residual's share is not negligible, the LFO when there is vibrato, the ADSR fit; other modules off.
        """
        m = starts.model_of(target)
        if m is None:
            return []
        base = PARAMS.default_physical()
        for spec in PARAMS:
            if spec.is_switch:
                starts.set_choice(PARAMS, base, spec.name, "off")
        base.update(starts.adsr(m))
        base.update(starts.lowpass(m))
        starts.set_choice(PARAMS, base, "filter_on", "on")
        starts.set_choice(PARAMS, base, "filter_type", "lowpass")
        noise = starts.noise_level(m)
        if noise > 0.02:
            starts.set_choice(PARAMS, base, "noise_on", "on")
            base.update(noise_level=noise, noise_hz=m.noise_centre_hz, noise_q=0.7, noise_decay_s=20.0)
        rate, depth = starts.vibrato(m)
        if depth > 0:
            starts.set_choice(PARAMS, base, "lfo_on", "on")
            base.update(lfo_rate_hz=rate, lfo_to_pitch_st=depth, lfo_to_cutoff_oct=0.0, lfo_to_amp=0.0)
        out = []
        for wave in starts.waveforms(m)[:2]:
            p = dict(base, osc_level=1.0)
            starts.set_choice(PARAMS, p, "osc_on", "on")
            starts.set_choice(PARAMS, p, "osc_wave", wave)
            out.append(starts.clip_to(PARAMS, p))
        p = dict(base, add_level=1.0, add_inharmonicity=m.inharmonicity, add_tilt_db_per_oct=m.tilt_db_per_oct,
                 add_decay_s=30.0 if m.adsr.sustain > 0.3 else max(m.adsr.decay_s, 0.05), add_decay_tilt=0.5, filter_env_oct=0.0, cutoff_hz=18000.0)
        starts.set_choice(PARAMS, p, "additive_on", "on")
        out.append(starts.clip_to(PARAMS, p))
        return out

    def _render(self, p, f0_hz, n_samples, sample_rate, hold_s, velocity):
        p = keyboard.apply(p, f0_hz, velocity, KEYBOARD, times=KEY_TIMES, bounds=self.bounds,
                           octaves={"cutoff_hz": (None, "velocity_cutoff_oct")})
        n = len(f0_hz)
        out = np.empty((n, n_samples), dtype=np.float32)
        noise = dsp.white_noise(n_samples)
        for sl in dsp.voice_batches(n):
            q = {k: np.ascontiguousarray(v[sl]) for k, v in p.items()}
            q["f0_hz"] = f0_hz[sl]
            q["hold_s"] = hold_s[sl]
            out[sl] = self._render_batch(q, n_samples, sample_rate, noise)
        return out

    def _render_batch(self, q, ns, sr, noise):
        nc = len(q["f0_hz"])
        # Row indices of the voices that have each module on; modules render only those rows.
        idx = {name: np.flatnonzero(q[f"{name}_on"] >= 0.5) for name in _SWITCHES}

        def sub(rows):
            return _Rows(q, rows)

        lfo_wave = None
        if len(idx["lfo"]):
            s = sub(idx["lfo"])
            lfo_wave = dsp.lfo(s["lfo_rate_hz"], s["lfo_shape"], ns, sr)  # rows of idx["lfo"]
        # Pitch modulation in semitones; voices without lfo / pitch_env keep exact zeros.
        pitch = None
        if len(idx["pitch_env"]) or len(idx["lfo"]):
            pitch = np.zeros((nc, ns), dtype=np.float32)
            if len(idx["pitch_env"]):
                s = sub(idx["pitch_env"])
                dsp.add_rows(pitch, idx["pitch_env"], dsp.decay_env(s["pitch_env_decay_s"], ns, sr), s["pitch_env_st"])
            if lfo_wave is not None:
                dsp.add_rows(pitch, idx["lfo"], lfo_wave, q["lfo_to_pitch_st"][idx["lfo"]])

        def pitch_of(rows):
            return None if pitch is None else pitch[rows]

        x = np.zeros((nc, ns), dtype=np.float32)
        rows = idx["osc"]
        if len(rows):
            s = sub(rows)
            y = dsp.oscillator(s["osc_wave"], s["f0_hz"], ns, sr, pulse_width=s["pulse_width"], pitch_st=pitch_of(rows))
            dsp.add_rows(x, rows, y, s["osc_level"])
        rows = idx["osc2"]
        if len(rows):
            s = sub(rows)
            f2 = s["f0_hz"] * 2.0 ** (s["osc2_semitones"] / 12.0 + s["osc2_detune_cents"] / 1200.0)
            y = dsp.oscillator(s["osc2_wave"], f2, ns, sr, pulse_width=s["pulse_width"], pitch_st=pitch_of(rows))
            dsp.add_rows(x, rows, y, s["osc2_level"])
        rows = idx["fm"]
        if len(rows):
            s = sub(rows)
            k = len(rows)
            z = np.zeros(k)
            ratio = operator_ratio(s["fm_ratio_coarse"], s["fm_ratio_fine"])
            freq = np.stack([s["f0_hz"], s["f0_hz"] * ratio, s["f0_hz"], s["f0_hz"]], axis=1)
            level = np.stack([np.ones(k), s["fm_index"], z, z], axis=1)  # operators 3 and 4 off (skipped)
            # The layer's loudness follows the amp envelope; the modulator's index decays.
            att = np.full((k, 4), 0.001)
            dec = np.stack([np.ones(k), s["fm_index_decay_s"], np.ones(k), np.ones(k)], axis=1)
            sus = np.stack([np.ones(k), z, z, z], axis=1)
            alg = np.full(k, _STACK)
            y = dsp.fm_operators(freq, level, att, dec, sus, np.ones(k), z, MOD_MATRICES[alg], CARRIER_MASKS[alg], s["hold_s"] + 1e9, ns, sr)
            dsp.add_rows(x, rows, y, s["fm_level"])
        rows = idx["wavetable"]
        if len(rows):
            s = sub(rows)
            pos = dsp.decay_env(s["wt_position_decay_s"], ns, sr) * _col(s["wt_position_env"]) + _col(s["wt_position"])
            dsp.add_rows(x, rows, dsp.wavetable_osc(s["f0_hz"], pos, ns, sr, pitch_st=pitch_of(rows)), s["wt_level"])
        rows = idx["additive"]
        if len(rows):
            s = sub(rows)
            k = len(rows)
            ratios = dsp.stiff_string_ratios(s["add_inharmonicity"])
            freq = ratios * s["f0_hz"][:, None]
            amp = dsp.spectral_shape(freq, s["f0_hz"], s["add_tilt_db_per_oct"], np.ones(k), np.full((k, 1), 1000.0), np.zeros((k, 1)), np.ones(k))
            amp[amp < 1e-4] = 0.0
            decay = s["add_decay_s"][:, None] / ratios ** s["add_decay_tilt"][:, None]
            dsp.add_rows(x, rows, dsp.partial_bank(freq, amp, decay, np.zeros(k), ns, sr), s["add_level"])
        rows = idx["noise"]
        if len(rows):
            s = sub(rows)
            k = len(rows)
            nz = dsp.svf(np.broadcast_to(noise, (k, ns)), np.full(k, 2.0), s["noise_hz"], q_to_resonance(s["noise_q"]), sr)
            nz *= dsp.decay_env(s["noise_decay_s"], ns, sr)
            dsp.add_rows(x, rows, nz, s["noise_level"])

        rows = idx["filter"]
        if len(rows):
            s = sub(rows)
            cut = dsp.adsr(s["filter_attack_s"], s["filter_decay_s"], s["filter_sustain"], s["release_s"], s["hold_s"], ns, sr)
            cut *= _col(s["filter_env_oct"])
            if lfo_wave is not None:
                # LFO rows that also have the filter: where they sit in idx["lfo"] and in rows.
                both, in_lfo, in_filter = np.intersect1d(idx["lfo"], rows, assume_unique=True, return_indices=True)
                if len(both):
                    dsp.add_rows(cut, in_filter, lfo_wave[in_lfo], q["lfo_to_cutoff_oct"][both])
            cutoff = dsp.keytrack(s["cutoff_hz"], s["f0_hz"], s["filter_keytrack"])
            dsp.set_rows(x, rows, dsp.svf(x[rows], s["filter_type"], cutoff, s["resonance"], sr, cutoff_oct=cut))

        amp = dsp.adsr(q["attack_s"], q["decay_s"], q["sustain"], q["release_s"], q["hold_s"], ns, sr)
        if lfo_wave is not None:
            depth = 0.5 * _col(q["lfo_to_amp"][idx["lfo"]])
            amp[idx["lfo"]] *= 1.0 - depth + depth * lfo_wave
        x *= amp
        rows = idx["drive"]
        if len(rows):
            dsp.set_rows(x, rows, dsp.drive(x[rows], q["drive_db"][rows]))
        rows = idx["eq"]
        if len(rows):
            s = sub(rows)
            dsp.set_rows(x, rows, dsp.eq3(x[rows], s["eq_low_db"], s["eq_mid_db"], s["eq_mid_hz"], s["eq_high_db"], sr))
        return dsp.finish(x, q["gain_db"], sr)


class _Rows:
    """The parameters of some voices of a batch, gathered on first use."""

    def __init__(self, q, rows):
        self._q = q
        self._rows = rows
        self._cache = {}

    def __getitem__(self, key):
        if key not in self._cache:
            self._cache[key] = self._q[key][self._rows]
        return self._cache[key]

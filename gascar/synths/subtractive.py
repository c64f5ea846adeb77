"""The subtractive synth: two band-limited oscillators and noise through a resonant filter."""

from __future__ import annotations

from .. import dsp
from ..params import ParamSpace, ParamSpec
from . import keyboard, starts
from .base import Synth, register, render_fused

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


#: Keyboard parameters (see :mod:`gascar.synths.keyboard`): the shared three and velocity to cutoff.
KEYBOARD = keyboard.keyboard_space(
    ParamSpec("velocity_cutoff_oct", 0.0, 4.0, unit="oct", default=0.0,
              description="How far the cutoff falls from velocity 127 to velocity 1 (softer is darker)."))
#: Envelope times that follow key_time_scaling.
KEY_TIMES = ("filter_attack_s", "filter_decay_s", "filter_release_s", "attack_s", "decay_s", "release_s", "pitch_env_decay_s")


@register
class Subtractive(Synth):
    """Two oscillators plus noise, a resonant filter with its own envelope, an amplifier, an LFO."""

    name = "subtractive"
    version = 1
    description = "Two band-limited oscillators and noise through a resonant filter with its own envelope; amp envelope, LFO, drive."
    params = PARAMS
    keyboard = KEYBOARD

    def start_physical(self, target) -> list[dict[str, float]]:
        """Starts from the analysis: the ADSR fit, a low-pass and its envelope from the rolloff, vibrato; the two
        waveforms whose harmonics look most like the note's, each with and without noise at the residual's share.
        """
        m = starts.model_of(target)
        if m is None:
            return []
        base = PARAMS.default_physical()
        base.update(starts.adsr(m))
        base.update(starts.lowpass(m))
        starts.set_choice(PARAMS, base, "filter_type", "lowpass")
        base["lfo_rate_hz"], base["lfo_to_pitch_st"] = starts.vibrato(m)
        base.update(osc_mix=0.2, osc2_semitones=0.0, osc2_detune_cents=5.0, filter_release_s=base["release_s"],
                    pitch_env_st=0.0, drive_db=0.0, lfo_to_cutoff_oct=0.0, lfo_to_amp=0.0)
        noise = starts.noise_level(m)
        out = []
        for wave in starts.waveforms(m)[:2]:
            for level in ((noise, 0.0) if noise > 0.02 else (0.0,)):
                p = dict(base, noise_level=level)
                starts.set_choice(PARAMS, p, "osc1_wave", wave)
                starts.set_choice(PARAMS, p, "osc2_wave", wave)
                out.append(starts.clip_to(PARAMS, p))
        return out

    def _render(self, p, f0_hz, n_samples, sample_rate, hold_s, velocity):
        p = keyboard.apply(p, f0_hz, velocity, KEYBOARD, times=KEY_TIMES, bounds=self.bounds,
                           octaves={"cutoff_hz": (None, "velocity_cutoff_oct")})
        return render_fused(dsp.subtractive_voices, dsp.SUBTRACTIVE_COLUMNS, p, f0_hz, n_samples, sample_rate, hold_s,
                            noise=True)

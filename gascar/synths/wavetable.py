"""The wavetable synth: a scanned, band-limited wavetable oscillator through a resonant filter."""

from __future__ import annotations

import numpy as np

from .. import dsp
from ..params import ParamSpace, ParamSpec
from . import keyboard, starts
from .base import Synth, register, render_fused

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


#: Keyboard parameters (see :mod:`gascar.synths.keyboard`): the shared three and velocity to cutoff.
KEYBOARD = keyboard.keyboard_space(
    ParamSpec("velocity_cutoff_oct", 0.0, 4.0, unit="oct", default=0.0,
              description="How far the cutoff falls from velocity 127 to velocity 1 (softer is darker)."))
#: Envelope times that follow key_time_scaling.
KEY_TIMES = ("position_decay_s", "filter_attack_s", "filter_decay_s", "attack_s", "decay_s", "release_s")


@register
class Wavetable(Synth):
    """A scanned wavetable oscillator (optionally doubled), resonant filter, filter and amp envelopes, LFO."""

    name = "wavetable"
    version = 1
    description = "Band-limited wavetable oscillator (8 frames, envelope- and LFO-scanned, unison), resonant filter, envelopes."
    params = PARAMS
    keyboard = KEYBOARD

    def start_physical(self, target) -> list[dict[str, float]]:
        """Starts from the analysis: the two frames whose harmonics look most like the note's, a low-pass and its
        envelope from the rolloff, the ADSR fit, vibrato.
        """
        m = starts.model_of(target)
        if m is None:
            return []
        spec = np.abs(dsp.frame_spectra(12)[:, 1:])
        levels = 20.0 * np.log10(np.maximum(spec, 1e-6) / spec.max(axis=1, keepdims=True))
        names = starts.nearest_spectra(m, {str(i): levels[i] for i in range(levels.shape[0])})
        base = PARAMS.default_physical()
        base.update(starts.adsr(m))
        base.update(starts.lowpass(m))
        starts.set_choice(PARAMS, base, "filter_type", "lowpass")
        rate, depth = starts.vibrato(m)
        base.update(position_env=0.0, unison_detune_cents=0.0, lfo_rate_hz=rate, lfo_to_pitch_st=depth, lfo_to_position=0.0)
        return [starts.clip_to(PARAMS, dict(base, position=int(i) / (levels.shape[0] - 1))) for i in names[:2]]

    def tables(self) -> tuple[np.ndarray, np.ndarray]:
        """The mipmapped frames this wavetable scans and their top harmonics (:func:`gascar.dsp.mipmaps`)."""
        return dsp.mipmaps()

    def _render(self, p, f0_hz, n_samples, sample_rate, hold_s, velocity):
        p = keyboard.apply(p, f0_hz, velocity, KEYBOARD, times=KEY_TIMES, bounds=self.bounds,
                           octaves={"cutoff_hz": (None, "velocity_cutoff_oct")})
        return render_fused(dsp.wavetable_voices, dsp.WAVETABLE_COLUMNS, p, f0_hz, n_samples, sample_rate, hold_s,
                            tables=self.tables())

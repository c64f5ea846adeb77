"""The subtractive synth: two band-limited oscillators and noise through a resonant filter."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

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


def modulation(
    p: Mapping[str, np.ndarray], lfo_wave: np.ndarray | None, n_samples: int, sample_rate: int
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Pitch (semitones) and LFO cutoff (octaves) modulation of a chunk, or None where absent.

    Parameters
    ----------
    p
        Parameters of the chunk, each ``(n,)``: ``pitch_env_st``,
        ``pitch_env_decay_s``, ``lfo_to_pitch_st``, ``lfo_to_cutoff_oct``.
    lfo_wave : ndarray, shape (n, n_samples) or None

    Returns
    -------
    pitch_st, cutoff_oct : ndarray, shape (n, n_samples), float32, or None
    """
    pitch = None
    if np.any(p["pitch_env_st"] > 0):
        pitch = dsp.decay_env(p["pitch_env_decay_s"], n_samples, sample_rate) * p["pitch_env_st"][:, None].astype(np.float32)
    cut = None
    if lfo_wave is not None:
        if np.any(p["lfo_to_pitch_st"] > 0):
            vib = lfo_wave * p["lfo_to_pitch_st"][:, None].astype(np.float32)
            pitch = vib if pitch is None else pitch + vib
        if np.any(p["lfo_to_cutoff_oct"] > 0):
            cut = lfo_wave * p["lfo_to_cutoff_oct"][:, None].astype(np.float32)
    return pitch, cut


def needs_lfo(p: Mapping[str, np.ndarray], keys: tuple[str, ...]) -> bool:
    """True when any voice routes the LFO somewhere (then it is worth rendering)."""
    return any(np.any(p[k] > 0) for k in keys)


@register
class Subtractive(Synth):
    """Two oscillators plus noise, a resonant filter with its own envelope, an amplifier, an LFO."""

    name = "subtractive"
    version = 1
    description = "Two band-limited oscillators and noise through a resonant filter with its own envelope; amp envelope, LFO, drive."
    params = PARAMS

    def _render(self, p, f0_hz, n_samples, sample_rate, hold_s):
        n = len(f0_hz)
        out = np.empty((n, n_samples), dtype=np.float32)
        noise = dsp.white_noise(n_samples)
        for sl in dsp.chunks(n):
            q = {k: np.ascontiguousarray(v[sl]) for k, v in p.items()}
            f0 = f0_hz[sl]
            hold = hold_s[sl]
            lfo_wave = None
            if needs_lfo(q, ("lfo_to_pitch_st", "lfo_to_cutoff_oct", "lfo_to_amp")):
                lfo_wave = dsp.lfo(q["lfo_rate_hz"], q["lfo_shape"], n_samples, sample_rate)
            pitch, cut = modulation(q, lfo_wave, n_samples, sample_rate)

            mix = q["osc_mix"][:, None].astype(np.float32)
            x = dsp.oscillator(q["osc1_wave"], f0, n_samples, sample_rate, pulse_width=q["pulse_width"], pitch_st=pitch)
            x *= 1.0 - mix
            if np.any(q["osc_mix"] > 0):
                f2 = f0 * 2.0 ** (q["osc2_semitones"] / 12.0 + q["osc2_detune_cents"] / 1200.0)
                x += mix * dsp.oscillator(q["osc2_wave"], f2, n_samples, sample_rate, pulse_width=q["pulse_width"], pitch_st=pitch)
            if np.any(q["noise_level"] > 0):
                x += q["noise_level"][:, None].astype(np.float32) * noise

            fenv = dsp.adsr(q["filter_attack_s"], q["filter_decay_s"], q["filter_sustain"], q["filter_release_s"], hold, n_samples, sample_rate)
            fenv *= q["filter_env_oct"][:, None].astype(np.float32)
            if cut is not None:
                fenv += cut
            cutoff = dsp.keytrack(q["cutoff_hz"], f0, q["filter_keytrack"])
            x = dsp.svf(x, q["filter_type"], cutoff, q["resonance"], sample_rate, cutoff_oct=fenv)

            amp = dsp.adsr(q["attack_s"], q["decay_s"], q["sustain"], q["release_s"], hold, n_samples, sample_rate)
            if lfo_wave is not None and np.any(q["lfo_to_amp"] > 0):
                depth = 0.5 * q["lfo_to_amp"][:, None].astype(np.float32)
                amp *= 1.0 - depth + depth * lfo_wave
            x *= amp
            x = dsp.drive(x, q["drive_db"])
            out[sl] = dsp.finish(x, q["gain_db"], sample_rate)
        return out

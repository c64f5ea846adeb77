"""The spectral voice: the target's own partials and residual noise, as measured, with genes that refine them.

Spectral modelling synthesis (Serra and Smith 1990) resynthesises a note
from its partial tracks and its residual. This synth plays the compact
form of those (:class:`gascar.sms.voice.SpectralVoiceData`: partial
frequency ratios, levels at a few breakpoints, held and release slopes,
noise bands, a pitch contour), built from a target's analysis by
:meth:`Spectral.for_target` and stored in a preset's ``voice`` block.

Its genes do not make the sound; they refine what the analysis set, each
at its default leaving the measured note unchanged: spectral tilt, the
even partials' level, one resonant peak, a stretch of the partials, the
attack and decay time scales (pivoting on the loudest breakpoint), the
release time, the noise's level and tilt, the pitch contour's depth,
vibrato and the output level. Partials move with the note's pitch (as a
transposed sample does); the noise bands stay where they were measured.

A spectral synth without a target plays a neutral default voice (16
harmonics at 1/k, steady), so it renders anywhere a synth must; a match
builds it for its target.
"""

from __future__ import annotations

import numpy as np

from .. import dsp
from ..params import ParamSpace, ParamSpec
from ..sms.voice import SILENT_DB, SpectralVoiceData, spectral_voice
from . import keyboard, starts
from .base import VoiceSynth, register

PARAMS = ParamSpace(
    [
        ParamSpec("brightness_db_per_oct", -12.0, 12.0, unit="dB/oct", default=0.0,
                  description="Tilt added to the partials' levels above the first: brighter or darker than measured."),
        ParamSpec("even_db", -24.0, 12.0, unit="dB", default=0.0, description="Level added to the even harmonics (hollower or fuller)."),
        ParamSpec("peak_hz", 100.0, 10000.0, scale="log", unit="Hz", default=1000.0, description="Centre of a resonant peak added to the partials."),
        ParamSpec("peak_db", -18.0, 18.0, unit="dB", default=0.0, description="Gain of that peak (0: none)."),
        ParamSpec("peak_width_oct", 0.2, 3.0, scale="log", unit="oct", default=1.0, description="Width of that peak."),
        ParamSpec("stretch_cents_per_oct", -20.0, 20.0, unit="cent/oct", default=0.0,
                  description="Partials moved apart (or together) by this much per octave above the first."),
        ParamSpec("attack_scale", 0.25, 4.0, scale="log", default=1.0, description="Time scale of the note up to its loudest moment."),
        ParamSpec("decay_scale", 0.25, 4.0, scale="log", default=1.0, description="Time scale of the note after its loudest moment."),
        ParamSpec("release_scale", 0.1, 10.0, scale="log", default=1.0, description="Time scale of the release after the note-off."),
        ParamSpec("noise_db", -40.0, 20.0, unit="dB", default=0.0, description="Level added to the residual noise."),
        ParamSpec("noise_tilt_db_per_oct", -12.0, 12.0, unit="dB/oct", default=0.0, description="Tilt of the noise about 1 kHz."),
        ParamSpec("pitch_env_amount", 0.0, 2.0, default=1.0, description="Depth of the measured pitch contour (glides, drifts)."),
        ParamSpec("vibrato_rate_hz", 2.0, 9.0, scale="log", unit="Hz", default=5.5, description="Vibrato rate."),
        ParamSpec("vibrato_depth_st", 0.0, 1.0, scale="curve", curve=3.0, unit="st", default=0.0, description="Vibrato depth."),
        ParamSpec("gain_db", -24.0, 6.0, unit="dB", default=0.0, description="Output level (loud voices are kept below full scale)."),
    ]
)


#: Keyboard parameters (see :mod:`gascar.synths.keyboard`): the shared three and the brightness's key and velocity tracking.
KEYBOARD = keyboard.keyboard_space(
    ParamSpec("key_brightness_db_per_oct", -6.0, 6.0, unit="dB/oct", default=0.0,
              description="Tilt added to the partials per octave above C4 (negative: darker up the keyboard)."),
    ParamSpec("velocity_brightness_db_per_oct", 0.0, 12.0, unit="dB/oct", default=0.0,
              description="How much darker the partials are at velocity 1 than at 127 (dB/oct)."),
)
#: Time scales that follow key_time_scaling.
KEY_TIMES = ("attack_scale", "decay_scale", "release_scale")


def default_voice() -> SpectralVoiceData:
    """The neutral voice of a spectral synth built without a target: 16 harmonics at 1/k, steady, no noise."""
    k = np.arange(1, 17)
    edges = np.array([0.0, 1000.0, 11025.0])
    return SpectralVoiceData(
        f0_hz=261.6256, hold_s=1.0, peak_s=0.0, ratio=k.astype(np.float64), harmonic=k.astype(np.int64),
        times_s=np.array([0.0, 1.0]), amp_db=np.round(np.tile(-20.0 * np.log10(k) - 12.0, (2, 1)), 1),
        sustain_db_per_s=np.zeros(16), release_db_per_s=np.full(16, -200.0), pitch_cents=np.zeros(2),
        noise_edges_hz=edges, noise_db=np.full((2, 2), SILENT_DB), noise_sustain_db_per_s=np.zeros(2),
        noise_release_db_per_s=np.full(2, -200.0),
    )


@register
class Spectral(VoiceSynth):
    """The target's partials and residual noise (spectral modelling), refined by a few genes."""

    name = "spectral"
    version = 1
    description = ("The target's own partials (levels at breakpoints, held and release slopes) and residual noise "
                   "bands, from its analysis; genes refine tilt, a peak, stretch, time scales, noise, vibrato.")
    params = PARAMS
    keyboard = KEYBOARD
    #: In ``--synth auto`` where the target's analysis builds a voice (measured: docs/bench/experiments/2026-11-30-auto-spectral.md).
    in_auto = True
    #: Every match starts from the measured note (every gene at its neutral default) besides random genomes.
    warm_start = True
    voice_type = SpectralVoiceData

    def default_voice(self) -> SpectralVoiceData:
        return default_voice()

    def build_voice(self, model) -> SpectralVoiceData:
        return spectral_voice(model)

    def start_physical(self, target) -> list[dict[str, float]]:
        """The measured note (every gene at its default), with the measured vibrato when there is one."""
        p = PARAMS.default_physical()
        model = getattr(target, "model", None)
        if model is not None and model.usable and model.pitched:
            p["vibrato_rate_hz"], p["vibrato_depth_st"] = starts.vibrato(model)
        return [starts.clip_to(PARAMS, p)]

    def stems(self, n_samples: int, sample_rate: int) -> np.ndarray:
        """The voice's noise bands as fixed white-noise signals ``(n_samples, n_bands)``."""
        return self.cached(("stems", int(n_samples), int(sample_rate)),
                           lambda: dsp.noise_stems(self.voice.noise_edges_hz, n_samples, sample_rate))

    # -- render --------------------------------------------------------------------------------------------------------
    def _render(self, p, f0_hz, n_samples, sample_rate, hold_s, velocity):
        p = keyboard.apply(p, f0_hz, velocity, KEYBOARD, times=KEY_TIMES, bounds=self.bounds,
                           added={"brightness_db_per_oct": ("key_brightness_db_per_oct", "velocity_brightness_db_per_oct")})
        d = self.voice
        n = len(f0_hz)
        logr = np.log2(np.maximum(d.ratio, 1e-6))[None, :]
        ratio = d.ratio[None, :] * 2.0 ** (p["stretch_cents_per_oct"][:, None] * np.maximum(logr, 0.0) / 1200.0)
        off = p["brightness_db_per_oct"][:, None] * np.maximum(logr, 0.0)
        even = ((d.harmonic % 2) == 0) & (d.harmonic > 0)
        off = off + np.where(even[None, :], p["even_db"][:, None], 0.0)
        fk = ratio * f0_hz[:, None]
        dist = np.log2(np.maximum(fk, 1e-6) / p["peak_hz"][:, None]) / p["peak_width_oct"][:, None]
        off = off + p["peak_db"][:, None] * np.exp(-0.5 * dist**2)
        t = d.times_s[None, :]
        a, dec = p["attack_scale"][:, None], p["decay_scale"][:, None]
        times = np.where(t <= d.peak_s, t * a, d.peak_s * a + (t - d.peak_s) * dec)
        rel = p["release_scale"][:, None]
        edges = d.noise_edges_hz
        centres = np.sqrt(np.maximum(edges[:-1], 50.0) * edges[1:])
        noise_off = p["noise_db"][:, None] + p["noise_tilt_db_per_oct"][:, None] * np.log2(centres / 1000.0)[None, :]
        ones = np.ones((n, 1))
        x = dsp.spectral_voices(
            ratio, f0_hz, hold_s, times, d.amp_db, off, d.sustain_db_per_s[None, :] / dec, d.release_db_per_s[None, :] / rel,
            d.pitch_cents / 100.0, p["pitch_env_amount"], p["vibrato_rate_hz"], p["vibrato_depth_st"],
            self.stems(n_samples, sample_rate), d.noise_db, noise_off, d.noise_sustain_db_per_s[None, :] / dec * ones,
            d.noise_release_db_per_s[None, :] / rel * ones, n_samples, sample_rate,
        )
        return dsp.finish(x, p["gain_db"], sample_rate)

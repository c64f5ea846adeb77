"""The morph voice: the wavetable synth scanning frames made of the target's own spectrum at a few moments.

Sound designers import a sound into a wavetable synth; this synth does it
by itself. :func:`gascar.sms.voice.wavetable_frames` takes the target's
harmonic spectrum at eight moments of the note (close together after the
onset, where the timbre changes fastest, the last at the note-off) and the
wavetable synth's oscillator scans them with its position envelope. The
parameters, the kernel and the filter are the wavetable synth's; the frames
are the preset's ``voice`` block (their harmonic levels, not samples).

Where a match starts: the scan running from the first frame to the last
with the frames' own timing (position 1, scan envelope -1, its T60 twice
the held length), the filter open, the ADSR fitted to the note, vibrato.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .. import dsp
from ..errors import SynthError
from ..params import ParamSpace
from ..sms.voice import WavetableVoiceData, wavetable_frames
from . import starts
from .base import VoiceSynth, register
from .wavetable import PARAMS as WAVETABLE_PARAMS
from .wavetable import Wavetable

#: Frames and harmonics of a morph voice.
N_FRAMES = 8
N_HARMONICS = 64

PARAMS = ParamSpace([
    dataclasses.replace(s, description="Scan position over the target's frames: 0 the onset, 1 the note-off.",
                        default=1.0) if s.name == "position" else s
    for s in WAVETABLE_PARAMS
])


def default_voice() -> WavetableVoiceData:
    """The frames of a morph synth built without a target: a saw's harmonics, steady."""
    k = np.arange(1, N_HARMONICS + 1)
    levels = np.round(np.tile(-20.0 * np.log10(k), (N_FRAMES, 1)), 1)
    return WavetableVoiceData(261.6256, np.linspace(0.0, 1.0, N_FRAMES), levels)


@register
class Morph(VoiceSynth, Wavetable):
    """The wavetable synth scanning frames of the target's spectrum taken at a few moments of the note."""

    name = "morph"
    version = 1
    description = ("The wavetable synth scanning 8 frames made of the target's harmonic spectrum at moments of the note "
                   "(onset to note-off); filter, envelopes and LFO as the wavetable synth's.")
    params = PARAMS
    in_auto = False
    voice_type = WavetableVoiceData

    def default_voice(self) -> WavetableVoiceData:
        return default_voice()

    def build_voice(self, model) -> WavetableVoiceData:
        if not model.pitched:
            raise SynthError("the morph voice's frames are harmonic spectra: it needs a target with a clear pitch")
        return wavetable_frames(model, n_frames=N_FRAMES, n_harmonics=N_HARMONICS)

    def tables(self) -> tuple[np.ndarray, np.ndarray]:
        """The voice's frames, mipmapped as the wavetable synth's own (sine phases, each frame peaking at 1)."""
        def make():
            amps = np.where(self.voice.levels_db > -120.0, 10.0 ** (self.voice.levels_db / 20.0), 0.0)
            spec = np.zeros((amps.shape[0], amps.shape[1] + 1), dtype=np.complex128)
            spec[:, 1:] = amps * -0.5j  # sine phase, as the wavetable synth's own frames
            return dsp.mipmaps_of(spec)

        return self.cached("tables", make)

    def start_physical(self, target) -> list[dict[str, float]]:
        """The scan through the frames in the note's own time, the filter open, the ADSR fit, vibrato."""
        m = starts.model_of(target)
        p = PARAMS.default_physical()
        starts.set_choice(PARAMS, p, "filter_type", "lowpass")
        p.update(position=1.0, position_env=-1.0, position_decay_s=2.0 * float(getattr(target, "hold_s", 1.0)),
                 unison_detune_cents=0.0, lfo_to_position=0.0, lfo_to_pitch_st=0.0, cutoff_hz=18000.0, resonance=0.0,
                 filter_keytrack=0.0, filter_env_oct=0.0)
        if m is not None:
            p.update(starts.adsr(m))
            p["lfo_rate_hz"], p["lfo_to_pitch_st"] = starts.vibrato(m)
        return [starts.clip_to(PARAMS, p)]

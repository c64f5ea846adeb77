"""The vital synth: a curated Vital patch rendered by Vital's own engine (the ``vita`` package, an optional extra).

Genes are Vital controls in Vital's own units: the raw control values a
``.vital`` file stores and Vital's knobs move linearly (so a gene moves
like the knob), named as Vital names them (``filter_1_cutoff``,
``env_1_attack`` ...), within each control's range from
``get_control_details`` or a part of it. Some raw values are not physical
units: :data:`UNITS` says how Vital displays each (an envelope time is
shown as ``value ** 4`` seconds, a cutoff is a MIDI note number).

Two oscillators go into filter 1. Oscillator 1 plays a wavetable GASCAR
makes from 16 harmonic levels (genes ``osc_1_harmonic_NN_db``; a match
starts them at the target's own spectrum). Oscillator 2 plays the basic
shapes (sine, triangle, saw, square as keyframes 0 .. 3, morphed by
``osc_2_wave_frame``). Envelope 2 and LFO 1 reach the cutoff and pitch
through fixed modulation slots whose amounts are genes.

What is rendered is what the preset plays
    Everything the synth writes is one ``.vital`` state (:func:`state`):
    a render loads that state into the engine, renders the note once to
    settle the engine, then renders it again and keeps the second (see
    :func:`render_states`). Fixed for the same reason: oscillator random
    phase 0 (Vital otherwise starts every voice at a random phase), the
    reverb's chorus off (its LFO runs on from note to note), LFO 1 in
    seconds, retriggered by each note.

Keyboard parameters (searched by instrument matches only)
    Vital's own velocity tracking of level (``velocity_track``) and three
    amounts of modulation slots (:data:`KEYBOARD_MODULATIONS`): velocity on
    the cutoff, the note on the envelopes' decay and release, the note on
    the oscillators' levels. Neutral by default: velocity tracking 0 and,
    while every amount is 0, no slot written at all, so a one-note match's
    patch (and every patch written before they existed) is the state it
    was, and plays the same at every velocity.

Pitch
    Vital plays MIDI notes; the rest of the pitch (under half a semitone)
    goes into both oscillators' tune, so the exported preset plays the target's
    exact pitch on the MIDI note the summary names.
"""

from __future__ import annotations

import json
import threading

import numpy as np

from .. import wavetables
from ..errors import SynthError
from ..params import ParamSpace, ParamSpec
from .base import Synth, register

#: What to install when vita is missing.
INSTALL_HINT = "pip install 'gascar[vital]' (vita, Vital's engine)"
#: The Vital release whose files GASCAR writes (Vital refuses files of a newer one).
VITAL_VERSION = "1.5.5"
#: Harmonics of oscillator 1's frame.
N_HARMONICS = 16
#: Vital's filter models the synth uses (the first five of Vital's list; their index is Vital's value).
FILTER_MODELS = ("analog", "dirty", "ladder", "digital", "diode")
FILTER_STYLES = ("12db", "24db")
#: Vital's distortion types the synth uses (the first four; index is Vital's value).
DISTORTION_TYPES = ("soft_clip", "hard_clip", "linear_fold", "sine_fold")
#: Longest envelope stage as a raw value (Vital's range ends at 2.378, 32 s; 1.682 is 8 s).
_ENV_MAX = 1.6818
#: Vital's whole range of an envelope stage (raw value), which a modulation amount of 1 spans.
_ENV_RANGE = 2.378420114517212
_SWITCH = ("off", "on")


def _harmonic_default(k: int) -> float:
    return max(wavetables.FLOOR_DB, -20.0 * np.log10(k))  # a saw's spectrum


def _specs() -> list[ParamSpec]:
    s = [
        ParamSpec("osc_1_level", 0.0, 1.0, default=0.7071, description="Level of oscillator 1 (Vital shows value^2)."),
        ParamSpec("osc_1_unison_voices", 1, 8, scale="integer", default=1, description="Unison voices of oscillator 1."),
        ParamSpec("osc_1_unison_detune", 0.0, 10.0, default=4.4721,
                  description="Unison detune of oscillator 1 (Vital shows value^2 %)."),
    ]
    s += [ParamSpec(f"osc_1_harmonic_{k:02d}_db", wavetables.FLOOR_DB, 0.0, unit="dB", default=_harmonic_default(k),
                    description=f"Level of harmonic {k} in oscillator 1's wavetable frame (GASCAR's, written into the .vital).")
          for k in range(1, N_HARMONICS + 1)]
    s += [
        ParamSpec("osc_2_on", scale="choice", choices=_SWITCH, default="off", description="Oscillator 2 (basic shapes) on."),
        ParamSpec("osc_2_wave_frame", 0.0, 3.0, default=2.0, group="osc_2_on",
                  description="Frame of oscillator 2's basic shapes: 0 sine, 1 triangle, 2 saw, 3 square, morphing between."),
        ParamSpec("osc_2_level", 0.0, 1.0, default=0.7071, group="osc_2_on", description="Level of oscillator 2 (Vital shows value^2)."),
        ParamSpec("osc_2_unison_voices", 1, 8, scale="integer", default=1, group="osc_2_on", description="Unison voices of oscillator 2."),
        ParamSpec("osc_2_unison_detune", 0.0, 10.0, default=4.4721, group="osc_2_on",
                  description="Unison detune of oscillator 2 (Vital shows value^2 %)."),
        ParamSpec("osc_2_transpose", -12, 12, scale="integer", unit="st", default=0, group="osc_2_on",
                  description="Transpose of oscillator 2 in semitones."),
        ParamSpec("osc_2_tune", -0.5, 0.5, default=0.0, group="osc_2_on",
                  description="Fine tune of oscillator 2 against oscillator 1 (x100 cents)."),
        ParamSpec("filter_1_model", scale="choice", choices=FILTER_MODELS, default="analog", description="Model of filter 1."),
        ParamSpec("filter_1_style", scale="choice", choices=FILTER_STYLES, default="12db", description="Slope of filter 1."),
        ParamSpec("filter_1_blend", 0.0, 2.0, default=0.0, description="Filter 1 response: 0 low-pass, 1 band-pass, 2 high-pass."),
        ParamSpec("filter_1_cutoff", 8.0, 136.0, unit="st", default=120.0,
                  description="Cutoff of filter 1 as a MIDI note number (60 is middle C, 136 about 21 kHz)."),
        ParamSpec("filter_1_resonance", 0.0, 1.0, default=0.0, description="Resonance of filter 1."),
        ParamSpec("filter_1_drive", 0.0, 20.0, unit="dB", default=0.0, description="Drive into filter 1."),
        ParamSpec("filter_1_keytrack", -1.0, 1.0, default=0.0, description="How far the cutoff follows the note (1: fully)."),
    ]
    for env, what in (("env_1", "amplitude"), ("env_2", "modulation")):
        s += [
            ParamSpec(f"{env}_attack", 0.0, _ENV_MAX, default=0.1495, description=f"Attack of the {what} envelope (value^4 s)."),
            ParamSpec(f"{env}_decay", 0.0, _ENV_MAX, default=1.0, description=f"Decay of the {what} envelope (value^4 s)."),
            ParamSpec(f"{env}_sustain", 0.0, 1.0, default=1.0, description=f"Sustain level of the {what} envelope."),
            ParamSpec(f"{env}_release", 0.0, _ENV_MAX, default=0.5476, description=f"Release of the {what} envelope (value^4 s)."),
        ]
    s += [
        ParamSpec("mod_env_2_filter_1_cutoff", -1.0, 1.0, default=0.0,
                  description="Modulation amount of envelope 2 on filter 1's cutoff (1: the whole 128-semitone range)."),
        ParamSpec("lfo_1_frequency", -2.0, 4.0, default=2.3219,
                  description="Rate of LFO 1 as log2 Hz (2.32: 5 Hz), restarted by each note."),
        ParamSpec("mod_lfo_1_osc_tune", 0.0, 0.2, scale="curve", curve=2.0, default=0.0,
                  description="Vibrato: LFO 1's amount on both oscillators' tune (0.1: +-20 cents)."),
        ParamSpec("mod_lfo_1_filter_1_cutoff", 0.0, 0.25, scale="curve", curve=2.0, default=0.0,
                  description="LFO 1's amount on filter 1's cutoff (0.1: +-12.8 semitones)."),
        ParamSpec("distortion_type", scale="choice", choices=DISTORTION_TYPES, default="soft_clip", description="Distortion type."),
        ParamSpec("distortion_drive", -30.0, 30.0, unit="dB", default=0.0, description="Distortion drive."),
        ParamSpec("distortion_mix", 0.0, 1.0, default=0.0, description="Distortion dry/wet (0: none)."),
        ParamSpec("chorus_dry_wet", 0.0, 1.0, default=0.0, description="Chorus dry/wet (0: none)."),
        ParamSpec("reverb_dry_wet", 0.0, 1.0, default=0.0, description="Reverb dry/wet (0: none)."),
        ParamSpec("reverb_decay_time", -4.0, 3.0, default=0.0, description="Reverb decay as log2 s (0: 1 s)."),
    ]
    return s


PARAMS = ParamSpace(_specs())
HARMONIC_NAMES = tuple(f"osc_1_harmonic_{k:02d}_db" for k in range(1, N_HARMONICS + 1))
#: Modulation slots 1, 2 ... of the file: (amount gene, source, destination, bipolar). Vibrato reaches each
#: oscillator's tune: modulating the global ``voice_tune`` made a render depend on the renders before it
#: (measured up to 0.08 peak), the per-voice tunes do not.
MODULATIONS: tuple[tuple[str, str, str, bool], ...] = (
    ("mod_env_2_filter_1_cutoff", "env_2", "filter_1_cutoff", False),
    ("mod_lfo_1_osc_tune", "lfo_1", "osc_1_tune", True),
    ("mod_lfo_1_osc_tune", "lfo_1", "osc_2_tune", True),
    ("mod_lfo_1_filter_1_cutoff", "lfo_1", "filter_1_cutoff", True),
)
_MOD_GENES = {slot[0] for slot in MODULATIONS}
#: The keyboard parameters: Vital's velocity tracking and the amounts of :data:`KEYBOARD_MODULATIONS`.
KEYBOARD = ParamSpace([
    ParamSpec("velocity_track", 0.0, 1.0, default=0.0,
              description="Vital's velocity tracking of the level (1: velocity 30 about 25 dB below velocity 127)."),
    ParamSpec("mod_velocity_filter_1_cutoff", 0.0, 0.5, scale="curve", curve=2.0, default=0.0,
              description="Velocity's amount on filter 1's cutoff: louder is brighter (0.1: 12.8 semitones from 0 to 127)."),
    ParamSpec("mod_note_env_time", -0.25, 0.25, default=0.0,
              description="The note's amount on the envelopes' decay and release, bipolar around the middle of the "
                          "keyboard (negative: shorter up the keyboard)."),
    ParamSpec("mod_note_osc_level", -0.5, 0.5, default=0.0,
              description="The note's amount on both oscillators' levels, bipolar (negative: quieter up the keyboard)."),
])
#: Modulation slots of the keyboard parameters, written after :data:`MODULATIONS` only when an amount is not 0.
KEYBOARD_MODULATIONS: tuple[tuple[str, str, str, bool], ...] = (
    ("mod_velocity_filter_1_cutoff", "velocity", "filter_1_cutoff", False),
    ("mod_note_env_time", "note", "env_1_decay", True),
    ("mod_note_env_time", "note", "env_1_release", True),
    ("mod_note_env_time", "note", "env_2_decay", True),
    ("mod_note_env_time", "note", "env_2_release", True),
    ("mod_note_osc_level", "note", "osc_1_level", True),
    ("mod_note_osc_level", "note", "osc_2_level", True),
)
#: Genes that are Vital controls of the same name (the rest: harmonics, modulation amounts).
CONTROL_GENES = tuple(n for n in PARAMS.names if n not in HARMONIC_NAMES and n not in _MOD_GENES)
VOICE_PARAMS = PARAMS + KEYBOARD
#: Controls the synth keeps fixed, with why (the module notes; the README lists them).
FIXED_CONTROLS: dict[str, float] = {
    "osc_1_on": 1.0,
    "osc_1_random_phase": 0.0,  # every note starts at the same phase
    "osc_2_random_phase": 0.0,
    "osc_3_on": 0.0,
    "filter_1_on": 1.0,
    "filter_1_mix": 1.0,
    "osc_1_destination": 0.0,  # both oscillators into filter 1
    "osc_2_destination": 0.0,
    "lfo_1_sync": 0.0,  # seconds, not tempo
    "lfo_1_sync_type": 0.0,  # trigger: restarts with each note
    "distortion_on": 1.0,
    "chorus_on": 1.0,
    "reverb_on": 1.0,
    "reverb_chorus_amount": 0.0,  # the reverb's chorus LFO runs on from note to note
    "velocity_track": 0.0,  # neutral: a keyboard gene (KEYBOARD) of instrument matches sets it
}
#: How Vital displays the raw values of genes that are not in plain units.
UNITS = {
    "value^4 s": ("env_1_attack", "env_1_decay", "env_1_release", "env_2_attack", "env_2_decay", "env_2_release"),
    "value^2": ("osc_1_level", "osc_2_level"),
    "value^2 %": ("osc_1_unison_detune", "osc_2_unison_detune"),
    "MIDI note": ("filter_1_cutoff",),
    "log2 Hz": ("lfo_1_frequency",),
    "log2 s": ("reverb_decay_time",),
}

_BASIC_WAVE_DATA = tuple(wavetables.encode_frame(f) for f in wavetables.basic_shapes())
_LFO_SHAPE = {"name": "Triangle", "num_points": 3, "points": [0.0, 1.0, 0.5, 0.0, 1.0, 1.0], "powers": [0.0, 0.0, 0.0],
              "smooth": False}


def _silent_sample() -> dict:
    import base64

    return {"length": 64, "name": "Silence", "sample_rate": 44100,
            "samples": base64.b64encode(np.zeros(64, dtype="<f4").tobytes()).decode("ascii")}


def midi_pitch(f0_hz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The MIDI note Vital plays for ``f0_hz`` and the oscillator tune that makes up the rest.

    Parameters
    ----------
    f0_hz : ndarray, shape (n,)

    Returns
    -------
    note : ndarray, shape (n,), int64
        Nearest note of equal temperament (A4 = 440 Hz), 0 .. 127.
    tune : ndarray, shape (n,), float64
        The rest in semitones (Vital's oscillator tune, x100 cents), within [-0.5, 0.5].
    """
    midi = 69.0 + 12.0 * np.log2(np.asarray(f0_hz, dtype=np.float64) / 440.0)
    note = np.clip(np.rint(midi), 0, 127)
    return note.astype(np.int64), np.clip(midi - note, -1.0, 1.0)


_NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def pitch_line(played_hz: float) -> str:
    """One line on the note that plays a vital match in Vital."""
    note = int(midi_pitch(np.array([played_hz]))[0][0])
    return (f"vital: play MIDI note {note} ({_NOTE_NAMES[note % 12]}{note // 12 - 1}, middle C being C4) to hear the "
            "match; the patch carries the target's fine tuning")


def _wavetable(name: str, frames: list[str]) -> dict:
    return {
        "author": "", "full_normalize": True, "name": name, "remove_all_dc": True, "version": VITAL_VERSION,
        "groups": [{"components": [{
            "interpolation": 1, "interpolation_style": 1, "type": "Wave Source",
            "keyframes": [{"position": i, "wave_data": w} for i, w in enumerate(frames)],
        }]}],
    }


def modulation_slots(physical) -> tuple[tuple[str, str, str, bool], ...]:
    """The modulation slots of one voice: :data:`MODULATIONS`, then :data:`KEYBOARD_MODULATIONS` when one of their
    amounts is not 0.
    """
    if any(float(physical.get(gene, 0.0)) != 0.0 for gene, _, _, _ in KEYBOARD_MODULATIONS):
        return MODULATIONS + KEYBOARD_MODULATIONS
    return MODULATIONS


def controls(physical, f0_hz: float) -> dict[str, float]:
    """Every Vital control the synth sets for one voice: fixed ones, genes, modulation amounts, tuning.

    Parameters
    ----------
    physical : mapping of str to float
        Every parameter of :data:`PARAMS` (bin indices for choices); those
        of :data:`KEYBOARD` may be left out (neutral).
    f0_hz : float
        The pitch to play (the rest beyond the MIDI note goes into the oscillators' tune).

    Returns
    -------
    dict of str to float
        Control name to raw value; controls not named keep Vital's defaults.
    """
    out = dict(FIXED_CONTROLS)
    for name in CONTROL_GENES:
        spec = PARAMS[name]
        v = float(np.clip(float(physical[name]), spec.low, spec.high) if not spec.is_categorical else physical[name])
        out[name] = float(np.rint(v)) if spec.scale in ("integer", "choice") else v
    track = KEYBOARD["velocity_track"]
    out["velocity_track"] = float(np.clip(float(physical.get("velocity_track", 0.0)), track.low, track.high))
    for k, (gene, _, _, bipolar) in enumerate(modulation_slots(physical), start=1):
        spec = VOICE_PARAMS[gene]
        out[f"modulation_{k}_amount"] = float(np.clip(float(physical.get(gene, 0.0)), spec.low, spec.high))
        out[f"modulation_{k}_bipolar"] = 1.0 if bipolar else 0.0
    tune = float(midi_pitch(np.array([f0_hz]))[1][0])
    out["osc_1_tune"] = tune
    out["osc_2_tune"] = out["osc_2_tune"] + tune
    return out


def state(physical, f0_hz: float, *, name: str = "", comments: str = "") -> dict:
    """The whole Vital state (a ``.vital`` file's JSON) of one voice.

    Parameters
    ----------
    physical : mapping of str to float
        Every parameter of :data:`PARAMS`.
    f0_hz : float
        Pitch of the note the preset plays (see :func:`controls`).
    name, comments : str
        Preset name and comments shown by Vital's preset browser.

    Returns
    -------
    dict
        JSON-ready; controls not set keep Vital's defaults when loaded.
    """
    settings: dict = controls(physical, f0_hz)
    levels = np.array([float(physical[n]) for n in HARMONIC_NAMES])
    harmonic = wavetables.encode_frame(wavetables.harmonic_frames(levels))
    settings["modulations"] = [{"source": src, "destination": dst} for _, src, dst, _ in modulation_slots(physical)]
    settings["wavetables"] = [
        _wavetable("GASCAR harmonics", [harmonic]),
        _wavetable("Basic Shapes", list(_BASIC_WAVE_DATA)),
        _wavetable("Basic Shapes", list(_BASIC_WAVE_DATA[:1])),
    ]
    settings["lfos"] = [dict(_LFO_SHAPE) for _ in range(8)]
    settings["sample"] = _silent_sample()
    return {
        "author": "GASCAR", "comments": comments, "macro1": "MACRO 1", "macro2": "MACRO 2", "macro3": "MACRO 3",
        "macro4": "MACRO 4", "preset_name": name, "preset_style": "", "synth_version": VITAL_VERSION,
        "settings": settings,
    }


# -- the engine ---------------------------------------------------------------------------------------------------------

_ENGINES = threading.local()


def _vita():
    try:
        import vita
    except ImportError:
        raise SynthError(f"the vital synth needs vita, Vital's engine, which is not installed: {INSTALL_HINT}") from None
    return vita


def vita_available() -> bool:
    """Whether vita can be imported here."""
    try:
        _vita()
    except SynthError:
        return False
    return True


def engine(sample_rate: int):
    """The Vital engine of the calling thread at ``sample_rate``, created on first use (never pickled).

    A vita ``Synth`` serialises its calls, so each thread has its own.
    """
    engines = getattr(_ENGINES, "by_rate", None)
    if engines is None:
        engines = _ENGINES.by_rate = {}
    eng = engines.get(sample_rate)
    if eng is None:
        eng = _vita().Synth()
        eng.set_sample_rate(float(sample_rate))
        engines[sample_rate] = eng
    return eng


def release_tail_s(physical) -> np.ndarray:
    """Time the voice sounds after note-off: the longer of the two envelopes' releases (Vital: value^4 s), at most
    lengthened by the note's modulation of the release (``mod_note_env_time``, on any note).

    Parameters
    ----------
    physical : mapping of str to ndarray, shape (n,)

    Returns
    -------
    ndarray, shape (n,), float64
    """
    raw = np.maximum(np.atleast_1d(np.asarray(physical["env_1_release"], dtype=np.float64)),
                     np.atleast_1d(np.asarray(physical["env_2_release"], dtype=np.float64)))
    if "mod_note_env_time" in physical:  # a bipolar amount reaches +-amount of the control's range (0 .. 2.378)
        raw = np.minimum(raw + np.abs(np.asarray(physical["mod_note_env_time"], dtype=np.float64)) * _ENV_RANGE, _ENV_RANGE)
    return raw ** 4


def render_duration_s(n_samples: int, sample_rate: int, hold_s: float, tail_s: float) -> float:
    """How long the engine renders a note kept for ``n_samples``: until its release has ended, and past the
    fade-out vita gives a render's last 200 samples.
    """
    return max(n_samples + 320, (hold_s + tail_s + 0.02) * sample_rate + 64) / sample_rate


def render_states(texts, notes: np.ndarray, velocities: np.ndarray, hold_s: np.ndarray, tail_s: np.ndarray,
                  n_samples: int, sample_rate: int) -> np.ndarray:
    """Render Vital states (``.vital`` JSON texts), one note each, as mono audio.

    Vital's engine carries state from one render into the next: a voice
    still sounding when a render ends is cut off, and the voice object
    keeps its envelope levels for its next note; smoothed controls glide
    from the state loaded before. So each render here lasts until the
    note's release has ended (``hold_s + tail_s``, then cut to
    ``n_samples``), and each state's note is rendered twice, keeping the
    second: measured on 36 random genomes rendered in two orders, the
    audio then agrees within 0.017 (most exactly), against up to 0.5
    without.

    Parameters
    ----------
    texts : sequence of str, length n
    notes, velocities : ndarray, shape (n,), int
        MIDI note and velocity (1 .. 127).
    hold_s, tail_s : ndarray, shape (n,)
        Note-off times (Vital releases at the next 64-sample block) and how
        long each voice sounds after it.
    n_samples, sample_rate : int

    Returns
    -------
    ndarray, shape (n, n_samples), float32
        The mean of Vital's two channels.
    """
    eng = engine(sample_rate)
    out = np.zeros((len(texts), n_samples), dtype=np.float32)
    for i, text in enumerate(texts):
        if not eng.load_json(text):
            raise SynthError("Vital's engine refused a state GASCAR made")
        hold = float(hold_s[i])
        args = (int(notes[i]), float(velocities[i]) / 127.0, hold, render_duration_s(n_samples, sample_rate, hold, tail_s[i]))
        eng.render(*args)
        x = eng.render(*args)
        m = min(n_samples, x.shape[1])
        out[i, :m] = 0.5 * (x[0, :m] + x[1, :m])
    return out


@register
class Vital(Synth):
    """A curated Vital patch (two wavetable oscillators, filter, two envelopes, LFO, effects) played by Vital's engine."""

    name = "vital"
    version = 1
    description = ("Vital's engine: a harmonic wavetable and a basic-shapes oscillator, filter, two envelopes, LFO, "
                   "distortion, chorus, reverb; exports .vital.")
    params = PARAMS
    keyboard = KEYBOARD
    responds_to_velocity = False
    #: Not in ``--synth auto``: Vital renders 20-40 times slower than the numpy synths.
    in_auto = False
    #: Every match starts from the analysis (its engine is slow: a good first guess saves most of the budget).
    warm_start = True
    #: A default match's evaluations (see the README's speed figures).
    default_budget = 1200

    def require(self) -> None:
        """Raise :class:`SynthError` naming the install command when vita is missing."""
        _vita()

    def start_physical(self, target) -> list[dict[str, float]]:
        """Where a match starts: the defaults with oscillator 1 playing the target's own harmonic spectrum.

        The levels are the target's spectral model's (:meth:`gascar.sms.SoundModel.harmonic_levels_db`,
        the analysis the spectral and morph voices are built from) between the
        end of the attack (a tenth of the note-off time) and the note-off; none
        for unpitched targets.
        """
        if not getattr(target, "pitched", False):
            return []
        hold = float(getattr(target, "hold_s", target.n_samples / target.sample_rate))
        model = getattr(target, "model", None)
        if model is not None and model.usable:
            # The target's spectral model: its partials' levels over the held part, as the morph voice's frames.
            held = (model.times_s >= 0.1 * hold) & (model.times_s <= max(hold, 0.2))
            levels = model.harmonic_levels_db(N_HARMONICS, frames=held if held.any() else None)
        else:
            levels = wavetables.harmonic_levels_db(target.samples, target.sample_rate, float(target.f0_hz), N_HARMONICS,
                                                   start_s=0.1 * hold, end_s=max(hold, 0.2))
        physical = PARAMS.default_physical()
        physical.update(zip(HARMONIC_NAMES, levels))
        return [physical]

    def _render(self, p, f0_hz, n_samples, sample_rate, hold_s, velocity):
        n = len(f0_hz)
        texts = [json.dumps(state({k: p[k][i] for k in VOICE_PARAMS.names}, float(f0_hz[i]))) for i in range(n)]
        notes, _ = midi_pitch(f0_hz)
        vel = np.clip(np.rint(velocity), 1, 127)
        return render_states(texts, notes, vel, hold_s, release_tail_s(p), n_samples, sample_rate)

"""The dx7 synth: a DX7 voice rendered by Dexed's engine (the ``dexed-py`` package, an optional extra).

Genes are the DX7 voice parameters that shape one note, in the DX7's own
units and integer grids, named as Dexed shows them (``op1_output_level``,
``op1_coarse`` ...; operator 1 is Dexed's OP1). Physical values map to the
engine's own 155-byte voice format (VCED, what a single-voice sysex dump
carries) in one place, :func:`voice_bytes`, and back in :func:`voice_values`;
the sysex framing lives in :mod:`gascar.export.syx`.

What is rendered is what Dexed plays
    dexed-py wraps the engine Dexed itself uses (MSFA, "Mark I", Dexed's
    default engine). Each render starts from a fresh voice and LFO, so a
    genome always renders the same audio. The engine's output is then
    passed through Dexed's own output stage (:func:`dexed_output`: a
    single voice scaled to 16-bit steps, clipped at full scale), so the
    level is Dexed's too. Settings fixed for that reason:

    - oscillator key sync and LFO key sync on: every note starts its
      operators and LFO at the same phase in Dexed as in a render (with
      either off, Dexed's phase depends on the notes played before);
    - the sample-and-hold LFO wave is left out: Dexed's random sequence runs
      on across notes, so no render can say what the next note will hear.

Keyboard parameters (searched by instrument matches only)
    Per-operator key velocity (sensitivity) and keyboard level scaling
    (break point, left and right depths and curves) are the synth's
    :attr:`~gascar.synths.Synth.keyboard` parameters, neutral by default
    (key velocity 0, depths 0, curves -LIN, break point 39 = C3): at
    velocity 100 the DX7's velocity table makes any sensitivity add at
    most half an output-level step, and at one note level scaling only
    adds to the operator's output level (MSFA ``dx7note.cc``), so a
    one-note match cannot tell their values apart and leaves them neutral
    (its voices play the same at every velocity). A match of several
    notes and velocities searches them, and its voices carry them. Rate
    scaling is a gene of every match. Transpose is fixed at C3 (none).

Pitch
    The DX7 plays MIDI notes of equal temperament (A4 = 440 Hz): a render
    at ``f0_hz`` plays the nearest note (:func:`midi_note`), so the pitch
    genes of an :class:`~gascar.fitness.Objective` choose between notes and
    what is scored is the note the .syx plays. The rest (up to 50 cents)
    is a limit of the format; operator detune (about 1 to 2 cents a step)
    can take up a little of it.
"""

from __future__ import annotations

import threading

import numpy as np

from ..errors import SynthError
from ..params import ParamSpace, ParamSpec
from .base import Synth, register

#: Operators, numbered as Dexed shows them.
N_OPERATORS = 6
#: Length of a VCED voice (a single-voice dump's data, name included).
VOICE_SIZE = 155
#: What to install when dexed-py is missing.
INSTALL_HINT = "pip install 'gascar[dx7]' (dexed-py, Python >= 3.11)"
#: LFO waves the synth uses, in DX7 order (byte 0 .. 4); 5, sample and hold, is left out (see the module notes).
LFO_WAVES = ("triangle", "saw_down", "saw_up", "square", "sine")
#: Operator frequency modes (byte 0, 1).
MODES = ("ratio", "fixed")
ALGORITHMS = tuple(str(a) for a in range(1, 33))
#: Dexed's INIT VOICE name.
INIT_NAME = "INIT VOICE"


def _op_base(k: int) -> int:
    """First VCED byte of operator ``k`` (1 .. 6): the voice stores operator 6 first."""
    return (N_OPERATORS - k) * 21


def _op_specs(k: int) -> list[tuple[ParamSpec, int, int]]:
    """Operator ``k``'s genes with their VCED byte and the offset added to the physical value."""
    b = _op_base(k)
    carrier = k == 1
    specs = [
        (ParamSpec(f"op{k}_output_level", 0, 99, scale="integer", default=99 if carrier else 0,
                   description=f"Output level of operator {k}: loudness as a carrier, modulation depth as a modulator."), b + 16, 0),
        (ParamSpec(f"op{k}_mode", scale="choice", choices=MODES, default="ratio",
                   description=f"Operator {k} follows the note (ratio) or sounds at a fixed frequency."), b + 17, 0),
        (ParamSpec(f"op{k}_coarse", 0, 31, scale="integer", default=1,
                   description=f"Coarse frequency of operator {k}: ratio to the note (0 is 0.5), or 1/10/100/1000 Hz when fixed."),
         b + 18, 0),
        (ParamSpec(f"op{k}_fine", 0, 99, scale="integer", default=0,
                   description=f"Fine frequency of operator {k}: ratio x (1 + fine/100), or x 10^(fine/100) when fixed."), b + 19, 0),
        (ParamSpec(f"op{k}_detune", -7, 7, scale="integer", default=0,
                   description=f"Detune of operator {k}, about 1 to 2 cents a step."), b + 20, 7),
    ]
    for i in range(1, 5):
        specs.append((ParamSpec(f"op{k}_eg_rate{i}", 0, 99, scale="integer", default=99,
                                description=f"Rate of stage {i} of operator {k}'s envelope (99 fastest)."), b + i - 1, 0))
    for i in range(1, 5):
        specs.append((ParamSpec(f"op{k}_eg_level{i}", 0, 99, scale="integer", default=0 if i == 4 else 99,
                                description=f"Level of stage {i} of operator {k}'s envelope (4: after note-off)."), b + 3 + i, 0))
    specs += [
        (ParamSpec(f"op{k}_rate_scaling", 0, 7, scale="integer", default=0,
                   description=f"How much faster operator {k}'s envelope runs on higher notes."), b + 13, 0),
        (ParamSpec(f"op{k}_amp_mod_sensitivity", 0, 3, scale="integer", default=0,
                   description=f"How much the LFO's amplitude modulation reaches operator {k}."), b + 14, 0),
    ]
    return specs


def _global_specs() -> list[tuple[ParamSpec, int, int]]:
    specs = [
        (ParamSpec("algorithm", scale="choice", choices=ALGORITHMS, default="1",
                   description="DX7 algorithm 1-32: which operators modulate which, and which are heard."), 134, 0),
        (ParamSpec("feedback", 0, 7, scale="integer", default=0,
                   description="Self-modulation of the algorithm's feedback operator (sine to saw-like to noise)."), 135, 0),
        (ParamSpec("lfo_wave", scale="choice", choices=LFO_WAVES, default="triangle", description="Waveform of the LFO."), 142, 0),
        (ParamSpec("lfo_speed", 0, 99, scale="integer", default=35, description="LFO rate."), 137, 0),
        (ParamSpec("lfo_delay", 0, 99, scale="integer", default=0, description="Time before the LFO fades in."), 138, 0),
        (ParamSpec("lfo_pitch_mod_depth", 0, 99, scale="integer", default=0, description="LFO vibrato depth."), 139, 0),
        (ParamSpec("lfo_amp_mod_depth", 0, 99, scale="integer", default=0,
                   description="LFO tremolo depth (reaches operators by their amp mod sensitivity)."), 140, 0),
        (ParamSpec("pitch_mod_sensitivity", 0, 7, scale="integer", default=3,
                   description="How much the LFO's pitch modulation reaches the voice."), 143, 0),
    ]
    for i in range(1, 5):
        specs.append((ParamSpec(f"pitch_eg_rate{i}", 0, 99, scale="integer", default=99,
                                description=f"Rate of stage {i} of the pitch envelope."), 125 + i, 0))
    for i in range(1, 5):
        specs.append((ParamSpec(f"pitch_eg_level{i}", 0, 99, scale="integer", default=50,
                                description=f"Pitch of stage {i} of the pitch envelope (50: the note; 0 and 99: 4 octaves away)."),
                      129 + i, 0))
    return specs


#: Keyboard level scaling curves, in DX7 order (byte 0 .. 3).
CURVES = ("-lin", "-exp", "+exp", "+lin")


def _keyboard_specs(k: int) -> list[tuple[ParamSpec, int, int]]:
    """Operator ``k``'s keyboard genes (neutral defaults) with their VCED byte."""
    b = _op_base(k)
    return [
        (ParamSpec(f"op{k}_key_velocity", 0, 7, scale="integer", default=0,
                   description=f"How much operator {k}'s level follows velocity (0: not at all)."), b + 15, 0),
        (ParamSpec(f"op{k}_break_point", 0, 99, scale="integer", default=39,
                   description=f"Key where operator {k}'s level scaling starts (0 is A-1, 39 is C3 on Dexed's keyboard, "
                               "MIDI 60)."), b + 8, 0),
        (ParamSpec(f"op{k}_left_depth", 0, 99, scale="integer", default=0,
                   description=f"How much operator {k}'s level changes below the break point."), b + 9, 0),
        (ParamSpec(f"op{k}_right_depth", 0, 99, scale="integer", default=0,
                   description=f"How much operator {k}'s level changes above the break point."), b + 10, 0),
        (ParamSpec(f"op{k}_left_curve", scale="choice", choices=CURVES, default="-lin",
                   description=f"Curve of operator {k}'s level scaling below the break point (- falls, + rises)."), b + 11, 0),
        (ParamSpec(f"op{k}_right_curve", scale="choice", choices=CURVES, default="-lin",
                   description=f"Curve of operator {k}'s level scaling above the break point (- falls, + rises)."), b + 12, 0),
    ]


_LAYOUT = _global_specs() + [item for k in range(1, N_OPERATORS + 1) for item in _op_specs(k)]
_KEYBOARD_LAYOUT = [item for k in range(1, N_OPERATORS + 1) for item in _keyboard_specs(k)]
PARAMS = ParamSpace(spec for spec, _, _ in _LAYOUT)
#: The keyboard parameters (velocity sensitivity, level scaling), searched by instrument matches only.
KEYBOARD = ParamSpace(spec for spec, _, _ in _KEYBOARD_LAYOUT)
VOICE_PARAMS = PARAMS + KEYBOARD
#: Parameter name -> (VCED byte, offset added to the physical value): the one map from genes to the engine.
VOICE_LAYOUT: dict[str, tuple[int, int]] = {spec.name: (byte, offset) for spec, byte, offset in _LAYOUT + _KEYBOARD_LAYOUT}


def _fixed_bytes() -> dict[int, tuple[int, str]]:
    """VCED bytes the synth keeps fixed: byte -> (value, what it is, as Dexed names it)."""
    return {136: (1, "oscillator key sync"), 141: (1, "LFO key sync"), 144: (24, "transpose")}


#: VCED byte -> (value, name) of every setting the synth keeps fixed (see the module notes).
FIXED_BYTES = _fixed_bytes()


def voice_bytes(physical, name: str = INIT_NAME) -> np.ndarray:
    """VCED voices (the engine's own format) of physical parameter values.

    Parameters
    ----------
    physical : mapping of str to float or ndarray, shape (n,)
        Every parameter of :data:`PARAMS` (bin indices for choices); those
        of :data:`KEYBOARD` may be left out (neutral).
    name : str
        Voice name (ASCII, cut or padded to 10 characters).

    Returns
    -------
    ndarray, shape (n, 155), uint8
        One voice per row; values clipped onto each parameter's range.
    """
    cols = {k: np.atleast_1d(np.asarray(physical[k], dtype=np.float64)) for k in PARAMS.names}
    cols.update({s.name: np.atleast_1d(np.asarray(physical.get(s.name, s.default_value()), dtype=np.float64))
                 for s in KEYBOARD})
    n = max(len(c) for c in cols.values())
    out = np.zeros((n, VOICE_SIZE), dtype=np.uint8)
    for spec in VOICE_PARAMS:
        byte, offset = VOICE_LAYOUT[spec.name]
        v = np.clip(np.rint(cols[spec.name]), spec.low, spec.high) + offset
        out[:, byte] = v.astype(np.uint8)
    for byte, (value, _) in FIXED_BYTES.items():
        out[:, byte] = value
    out[:, 145:155] = np.frombuffer(voice_name(name), dtype=np.uint8)
    return out


def voice_values(voice: bytes | np.ndarray) -> tuple[dict[str, float], str, list[str]]:
    """Physical values of one VCED voice: the inverse of :func:`voice_bytes`.

    Parameters
    ----------
    voice : bytes or ndarray, shape (155,)

    Returns
    -------
    physical : dict of str to float
        Every parameter, keyboard ones included (bin indices for choices).
    name : str
        The voice name, trailing spaces removed.
    problems : list of str
        What the synth cannot play exactly: values out of the DX7's ranges,
        the sample-and-hold LFO, and fixed settings that differ (for
        example ``"transpose 30 (GASCAR plays 24)"``). Empty for every
        voice GASCAR writes.
    """
    v = np.frombuffer(bytes(voice), dtype=np.uint8) if not isinstance(voice, np.ndarray) else voice.astype(np.uint8)
    if v.shape != (VOICE_SIZE,):
        raise SynthError(f"a DX7 voice has {VOICE_SIZE} bytes, got {v.size}")
    physical, problems = {}, []
    for spec in VOICE_PARAMS:
        byte, offset = VOICE_LAYOUT[spec.name]
        value = int(v[byte]) - offset
        if not spec.low <= value <= spec.high:
            if spec.name == "lfo_wave" and value == 5:
                problems.append("LFO wave sample-and-hold (its random steps run on across notes in Dexed)")
            else:
                problems.append(f"{spec.name} {value} (outside {spec.low:g} .. {spec.high:g})")
            value = int(np.clip(value, spec.low, spec.high))
        physical[spec.name] = float(value)
    for byte, (value, label) in FIXED_BYTES.items():
        if int(v[byte]) != value:
            problems.append(f"{label} {int(v[byte])} (GASCAR plays {value})")
    name = bytes(int(c) for c in v[145:155]).decode("ascii", errors="replace").rstrip()
    return physical, name, problems


def voice_name(name: str) -> bytes:
    """A DX7 voice name: 10 printable ASCII characters (others become ``_``), space padded."""
    chars = [c if 32 <= ord(c) <= 125 else "_" for c in str(name)[:10]]
    return "".join(chars).ljust(10).encode("ascii")


def midi_note(f0_hz: np.ndarray) -> np.ndarray:
    """The MIDI note a DX7 plays for ``f0_hz``: the nearest of equal temperament (A4 = 440 Hz), 0 .. 127.

    Parameters
    ----------
    f0_hz : ndarray, shape (n,)

    Returns
    -------
    ndarray, shape (n,), int64
    """
    return np.clip(np.rint(69.0 + 12.0 * np.log2(np.asarray(f0_hz, dtype=np.float64) / 440.0)), 0, 127).astype(np.int64)


def note_hz(note: np.ndarray) -> np.ndarray:
    """Frequency of MIDI notes in equal temperament (A4 = 440 Hz)."""
    return 440.0 * 2.0 ** ((np.asarray(note, dtype=np.float64) - 69.0) / 12.0)


#: Carriers (the operators heard) of each algorithm, 1 .. 32; operator 1 is a carrier in all of them.
CARRIERS: dict[int, tuple[int, ...]] = {
    1: (1, 3), 2: (1, 3), 3: (1, 4), 4: (1, 4), 5: (1, 3, 5), 6: (1, 3, 5), 7: (1, 3), 8: (1, 3), 9: (1, 3),
    10: (1, 4), 11: (1, 4), 12: (1, 3), 13: (1, 3), 14: (1, 3), 15: (1, 3), 16: (1,), 17: (1,), 18: (1,),
    19: (1, 4, 5), 20: (1, 2, 4), 21: (1, 2, 4, 5), 22: (1, 3, 4, 5), 23: (1, 2, 4, 5), 24: (1, 2, 3, 4, 5),
    25: (1, 2, 3, 4, 5), 26: (1, 2, 4), 27: (1, 2, 4), 28: (1, 3, 6), 29: (1, 2, 3, 5), 30: (1, 2, 3, 6),
    31: (1, 2, 3, 4, 5), 32: (1, 2, 3, 4, 5, 6),
}
#: Coarse ratios of the musical prior and their weights: small whole ratios mostly.
_PRIOR_COARSE = ((1, 0.34), (2, 0.2), (3, 0.1), (4, 0.08), (0, 0.06), (5, 0.05), (6, 0.04), (7, 0.04), (8, 0.03),
                 (9, 0.02), (10, 0.02), (12, 0.01), (14, 0.01))


def musical_physical(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Physical values of ``n`` voices from a musical prior, each ``(n,)`` (bin indices for choices).

    What DX7 programmers mostly do: operator 1 and each other carrier are
    on (another operator is on with probability 0.4), fine ratio 0 in 80 %
    of operators and small whole coarse ratios, rarely fixed frequencies,
    detune near 0, envelopes that attack fast to near full and decay to a
    sustain, no pitch envelope in 80 % of voices, LFO depths mostly 0,
    feedback 0 in half of them. Algorithm and LFO wave are uniform.
    """
    p: dict[str, np.ndarray] = {}
    alg = rng.integers(1, 33, n)
    p["algorithm"] = (alg - 1).astype(float)
    p["feedback"] = np.where(rng.random(n) < 0.5, 0, rng.integers(1, 8, n)).astype(float)
    p["lfo_wave"] = rng.integers(0, len(LFO_WAVES), n).astype(float)
    p["lfo_speed"] = rng.integers(15, 60, n).astype(float)
    p["lfo_delay"] = rng.integers(0, 60, n).astype(float)
    p["lfo_pitch_mod_depth"] = np.where(rng.random(n) < 0.7, 0, rng.integers(1, 20, n)).astype(float)
    p["lfo_amp_mod_depth"] = np.where(rng.random(n) < 0.8, 0, rng.integers(1, 30, n)).astype(float)
    p["pitch_mod_sensitivity"] = rng.integers(0, 4, n).astype(float)
    flat = rng.random(n) < 0.8
    for i in range(1, 5):
        p[f"pitch_eg_rate{i}"] = np.where(flat, 99, rng.integers(40, 100, n)).astype(float)
        level = 50 if i in (3, 4) else np.where(flat, 50, rng.integers(40, 61, n))
        p[f"pitch_eg_level{i}"] = np.broadcast_to(level, (n,)).astype(float)
    coarse_values = np.array([c for c, _ in _PRIOR_COARSE])
    coarse_weights = np.array([w for _, w in _PRIOR_COARSE])
    for k in range(1, N_OPERATORS + 1):
        carrier = np.array([k in CARRIERS[int(a)] for a in alg])
        on = carrier | (rng.random(n) < 0.4)
        p[f"op{k}_output_level"] = np.where(on, np.where(carrier, rng.integers(80, 100, n), rng.integers(40, 90, n)), 0).astype(float)
        fixed = rng.random(n) < 0.05
        p[f"op{k}_mode"] = fixed.astype(float)
        p[f"op{k}_coarse"] = np.where(fixed, rng.integers(0, 4, n), rng.choice(coarse_values, n, p=coarse_weights / coarse_weights.sum())).astype(float)
        p[f"op{k}_fine"] = np.where(rng.random(n) < 0.8, 0, rng.integers(1, 100, n)).astype(float)
        p[f"op{k}_detune"] = np.clip(np.rint(rng.normal(0.0, 1.5, n)), -7, 7)
        p[f"op{k}_eg_rate1"] = rng.integers(60, 100, n).astype(float)
        p[f"op{k}_eg_rate2"] = rng.integers(20, 90, n).astype(float)
        p[f"op{k}_eg_rate3"] = rng.integers(10, 80, n).astype(float)
        p[f"op{k}_eg_rate4"] = rng.integers(20, 90, n).astype(float)
        p[f"op{k}_eg_level1"] = np.where(rng.random(n) < 0.7, 99, rng.integers(80, 99, n)).astype(float)
        p[f"op{k}_eg_level2"] = rng.integers(50, 100, n).astype(float)
        p[f"op{k}_eg_level3"] = rng.integers(0, 100, n).astype(float)
        p[f"op{k}_eg_level4"] = np.zeros(n)
        p[f"op{k}_rate_scaling"] = rng.integers(0, 4, n).astype(float)
        p[f"op{k}_amp_mod_sensitivity"] = np.where(rng.random(n) < 0.8, 0, rng.integers(1, 4, n)).astype(float)
    return p


_NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def note_name(note: int, *, yamaha: bool = False) -> str:
    """Name of a MIDI note: middle C (60) is C4, or C3 as Yamaha and Dexed's keyboard name it."""
    return f"{_NOTE_NAMES[int(note) % 12]}{int(note) // 12 - (2 if yamaha else 1)}"


def pitch_line(played_hz: float, target_hz: float | None) -> str:
    """One line on the note that plays a dx7 match, and how far the target lies from equal temperament."""
    note = int(midi_note(np.array([played_hz]))[0])
    line = (f"dx7: play MIDI note {note} ({note_name(note)}; {note_name(note, yamaha=True)} on Dexed's keyboard) "
            "to hear the match")
    if target_hz:
        cents = 1200.0 * np.log2(target_hz / 440.0)
        off = cents - 100.0 * np.rint(cents / 100.0)
        line += f"; the target is {off:+.0f} cents from equal temperament, which DX7 notes follow"
    return line


def dexed_output(x: np.ndarray) -> np.ndarray:
    """Dexed's output stage for one voice: dexed-py's unclipped engine output to what Dexed writes.

    dexed-py returns the engine's 32-bit sum divided by 2**25; Dexed shifts
    the same sum right by 13 bits into a 16-bit sample (clipping at full
    scale) and divides by 2**15, with its filter and output gain at their
    defaults (a bypass). So Dexed's sample is ``floor(x * 4096) / 32768``.
    Dexed turns an overload below -8 into +1.0 (its negative clip value,
    0x8000, is read as +32768); that is kept, because it is what Dexed plays.
    Above 8 it gives 32767/32768.

    Parameters
    ----------
    x : ndarray, any shape, float32
        dexed-py output.

    Returns
    -------
    ndarray, same shape, float32
        Within [-1, 1]. dexed-py rounds the engine's sum to float32, so a
        loud sample (|x| > 0.5) can differ from Dexed's by one 16-bit step.
    """
    # Scaling by powers of two and floor are exact in float32.
    q = np.multiply(x, np.float32(4096.0), dtype=np.float32)
    np.floor(q, out=q)
    overload = q < -32768.0
    np.minimum(q, np.float32(32767.0), out=q)
    if overload.any():
        q[overload] = 32768.0
    q *= np.float32(1.0 / 32768.0)
    return q


_ENGINES = threading.local()


def dexed_available() -> bool:
    """Whether dexed-py can be imported here (without importing it twice)."""
    try:
        _engine_class()
    except SynthError:
        return False
    return True


def _engine_class():
    try:
        # The raw engine of dexed-py (the public DexedSynth wraps it): load_sysex takes the 156 bytes
        # of a voice directly, where the public API converts a Patch object in Python on every load.
        from dexed._dexed import DexedSynth
    except ImportError:
        raise SynthError(f"the dx7 synth needs dexed-py, Dexed's engine, which is not installed: {INSTALL_HINT}") from None
    return DexedSynth


def engine(sample_rate: int):
    """The Dexed engine of the calling thread at ``sample_rate``, created on first use (never pickled).

    dexed-py engines serialise their calls, so each thread has its own.
    """
    engines = getattr(_ENGINES, "by_rate", None)
    if engines is None:
        engines = _ENGINES.by_rate = {}
    eng = engines.get(sample_rate)
    if eng is None:
        eng = engines[sample_rate] = _engine_class()(float(sample_rate), 0)
    return eng


def render_voices(voices: np.ndarray, notes: np.ndarray, velocities: np.ndarray, hold_s: np.ndarray, n_samples: int,
                  sample_rate: int) -> np.ndarray:
    """Render VCED voices through Dexed's engine, one note each, and Dexed's output stage.

    Parameters
    ----------
    voices : ndarray, shape (n, 155), uint8
    notes, velocities : ndarray, shape (n,), int
        MIDI note and velocity (1 .. 127) of each render.
    hold_s : ndarray, shape (n,)
        Note-off times (the engine releases at the next 64-sample block, as Dexed does).
    n_samples, sample_rate : int

    Returns
    -------
    ndarray, shape (n, n_samples), float32
    """
    eng = engine(sample_rate)
    out = np.zeros((len(voices), n_samples), dtype=np.float32)
    # A hair over n_samples: the engine rounds duration * rate after a float32 cast.
    duration_s = (n_samples + 0.25) / sample_rate
    # A note-off after the render's end changes nothing; capped, it cannot overflow the engine's sample count.
    hold_s = np.minimum(np.asarray(hold_s, dtype=np.float64), duration_s + 1.0)
    switches = b"\x3f"  # every operator on (byte 156 of the engine's voice)
    for i, voice in enumerate(voices):
        eng.load_sysex(voice.tobytes() + switches)
        x = eng.render(int(notes[i]), int(velocities[i]), float(hold_s[i]), duration_s)
        m = min(n_samples, x.shape[0])
        out[i, :m] = x[:m]
    return dexed_output(out)


@register
class DX7(Synth):
    """A DX7 voice (6 operators, 32 algorithms) played by Dexed's engine."""

    name = "dx7"
    version = 1
    description = "A DX7 voice (6 operators, 32 algorithms, pitch EG, LFO) played by Dexed's engine; exports .syx."
    params = PARAMS
    keyboard = KEYBOARD
    responds_to_velocity = False
    #: Not in ``--synth auto``: measured further than the fm synth on real notes, and slower (README, docs/benchmarks.md).
    in_auto = False

    def require(self) -> None:
        """Raise :class:`SynthError` naming the install command when dexed-py is missing."""
        _engine_class()

    def musical_genomes(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Genomes ``(n, n_genes)`` of voices from :func:`musical_physical`."""
        return self.params.to_genomes(musical_physical(rng, n))

    def played_f0_hz(self, f0_hz: np.ndarray) -> np.ndarray:
        """The equal-tempered note a DX7 plays for ``f0_hz``."""
        return note_hz(midi_note(f0_hz))

    def _render(self, p, f0_hz, n_samples, sample_rate, hold_s, velocity):
        voices = voice_bytes(p)
        vel = np.clip(np.rint(velocity), 1, 127).astype(np.int64)
        return render_voices(voices, midi_note(f0_hz), vel, hold_s, n_samples, sample_rate)

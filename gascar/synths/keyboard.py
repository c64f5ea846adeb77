"""Keyboard parameters of the numpy synths: how a voice changes across the keyboard and with velocity, as data.

A one-note match cannot tell these apart (on one note, key tracking of a
decay is the decay itself), so they live in each synth's
:attr:`~gascar.synths.Synth.keyboard` space, searched by instrument
matches only. Their defaults are neutral: a voice without them (every
preset written before they existed, every one-note match) renders bit for
bit as before, because :func:`apply` returns the parameters untouched when
every keyboard value is at its default.

The reference points
    Key tracking is in octaves above C4 (261.63 Hz), as the synths' own
    ``filter_keytrack``; velocity response is measured from velocity 127
    down (``softness`` = (127 - velocity) / 126: 0 at 127, 1 at 1), so a
    velocity never raises a level past what the voice plays at 127 and the
    output stage's peak guard is not pushed by velocity.

Shared by every numpy synth
    ``key_time_scaling``
        Every envelope time is multiplied by ``2 ** (-x * octaves)``: 1
        halves the decays an octave up (strings, pianos), negative values
        lengthen them.
    ``key_level_db_per_oct``
        Level change per octave above C4.
    ``velocity_level_db``
        How much softer velocity 1 plays than velocity 127 (dB, linear in
        velocity).
Brightness (one or two per synth)
    A velocity amount (``velocity_cutoff_oct``, ``velocity_mod_db``,
    ``velocity_tilt_db_per_oct``: how much darker velocity 1 is than 127)
    and, where the synth has no key tracking of its brightness yet, a key
    amount (``key_mod_db_per_oct``, ``key_tilt_db_per_oct``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..params import ParamSpace, ParamSpec

#: Key tracking is measured in octaves above this note (C4), as the synths' filter key tracking.
C4_HZ = 261.6255653005986
#: Velocity response is measured down from this velocity (the loudest and brightest a voice plays).
LOUDEST_VELOCITY = 127.0


def octaves_above_c4(f0_hz: np.ndarray) -> np.ndarray:
    """``log2(f0 / C4)``, shape kept."""
    return np.log2(np.asarray(f0_hz, dtype=np.float64) / C4_HZ)


def softness(velocity: np.ndarray) -> np.ndarray:
    """``(127 - velocity) / 126``: 0 at velocity 127, 1 at velocity 1; shape kept."""
    return (LOUDEST_VELOCITY - np.asarray(velocity, dtype=np.float64)) / (LOUDEST_VELOCITY - 1.0)


TIME_SCALING = ParamSpec(
    "key_time_scaling", -0.5, 1.0, default=0.0,
    description="How envelope times follow the note: multiplied by 2^-x per octave above C4 (1: half as long an octave up).")
LEVEL_PER_OCT = ParamSpec("key_level_db_per_oct", -12.0, 12.0, unit="dB/oct", default=0.0,
                          description="Level change per octave above C4.")
VELOCITY_LEVEL = ParamSpec("velocity_level_db", 0.0, 40.0, unit="dB", default=0.0,
                           description="How much softer velocity 1 plays than velocity 127 (linear in velocity).")


def keyboard_space(*brightness: ParamSpec) -> ParamSpace:
    """A numpy synth's keyboard space: the three shared parameters, then its brightness ones."""
    return ParamSpace([TIME_SCALING, LEVEL_PER_OCT, VELOCITY_LEVEL, *brightness])


def neutral(p: Mapping[str, np.ndarray], space: ParamSpace) -> bool:
    """Whether every keyboard parameter of ``space`` in ``p`` is at its (neutral) default for every voice."""
    for spec in space:
        if spec.name in p and np.any(np.asarray(p[spec.name]) != spec.default_value()):
            return False
    return True


def amount(p: Mapping[str, np.ndarray], f0_hz: np.ndarray, velocity: np.ndarray, *, key: str | None = None,
           soft: str | None = None) -> np.ndarray:
    """``key_amount * octaves above C4 - velocity_amount * softness`` per voice, ``(n,)`` (0 where both are 0)."""
    out = np.zeros(len(f0_hz))
    if key is not None:
        out = out + p[key] * octaves_above_c4(f0_hz)
    if soft is not None:
        out = out - p[soft] * softness(velocity)
    return out


def apply(p: Mapping[str, np.ndarray], f0_hz: np.ndarray, velocity: np.ndarray, space: ParamSpace, *,
          times: Sequence[str], level: str = "gain_db", bounds: Mapping[str, tuple[float, float]],
          octaves: Mapping[str, tuple[str | None, str | None]] = {}, added: Mapping[str, tuple[str | None, str | None]] = {},
          ) -> dict[str, np.ndarray]:
    """The physical values a voice plays at ``f0_hz`` and ``velocity``: its keyboard parameters applied.

    Parameters
    ----------
    p : mapping of str to ndarray, each shape (n,)
        Physical values (clipped), the keyboard parameters of ``space`` included.
    f0_hz, velocity : ndarray, shape (n,)
    space : ParamSpace
        The synth's keyboard space (:func:`keyboard_space`).
    times : sequence of str
        Envelope times scaled by ``key_time_scaling`` (kept within ``bounds``).
    level : str
        The output level (dB) that takes ``key_level_db_per_oct`` and ``velocity_level_db``.
    bounds : mapping of str to (low, high)
        Ranges the changed parameters are kept within (the level excepted: the output stage guards it).
    octaves : mapping of str to (key amount name, velocity amount name)
        Parameters multiplied by ``2 ** amount(...)`` (a cutoff, in octaves).
    added : mapping of str to (key amount name, velocity amount name)
        Parameters that ``amount(...)`` is added to (a tilt in dB/oct).

    Returns
    -------
    dict of str to ndarray
        ``p`` itself (unchanged) when every keyboard value is neutral, else a changed copy.
    """
    if neutral(p, space):
        return dict(p)
    q = dict(p)
    oct_ = octaves_above_c4(f0_hz)
    scale = 2.0 ** (-q["key_time_scaling"] * oct_)
    for name in times:
        low, high = bounds[name]
        q[name] = np.clip(q[name] * scale, low, high)
    q[level] = q[level] + amount(q, f0_hz, velocity, key="key_level_db_per_oct", soft="velocity_level_db")
    for name, (key, soft) in octaves.items():
        low, high = bounds[name]
        q[name] = np.clip(q[name] * 2.0 ** amount(q, f0_hz, velocity, key=key, soft=soft), low, high)
    for name, (key, soft) in added.items():
        low, high = bounds[name]
        q[name] = np.clip(q[name] + amount(q, f0_hz, velocity, key=key, soft=soft), low, high)
    return q

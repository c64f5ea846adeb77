"""Playing notes with a preset: each note rendered through its synth at its pitch, velocity and note-off, then mixed.

Works for every registered synth through :meth:`Synth.render_physical
<gascar.synths.base.Synth.render_physical>`; it knows nothing of where the
notes came from (a MIDI file, a test), only that each has ``start_s``,
``end_s`` (its note-off), ``f0_hz`` and ``velocity``.

How long a note sounds after its note-off is measured once per piece: a
probe note (the piece's lowest pitch, its median hold and velocity) is
rendered with :data:`MAX_TAIL_S` after its note-off, and the release ends
where the probe stays :data:`TAIL_DB` below its peak. Notes alike in pitch,
velocity (for synths that respond to it) and hold are rendered once; the
others are rendered in batches of similar length, as the synths render
populations. Voices are summed without limiting: a loud chord can exceed
full scale, and :func:`gascar.audio.write_audio` then scales the file down
(with a warning) rather than clip it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from .errors import SynthError
from .preset import Preset

#: Longest release rendered after a note-off (s).
MAX_TAIL_S = 10.0
#: A release ends where the probe stays this far below its peak (dB).
TAIL_DB = 90.0
#: Fade (s) at the end of a note's render, inaudible unless MAX_TAIL_S cut it.
END_FADE_S = 0.005
#: Notes rendered per call of the synth.
BATCH = 16


class NoteLike(Protocol):
    """What :func:`play_notes` needs of a note (:class:`gascar.midi.Note` has it)."""

    start_s: float
    end_s: float
    velocity: int

    @property
    def f0_hz(self) -> float: ...


def release_tail_s(preset: Preset, f0_hz: float, hold_s: float, velocity: int, sample_rate: int,
                   max_tail_s: float = MAX_TAIL_S) -> float:
    """Seconds a note of ``preset`` sounds after its note-off (at most ``max_tail_s``).

    The end of the probe's release is its last sample within
    :data:`TAIL_DB` of the probe's peak.
    """
    synth = preset.synth_instance()
    n_hold = round(hold_s * sample_rate)
    x = synth.render_physical(preset.physical(), f0_hz, n_hold + round(max_tail_s * sample_rate), sample_rate,
                              hold_s=hold_s, velocity=velocity)[0]
    peak = float(np.max(np.abs(x)))
    if peak <= 0.0:
        return 0.01
    loud = np.nonzero(np.abs(x[n_hold:]) > peak * 10 ** (-TAIL_DB / 20))[0]
    end_s = (int(loud[-1]) + 1) / sample_rate if loud.size else 0.0
    return float(min(max_tail_s, end_s + 0.01))


def play_notes(preset: Preset, notes: Sequence[NoteLike], *, sample_rate: int = 44100, max_tail_s: float = MAX_TAIL_S,
               progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Render ``notes`` with ``preset`` and mix them.

    Parameters
    ----------
    preset
        Any preset; of its render settings only the output gain (``gain_db``) applies.
    notes
        Each with ``start_s``, ``end_s`` (note-off), ``f0_hz`` and ``velocity`` (1 .. 127).
    sample_rate
        Of the mix; the preset's analysis rate is no limit.
    max_tail_s
        Longest release rendered after a note-off.
    progress
        Called as ``progress(done, total)`` after each batch of renders.

    Returns
    -------
    ndarray, shape (n_samples,), float32
        The mix, from time 0 to the end of the last release; not limited to [-1, 1].

    Raises
    ------
    SynthError
        For no notes, or a note with an impossible time, pitch or velocity.
    """
    if not notes:
        raise SynthError("no notes to play")
    synth = preset.synth_instance()
    physical = preset.physical()
    sr = int(sample_rate)
    for n in notes:
        if not (np.isfinite(n.start_s) and n.start_s >= 0 and np.isfinite(n.end_s) and n.end_s >= n.start_s):
            raise SynthError(f"a note must start at 0 s or later and end after it starts, got {n.start_s!r} .. {n.end_s!r}")
    holds = np.array([n.end_s - n.start_s for n in notes])
    velocity_of = (lambda n: int(n.velocity)) if preset.responds_to_velocity else (lambda n: preset.render.velocity)
    low = min(notes, key=lambda n: n.f0_hz)
    tail_s = release_tail_s(preset, low.f0_hz, float(min(np.median(holds), 2.0)), int(np.median([n.velocity for n in notes])),
                            sr, max_tail_s)

    # One render per distinct (pitch, velocity, hold); note i plays render voice_of[i].
    keys: dict[tuple, int] = {}
    voice_of = []
    for n in notes:
        key = (round(float(n.f0_hz), 6), velocity_of(n), round((n.end_s - n.start_s) * sr))
        voice_of.append(keys.setdefault(key, len(keys)))
    unique = list(keys)
    lengths = np.array([hold_n + round(tail_s * sr) for _, _, hold_n in unique])
    order = np.argsort(lengths, kind="stable")
    renders: list[np.ndarray | None] = [None] * len(unique)
    fade = np.linspace(1.0, 0.0, max(1, round(END_FADE_S * sr)), dtype=np.float32)
    for i in range(0, len(order), BATCH):
        idx = order[i: i + BATCH]
        f0 = np.array([unique[j][0] for j in idx])
        vel = np.array([unique[j][1] for j in idx], dtype=np.float64)
        hold = np.array([unique[j][2] / sr for j in idx])
        out = synth.render_physical(physical, f0, int(lengths[idx].max()), sr, hold_s=hold, velocity=vel)
        for row, j in zip(out, idx):
            y = row[: lengths[j]].copy()
            y[-fade.size:] *= fade[-y.size:]
            renders[j] = y
        if progress is not None:
            progress(min(i + BATCH, len(order)), len(order))

    starts = [round(n.start_s * sr) for n in notes]
    mix = np.zeros(max(s + renders[v].size for s, v in zip(starts, voice_of)), dtype=np.float32)
    for s, v in zip(starts, voice_of):
        y = renders[v]
        mix[s: s + y.size] += y
    if preset.render.gain_db:
        mix *= np.float32(preset.render.gain)
    return mix

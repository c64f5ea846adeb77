"""MIDI files as notes: a file becomes a list of :class:`Note` in seconds, the tempo map applied once, on reading.

mido reads the file and merges its tracks, turning delta ticks into seconds
through every tempo change. Notes are then paired: a note-on with velocity
0 is a note-off; a note-off ends the earliest sounding note of its key and
channel; while the sustain pedal (controller 64 at 64 or more) is down on a
channel, released notes sound on until the pedal lifts or their key is
struck again; notes still sounding when the file ends end there. All
channels play (a drum channel too). Pitch bend, program changes and other
controllers are ignored.

A file mido cannot read, or one that holds no notes, is a
:class:`~gascar.errors.MidiError` naming the file.
"""

from __future__ import annotations

import os
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path

from .errors import MidiError

#: Controller number of the sustain pedal.
SUSTAIN_CC = 64


@dataclass(frozen=True)
class Note:
    """One note of a MIDI file.

    Attributes
    ----------
    start_s : float
        Note-on time, seconds from the start of the file.
    end_s : float
        Note-off time (after the sustain pedal), at or after ``start_s``.
    key : int
        MIDI key, 0 .. 127 (60 = C4).
    velocity : int
        Note-on velocity, 1 .. 127.
    channel : int
        MIDI channel, 0 .. 15.
    """

    start_s: float
    end_s: float
    key: int
    velocity: int
    channel: int = 0

    @property
    def duration_s(self) -> float:
        """Time the note is held, note-on to note-off."""
        return self.end_s - self.start_s

    @property
    def f0_hz(self) -> float:
        """Equal-tempered frequency of the key (A4 = 440 Hz)."""
        return 440.0 * 2.0 ** ((self.key - 69) / 12.0)


def read_midi(path: str | os.PathLike) -> list[Note]:
    """Read the notes of a Standard MIDI File (type 0 or 1).

    Returns
    -------
    list of Note
        Sorted by start time, then key.

    Raises
    ------
    MidiError
        Naming the file: missing, unreadable or malformed, type 2, or without notes.
    """
    import mido

    p = Path(path)
    if not p.exists():
        raise MidiError("no such file", path=p)
    if p.is_dir():
        raise MidiError("is a directory, expected a MIDI file", path=p)
    if p.stat().st_size == 0:
        raise MidiError("is empty (0 bytes), expected a MIDI file", path=p)
    try:
        mid = mido.MidiFile(p)
        if mid.type == 2:
            raise MidiError("is a type 2 (asynchronous) MIDI file, which has no single timeline; save it as type 0 or 1",
                            path=p)
        messages = list(mid)  # tracks merged, times in seconds through the tempo map
    except MidiError:
        raise
    except EOFError:
        raise MidiError("is truncated: it ends in the middle of its data", path=p) from None
    except Exception as exc:  # noqa: BLE001 - mido raises OSError, EOFError, ValueError, KeyError ... on bad files
        detail = (str(exc).splitlines() or [""])[0].strip() or type(exc).__name__
        raise MidiError(f"not a readable MIDI file ({detail})", path=p) from None
    notes = _pair(messages)
    if not notes:
        raise MidiError("holds no notes to play", path=p)
    return notes


def _pair(messages) -> list[Note]:
    """Pair note-ons with note-offs (see the module docstring); ``messages`` carry delta times in seconds."""
    t = 0.0
    sounding: dict[tuple[int, int], deque] = defaultdict(deque)  # (channel, key) -> (start_s, velocity) held by a key
    pedal_held: dict[int, dict[int, list]] = defaultdict(lambda: defaultdict(list))  # channel -> key -> released starts
    pedal = [False] * 16
    notes: list[Note] = []

    def end_pedal_held(ch: int, key: int | None) -> None:
        keys = [key] if key is not None else list(pedal_held[ch])
        for k in keys:
            for start, vel in pedal_held[ch].pop(k, []):
                notes.append(Note(start, t, k, vel, ch))

    for msg in messages:
        t += float(msg.time)
        kind = msg.type
        if kind == "note_on" and msg.velocity > 0:
            end_pedal_held(msg.channel, msg.note)  # striking a key again ends what the pedal kept of it
            sounding[(msg.channel, msg.note)].append((t, int(msg.velocity)))
        elif kind == "note_off" or kind == "note_on":
            queue = sounding[(msg.channel, msg.note)]
            if not queue:
                continue  # a note-off without its note-on
            start, vel = queue.popleft()
            if pedal[msg.channel]:
                pedal_held[msg.channel][msg.note].append((start, vel))
            else:
                notes.append(Note(start, t, msg.note, vel, msg.channel))
        elif kind == "control_change" and msg.control == SUSTAIN_CC:
            down = msg.value >= 64
            if pedal[msg.channel] and not down:
                end_pedal_held(msg.channel, None)
            pedal[msg.channel] = down
    for (ch, key), queue in sounding.items():
        notes.extend(Note(start, t, key, vel, ch) for start, vel in queue)
    for ch in list(pedal_held):
        end_pedal_held(ch, None)
    notes.sort(key=lambda n: (n.start_s, n.key, n.channel))
    return notes

"""An instrument: several notes (and velocities) of one sound, each file analysed as a one-note target, checked together.

A match of several files (``gascar match C2.wav C3.wav C4.wav``, or
``gascar match --notes DIR``) looks for one preset whose renders, each at
its file's pitch and velocity, sound like each file. This module turns the
files into an :class:`Instrument`: one :class:`~gascar.analysis.Target` per
file (its own pitch, note-off and loudness, cached as for a one-note match),
the velocity each file was played at, and the note the preset is written
for (:attr:`Instrument.reference`, the middle one).

File names
    ``<instrument>_<note>_v<velocity>.<ext>``, for example
    ``trumpet_A#4_v110.wav``: the note (``C4``, ``F#3``, ``Bb2``) is taken
    as the file's pitch, as ``--note`` would give it (no detection); the
    velocity (1 .. 127) as the note's MIDI velocity. Both parts are
    optional (``cello_C3.wav``; ``cello_C3_v40.wav``); ``--velocity
    FILE=VEL`` gives or overrides a file's velocity. A file without a note
    in its name is pitch-tracked as in a one-note match.
Rules
    - At least two files, each read once (the same file twice is an error).
    - Every note needs a pitch: a file in which no pitch is found and whose
      name gives no note is an error naming it (an instrument is matched
      note by note at each file's pitch; a drum kit is a batch of one-note
      matches). ``--unpitched``, ``--f0`` and ``--note`` apply to one file
      and are errors here.
    - Files may have any sample rates and channel counts: each is read
      like a one-note target (mono, resampled to the analysis rate).
    - Two files of the same note at the same velocity are an error (which
      one would the preset match?).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import validate
from .errors import AnalysisError

#: MIDI velocity of a file whose name and options give none.
DEFAULT_VELOCITY = 100
#: ``<instrument>_<note>[_v<velocity>]``: what a file name may say about its note.
NAME_PATTERN = re.compile(r"^(?P<stem>.+?)_(?P<note>[A-Ga-g](?:#|b)?-?\d)(?:_v(?P<velocity>\d{1,3}))?$")
#: Analysis options that describe one file and so cannot apply to every note of an instrument.
ONE_FILE_OPTIONS = ("f0_hz", "note", "unpitched")
#: Silence between two notes of an instrument's render and target copy (s).
SEQUENCE_GAP_S = 0.25


@dataclass(frozen=True)
class NoteFile:
    """One file of an instrument as given: its path, its velocity and the note its name gives.

    Attributes
    ----------
    path : str
    velocity : int
        MIDI velocity (1 .. 127) the note is rendered at.
    note : str or None
        The note the file's name gives (its pitch then), or ``None`` (detected).
    """

    path: str
    velocity: int = DEFAULT_VELOCITY
    note: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", str(self.path))
        validate.whole(self.velocity, f"{Path(self.path).name}: velocity", low=1, high=127, error=AnalysisError)


def parse_name(path: str | os.PathLike) -> tuple[str | None, str | None, int | None]:
    """What a file's name says: ``(instrument, note, velocity)``, each ``None`` when the name does not say.

    ``trumpet_A#4_v110.wav`` gives ``("trumpet", "A#4", 110)``; ``cello_C3.wav``
    ``("cello", "C3", None)``; ``take 2.wav`` ``(None, None, None)``.
    """
    stem = Path(path).name.rsplit(".", 1)[0]
    m = NAME_PATTERN.match(stem)
    if m is None:
        return None, None, None
    note = m.group("note")
    note = note[0].upper() + note[1:]
    velocity = int(m.group("velocity")) if m.group("velocity") else None
    return m.group("stem"), note, velocity


def note_files(paths: Sequence[str | os.PathLike | NoteFile], velocities: Mapping[str, int] | None = None) -> list[NoteFile]:
    """The :class:`NoteFile` of each path: the note and velocity its name gives, velocities overridden by ``velocities``.

    Parameters
    ----------
    paths
        Sound files (or NoteFiles, kept as they are).
    velocities
        File name (or path as given) to MIDI velocity; every key must name one of the files.

    Raises
    ------
    AnalysisError
        For a velocity outside 1 .. 127, or a key of ``velocities`` that names none of the files.
    """
    velocities = dict(velocities or {})
    out, used = [], set()
    for p in paths:
        if isinstance(p, NoteFile):
            out.append(p)
            continue
        _, note, velocity = parse_name(p)
        for key in (str(p), Path(p).name):
            if key in velocities:
                velocity = velocities[key]
                used.add(key)
        if note is not None:
            from .pitch import note_to_hz

            try:
                note_to_hz(note)
            except Exception:  # noqa: BLE001 - a name that only looks like a note is detected instead
                note = None
        out.append(NoteFile(str(p), DEFAULT_VELOCITY if velocity is None else velocity, note))
    unknown = sorted(set(velocities) - used)
    if unknown:
        raise AnalysisError(f"--velocity names {', '.join(unknown)}, which is not one of the files "
                            f"({', '.join(Path(str(getattr(p, 'path', p))).name for p in paths)})")
    return out


def discover_notes(folder: str | os.PathLike) -> list[Path]:
    """The sound files directly inside ``folder`` (an instrument's notes), sorted by name; hidden files left out.

    Raises
    ------
    AnalysisError
        When ``folder`` is not a folder or holds fewer than two sound files.
    """
    from .audio import AUDIO_EXTENSIONS

    root = Path(folder)
    if not root.is_dir():
        raise AnalysisError("not a folder; --notes takes a folder of one instrument's notes", path=root)
    files = sorted(p for p in root.iterdir()
                   if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in AUDIO_EXTENSIONS)
    if len(files) < 2:
        raise AnalysisError(f"holds {len(files)} sound file{'s' if len(files) != 1 else ''}; an instrument needs at "
                            "least two notes", path=root)
    return files


def instrument_name(files: Sequence[NoteFile]) -> str:
    """The name outputs take: the instrument part of the files' names when they share one, else the folder's name."""
    stems = {parse_name(f.path)[0] for f in files}
    if len(stems) == 1 and None not in stems:
        return str(stems.pop())
    folders = {Path(f.path).resolve().parent.name for f in files}
    if len(folders) == 1 and "" not in folders:
        return folders.pop()
    return Path(files[0].path).stem + "-instrument"


@dataclass(frozen=True, eq=False)
class Instrument:
    """The notes of one sound, each analysed once, in order of pitch (then velocity).

    Attributes
    ----------
    notes : tuple of gascar.analysis.Target
        One per file, each with its own pitch, note-off estimate and samples.
    velocities : tuple of int
        The MIDI velocity of each note.
    files : tuple of NoteFile
        The files, in the same order.
    name : str
        What the outputs are named after (:func:`instrument_name`).
    reference : int
        Index of the note the preset is written for (its render settings):
        the middle pitch, at the velocity nearest 100.
    """

    notes: tuple
    velocities: tuple
    files: tuple
    name: str
    reference: int

    @property
    def sha256(self) -> str:
        """One digest of every note's file and velocity (a checkpoint or a batch folder names the instrument by it)."""
        return notes_sha256([t.sha256 for t in self.notes], self.velocities)

    @property
    def path(self) -> str:
        """The notes' folder when they share one, else the first file (for messages and reports)."""
        folders = {str(Path(t.path).parent) for t in self.notes}
        return folders.pop() if len(folders) == 1 else str(self.notes[0].path)

    @property
    def sample_rate(self) -> int:
        return int(self.notes[0].sample_rate)

    @property
    def pitched(self) -> bool:
        return True

    @property
    def f0_hz(self) -> float:
        """The reference note's f0."""
        return float(self.notes[self.reference].f0_hz)

    @property
    def hold_s(self) -> float:
        return float(self.notes[self.reference].hold_s)

    @property
    def samples(self) -> np.ndarray:
        """The reference note's samples."""
        return self.notes[self.reference].samples

    @property
    def n_samples(self) -> int:
        return int(self.notes[self.reference].n_samples)

    def __len__(self) -> int:
        return len(self.notes)

    def label(self, i: int) -> str:
        """``"C4 v40"``: note ``i``'s pitch name and velocity, for tables."""
        return f"{self.notes[i].note} v{self.velocities[i]}"

    def note_files(self) -> list[tuple[str, int]]:
        """``(path, velocity)`` of each note: what a checkpoint stores to load the instrument again."""
        return [(f.path, int(f.velocity)) for f in self.files]

    def summary(self) -> dict:
        """The reference note's analysis (as a one-note match's), with every note's under ``notes``."""
        ref = self.notes[self.reference].summary()
        notes = [dict(t.summary(), velocity=int(v)) for t, v in zip(self.notes, self.velocities)]
        return dict(ref, path=self.path, instrument=self.name, reference=self.reference, notes=notes)


def notes_sha256(file_sha256s: Sequence[str], velocities: Sequence[int]) -> str:
    """The digest naming an instrument: of each note's file digest and velocity, in any order."""
    doc = "\n".join(sorted(f"{sha} {int(v)}" for sha, v in zip(file_sha256s, velocities)))
    return hashlib.sha256(doc.encode("ascii")).hexdigest()


def files_sha256(files: Sequence[NoteFile]) -> str:
    """:attr:`Instrument.sha256` of these files without analysing them (reading each file's bytes once)."""
    from .audio import file_sha256

    return notes_sha256([file_sha256(f.path) for f in files], [f.velocity for f in files])


def sequence(notes: Sequence[np.ndarray], sample_rate: int, gap_s: float = SEQUENCE_GAP_S) -> np.ndarray:
    """Notes one after another, :data:`SEQUENCE_GAP_S` of silence between them: an instrument's render (and its target
    copy, laid out the same way), shape ``(n_samples,)`` float32.
    """
    gap = np.zeros(int(round(gap_s * sample_rate)), dtype=np.float32)
    parts: list[np.ndarray] = []
    for i, x in enumerate(notes):
        if i:
            parts.append(gap)
        parts.append(np.asarray(x, dtype=np.float32).reshape(-1))
    return np.concatenate(parts) if parts else np.zeros(0, np.float32)


def sequence_starts_s(durations_s: Sequence[float], gap_s: float = SEQUENCE_GAP_S) -> list[float]:
    """Where each note starts in a :func:`sequence` of notes lasting ``durations_s`` (s)."""
    starts, t = [], 0.0
    for d in durations_s:
        starts.append(t)
        t += float(d) + gap_s
    return starts


def load_instrument(paths: Sequence[str | os.PathLike | NoteFile], *, velocities: Mapping[str, int] | None = None,
                    **analysis_options) -> Instrument:
    """Read and analyse an instrument's notes (each cached as a one-note target), checked together.

    Parameters
    ----------
    paths
        Two or more sound files (or :class:`NoteFile`), in any order.
    velocities
        File name to MIDI velocity (see :func:`note_files`).
    **analysis_options
        Options of :func:`gascar.analysis.load_target` shared by every note
        (``max_duration_s``, ``sample_rate``, ``cache`` ...); those of
        :data:`ONE_FILE_OPTIONS` are errors.

    Returns
    -------
    Instrument

    Raises
    ------
    AnalysisError
        For fewer than two files, a file given twice, a note without a pitch,
        two files of one note and velocity, or a one-file option.
    AudioError
        For a file that cannot be read (naming it).
    """
    from .analysis import load_target

    given = sorted(k for k in ONE_FILE_OPTIONS if analysis_options.get(k) not in (None, False))
    if given:
        raise AnalysisError("an instrument takes each note's pitch from its file (the note in its name, as in "
                            "cello_C3.wav, else pitch detection); "
                            f"{', '.join(given)} (--f0, --note, --unpitched) applies to one file only")
    files = note_files(paths, velocities)
    if len(files) < 2:
        raise AnalysisError(f"an instrument needs at least two notes, got {len(files)}; match one file with gascar match FILE")
    seen: dict[str, str] = {}
    loaded = []
    for f in files:
        opts = dict(analysis_options)
        if f.note is not None:
            opts["note"] = f.note
        target = load_target(f.path, **opts)
        if target.sha256 in seen:
            raise AnalysisError(f"the same sound as {seen[target.sha256]}: give each note once", path=f.path)
        seen[target.sha256] = f.path
        if not target.pitched:
            stem = Path(f.path).name.rsplit(".", 1)[0]
            raise AnalysisError(
                "no pitch found, and its name gives no note: every note of an instrument needs a pitch. Put the note "
                f"in its name ({stem}_C3.wav, {stem}_C3_v100.wav) or leave the file out (a drum or a noise is matched "
                "alone: gascar match FILE --unpitched)", path=f.path)
        loaded.append((target, f))
    loaded.sort(key=lambda tf: (float(tf[0].f0_hz), tf[1].velocity, tf[1].path))
    for (a, fa), (b, fb) in zip(loaded, loaded[1:]):
        same_note = abs(1200.0 * np.log2(float(b.f0_hz) / float(a.f0_hz))) < 50.0
        if same_note and fa.velocity == fb.velocity:
            raise AnalysisError(f"{Path(fa.path).name} and {Path(fb.path).name} are both {a.note} at velocity "
                                f"{fa.velocity}: give one file per note and velocity (--velocity FILE=VEL tells "
                                "velocity layers apart)")
    targets = tuple(t for t, _ in loaded)
    vels = tuple(int(f.velocity) for _, f in loaded)
    return Instrument(notes=targets, velocities=vels, files=tuple(f for _, f in loaded),
                      name=instrument_name([f for _, f in loaded]), reference=reference_note(targets, vels))


def reference_note(notes: Sequence, velocities: Sequence[int]) -> int:
    """Index of the note a preset is written for: the median pitch (the lower of two middles), at the velocity nearest
    :data:`DEFAULT_VELOCITY` (the louder on a tie).
    """
    pitches = sorted({round(12.0 * np.log2(float(t.f0_hz) / 440.0)) for t in notes})
    middle = pitches[(len(pitches) - 1) // 2]
    at_middle = [i for i, t in enumerate(notes) if round(12.0 * np.log2(float(t.f0_hz) / 440.0)) == middle]
    return min(at_middle, key=lambda i: (abs(int(velocities[i]) - DEFAULT_VELOCITY), -int(velocities[i])))

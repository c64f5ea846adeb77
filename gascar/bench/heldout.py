"""``gascar bench heldout``: render the held-out real notes, a set no change is tuned on.

The development notes (``../shared/targets`` and ``../shared/instruments``)
come from the TimGM6mb and MuseScore General Lite soundfonts. The held-out
notes come from another soundfont, FluidR3 GM (Debian package
``fluid-soundfont-gm``), played by fluidsynth: :data:`HELDOUT_NOTES` lists
them (General MIDI program and note; 18 instruments the development notes
do not have, five that they have from another soundfont, one drum). Each
is held 1 s (the drum 0.5 s) at velocity 100 and rendered at 44.1 kHz in
stereo with fluidsynth's default reverb and chorus, then cut 0.5 s after
its note-off (the last 20 ms faded out) and written as 16-bit
``<name>.wav``: the shape of the development notes.

Benchmarks look at these notes only to measure: ``gascar bench defaults
--real-dir DIR`` and ``gascar bench match --suite real --real-dir DIR``.

Held-out instruments (``gascar bench heldout --instruments``) are made the
same way for ``gascar bench instrument DIR``: :data:`HELDOUT_INSTRUMENTS`,
General MIDI programs the shared instrument set does not have, five notes
across each one's range at velocity 100, and for some a soft layer (velocity
40) on the middle note, one folder per instrument with files named
``<instrument>_<note>_v<velocity>.wav``.

Rendering needs fluidsynth and the soundfont; nothing else in GASCAR does.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import BenchmarkError

#: Where Debian's fluid-soundfont-gm puts its soundfont.
DEFAULT_SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
#: Seconds a note is held, and kept after its note-off (the end faded out over FADE_S).
HOLD_S = 1.0
DRUM_HOLD_S = 0.5
RELEASE_S = 0.5
FADE_S = 0.02
SAMPLE_RATE = 44100


@dataclass(frozen=True)
class HeldOutNote:
    """One held-out note: a General MIDI program (or a drum on channel 10) and a MIDI note."""

    name: str
    program: int
    midi_note: int
    drum: bool = False
    velocity: int = 100

    @property
    def hold_s(self) -> float:
        return DRUM_HOLD_S if self.drum else HOLD_S


#: The held-out set. Programs 0, 4, 42, 56 and 73 are instruments of the development set, here from another soundfont.
HELDOUT_NOTES = (
    HeldOutNote("grand_piano_d3", 0, 50),
    HeldOutNote("rhodes_a3", 4, 57),
    HeldOutNote("celesta_c5", 8, 72),
    HeldOutNote("vibraphone_f4", 11, 65),
    HeldOutNote("tubular_bells_c5", 14, 72),
    HeldOutNote("church_organ_g3", 19, 55),
    HeldOutNote("accordion_e4", 21, 64),
    HeldOutNote("nylon_guitar_e3", 24, 52),
    HeldOutNote("finger_bass_e2", 33, 40),
    HeldOutNote("violin_a4", 40, 69),
    HeldOutNote("cello_d3", 42, 50),
    HeldOutNote("harp_c4", 46, 60),
    HeldOutNote("strings_g3", 48, 55),
    HeldOutNote("choir_e4", 52, 64),
    HeldOutNote("trumpet_d4", 56, 62),
    HeldOutNote("french_horn_f3", 60, 53),
    HeldOutNote("alto_sax_d4", 65, 62),
    HeldOutNote("bassoon_a2", 70, 45),
    HeldOutNote("clarinet_g3", 71, 55),
    HeldOutNote("flute_a5", 73, 81),
    HeldOutNote("saw_lead_a3", 81, 57),
    HeldOutNote("new_age_pad_c4", 88, 60),
    HeldOutNote("kalimba_c5", 108, 72),
    HeldOutNote("snare", 0, 38, drum=True),
)


#: Velocity of the soft layer of a held-out instrument's middle note.
SOFT_VELOCITY = 40
#: The held-out instruments: name, General MIDI program, five MIDI notes across its range (low to high), and whether
#: the middle note has a soft layer. None of these programs is in the shared instrument set (0, 4, 42, 56, 62, 73).
HELDOUT_INSTRUMENTS = (
    ("nylon_guitar", 24, (40, 47, 55, 62, 69), True),    # E2 B2 G3 D4 A4
    ("vibraphone", 11, (53, 60, 67, 74, 81), True),      # F3 C4 G4 D5 A5
    ("violin", 40, (55, 62, 69, 76, 83), False),         # G3 D4 A4 E5 B5
    ("clarinet", 71, (52, 59, 65, 72, 79), False),       # E3 B3 F4 C5 G5
    ("french_horn", 60, (41, 48, 55, 62, 69), True),     # F2 C3 G3 D4 A4
)


def instrument_notes(name: str, program: int, midi_notes, soft: bool) -> list[HeldOutNote]:
    """One held-out instrument's notes, named ``<name>_<note>_v<velocity>`` (the soft layer on the middle note)."""
    from ..pitch import hz_to_note

    def one(midi: int, velocity: int) -> HeldOutNote:
        note = hz_to_note(440.0 * 2.0 ** ((midi - 69) / 12.0))
        return HeldOutNote(f"{name}_{note}_v{velocity}", program, midi, velocity=velocity)

    notes = [one(m, 100) for m in midi_notes]
    if soft:
        notes.append(one(midi_notes[len(midi_notes) // 2], SOFT_VELOCITY))
    return notes


def render_heldout_instruments(out_dir: Path, *, soundfont: Path = DEFAULT_SOUNDFONT,
                               instruments=HELDOUT_INSTRUMENTS) -> list[Path]:
    """Render every held-out instrument into ``out_dir/<name>/`` (files already there are kept); returns the folders.

    Raises
    ------
    BenchmarkError
        As :func:`render_heldout`.
    """
    folders = []
    for name, program, midi_notes, soft in instruments:
        folder = Path(out_dir) / name
        render_heldout(folder, soundfont=soundfont, notes=instrument_notes(name, program, midi_notes, soft))
        folders.append(folder)
    return folders


def note_midi(note: HeldOutNote) -> bytes:
    """A one-note standard MIDI file for ``note`` (120 bpm, 480 ticks per beat), its end ``RELEASE_S`` after the note-off."""
    import io

    import mido

    tpb = 480
    ticks = lambda s: int(round(s * 2 * tpb))  # noqa: E731 - 120 bpm: two beats a second
    channel = 9 if note.drum else 0
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=500000, time=0))
    if not note.drum:
        track.append(mido.Message("program_change", channel=channel, program=note.program, time=0))
    track.append(mido.Message("note_on", channel=channel, note=note.midi_note, velocity=note.velocity, time=0))
    track.append(mido.Message("note_off", channel=channel, note=note.midi_note, velocity=0, time=ticks(note.hold_s)))
    track.append(mido.MetaMessage("end_of_track", time=ticks(RELEASE_S)))  # fluidsynth renders on until silence
    f = mido.MidiFile(ticks_per_beat=tpb)
    f.tracks.append(track)
    buf = io.BytesIO()
    f.save(file=buf)
    return buf.getvalue()


def render_heldout(out_dir: Path, *, soundfont: Path = DEFAULT_SOUNDFONT, notes=HELDOUT_NOTES) -> list[Path]:
    """Render every held-out note into ``out_dir`` (files already there are kept).

    Raises
    ------
    BenchmarkError
        When fluidsynth or the soundfont is missing, or fluidsynth fails.
    """
    exe = shutil.which("fluidsynth")
    if exe is None:
        raise BenchmarkError("fluidsynth is not installed (Debian: apt-get install fluidsynth fluid-soundfont-gm)")
    soundfont = Path(soundfont)
    if not soundfont.is_file():
        raise BenchmarkError("no such soundfont (Debian: apt-get install fluid-soundfont-gm)", path=soundfont)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    with tempfile.TemporaryDirectory() as tmp:
        for note in notes:
            path = out_dir / f"{note.name}.wav"
            paths.append(path)
            if path.exists():
                continue
            mid = Path(tmp) / f"{note.name}.mid"
            mid.write_bytes(note_midi(note))
            part = Path(tmp) / f"{note.name}.wav"
            done = subprocess.run([exe, "-ni", "-q", "-r", str(SAMPLE_RATE), "-F", str(part), str(soundfont), str(mid)],
                                  capture_output=True, text=True)
            if done.returncode != 0 or not part.is_file():
                raise BenchmarkError(f"fluidsynth failed on {note.name}: {done.stderr.strip() or done.returncode}")
            _cut(part, path, note.hold_s + RELEASE_S)
    return paths


def _cut(src: Path, dst: Path, duration_s: float) -> None:
    """Keep the first ``duration_s`` of ``src``, fade its last :data:`FADE_S` out, write 16-bit ``dst`` atomically."""
    import numpy as np
    import soundfile as sf

    from .. import fileio

    x, sr = sf.read(str(src), dtype="float64", always_2d=True)
    x = x[: int(round(duration_s * sr))].copy()
    n = min(len(x), int(round(FADE_S * sr)))
    x[len(x) - n :] *= np.linspace(1.0, 0.0, n)[:, None]
    with fileio.atomic_path(dst, suffix=".wav") as tmp:
        sf.write(str(tmp), x, sr, format="WAV", subtype="PCM_16")

"""Playback benchmark: seconds to export a preset as SFZ and to play a MIDI phrase, per synth, on one core.

Each synth plays its default parameters (every parameter at its default,
note C4). Two timings, each the median of ``repeats`` runs after one
untimed warm-up (numba compilation, engines' first load):

``sfz_s``
    :func:`gascar.export.sfz.export_sfz` with its defaults (two octaves
    either side of C4, a sample every 3 semitones, 8 s held notes,
    44,100 Hz 24-bit), written to a temporary folder.
``midi_s``
    :func:`gascar.playback.play_notes` of a 30-second, 4-voice phrase at
    44,100 Hz: four voices (bass to soprano ranges) of eighth, quarter and
    half notes at 120 bpm, random keys and velocities 60-110 from a fixed
    seed, each note held for 90 % of its length.

The process is pinned to one CPU while it measures (Linux), so the
figures are one core's whatever the machine.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..errors import BenchmarkError
from ..export.sfz import SfzOptions, export_sfz
from ..midi import Note
from ..playback import play_notes
from ..preset import Preset, RenderSettings
from ..synths import get_synth, list_synths

#: Length (s) and voices of the benchmark's MIDI phrase.
PHRASE_S, PHRASE_VOICES = 30.0, 4
#: Lowest key of each voice's two-octave range (bass, tenor, alto, soprano).
VOICE_LOW_KEYS = (36, 48, 55, 62)
SAMPLE_RATE = 44100


def phrase(seed: int = 0, length_s: float = PHRASE_S) -> list[Note]:
    """The benchmark's phrase: :data:`PHRASE_VOICES` voices of eighth, quarter and half notes at 120 bpm.

    Returns
    -------
    list of Note
        On channels 0 .. 3, sorted by start time.
    """
    rng = np.random.default_rng(seed)
    notes = []
    for ch, low in enumerate(VOICE_LOW_KEYS[:PHRASE_VOICES]):
        t = 0.0
        while t < length_s - 0.25:
            length = min(float(rng.choice([0.25, 0.5, 1.0])), length_s - t)
            notes.append(Note(t, t + 0.9 * length, int(low + rng.integers(0, 25)), int(rng.integers(60, 111)), ch))
            t += length
    return sorted(notes, key=lambda n: (n.start_s, n.channel))


def default_preset(name: str) -> Preset:
    """A synth's default parameters at C4."""
    synth = get_synth(name)
    return Preset(synth=name, params=synth.params.values_to_json(synth.params.default_physical()),
                  render=RenderSettings(f0_hz=261.6255653005986))


@contextmanager
def one_core():
    """Pin this process to its first allowed CPU for the block (where the OS allows it)."""
    if not hasattr(os, "sched_setaffinity"):
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(before)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def _median_s(fn, repeats: int) -> tuple[float, float]:
    """Median and maximum wall time of ``repeats`` calls of ``fn``."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), float(max(times))


def bench_playback(synths: Iterable[str] | None = None, repeats: int = 3, seed: int = 0) -> list[dict]:
    """Time SFZ export and MIDI playback per synth.

    Parameters
    ----------
    synths
        Synth names; every registered synth when None.
    repeats
        Timed runs after the warm-up; the median is reported.
    seed
        Seeds the phrase.

    Returns
    -------
    list of dict
        One per synth: ``name``, ``sfz_s`` and ``sfz_max_s`` (median and slowest
        export), ``regions``, ``midi_s`` and ``midi_max_s``, ``notes``, ``repeats``.
    """
    if repeats < 1:
        raise BenchmarkError(f"repeats must be at least 1, got {repeats}")
    names = list(synths) if synths is not None else list_synths()
    notes = phrase(seed)
    rows = []
    tmp = Path(tempfile.mkdtemp(prefix="gascar-bench-playback-"))
    try:
        with one_core():
            for name in names:
                preset = default_preset(name)
                out = tmp / name
                inst = export_sfz(preset, out)  # warm-up: compilation, engine loading
                play_notes(preset, notes, sample_rate=SAMPLE_RATE)
                sfz_s, sfz_max = _median_s(lambda p=preset, o=out: export_sfz(p, o, options=SfzOptions()), repeats)
                midi_s, midi_max = _median_s(lambda p=preset: play_notes(p, notes, sample_rate=SAMPLE_RATE), repeats)
                rows.append({"name": name, "sfz_s": sfz_s, "sfz_max_s": sfz_max, "regions": len(inst.regions),
                             "midi_s": midi_s, "midi_max_s": midi_max, "notes": len(notes), "repeats": repeats})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rows


def format_table(rows: list[dict]) -> str:
    """The rows of :func:`bench_playback` as a markdown table."""
    if not rows:
        return "(no synths benchmarked)\n"
    r0 = rows[0]
    lines = [
        f"Playback benchmark: each synth's default parameters, one CPU, median of {r0['repeats']} runs after a warm-up "
        f"(slowest in brackets). SFZ: `gascar export --sfz` defaults ({r0['regions']} samples, 44,100 Hz 24-bit). "
        f"MIDI: a {PHRASE_S:g}-second {PHRASE_VOICES}-voice phrase of {r0['notes']} notes at 44,100 Hz. "
        "Goals: SFZ under 10 s for every synth, MIDI under 5 s for the numpy synths.",
        "",
        "| synth | SFZ export (s) | MIDI phrase (s) |",
        "|---|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['name']} | {r['sfz_s']:.2f} [{r['sfz_max_s']:.2f}] | {r['midi_s']:.2f} [{r['midi_max_s']:.2f}] |")
    return "\n".join(lines) + "\n"

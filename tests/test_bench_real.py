"""The real-notes benchmarks' pieces: the held-out note renderer (no soundfont needed) and default matches of real notes."""

from __future__ import annotations

import io

import mido
import numpy as np
import pytest
import soundfile as sf

from gascar.bench import heldout
from gascar.errors import BenchmarkError


def test_each_held_out_note_is_one_midi_note_held_then_released():
    names = [n.name for n in heldout.HELDOUT_NOTES]
    assert len(names) == len(set(names)) == 24
    for note in (heldout.HELDOUT_NOTES[0], heldout.HELDOUT_NOTES[-1]):
        f = mido.MidiFile(file=io.BytesIO(heldout.note_midi(note)))
        t, events = 0.0, []
        for msg in f:
            t += msg.time
            if msg.type in ("note_on", "note_off", "program_change"):
                events.append((msg.type, round(t, 6), getattr(msg, "channel", None)))
        channel = 9 if note.drum else 0
        want = ([] if note.drum else [("program_change", 0.0, channel)])
        want += [("note_on", 0.0, channel), ("note_off", note.hold_s, channel)]
        assert events == want
        assert f.length == pytest.approx(note.hold_s + heldout.RELEASE_S)


def test_rendering_without_fluidsynth_or_soundfont_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(heldout.shutil, "which", lambda name: None)
    with pytest.raises(BenchmarkError, match="fluidsynth"):
        heldout.render_heldout(tmp_path)
    monkeypatch.setattr(heldout.shutil, "which", lambda name: "/bin/true")
    with pytest.raises(BenchmarkError, match="soundfont"):
        heldout.render_heldout(tmp_path, soundfont=tmp_path / "none.sf2")


def test_default_matches_of_real_notes_at_several_budgets(tmp_path, tone_wav):
    from gascar.bench.defaults import bench_defaults, format_real_table

    folder = tmp_path / "notes"
    folder.mkdir()
    x, sr = sf.read(tone_wav)
    sf.write(folder / "tone.wav", x, sr)
    records = bench_defaults(tmp_path / "out", seeds=1, real_dir=folder, budgets=(60, 90), n_jobs=1, progress=False)
    assert [r["budget"] for r in records] == [60, 90]
    assert all(np.isfinite(r["lsd_db"]) and r["made_by"] is None and r["starts"] == "" for r in records)
    table = format_real_table(records)
    assert "| 60 |" in table and "| 90 |" in table and "tone.wav" in table
    assert (tmp_path / "out" / "bench-defaults-real.md").exists()
    started = bench_defaults(tmp_path / "out", seeds=1, real_dir=folder, budgets=(60,), n_jobs=1, progress=False,
                             analysis_starts=True)
    assert started[0]["analysis_starts"] and started[0]["starts"].startswith("starts:")
    assert started[0]["key"] != records[0]["key"]  # kept apart from the default matches in the same runs file
    assert (tmp_path / "out" / "bench-defaults-real-starts.md").exists()
    voiced = bench_defaults(tmp_path / "out", seeds=1, real_dir=folder, budgets=(60,), n_jobs=1, progress=False,
                            match_synth="spectral")
    assert voiced[0]["synth"] == "spectral" and voiced[0]["variant"] == "spectral"


def test_wins_count_the_targets_a_method_is_judged_closer_on():
    from gascar.bench.match import format_wins

    recs = []
    for t, (g, c, r) in {"a": (1.0, 2.0, 3.0), "b": (2.5, 2.0, 3.0), "c": (1.0, 1.5, 0.5)}.items():
        for m, v in (("gascar", g), ("cmaes", c), ("random", r)):
            recs.append({"suite": "real", "synth": "spectral", "budget": 5000, "method": m, "target": t, "lsd_db": v})
    table = format_wins(recs)
    assert "| real | spectral | 5000 | 2/3 | 2/3 | 1/3 (33%) |" in table

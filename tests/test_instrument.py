"""Instrument matches: several notes (and velocities) of one sound matched by one preset.

The files, their names and the rules (gascar.instrument); the aggregate fitness and per-note pitch handling
(gascar.instrument_objective); gascar match with several files end to end, resumed, on the command line.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

import gascar.matching as gm
from gascar.analysis import load_target
from gascar.cli import cli
from gascar.errors import AnalysisError, EvolutionError, FitnessError
from gascar.fitness import COMPONENTS
from gascar.instrument import NoteFile, load_instrument, note_files, parse_name, sequence, sequence_starts_s
from gascar.instrument_objective import (
    AGGREGATES,
    LEVEL_WEIGHT,
    InstrumentObjective,
    aggregate,
    level_spread_db,
)
from gascar.objective import Objective
from gascar.pitch import note_to_hz
from gascar.preset import Preset
from gascar.synths import get_synth

SR = 22050
NOTES = (("C3", 100), ("C4", 100), ("C4", 50), ("C5", 100))


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GASCAR_CACHE_DIR", str(tmp_path / "cache"))  # never the user's analysis cache


def _additive_voice():
    synth = get_synth("additive")
    physical = synth.params.default_physical()
    physical.update(decay_s=0.8, sustain=0.2, release_s=0.1, tilt_db_per_oct=-9.0)
    return synth, physical


def write_notes(folder, notes=NOTES, *, duration_s: float = 0.4, rates=None, name: str = "tone"):
    """Notes of the additive synth, each at its pitch, as ``<name>_<note>_v<vel>.wav``; returns their paths."""
    synth, physical = _additive_voice()
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, (note, velocity) in enumerate(notes):
        sr = rates[i] if rates else SR
        x = synth.render_physical(physical, note_to_hz(note), int(duration_s * sr), sr, hold_s=0.3)[0]
        x = x / float(np.max(np.abs(x))) * 0.5 * (velocity / 100.0)
        p = folder / f"{name}_{note}_v{velocity}.wav"
        sf.write(str(p), x, sr, subtype="FLOAT")
        paths.append(p)
    return paths


@pytest.fixture(scope="module")
def note_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inst") / "tone"
    write_notes(folder)
    return folder


# -- names and files ------------------------------------------------------------------------------------------------


def test_file_names_give_the_note_and_the_velocity():
    assert parse_name("trumpet_A#4_v110.wav") == ("trumpet", "A#4", 110)
    assert parse_name("synth_brass_C2_v100.flac") == ("synth_brass", "C2", 100)
    assert parse_name("cello_c3.wav") == ("cello", "C3", None)
    assert parse_name("piano_Bb2_v40.wav") == ("piano", "Bb2", 40)
    assert parse_name("take 2.wav") == (None, None, None)
    files = note_files(["a/piano_C4_v40.wav", "a/piano_C5.wav", "b/x.wav"], {"piano_C5.wav": 70})
    assert [(f.note, f.velocity) for f in files] == [("C4", 40), ("C5", 70), (None, 100)]
    assert note_files(["p_C4_v40.wav"], {"p_C4_v40.wav": 90})[0].velocity == 90  # --velocity overrides the name
    with pytest.raises(AnalysisError, match="not one of the files"):
        note_files(["p_C4.wav"], {"other.wav": 90})
    with pytest.raises(AnalysisError, match="velocity"):
        NoteFile("p.wav", 0)


def test_an_instrument_is_its_notes_in_pitch_order_with_a_middle_reference(note_dir):
    inst = load_instrument(sorted(note_dir.iterdir(), reverse=True))
    assert [inst.label(i) for i in range(len(inst))] == ["C3 v100", "C4 v50", "C4 v100", "C5 v100"]
    assert inst.reference == 2  # the middle pitch, at the velocity nearest 100
    assert inst.name == "tone" and all(t.f0_source == "user" for t in inst.notes)  # pitch from the name
    assert inst.notes[0].f0_hz == pytest.approx(note_to_hz("C3"))
    again = load_instrument(sorted(note_dir.iterdir()))
    assert again.sha256 == inst.sha256
    louder = load_instrument(sorted(note_dir.iterdir()), velocities={"tone_C5_v100.wav": 120})
    assert louder.sha256 != inst.sha256  # a velocity is part of what was matched


def test_files_of_different_sample_rates_are_each_resampled(tmp_path):
    paths = write_notes(tmp_path / "rates", NOTES[:3], rates=[22050, 44100, 48000])
    inst = load_instrument(paths)
    assert {t.sample_rate for t in inst.notes} == {SR}
    assert all(abs(t.duration_s - 0.4) < 0.05 for t in inst.notes)


def test_bad_instruments_are_clear_errors(tmp_path, note_dir):
    paths = sorted(note_dir.iterdir())
    noise = tmp_path / "breath.wav"  # no pitch, and no note in its name
    sf.write(str(noise), np.random.default_rng(0).normal(0, 0.2, SR // 2).astype(np.float32), SR)
    with pytest.raises(AnalysisError, match="no pitch found.*breath_C3.wav") as err:
        load_instrument([*paths, noise])
    assert "breath.wav" in str(err.value)
    with pytest.raises(AnalysisError, match="at least two"):
        load_instrument(paths[:1])
    with pytest.raises(AnalysisError, match="same sound"):
        load_instrument([paths[0], paths[0]])
    copy = tmp_path / "again_C3_v100.wav"
    copy.write_bytes(paths[0].read_bytes() + b"")
    other = write_notes(tmp_path / "o", (("C3", 100),), name="other")[0]
    sf.write(str(copy), sf.read(str(other))[0] * 0.9, SR)
    with pytest.raises(AnalysisError, match="both C3 at velocity 100"):
        load_instrument([p for p in paths if "C3" in p.name] + [copy])
    for option in ({"unpitched": True}, {"note": "C3"}, {"f0_hz": 200.0}):
        with pytest.raises(AnalysisError, match="applies to one file"):
            load_instrument(paths, **option)


def test_sequence_lays_notes_out_one_after_another():
    x = sequence([np.ones(10), 2 * np.ones(5)], 20, gap_s=0.25)
    assert x.shape == (20,) and np.all(x[10:15] == 0) and np.all(x[15:] == 2)
    assert sequence_starts_s([0.5, 0.25], gap_s=0.25) == [0.0, 0.75]


# -- the objective ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def instrument(note_dir):
    return load_instrument(sorted(note_dir.iterdir()))


def test_the_aggregate_and_the_level_term():
    totals = np.array([[1.0, 0.2], [3.0, 0.2]])
    assert np.allclose(aggregate(totals, "mean"), [2.0, 0.2])
    assert np.allclose(aggregate(totals, "max"), [3.0, 0.2])
    assert np.allclose(aggregate(totals, "rms"), [np.sqrt(5.0), 0.2])
    with pytest.raises(FitnessError, match="aggregate"):
        aggregate(totals, "median")
    levels = np.array([[-3.0, 5.0], [-3.0, 5.0], [3.0, 5.0]])  # one note 6 dB louder than the others; all alike
    assert np.allclose(level_spread_db(levels), [8.0 / 3.0, 0.0])


def test_key_weights_share_the_keys_between_the_notes():
    from gascar.instrument_objective import key_weights

    c3, c4, c5 = (note_to_hz(n) for n in ("C3", "C4", "C5"))
    assert np.allclose(key_weights([c3, c4, c5]), [0.25, 0.5, 0.25])  # the outer notes stand for half as many keys
    assert np.allclose(key_weights([c5, c3, c4]), [0.25, 0.25, 0.5])  # in any order
    assert np.allclose(key_weights([c3, c4, c4 * 1.001, c5]), [0.25] * 4)  # velocity layers share their pitch's weight
    assert np.allclose(key_weights([c4, c4 * 1.001]), [0.5, 0.5])
    assert np.allclose(key_weights([note_to_hz("C2"), c3, c5]), [0.5 * 12 / 36, 0.5, 0.5 * 24 / 36])
    totals = np.array([[1.0, 2.0], [3.0, 2.0], [5.0, 2.0]])
    assert np.allclose(aggregate(totals, "keys", [0.25, 0.5, 0.25]), [3.0, 2.0])


@pytest.mark.parametrize("how", AGGREGATES)
def test_instrument_fitness_aggregates_each_notes_one_note_fitness(instrument, how):
    """Each note is scored exactly as a one-note match of that note would score the same voice, pitch and note-off."""
    synth = get_synth("additive")
    obj = InstrumentObjective(instrument, synth, aggregate=how)
    g = np.random.default_rng(1).random((5, obj.n_genes))
    k = synth.n_genes
    nv = obj.n_voice_genes
    g[:, k:nv] = synth.keyboard.default_genome()  # neutral keyboard: every note is the one-note render
    per_note = obj.note_fitness(g)
    for i, t in enumerate(instrument.notes):
        single = Objective(t, synth)
        sg = np.concatenate([g[:, :k], g[:, nv : nv + 2], g[:, nv + 2 + i : nv + 3 + i]], axis=1)
        assert np.allclose(per_note[i], single(sg), rtol=1e-6, atol=1e-9)
    g[:, k:nv] = np.random.default_rng(2).random((5, nv - k))  # and the aggregate holds whatever the keyboard
    per_note = obj.note_fitness(g)
    comps = obj.components(g)
    expected = aggregate(per_note, how, obj.note_weights) + LEVEL_WEIGHT * comps["level"]
    assert np.allclose(obj(g), expected) and np.allclose(comps["total"], expected)
    assert set(comps) == {*obj.comparators[0].measured, "level", "total"} and set(obj.comparators[0].measured) <= set(COMPONENTS)


def test_each_note_renders_at_its_own_pitch_and_velocity(instrument):
    obj = InstrumentObjective(instrument, get_synth("additive"))
    g = obj.space.default_genome()[None, :]
    for i, t in enumerate(instrument.notes):
        assert obj.note_f0_hz(g, i)[0] == pytest.approx(t.f0_hz)  # octave 0, no fine tune
    up = g.copy()
    k = obj.n_voice_genes
    up[0, k] = obj.space.specs[k].to_unit(np.array(2.0))  # the shared octave gene at +1
    up[0, k + 1] = obj.space.specs[k + 1].to_unit(np.array(50.0))  # and 50 cents
    for i, t in enumerate(instrument.notes):
        assert obj.note_f0_hz(up, i)[0] == pytest.approx(t.f0_hz * 2 ** (1 + 50 / 1200))
    renders = obj.render_notes(g)
    assert [r.shape[1] for r in renders] == [t.n_samples for t in instrument.notes]
    for r, t in zip(renders, instrument.notes):  # the strongest partial of each render is its own note's f0
        spec = np.abs(np.fft.rfft(r[0] * np.hanning(r.shape[1])))
        assert np.fft.rfftfreq(r.shape[1], 1 / SR)[np.argmax(spec)] == pytest.approx(t.f0_hz, rel=0.03)
    assert obj.space.names[-len(instrument):] == tuple(f"note{i}_hold_s" for i in range(1, len(instrument) + 1))


def test_instrument_preset_plays_the_reference_note_and_lists_every_note(instrument, tmp_path):
    obj = InstrumentObjective(instrument, get_synth("additive"))
    g = np.random.default_rng(3).random(obj.n_genes)
    preset = obj.preset(g, budget=10)
    ref = instrument.reference
    assert preset.render.velocity == instrument.velocities[ref]
    assert preset.render.f0_hz == pytest.approx(obj.note_f0_hz(g[None, :], ref)[0])
    notes = preset.match["notes"]
    assert [n["note"] for n in notes] == ["C3", "C4", "C4", "C5"] and [n["velocity"] for n in notes] == [100, 50, 100, 100]
    assert all(n["verdict"] and n["lsd_db"] >= 0 for n in notes)
    assert preset.match["aggregate"] == "keys" and preset.match["target"] == "tone"
    back = Preset.load(preset.save(tmp_path / "t.preset.json"))
    audio = back.render_audio()
    expected = obj.render(g[None, :])[0] * np.float32(preset.render.gain)
    assert np.allclose(audio, expected, atol=1e-6)  # the preset replays the reference note as scored


# -- matches -----------------------------------------------------------------------------------------------------------


def test_instrument_match_end_to_end_and_resumes(note_dir, tmp_path, monkeypatch):
    files = sorted(note_dir.iterdir())
    full = gm.match(files, synth="additive", budget=150, seed=5, n_jobs=1, handle_signals=False)
    assert full.evaluations == 150 and np.isfinite(full.fitness)
    notes = full.preset.match["notes"]
    assert len(notes) == 4 and full.preset.match["lsd_db"] == pytest.approx(np.mean([n["lsd_db"] for n in notes]), abs=1e-3)
    assert full.analysis["instrument"] == "tone" and len(full.analysis["notes"]) == 4
    ck = tmp_path / "i.ckpt"
    calls = {"n": 0}
    real = gm.run_steps

    def cut_short(*args, should_stop=None, **kw):
        def stop():
            calls["n"] += 1
            return calls["n"] > 2

        return real(*args, should_stop=stop, **kw)

    monkeypatch.setattr(gm, "run_steps", cut_short)
    cut = gm.match(files, synth="additive", budget=150, seed=5, n_jobs=1, outputs=gm.MatchOutputs(checkpoint=ck),
                   handle_signals=False)
    assert cut.stop_reason == "interrupted" and cut.evaluations < 150
    monkeypatch.setattr(gm, "run_steps", real)
    resumed = gm.match(resume=ck, n_jobs=1, handle_signals=False)
    assert resumed.evaluations == full.evaluations and resumed.fitness == full.fitness
    assert np.array_equal(resumed.genome, full.genome)


def test_aggregate_is_an_instrument_option(note_dir, tone_wav):
    with pytest.raises(EvolutionError, match="aggregate"):
        gm.MatchOptions(aggregate="median")
    with pytest.raises(EvolutionError, match="several files"):
        gm.match(tone_wav, synth="additive", budget=20, aggregate="max", handle_signals=False)
    worst = gm.match(sorted(note_dir.iterdir()), synth="additive", budget=48, seed=1, aggregate="max", n_jobs=1,
                     handle_signals=False)
    assert worst.preset.match["aggregate"] == "max"
    assert worst.fitness == pytest.approx(max(n["fitness"] for n in worst.preset.match["notes"])
                                          + LEVEL_WEIGHT * worst.components["level"], rel=1e-6)


def test_match_command_with_several_files_and_notes_folder(note_dir, tmp_path, monkeypatch):
    files = [str(p) for p in sorted(note_dir.iterdir())]
    out = tmp_path / "inst.preset.json"
    res = CliRunner().invoke(cli, ["match", *files, "--synth", "additive", "--budget", "60", "--seed", "1", "-j", "1",
                                   "-o", str(out), "--velocity", "tone_C5_v100.wav=90", "--report"])
    assert res.exit_code == 0, res.output
    assert "4 notes" in res.output and "tone_C5_v100.wav" in res.output
    preset = Preset.load(out)
    assert [n["velocity"] for n in preset.match["notes"]][-1] == 90
    render, sr = sf.read(str(tmp_path / "inst.render.wav"))
    target, _ = sf.read(str(tmp_path / "inst.target.wav"))
    assert render.shape == target.shape  # every note, one after another, laid out alike
    starts = sequence_starts_s([n["duration_s"] for n in preset.match["notes"]])
    assert render.size == pytest.approx((starts[-1] + preset.match["notes"][-1]["duration_s"]) * sr, abs=4)
    html = (tmp_path / "inst.report.html").read_text(encoding="utf-8")
    assert "<h2>Notes</h2>" in html and html.count("#t=") == 8 and "4 notes, C3 to C5 (all named)" in html
    history = json.loads((tmp_path / "inst.history.json").read_text(encoding="utf-8"))
    assert len(history["notes"]) == 4
    # --notes DIR: the same files, named after their instrument by default
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(cli, ["match", "--notes", str(note_dir), "--synth", "additive", "--budget", "30", "-q", "-j", "1"])
    assert res.exit_code == 0, res.output
    assert Preset.load(tmp_path / "tone.preset.json").match["target"] == "tone"


def test_match_command_refuses_mixed_and_one_file_options(note_dir, tmp_path):
    files = [str(p) for p in sorted(note_dir.iterdir())]
    runner = CliRunner()
    res = runner.invoke(cli, ["match", files[0], "--notes", str(note_dir)])
    assert res.exit_code == 2 and "not both" in res.output
    res = runner.invoke(cli, ["match", files[0], "--velocity", "x.wav=3"])
    assert res.exit_code == 2 and "several files" in res.output
    res = runner.invoke(cli, ["match", *files, "--note", "C3"])
    assert res.exit_code == 2 and "applies to one file" in res.output and "Traceback" not in res.output
    res = runner.invoke(cli, ["match", *files, "--velocity", "tone_C3_v100.wav=200"])
    assert res.exit_code == 2 and "1 .. 127" in res.output
    res = runner.invoke(cli, ["match", str(note_dir)])
    assert res.exit_code == 2 and "--notes" in res.output


def test_cli_aggregate_choices_are_the_objectives():
    from gascar.cli._common import AGGREGATES as CLI_AGGREGATES

    assert CLI_AGGREGATES == AGGREGATES


def test_one_note_matches_are_unchanged_by_instruments(tone_wav):
    """A one-note objective's genome and fitness do not include keyboard parameters or the level term."""
    for name in ("subtractive", "fm", "additive", "wavetable", "modular"):
        synth = get_synth(name)
        obj = Objective(load_target(tone_wav), synth)
        assert obj.space.names[: synth.n_genes] == synth.params.names
        assert not any(n in obj.space for n in synth.keyboard.names)


# -- the generalisation benchmark (gascar bench instrument) ---------------------------------------------------------


def test_bench_instrument_holds_out_the_inner_notes_and_judges_both_matches(tmp_path):
    from gascar.bench.instrument import bench_instrument, split_notes

    notes = (("C3", 100), ("E3", 100), ("C4", 100), ("C4", 50), ("E4", 100), ("C5", 100))
    write_notes(tmp_path / "insts" / "tone", notes, duration_s=0.3)
    matched, held_out, middle = split_notes(tmp_path / "insts" / "tone")
    assert [p.name for p in matched] == ["tone_C3_v100.wav", "tone_C4_v50.wav", "tone_C4_v100.wav", "tone_C5_v100.wav"]
    assert [p.name for p in held_out] == ["tone_E3_v100.wav", "tone_E4_v100.wav"] and middle.name == "tone_C4_v100.wav"
    records = bench_instrument(tmp_path / "out", tmp_path / "insts", synth="additive", budget=24, n_jobs=1, progress=False)
    assert [r["method"] for r in records] == ["staged", "middle note"]
    assert all(set(r["held_out"]) == {"tone_E3_v100.wav", "tone_E4_v100.wav"} and r["evaluations"] == 24 for r in records)
    assert all(np.isfinite(v) for r in records for v in [*r["held_out"].values(), *r["matched"].values()])
    assert "closer on the held-out notes for" in (tmp_path / "out" / "bench-instrument.md").read_text(encoding="utf-8")
    again = bench_instrument(tmp_path / "out", tmp_path / "insts", synth="additive", budget=24, n_jobs=1, progress=False)
    assert again == records  # resumed from the runs file, nothing re-run
    from gascar.bench.instrument import format_table

    two = format_table(records + [dict(r, seed=1) for r in records])
    assert "tone (seed 1)" in two and "of 2 runs (2 seeds)" in two and "Averaged over seeds it is closer for" in two


# -- a batch of instruments (gascar batch --instruments) -------------------------------------------------------------


def test_batch_of_instruments_matches_a_folder_per_instrument_and_reruns_nothing(tmp_path):
    root = tmp_path / "insts"
    write_notes(root / "tone", (("C3", 100), ("C4", 100)), duration_s=0.3)
    write_notes(root / "bell", (("G3", 100), ("G4", 60), ("G4", 100)), duration_s=0.3, name="bell")
    write_notes(root / "lonely", (("C4", 100),), duration_s=0.3)  # one note: no instrument, a failed row
    write_notes(root, (("C4", 100),), duration_s=0.3, name="loose")  # a file beside the folders: ignored
    out = tmp_path / "out"
    args = ["batch", "--instruments", str(root), "-o", str(out), "--synth", "additive", "--budget", "24", "--seed", "3",
            "-j", "1", "-q", "--aggregate", "max"]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 1, res.output  # lonely failed
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    rows = {r["target"]: r for r in summary["targets"]}
    assert [r["target"] for r in summary["targets"]] == ["bell", "lonely", "tone"] and summary["ignored_files"] == 1
    assert rows["lonely"]["status"] == "failed" and "at least two notes" in rows["lonely"]["error"]
    for name, n in (("bell", 3), ("tone", 2)):
        assert rows[name]["status"] == "ok" and len(rows[name]["notes"]) == n
        preset = Preset.load(out / f"{name}.preset.json")
        assert preset.match["aggregate"] == "max" and len(preset.match["notes"]) == n
        assert (out / f"{name}.render.wav").is_file() and (out / f"{name}.target.wav").is_file()
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 1
    rows = {r["target"]: r for r in json.loads((out / "summary.json").read_text(encoding="utf-8"))["targets"]}
    assert rows["bell"]["reused"] and rows["tone"]["reused"]  # finished instruments are not matched again
    bad = CliRunner().invoke(cli, ["batch", str(root), "-o", str(tmp_path / "o2"), "--aggregate", "max"])
    assert bad.exit_code == 2 and "--instruments" in bad.output


def test_sfz_export_of_an_instrument_samples_every_matched_note():
    from gascar.export.sfz import SfzOptions, key_zones, plan

    synth, physical = _additive_voice()
    notes = [{"target": f"tone_{n}_v100.wav", "f0_hz": note_to_hz(n), "velocity": 100} for n in ("C1", "G2", "C4", "F#6")]
    preset = Preset("additive", synth.params.values_to_json(physical), match={"target": "tone", "notes": notes})
    preset = preset.with_render(f0_hz=note_to_hz("C4"))
    center, low, high, zones, _ = plan(preset, SfzOptions())
    assert center == 60 and (low, high) == (24, 90)  # beyond the default two octaves, out to C1 and F#6
    assert {24, 43, 60, 90} <= {z.keycenter for z in zones}
    assert [k for z in zones for k in range(z.lokey, z.hikey + 1)] == list(range(low, high + 1))
    center, low, high, zones, _ = plan(preset, SfzOptions(low_key=40, high_key=80))  # a range the user set stays
    assert (low, high) == (40, 80) and 43 in {z.keycenter for z in zones} and 24 not in {z.keycenter for z in zones}
    plain = key_zones(60, 36, 84, 3)
    assert key_zones(60, 36, 84, 3, ()) == plain and all((z.keycenter - 60) % 3 == 0 for z in plain)


def test_a_voice_built_from_analysis_is_built_from_the_reference_note(instrument, tmp_path):
    obj = InstrumentObjective(instrument, get_synth("spectral"))
    assert obj.synth.from_target
    g = obj.start_genomes()[0]
    preset = obj.preset(g, budget=10)
    assert preset.voice == obj.synth.voice_json()
    back = Preset.load(preset.save(tmp_path / "v.preset.json"))
    expected = obj.render(g[None, :])[0] * np.float32(preset.render.gain)
    assert np.allclose(back.render_audio(), expected, atol=1e-6)

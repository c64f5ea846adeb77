"""The staged instrument match (gascar.staging): the reference note alone first, then every note.

Tiny budgets and populations, two synths, short notes: the machinery (the pairing with a one-note match, the switch's
re-scoring, resume across it, jobs), not the quality.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_instrument import write_notes

import gascar.matching as gm
from gascar.errors import EvolutionError
from gascar.evolve import load_checkpoint
from gascar.instrument import load_instrument
from gascar.instrument_objective import InstrumentObjective
from gascar.objective import Objective
from gascar.synths import get_synth

SYNTHS = ["additive", "fm"]
SMALL = dict(synth="auto", budget=200, seed=4, population=8, evolution={"hall_of_fame": 4}, handle_signals=False)


@pytest.fixture(autouse=True)
def _two_synths(tmp_path, monkeypatch):
    monkeypatch.setenv("GASCAR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(gm, "_synth_names", lambda synth: list(SYNTHS) if synth == "auto" else [synth])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return sorted(write_notes(tmp_path_factory.mktemp("staged") / "tone", duration_s=0.25))


def _stages(result):
    return [r.get("stage") for r in result.history]


def test_the_first_stage_is_a_one_note_match_of_the_reference_note(files):
    staged = gm.match(files, n_jobs=1, **SMALL)
    inst = load_instrument(files)
    ref = inst.files[inst.reference]
    alone = gm.match(ref.path, f0_hz=float(inst.notes[inst.reference].f0_hz), n_jobs=1, **SMALL)
    first = [r for r in staged.history if r.get("stage") == "reference"]
    assert first and "all" in _stages(staged)
    keys = ("key", "generation", "evaluations", "best", "median")
    assert [{k: r[k] for k in keys} for r in first] == [{k: r[k] for k in keys} for r in alone.history[: len(first)]]
    assert staged.synth == alone.synth  # the synth was picked on the reference note, as the one-note match picks it
    assert staged.evaluations == 200 and len(staged.preset.match["notes"]) == len(files)


def test_the_switch_scores_everything_kept_again_on_every_note(files, tmp_path):
    ck = tmp_path / "s.ckpt"
    res = gm.match(files, n_jobs=1, outputs=gm.MatchOutputs(checkpoint=ck), **SMALL)
    state = load_checkpoint(ck, "match")
    assert state["stage"] == "all"
    inst = load_instrument(files)
    for name, ev in state["evolutions"].items():
        obj = InstrumentObjective(inst, get_synth(name))
        assert ev.genes.n_genes == obj.n_genes
        hof_g, hof_f = ev.hall_of_fame()
        assert np.allclose(obj(hof_g), hof_f)
        assert ev.best_fitness == pytest.approx(float(obj(ev.best_genome[None, :])[0]))
        if name == res.synth:  # the survivor: its whole population, scored on every note
            assert ev.genomes.shape[0] and np.allclose(obj(ev.genomes), ev.fitness)
    assert res.fitness == pytest.approx(float(InstrumentObjective(inst, get_synth(res.synth))(res.genome[None, :])[0]))


def test_from_reference_keeps_the_voice_and_plays_the_reference_note_alike(files):
    inst = load_instrument(files)
    synth = get_synth("additive")
    obj = InstrumentObjective(inst, synth)
    one = Objective(inst.notes[inst.reference], synth)
    g = np.random.default_rng(0).random((3, one.n_genes))
    mapped = obj.from_reference(g)
    assert mapped.shape == (3, obj.n_genes)
    assert np.array_equal(mapped[:, : synth.n_genes], g[:, : synth.n_genes])
    kb = slice(synth.n_genes, obj.n_voice_genes)
    assert np.allclose(mapped[:, kb], obj.space.default_genome()[kb])  # keyboard parameters neutral
    assert np.allclose(obj.render(mapped), one.render(g), atol=1e-5)  # the reference note sounds as in its own match
    with pytest.raises(Exception, match="genes"):
        obj.from_reference(g[:, :-1])


def test_resume_across_the_switch_gives_the_uninterrupted_result(files, tmp_path, monkeypatch):
    full = gm.match(files, n_jobs=1, **SMALL)
    n_first = _stages(full).count("reference")
    real = gm.run_steps
    for stop_after, stage in ((n_first - 2, "reference"), (n_first + 2, "all")):
        def cut_short(evolution, *args, should_stop=None, calls={"n": 0}, stop_after=stop_after, **kw):  # noqa: B006
            def stop():
                calls["n"] += 1
                return calls["n"] > stop_after

            return real(evolution, *args, should_stop=stop, **kw)

        ck = tmp_path / f"cut{stop_after}.ckpt"
        monkeypatch.setattr(gm, "run_steps", cut_short)
        cut = gm.match(files, n_jobs=1, outputs=gm.MatchOutputs(checkpoint=ck), **SMALL)
        monkeypatch.setattr(gm, "run_steps", real)
        assert cut.interrupted is not None and cut.evaluations < full.evaluations
        assert load_checkpoint(ck, "match")["stage"] == stage
        assert len(cut.preset.match["notes"]) == len(files)  # cut on the reference note: scored on every note all the same
        resumed = gm.match(resume=ck, n_jobs=1, handle_signals=False)
        assert resumed.fitness == full.fitness and np.array_equal(resumed.genome, full.genome)
        assert resumed.evaluations == full.evaluations and _stages(resumed) == _stages(full)


def test_same_seed_same_result_with_one_or_two_jobs(files):
    one = gm.match(files, n_jobs=1, **SMALL)
    two = gm.match(files, n_jobs=2, **SMALL)
    assert one.fitness == two.fitness and np.array_equal(one.genome, two.genome) and one.synth == two.synth


def test_unstaged_and_one_synth_and_small_budgets(files, tone_wav):
    unstaged = gm.match(files, n_jobs=1, staged=False, **{k: v for k, v in SMALL.items()})
    assert set(_stages(unstaged)) == {None}  # every note from the start, as before staging
    small = gm.match(files, n_jobs=1, **dict(SMALL, budget=60))
    assert set(_stages(small)) == {None}  # no room to carry the runs over: every note from the start
    one = gm.match(files, n_jobs=1, **dict(SMALL, synth="additive"))
    first = _stages(one).count("reference")
    assert first and first < len(one.history) and one.evaluations == 200  # one synth: half the budget on the reference
    with pytest.raises(EvolutionError, match="several files"):
        gm.match(tone_wav, staged=True, budget=20, handle_signals=False)


def test_heldout_instruments_are_named_for_the_instrument_benchmark():
    from gascar.bench.heldout import HELDOUT_INSTRUMENTS, instrument_notes
    from gascar.instrument import parse_name

    shared_programs = {0, 4, 42, 56, 62, 73}
    assert 4 <= len(HELDOUT_INSTRUMENTS) <= 6
    for name, program, midi_notes, soft in HELDOUT_INSTRUMENTS:
        assert program not in shared_programs and len(midi_notes) == 5 and list(midi_notes) == sorted(midi_notes)
        notes = instrument_notes(name, program, midi_notes, soft)
        assert len(notes) == 5 + soft
        parsed = [parse_name(n.name + ".wav") for n in notes]
        assert all(p[0] == name and p[1] is not None for p in parsed)
        assert [p[2] for p in parsed] == [100] * 5 + [40] * soft
        assert all(n.velocity == p[2] for n, p in zip(notes, parsed))


def test_a_batch_of_instruments_runs_staged(files, tmp_path):
    import json
    import shutil

    from gascar.batch import BatchOptions, run_batch

    root = tmp_path / "insts" / "tone"
    root.mkdir(parents=True)
    for f in files:
        shutil.copy(f, root / f.name)
    match = gm.MatchOptions(**{k: v for k, v in SMALL.items() if k != "handle_signals"})
    run_batch(tmp_path / "insts", tmp_path / "out", BatchOptions(match=match, instruments=True, n_jobs=1, progress=False))
    preset = json.loads((tmp_path / "out" / "tone.preset.json").read_text(encoding="utf-8"))
    history = json.loads((tmp_path / "out" / "tone.history.json").read_text(encoding="utf-8"))
    records = history if isinstance(history, list) else history.get("history", history.get("generations", []))
    assert {r.get("stage") for r in records} == {"reference", "all"} and len(preset["match"]["notes"]) == len(files)


def test_a_checkpoint_written_before_staging_resumes_as_it_began(files, tmp_path, monkeypatch):
    """Its match scored every note with their plain mean (the default then): resumed, it still does."""
    from dataclasses import replace

    from gascar.evolve.checkpoint import save_checkpoint

    three = [f for f in files if "_v50" not in f.name]  # C3 C4 C5: keys weighs them 1:2:1, the mean alike
    old = dict(SMALL, staged=False, aggregate="mean")
    full = gm.match(three, n_jobs=1, **old)
    real = gm.run_steps

    def cut_short(evolution, *args, should_stop=None, calls={"n": 0}, **kw):  # noqa: B006
        def stop():
            calls["n"] += 1
            return calls["n"] > 6

        return real(evolution, *args, should_stop=stop, **kw)

    ck = tmp_path / "old.ckpt"
    monkeypatch.setattr(gm, "run_steps", cut_short)
    gm.match(three, n_jobs=1, outputs=gm.MatchOutputs(checkpoint=ck), **old)
    monkeypatch.setattr(gm, "run_steps", real)
    state = load_checkpoint(ck, "match")
    del state["stage"]  # as written before staging: no stage, no aggregate named (the mean was the default)
    state["options"] = replace(state["options"], staged=None, aggregate=None)
    save_checkpoint(ck, "match", state)
    resumed = gm.match(resume=ck, n_jobs=1, handle_signals=False)
    assert resumed.preset.match["aggregate"] == "mean"
    assert resumed.fitness == full.fitness and np.array_equal(resumed.genome, full.genome)

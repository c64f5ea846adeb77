"""gascar.match() (gascar.matching): successive halving, outputs, top-N, seeds, resume (stand-in objective).

These tests use the stand-in objective of conftest.py (log-spectrum
distance of real synth renders), so they check the match machinery, not
the fitness; tests/test_match_real.py runs the real pipeline end to end.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from conftest import F0, SR

import gascar.matching as gm
from gascar.errors import EvolutionError, OutputError
from gascar.preset import Preset
from gascar.synths import auto_synths, get_synth


@pytest.fixture()
def target_wav(tmp_path):
    synth = get_synth("subtractive")
    genome = np.random.default_rng(7).random((1, synth.n_genes))
    audio = synth.render(genome, F0, int(0.3 * SR), SR, hold_s=0.18)[0]
    path = tmp_path / "target.wav"
    sf.write(str(path), audio, SR, subtype="FLOAT")
    return path


def test_halving_rounds():
    assert [gm.halving_rounds(n) for n in (1, 2, 3, 4, 5, 8)] == [1, 2, 3, 3, 4, 4]


def test_match_single_synth_writes_preset_render_and_top(standin, target_wav, tmp_path):
    outputs = gm.default_outputs(target_wav, preset=tmp_path / "out" / "t.preset.json", top=3)
    result = gm.match(target_wav, synth="subtractive", budget=400, seed=1, n_jobs=1, outputs=outputs, handle_signals=False)
    assert result.evaluations <= 400 and result.synth == "subtractive"
    names = sorted(p.name for p in result.files)
    assert names == ["t.2.preset.json", "t.2.render.wav", "t.3.preset.json", "t.3.render.wav", "t.preset.json", "t.render.wav"]
    docs = [json.loads((tmp_path / "out" / n).read_text()) for n in ("t.preset.json", "t.2.preset.json", "t.3.preset.json")]
    assert [d["match"]["rank"] for d in docs] == [1, 2, 3]
    assert docs[0]["match"]["fitness"] == pytest.approx(result.fitness)
    assert docs[0]["match"]["fitness"] <= docs[1]["match"]["fitness"] <= docs[2]["match"]["fitness"]
    params = [tuple(sorted(d["params"].items())) for d in docs]
    assert len(set(params)) == 3  # the top presets differ
    loaded = Preset.load(tmp_path / "out" / "t.preset.json")
    assert loaded.match["seed"] == result.seed and loaded.match["evaluations"] == result.evaluations
    audio, sr = sf.read(str(tmp_path / "out" / "t.render.wav"))
    assert sr == SR and audio.shape == (int(0.3 * SR),)


def test_auto_spends_the_budget_by_successive_halving(standin, target_wav):
    result = gm.match(target_wav, synth="auto", budget=900, seed=2, n_jobs=1, handle_signals=False)
    names = auto_synths()
    assert set(result.standings) == set(names)
    assert result.evaluations <= 900
    per_synth = {}
    for r in result.history:
        per_synth[r["key"]] = r["evaluations"]
    if len(names) > 1:
        assert per_synth[result.synth] == max(per_synth.values())  # the winner got the most
    assert result.fitness == min(result.standings.values())


def test_a_synth_alone_starts_as_it_does_inside_auto(standin, target_wav):
    auto = gm.match(target_wav, synth="auto", budget=2400, seed=3, n_jobs=1, handle_signals=False)
    alone = gm.match(target_wav, synth="fm", budget=2400, seed=3, n_jobs=1, handle_signals=False)
    inside = [(r["evaluations"], r["best"], r["median"]) for r in auto.history if r["key"] == "fm"][:2]
    assert len(inside) == 2 and inside == [(r["evaluations"], r["best"], r["median"]) for r in alone.history[:2]]


def test_seeded_match_is_reproducible_across_job_counts(standin, target_wav):
    a = gm.match(target_wav, synth="subtractive", budget=200, seed=4, n_jobs=1, handle_signals=False)
    b = gm.match(target_wav, synth="subtractive", budget=200, seed=4, n_jobs=2, handle_signals=False)
    assert np.array_equal(a.genome, b.genome) and a.fitness == b.fitness
    assert a.preset.params == b.preset.params


def test_match_resume_equals_uninterrupted(standin, target_wav, tmp_path, monkeypatch):
    full = gm.match(target_wav, synth="auto", budget=500, seed=9, n_jobs=1, handle_signals=False)
    ck = tmp_path / "m.ckpt"
    outputs = gm.MatchOutputs(checkpoint=ck)
    calls = {"n": 0}
    real = gm.run_steps

    def cut_short(*args, should_stop=None, **kw):
        def stop():
            calls["n"] += 1
            return calls["n"] > 7

        return real(*args, should_stop=stop, **kw)

    monkeypatch.setattr(gm, "run_steps", cut_short)
    cut = gm.match(target_wav, synth="auto", budget=500, seed=9, n_jobs=1, outputs=outputs, handle_signals=False)
    assert cut.stop_reason == "interrupted" and cut.evaluations < 500 and ck.exists()
    monkeypatch.setattr(gm, "run_steps", real)
    resumed = gm.match(resume=ck, n_jobs=1, handle_signals=False)
    assert resumed.evaluations == full.evaluations
    assert np.array_equal(resumed.genome, full.genome) and resumed.synth == full.synth
    assert resumed.fitness == full.fitness


def test_match_rejects_bad_settings(standin, target_wav):
    with pytest.raises(EvolutionError, match="unknown match settings"):
        gm.match(target_wav, budgett=10)
    with pytest.raises(EvolutionError, match="budget"):
        gm.match(target_wav, budget=0)
    with pytest.raises(OutputError, match="top"):
        gm.MatchOutputs(top=0)
    with pytest.raises(EvolutionError, match="restart_after"):
        gm.match(target_wav, restart_after=-1)


def test_restart_after_sets_the_engines_restart_stall():
    assert gm.MatchOptions().config().restart_stall == 30  # the default engine restarts
    assert gm.MatchOptions(restart_after=12).config().restart_stall == 12
    assert gm.MatchOptions(restart_after=0).config().restart_stall is None  # 0: never
    assert gm.MatchOptions(engine="ga").config().restart_stall is None  # the plain GA never restarts


def test_time_limit_generations_and_plain_ga_top(standin, target_wav, tmp_path):
    quick = gm.match(target_wav, synth="subtractive", budget=100_000, time_limit_s=0.5, seed=1, n_jobs=1, handle_signals=False)
    assert quick.stop_reason == "time" and quick.evaluations < 100_000
    few = gm.match(target_wav, synth="subtractive", budget=100_000, generations=3, population=8, seed=1, n_jobs=1,
                   handle_signals=False)
    assert len(few.history) == 3 and 8 < few.evaluations <= 24 and few.stop_reason == "generations"
    outputs = gm.MatchOutputs(preset=tmp_path / "ga.preset.json", top=3)
    ga = gm.match(target_wav, synth="subtractive", engine="ga", budget=300, seed=1, n_jobs=1, outputs=outputs, handle_signals=False)
    assert len(ga.others) >= 2
    params = {tuple(sorted(p.params.items())) for p in [ga.preset, *ga.others[:2]]}
    assert len(params) == 3
    assert [p.name for p in ga.files] == ["ga.preset.json", "ga.2.preset.json", "ga.3.preset.json"]


def test_public_match_is_the_function_even_after_the_module_is_imported():
    import gascar

    assert gascar.match is gm.match
    assert gascar.MatchResult is gm.MatchResult
    assert callable(gascar.match)

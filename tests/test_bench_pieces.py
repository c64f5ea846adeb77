"""The benchmark's own pieces, on toy objectives and tiny budgets."""

import json

import numpy as np
import pytest
from conftest import tone

from gascar.bench import judge as J
from gascar.bench.match import (
    BudgetedObjective,
    _run_cmaes,
    _run_random,
    format_table,
    load_runs,
    summarise,
)


class Sphere:
    """A toy objective: distance to a fixed point, batched."""

    n_genes = 6

    def __init__(self):
        self.calls = 0
        self.optimum = np.linspace(0.2, 0.8, self.n_genes)

    def __call__(self, g):
        self.calls += len(g)
        assert np.all((g >= 0) & (g <= 1))
        return np.sum((g - self.optimum) ** 2, axis=1)


@pytest.mark.parametrize("runner", [_run_random, _run_cmaes])
def test_methods_spend_exactly_the_budget(runner):
    obj = Sphere()
    b = BudgetedObjective(obj, 777)
    runner(b, np.random.default_rng(0))
    assert b.evaluations == 777 == obj.calls
    assert b.exhausted and b.best_genome is not None
    assert b.best_fitness == pytest.approx(float(obj(b.best_genome[None])[0]))
    assert sorted(b.snapshots) == [100, 250, 500]


def test_cmaes_beats_random_on_a_sphere():
    res = {}
    for name, runner in [("random", _run_random), ("cmaes", _run_cmaes)]:
        b = BudgetedObjective(Sphere(), 1500)
        runner(b, np.random.default_rng(1))
        res[name] = b.best_fitness
    assert res["cmaes"] < res["random"]


def test_budgeted_objective_truncates_a_batch():
    b = BudgetedObjective(Sphere(), 10)
    f = b(np.full((25, 6), 0.5))
    assert np.isfinite(f[:10]).all() and np.isinf(f[10:]).all()
    assert b.evaluations == 10


def test_judge_identical_is_zero_and_level_free():
    x = tone(220.0, 1.0)
    d = J.judge(x, x, 22050)
    assert d["lsd_db"] == pytest.approx(0.0, abs=1e-9) and d["mfcc13_mae"] == pytest.approx(0.0, abs=1e-6)
    d2 = J.judge(x, 0.1 * x, 22050)
    assert d2["lsd_db"] < 1e-4 and d2["mfcc13_mae"] < 1e-3


def test_judge_grows_with_detuning():
    x = tone(220.0, 1.0)
    ds = [J.judge(x, tone(220.0 * 2 ** (c / 1200), 1.0), 22050)["lsd_db"] for c in (5, 50, 300)]
    assert ds[0] < ds[1] < ds[2]


def fake_records():
    recs = []
    for method, base in [("gascar", 1.0), ("random", 5.0)]:
        for s in range(3):
            recs.append({"key": f"{method}|{s}", "method": method, "suite": "indomain", "target": "fm-00", "synth": "fm",
                         "budget": 1000, "seed": s, "lsd_db": base + s, "mfcc13_mae": 2 * base, "mfcc20_mae": 3 * base,
                         "evals_per_s": 500.0, "seconds": 2.0, "param_error": 0.1,
                         "curve": [{"evaluations": 100, "lsd_db": base + 5}, {"evaluations": 1000, "lsd_db": base + s}]})
    return recs


def test_summary_and_table():
    rows = summarise(fake_records(), near_perfect_db=2.5)
    by = {r["method"]: r for r in rows}
    assert by["gascar"]["lsd_db"] == 2.0 and by["gascar"]["near_perfect"] == pytest.approx(2 / 3)
    table = format_table(rows, 2.5)
    assert "| indomain | fm | 1000 | gascar | 3 | 2.00 [1.50–2.50]" in table
    assert table.count("\n|") == 3  # separator and two rows


def test_resume_reads_finished_runs_and_ignores_a_torn_line(tmp_path):
    p = tmp_path / "runs.jsonl"
    recs = fake_records()
    p.write_text("".join(json.dumps(r) + "\n" for r in recs) + '{"key": "torn', encoding="utf-8")
    assert set(load_runs(p)) == {r["key"] for r in recs}


def test_a_tiny_benchmark_runs_end_to_end_then_resumes_without_rerunning(tmp_path, monkeypatch):
    from pathlib import Path

    from gascar.bench import match as bm

    monkeypatch.setenv("GASCAR_CACHE_DIR", str(tmp_path / "cache"))
    real = tmp_path / "real"
    real.mkdir()
    import soundfile as sf

    sf.write(str(real / "tone.wav"), tone(220.0, 0.4), 22050)
    config = bm.BenchConfig(out_dir=Path(tmp_path / "out"), methods=("gascar", "random"), budgets=(60,), seeds=1,
                            synths=("additive",), per_synth=1, real_dir=real, real_synth="additive", n_jobs=1,
                            ablation_budgets=(), real_budgets=None)
    records = bm.run_bench(config, progress=False)
    assert len(records) == 4  # 2 methods x (1 in-domain + 1 real target) x 1 budget x 1 seed
    assert all(r["evaluations"] == 60 and np.isfinite(r["lsd_db"]) for r in records)
    assert all("param_error" in r for r in records if r["suite"] == "indomain")
    out = config.out_dir
    table = (out / "bench-match.md").read_text(encoding="utf-8")
    assert "| indomain | additive | 60 | gascar |" in table and "| real | additive | 60 | random |" in table
    saved = json.loads((out / "bench-match.json").read_text(encoding="utf-8"))
    assert saved["runs"] and saved["references"]["additive"]["detune_20c"] > 0
    assert "detuned 5 cents" in table and "Reach of the match space" in table
    assert set(saved["reach"]) == {"additive-00"} and isinstance(saved["reach"]["additive-00"]["reachable"], bool)
    assert (out / "convergence.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lines = (out / "runs.jsonl").read_text(encoding="utf-8").splitlines()
    monkeypatch.setattr(bm, "run_one", lambda *a, **k: pytest.fail("a finished run was run again"))
    again = bm.run_bench(config, progress=False)
    assert [r["key"] for r in again] == [r["key"] for r in records]
    assert (out / "runs.jsonl").read_text(encoding="utf-8").splitlines() == lines


def test_plan_runs_ablations_only_where_they_differ_and_real_targets_at_their_budgets(tmp_path):
    from pathlib import Path

    import soundfile as sf

    from gascar.bench import match as bm

    real = tmp_path / "real"
    real.mkdir()
    sf.write(str(real / "a.wav"), tone(), 22050)
    config = bm.BenchConfig(out_dir=Path(tmp_path / "out"),
                            methods=("gascar", "gascar-nospec", "gascar-spec", "gascar-minimal", "gascar-norefine", "random"),
                            budgets=(100, 400), seeds=2, synths=("fm", "modular"), per_synth=1, real_dir=real,
                            real_synth="fm", ablation_budgets=(400,), real_budgets=(100,))
    runs = {(s.method, s.target.name, s.budget) for s in bm.plan(config)}
    assert ("gascar-nospec", "modular-00", 400) in runs and ("gascar-spec", "fm-00", 400) in runs
    assert not any(m == "gascar-nospec" and t == "fm-00" for m, t, _ in runs)  # speciation is off there anyway
    assert not any(m == "gascar-spec" and t in ("modular-00", "subtractive-00") for m, t, _ in runs)
    assert {t for m, t, _ in runs if m == "gascar-norefine"} == {"modular-00"}  # elsewhere it is the ga method
    assert {t for m, t, _ in runs if m == "gascar-minimal"} == {"modular-00"}
    assert not any(m.startswith("gascar-") and b != 400 for m, _, b in runs)
    assert {b for m, t, b in runs if t == "a.wav"} == {100}
    assert len(bm.plan(config)) == 2 * len(runs)  # two seeds each


def test_norestart_runs_only_in_domain_where_a_restart_can_happen(tmp_path):
    from pathlib import Path

    import soundfile as sf

    from gascar.bench import match as bm

    real = tmp_path / "real"
    real.mkdir()
    sf.write(str(real / "a.wav"), tone(), 22050)
    config = bm.BenchConfig(out_dir=Path(tmp_path / "out"), methods=("gascar", "gascar-norestart"), budgets=(1000, 5000, 20000),
                            seeds=1, synths=("fm",), per_synth=1, real_dir=real, real_synth="fm", real_budgets=None)
    runs = {(s.method, s.target.name, s.budget) for s in bm.plan(config)}
    assert {(t, b) for m, t, b in runs if m == "gascar-norestart"} == {("fm-00", 5000), ("fm-00", 20000)}
    assert not bm._restarts_possible(1000) and bm._restarts_possible(20000)


def test_in_domain_targets_of_a_synth_do_not_depend_on_the_other_synths(tmp_path):
    from gascar.bench.match import make_indomain_targets

    every = {t.name: t.genome for t in make_indomain_targets(tmp_path / "a", ["subtractive", "fm", "additive"], 1)}
    alone = make_indomain_targets(tmp_path / "b", ["additive"], 1)
    assert alone[0].name == "additive-00" and alone[0].genome == every["additive-00"]


def test_another_target_seed_gives_held_out_sounds_that_never_mix_with_the_benchmarks(tmp_path, monkeypatch):
    from pathlib import Path

    from gascar.bench import match as bm
    from gascar.cli import cli

    folder = tmp_path / "out" / "indomain-targets"
    bench = bm.make_indomain_targets(folder, ["additive"], 2)
    held = bm.make_indomain_targets(folder, ["additive"], 2, seed=1)
    assert [t.name for t in bench] == ["additive-00", "additive-01"]
    assert [t.name for t in held] == ["additive-s1-00", "additive-s1-01"]
    assert all(h.genome != b.genome for h in held for b in bench)
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{t.name}.wav" for t in bench + held)
    config = bm.BenchConfig(out_dir=Path(tmp_path / "out"), suites=("indomain",), methods=("random",), budgets=(100,), seeds=1,
                            synths=("additive",), per_synth=2, target_seed=1)
    assert [s.target.name for s in bm.plan(config)] == ["additive-s1-00", "additive-s1-01"]
    # The CLI option reaches the runs (bench all shares the options; bench defaults has its own).
    from click.testing import CliRunner

    monkeypatch.setenv("GASCAR_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "cli"
    result = CliRunner().invoke(cli, ["bench", "match", "--suite", "indomain", "--method", "random", "--budget", "60", "--seeds", "1",
                                      "--synth", "additive", "--per-synth", "1", "--target-seed", "1", "--jobs", "1", "-q", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert [r["target"] for r in bm.load_runs(out / "runs.jsonl").values()] == ["additive-s1-00"]
    assert "--target-seed" in CliRunner().invoke(cli, ["bench", "defaults", "--help"]).output


def test_oracle_rescores_a_targets_own_genes_and_flags_notes_out_of_reach(tmp_path, monkeypatch):
    from dataclasses import replace

    from gascar.bench.match import make_indomain_targets, oracle

    monkeypatch.setenv("GASCAR_CACHE_DIR", str(tmp_path / "cache"))
    targets = make_indomain_targets(tmp_path / "t", ["subtractive", "fm", "additive"], 1)
    for t in targets:
        r = oracle(t)
        if r["reachable"]:
            assert r["lsd_db"] < 1e-6 and r["fitness"] < 1e-6  # its own genes reproduce it exactly
    # Claim the sound was made four octaves below its detected pitch: no pitch gene reaches that.
    pitched = next(t for t in targets if oracle(t)["detected_f0_hz"])
    wrong = replace(pitched, f0_hz=oracle(pitched)["detected_f0_hz"] / 16)
    far = oracle(wrong)
    assert not far["reachable"] and far["lsd_db"] > 3


def test_default_matches_of_in_domain_sounds_are_judged_tabled_and_resumed(tmp_path, monkeypatch):
    from gascar.bench import defaults as bd

    monkeypatch.setenv("GASCAR_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "out"
    records = bd.bench_defaults(out, synths=["additive"], per_synth=1, seeds=2, budget=150, n_jobs=1, progress=False)
    assert [r["target"] for r in records] == ["additive-00", "additive-00"] and [r["seed"] for r in records] == [0, 1]
    for r in records:
        assert r["made_by"] == "additive" and r["synth"] in ("subtractive", "fm", "additive", "wavetable", "modular", "spectral")
        assert r["evaluations"] <= 150 and np.isfinite(r["lsd_db"]) and r["lsd_db"] >= 0 and np.isfinite(r["fitness"])
    table = (out / "bench-defaults.md").read_text(encoding="utf-8")
    assert "| additive | 2 |" in table and "| **all** | 2 |" in table and "near-perfect: judged LSD at most 3 dB" in table
    lines = (out / "defaults-runs.jsonl").read_text(encoding="utf-8").splitlines()
    original = bd.run_default_match
    monkeypatch.setattr(bd, "run_default_match", lambda *a, **k: pytest.fail("a finished match was run again"))
    again = bd.bench_defaults(out, synths=["additive"], per_synth=1, seeds=2, budget=150, n_jobs=1, progress=False)
    assert again == records and (out / "defaults-runs.jsonl").read_text(encoding="utf-8").splitlines() == lines
    # A seeded default match repeats: the same record but for its time.
    target = bd.make_indomain_targets(out / "indomain-targets", ["additive"], 1)[0]
    repeat = original(target, 0, budget=150, n_jobs=1)
    assert {k: v for k, v in repeat.items() if k != "seconds"} == {k: v for k, v in records[0].items() if k != "seconds"}


def test_basin_disturbs_answers_refines_them_and_resumes(tmp_path, monkeypatch):
    from gascar.bench import basin as bb
    from gascar.errors import BenchmarkError

    monkeypatch.setenv("GASCAR_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "out"
    records = bb.bench_basin(out, synths=["additive"], per_synth=1, sigmas=(0.0, 0.2), seeds=2, budget=80, n_jobs=1, progress=False)
    assert [(r["sigma"], r["seed"]) for r in records] == [(0.0, 0), (0.0, 1), (0.2, 0), (0.2, 1)]
    for r in records:
        assert r["target"] == "additive-00" and r["evaluations"] <= 80 and r["answer_fitness"] < 1e-6
        assert r["fitness"] <= r["start_fitness"] and np.isfinite(r["lsd_db"])
    # No disturbance: the start is the answer itself, and refinement cannot leave it.
    assert records[0]["start_lsd_db"] < 1e-6 and records[0]["fitness"] < 1e-6
    # A disturbance moves the sound, differently for each seed.
    assert records[2]["start_fitness"] > 0.01 and records[2]["start_fitness"] != records[3]["start_fitness"]
    table = (out / "bench-basin.md").read_text(encoding="utf-8")
    assert "| additive | 1 |" in table and "| additive-00 | 2/2 |" in table
    lines = (out / "basin-runs.jsonl").read_text(encoding="utf-8").splitlines()
    monkeypatch.setattr(bb, "run_basin", lambda *a, **k: pytest.fail("a finished run was run again"))
    assert bb.bench_basin(out, synths=["additive"], per_synth=1, sigmas=(0.0, 0.2), seeds=2, budget=80, n_jobs=1,
                          progress=False) == records
    assert (out / "basin-runs.jsonl").read_text(encoding="utf-8").splitlines() == lines
    with pytest.raises(BenchmarkError, match="within 0 .. 0.5"):
        bb.bench_basin(out, synths=["additive"], sigmas=(0.7,), progress=False)


def test_basin_leaves_out_unreachable_targets_and_says_so(tmp_path, monkeypatch):
    from dataclasses import replace

    from gascar.bench import basin as bb
    from gascar.bench.match import make_indomain_targets, oracle

    monkeypatch.setenv("GASCAR_CACHE_DIR", str(tmp_path / "cache"))
    target = make_indomain_targets(tmp_path / "t", ["additive"], 1)[0]
    wrong = replace(target, f0_hz=oracle(target)["detected_f0_hz"] / 16)  # four octaves below: out of the pitch genes' reach
    assert bb.run_basin(wrong, 0.01, 0, 50) is None
    reached = bb.run_basin(target, 0.01, 0, 50)
    table = bb.format_table([reached, {"target": wrong.name + "-low", "synth": "additive", "sigma": 0.01, "seed": 0,
                                       "budget": 50, "unreachable": True}])
    assert "Left out (unreachable" in table and "additive-00-low" in table
    # Nothing reachable: a sentence, not empty tables.
    only = bb.format_table([{"target": "x", "synth": "fm", "sigma": 0.01, "seed": 0, "budget": 50, "unreachable": True}])
    assert only.startswith("No target whose note the pitch genes reach") and "| synth |" not in only and "x." in only


def test_bench_basin_command_runs_held_out_targets_and_rejects_a_bad_sigma(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from gascar.bench.match import load_runs
    from gascar.cli import cli

    monkeypatch.setenv("GASCAR_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "cli"
    result = CliRunner().invoke(cli, ["bench", "basin", "--synth", "additive", "--per-synth", "1", "--sigma", "0.05", "--seeds", "1",
                                      "--budget", "40", "--target-seed", "1", "--jobs", "1", "-q", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "| additive-s1-00 |" in result.output and (out / "bench-basin.md").is_file()
    assert [r["target"] for r in load_runs(out / "basin-runs.jsonl").values()] == ["additive-s1-00"]
    bad = CliRunner().invoke(cli, ["bench", "basin", "--sigma", "0.9", "-o", str(out)])
    assert bad.exit_code == 2 and "--sigma" in bad.output and "Traceback" not in bad.output


def test_bench_weights_are_validated_spelt_out_and_kept_apart_from_the_defaults_runs(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from gascar.bench.match import RunSpec, load_runs, make_indomain_targets, run_one
    from gascar.cli import cli

    monkeypatch.setenv("GASCAR_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "cli"
    args = ["bench", "basin", "--synth", "additive", "--per-synth", "1", "--sigma", "0.05", "--seeds", "1", "--budget", "20",
            "--jobs", "1", "-q", "-o", str(out)]
    assert CliRunner().invoke(cli, args).exit_code == 0
    result = CliRunner().invoke(cli, [*args, "--weights", "sot=0.5"])
    assert result.exit_code == 0, result.output
    runs = list(load_runs(out / "basin-runs.jsonl").values())
    assert len(runs) == 2 and "weights" not in runs[0]
    assert "sot=0.5" in runs[1]["weights"] and "mel=0.35" in runs[1]["weights"] and runs[1]["key"] != runs[0]["key"]
    bad = CliRunner().invoke(cli, [*args, "--weights", "pitch=1"])
    assert bad.exit_code == 2 and "unknown fitness components: pitch" in bad.output and "Traceback" not in bad.output
    # bench match: the objective searched is the weighted one; the record says so.
    target = make_indomain_targets(tmp_path / "t", ["additive"], 1)[0]
    plain, weighted = RunSpec("random", target, "additive", 20, 0), RunSpec("random", target, "additive", 20, 0, "sot=1")
    assert weighted.key == plain.key + "|weights=sot=1"
    rec = run_one(weighted)
    assert rec["weights"] == "sot=1" and rec["key"] == weighted.key


def test_pivot_marks_the_best_method_of_each_row():
    from gascar.bench.match import format_pivot

    rows = summarise(fake_records(), near_perfect_db=2.5)
    text = format_pivot(rows)
    assert "**1000 evaluations**" in text and "| suite | synth |" in text
    line = next(x for x in text.splitlines() if x.startswith("| indomain | fm |"))
    assert line.count("**") == 2  # one best per row


def test_update_readme_rewrites_only_the_marked_block_and_names_a_file_without_markers(tmp_path):
    from gascar.bench.match import README_BEGIN, README_END, update_readme
    from gascar.errors import BenchmarkError

    rows = summarise(fake_records(), near_perfect_db=3.0)
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\nBefore.\n\n{README_BEGIN}\n\nold table\n\n{README_END}\n\nAfter.\n", encoding="utf-8")
    update_readme(readme, rows)
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("# Title\n\nBefore.\n\n" + README_BEGIN) and text.endswith(README_END + "\n\nAfter.\n")
    assert "old table" not in text and "**1000 evaluations**" in text and "<details>" in text and "</details>" in text
    assert "| suite | synth | budget | method |" in text
    update_readme(readme, rows)
    assert readme.read_text(encoding="utf-8") == text  # rewriting is idempotent
    plain = tmp_path / "PLAIN.md"
    plain.write_text("no markers here\n", encoding="utf-8")
    with pytest.raises(BenchmarkError, match="PLAIN.md: has no benchmark block"):
        update_readme(plain, rows)
    assert plain.read_text(encoding="utf-8") == "no markers here\n"
    with pytest.raises(BenchmarkError, match="missing.md: cannot read it"):
        update_readme(tmp_path / "missing.md", rows)


def test_reference_table_shows_a_dash_where_one_target_has_no_other_preset_to_compare():
    from gascar.bench.match import format_references

    text = format_references({"fm": {"targets": 1, "detune_5c": 1.95, "detune_20c": 4.9, "presets_median": float("nan")}}, 3.0)
    assert "| fm | 1 | 1.95 | 4.90 | – | – |" in text and "nan" not in text

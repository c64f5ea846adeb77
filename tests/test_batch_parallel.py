"""Batch across processes: a Dask LocalCluster and joblib workers give the local run's results.

The LocalCluster test uses the real analysis and fitness when they are
installed, else it installs the stand-in objective of test_match.py in
every worker (``client.run``), so it runs wherever dask[distributed] is. The joblib-worker and shared-targets tests need the real
analysis and fitness (monkeypatching does not reach loky workers).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from conftest import F0, SR, STANDIN_CODE, install_standins

from gascar.batch import BatchOptions, run_batch
from gascar.matching import MatchOptions
from gascar.preset import Preset
from gascar.synths import get_synth

#: The real analysis and fitness are installed (else the stand-in objective is used where it can be).
REAL = all(importlib.util.find_spec(m) is not None for m in ("gascar.fitness", "gascar.analysis"))


@pytest.fixture(autouse=True)
def _analysis_cache_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("GASCAR_CACHE_DIR", str(tmp_path / "cache"))  # workers inherit it


def _tone(path: Path, seed: int, seconds: float = 0.3) -> Path:
    synth = get_synth("subtractive")
    genome = np.random.default_rng(seed).random((1, synth.n_genes))
    audio = synth.render(genome, F0, int(seconds * SR), SR, hold_s=0.6 * seconds)[0]
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), audio / max(1e-3, float(np.abs(audio).max())) * 0.8, SR, subtype="FLOAT")
    return path


def _results(out: Path, rows: list[dict]) -> list[tuple]:
    res = []
    for r in rows:
        params = Preset.load(out / r["preset"]).params if r["status"] == "ok" else None
        res.append((r["target"], r["status"], r["synth"], r["fitness"], r["evaluations"], r["seed"], params))
    return res


def test_local_cluster_batch_equals_the_local_run(tmp_path, monkeypatch):
    distributed = pytest.importorskip("distributed")
    lib = tmp_path / "lib"
    _tone(lib / "a.wav", 1)
    _tone(lib / "sub" / "b.wav", 2)
    (lib / "broken.wav").write_text("not audio")
    match = MatchOptions(synth="subtractive", budget=120, seed=11)
    if not REAL:
        install_standins(monkeypatch.setattr)
    local = run_batch(lib, tmp_path / "local", BatchOptions(match=match, n_jobs=1))
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
                                  silence_logs=40) as cluster, distributed.Client(cluster) as client:
        if not REAL:
            client.run(exec, STANDIN_CODE, {})
        remote = run_batch(lib, tmp_path / "dask", BatchOptions(match=match, scheduler=cluster.scheduler_address))
        pids = client.run(lambda: __import__("os").getpid())
    assert len(pids) == 2
    assert remote.exit_code == local.exit_code == 1
    assert _results(tmp_path / "dask", remote.rows) == _results(tmp_path / "local", local.rows)
    assert [r["status"] for r in remote.rows] == ["ok", "failed", "ok"]


def test_unreachable_scheduler_is_a_usage_error(tmp_path, monkeypatch):
    pytest.importorskip("distributed")
    import gascar.batch
    from gascar.cli import cli

    monkeypatch.setattr(gascar.batch, "CONNECT_TIMEOUT_S", 1.0)

    _tone(tmp_path / "lib" / "a.wav", 1)
    res = CliRunner().invoke(cli, ["batch", str(tmp_path / "lib"), "-o", str(tmp_path / "o"), "--scheduler", "tcp://127.0.0.1:9",
                                   "--budget", "10", "-q"])
    assert res.exit_code == 2 and "cannot reach the Dask scheduler" in res.output


@pytest.fixture()
def real():
    pytest.importorskip("gascar.fitness")
    pytest.importorskip("gascar.analysis")


def test_two_joblib_workers_give_the_sequential_results(real, tmp_path):
    lib = tmp_path / "lib"
    for i in range(3):
        _tone(lib / f"t{i}.wav", i)
    match = MatchOptions(synth="subtractive", budget=100, seed=3)
    one = run_batch(lib, tmp_path / "one", BatchOptions(match=match, n_jobs=1))
    two = run_batch(lib, tmp_path / "two", BatchOptions(match=match, n_jobs=2))
    assert one.exit_code == two.exit_code == 0
    assert _results(tmp_path / "two", two.rows) == _results(tmp_path / "one", one.rows)


def test_shared_targets_with_broken_files_then_a_rerun_does_nothing(real, shared_targets, tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    for name in ("calliope_c4_mono.wav", "piano_a3.flac"):
        (lib / name).write_bytes((shared_targets / name).read_bytes())
    (lib / "broken").mkdir()
    (lib / "broken" / "empty.wav").write_bytes(b"")
    (lib / "broken" / "truncated.wav").write_bytes((shared_targets / "cello_c3.wav").read_bytes()[:2000])
    (lib / "broken" / "text.ogg").write_text("hello")
    (lib / "README.txt").write_text("not a target")
    from gascar.cli import cli

    out = tmp_path / "out"
    args = ["batch", str(lib), "-o", str(out), "--synth", "subtractive", "--budget", "150", "--seed", "1", "-j", "2", "--report"]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 1, res.output
    assert "3 of 5 targets failed" in res.stderr
    doc = json.loads((out / "summary.json").read_text())
    by = {t["target"]: t for t in doc["targets"]}
    assert doc["ignored_files"] == 1
    for name in ("calliope_c4_mono.wav", "piano_a3.flac"):
        base = name.rsplit(".", 1)[0]
        assert by[name]["status"] == "ok" and np.isfinite(by[name]["fitness"])
        assert by[name]["f0_hz"] > 100 and 0.5 < by[name]["f0_confidence"] <= 1  # clear notes, pitch and confidence on the row
        assert Preset.load(out / f"{base}.preset.json").synth == "subtractive"
        assert sf.info(str(out / f"{base}.render.wav")).frames > 0 and (out / f"{base}.report.html").is_file()
        # the report's target copy is the target as analysed: as long as the render
        assert sf.info(str(out / f"{base}.target.wav")).frames == sf.info(str(out / f"{base}.render.wav")).frames
    for name in ("broken/empty.wav", "broken/truncated.wav", "broken/text.ogg"):
        assert by[name]["status"] == "failed" and by[name]["error"] and "internal error" not in by[name]["error"]
    assert "calliope_c4_mono.report.html" in (out / "index.html").read_text()
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 1 and "3 of 5 targets failed" in again.stderr
    doc2 = json.loads((out / "summary.json").read_text())
    assert all(t["reused"] for t in doc2["targets"] if t["status"] == "ok") and doc2["counts"]["reused"] == 2

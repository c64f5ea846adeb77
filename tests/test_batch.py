"""gascar batch: discovery, outputs, summaries, bad files, reruns, resume, Ctrl-C (stand-in objective, in process).

The stand-in objective of test_match.py keeps these fast; the real analysis
and fitness, joblib workers and a Dask LocalCluster are in test_batch_parallel.py.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from conftest import F0, SR, spawn_gascar

import gascar.matching as gm
from gascar.audio import file_sha256
from gascar.batch import BatchOptions, discover, fingerprint, run_batch, target_seed
from gascar.cli import cli
from gascar.errors import BatchError
from gascar.matching import MatchOptions
from gascar.preset import Preset
from gascar.synths import get_synth


def _tone(path: Path, seed: int, seconds: float = 0.3) -> Path:
    synth = get_synth("subtractive")
    genome = np.random.default_rng(seed).random((1, synth.n_genes))
    audio = synth.render(genome, F0, int(seconds * SR), SR, hold_s=0.6 * seconds)[0]
    path.parent.mkdir(parents=True, exist_ok=True)
    subtype = "PCM_16" if path.suffix == ".flac" else "FLOAT"
    sf.write(str(path), audio / max(1e-3, float(np.abs(audio).max())) * 0.8, SR, subtype=subtype)
    return path


@pytest.fixture()
def library(tmp_path):
    """Two good targets (one in a subfolder), two broken ones, a text file and a hidden resource fork."""
    lib = tmp_path / "lib"
    _tone(lib / "kick.wav", 1)
    _tone(lib / "keys" / "C#3 soft.wav", 2)
    (lib / "empty.wav").write_bytes(b"")
    (lib / "keys" / "text.flac").write_text("not audio at all")
    (lib / "notes.txt").write_text("readme")
    (lib / "keys" / "._kick.wav").write_bytes(b"\x00\x05\x16\x07")
    return lib


OPTS = BatchOptions(match=MatchOptions(synth="subtractive", budget=120, seed=5), n_jobs=1)


def test_discover_recurses_ignores_others_and_skips_the_output_folder(library):
    out = library / "out"
    _tone(out / "old.render.wav", 9)  # an earlier batch's render inside the library is no target
    _tone(library / "keys" / "kick.flac", 3)
    _tone(library / "keys" / "kick.wav", 4)  # same stem as kick.flac: both keep their extension
    items, ignored = discover(library, exclude=[out])
    assert [i.rel for i in items] == ["empty.wav", "keys/C#3 soft.wav", "keys/kick.flac", "keys/kick.wav", "keys/text.flac",
                                      "kick.wav"]
    assert [i.base for i in items] == ["empty", "keys/C#3 soft", "keys/kick.flac", "keys/kick.wav", "keys/text", "kick"]
    assert sorted(p.name for p in ignored) == ["._kick.wav", "notes.txt"]
    assert all(i.path.is_absolute() for i in items)
    with pytest.raises(BatchError, match="not a folder"):
        discover(library / "notes.txt")


def test_target_seeds_depend_only_on_batch_seed_and_path():
    a = target_seed(5, "keys/a.wav")
    assert a == target_seed(5, "keys/a.wav") and 0 <= a < 2**63
    assert len({a, target_seed(6, "keys/a.wav"), target_seed(5, "keys/b.wav")}) == 3
    o = MatchOptions(synth="fm", budget=100, seed=a)
    assert fingerprint(o, 1) == fingerprint(MatchOptions(synth="fm", budget=100, seed=a), 1)
    assert fingerprint(o, 2) != fingerprint(o, 1) != fingerprint(MatchOptions(synth="fm", budget=101, seed=a), 1)


def test_batch_writes_mirrored_outputs_summaries_and_records_bad_files(standin, library, tmp_path):
    out = tmp_path / "out"
    result = run_batch(library, out, OPTS)
    assert result.exit_code == 1 and result.ignored == 2 and result.seed == 5
    by = {r["target"]: r for r in result.rows}
    assert [r["target"] for r in result.rows] == ["empty.wav", "keys/C#3 soft.wav", "keys/text.flac", "kick.wav"]
    assert by["empty.wav"]["status"] == "failed" and "empty" in by["empty.wav"]["error"]
    assert by["keys/text.flac"]["status"] == "failed" and by["keys/text.flac"]["error"]
    for rel, base in (("kick.wav", "kick"), ("keys/C#3 soft.wav", "keys/C#3 soft")):
        row = by[rel]
        assert row["status"] == "ok" and row["synth"] == "subtractive" and row["evaluations"] <= 120
        assert row["seed"] == target_seed(5, rel) and row["preset"] == base + ".preset.json"
        preset = Preset.load(out / row["preset"])
        assert preset.match["target_sha256"] == file_sha256(library / rel)
        assert preset.match["fitness"] == pytest.approx(row["fitness"]) and preset.match["seed"] == row["seed"]
        assert sf.info(str(out / (base + ".render.wav"))).frames > 0
        assert sf.info(str(out / (base + ".target.wav"))).frames > 0
        hist = json.loads((out / (base + ".history.json")).read_text())
        assert hist["target"] == rel and hist["history"] and hist["fingerprint"]
    assert not (out / ".checkpoints").exists() and not list(out.rglob("*.part"))
    doc = json.loads((out / "summary.json").read_text())
    assert doc["counts"]["ok"] == 2 and doc["counts"]["failed"] == 2 and doc["ignored_files"] == 2 and doc["seed"] == 5
    assert [t["target"] for t in doc["targets"]] == [r["target"] for r in result.rows]
    with open(out / "summary.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[:7] == ["target", "status", "synth", "verdict", "lsd_db", "fitness", "spectral"]
    assert {"evaluations", "seconds", "status", "error", "f0_hz", "f0_confidence"} <= set(rows[0])
    assert [r["status"] for r in rows] == ["failed", "ok", "failed", "ok"]
    assert float(rows[3]["spectral"]) == pytest.approx(by["kick.wav"]["components"]["spectral"])


def test_rerun_skips_finished_targets_and_redoes_changed_ones(standin, library, tmp_path, monkeypatch):
    out = tmp_path / "out"
    first = run_batch(library, out, OPTS)
    calls = []
    real = gm.match

    def counting(target=None, **kw):
        calls.append(target if target is not None else kw.get("resume"))
        return real(target, **kw)

    monkeypatch.setattr(gm, "match", counting)
    again = run_batch(library, out, OPTS)
    assert sorted(Path(c).name for c in calls) == ["empty.wav", "text.flac"]  # only the broken files are tried again
    assert again.exit_code == 1 and again.reused == 2
    assert [(r["target"], r["fitness"]) for r in again.rows] == [(r["target"], r["fitness"]) for r in first.rows]
    _tone(library / "kick.wav", 7)  # the file changed: only it is matched again
    calls.clear()
    third = run_batch(library, out, OPTS)
    assert sorted(Path(c).name for c in calls) == ["empty.wav", "kick.wav", "text.flac"] and third.reused == 1
    assert Preset.load(out / "kick.preset.json").match["target_sha256"] == file_sha256(library / "kick.wav")
    calls.clear()
    run_batch(library, out, BatchOptions(match=MatchOptions(synth="subtractive", budget=130, seed=5), n_jobs=1))
    assert sorted(Path(c).name for c in calls) == ["C#3 soft.wav", "empty.wav", "kick.wav", "text.flac"]  # other options


def test_unseeded_batch_keeps_its_seed_for_reruns(standin, library, tmp_path):
    out = tmp_path / "out"
    opts = BatchOptions(match=MatchOptions(synth="subtractive", budget=60), n_jobs=1)
    first = run_batch(library, out, opts)
    second = run_batch(library, out, opts)
    assert second.seed == first.seed and second.reused == 2


def test_interrupted_target_resumes_from_its_checkpoint_and_equals_an_uninterrupted_run(standin, tmp_path, monkeypatch):
    lib = tmp_path / "lib"
    _tone(lib / "a.wav", 1)
    opts = BatchOptions(match=MatchOptions(synth="subtractive", budget=400, seed=2, population=16), n_jobs=1, checkpoint_every=2)
    full = run_batch(lib, tmp_path / "full", opts)
    real = gm.run_steps
    calls = {"n": 0}

    def cut_short(*args, should_stop=None, **kw):
        def stop():
            calls["n"] += 1
            return calls["n"] > 6

        return real(*args, should_stop=stop, **kw)

    monkeypatch.setattr(gm, "run_steps", cut_short)
    out = tmp_path / "out"
    cut = run_batch(lib, out, opts)
    assert cut.interrupted == 2 and cut.exit_code == 130
    assert cut.rows[0]["status"] == "interrupted" and "rerun" in cut.rows[0]["error"]
    assert (out / ".checkpoints" / "a.ckpt").is_file()
    assert not (out / "a.preset.json").exists() and not (out / "a.history.json").exists()  # nothing unfinished in place
    assert json.loads((out / "summary.json").read_text())["targets"][0]["status"] == "interrupted"
    monkeypatch.setattr(gm, "run_steps", real)
    resumed = run_batch(lib, out, opts)
    row = resumed.rows[0]
    assert resumed.exit_code == 0 and row["resumed"] and row["status"] == "ok"
    assert row["fitness"] == full.rows[0]["fitness"] and row["evaluations"] == full.rows[0]["evaluations"]
    assert Preset.load(out / "a.preset.json").params == Preset.load(tmp_path / "full" / "a.preset.json").params
    assert not (out / ".checkpoints").exists()


def test_batch_refuses_unusable_folders(standin, library, tmp_path):
    with pytest.raises(BatchError, match="must differ"):
        run_batch(library, library, OPTS)
    (tmp_path / "nothing").mkdir()
    (tmp_path / "nothing" / "a.txt").write_text("x")
    with pytest.raises(BatchError, match="no audio files"):
        run_batch(tmp_path / "nothing", tmp_path / "o", OPTS)
    (tmp_path / "file").write_text("x")
    with pytest.raises(BatchError, match="not a folder"):
        run_batch(library, tmp_path / "file", OPTS)
    out = tmp_path / "locked"
    out.mkdir()
    (out / ".gascar-batch.lock").write_text(str(os.getppid()))  # a live process holds it
    with pytest.raises(BatchError, match="another batch"):
        run_batch(library, out, OPTS)
    (out / ".gascar-batch.lock").write_text("999999999")  # a dead one: the stale lock is taken over
    assert run_batch(library, out, OPTS).count("ok") == 2
    with pytest.raises(BatchError, match="top"):
        BatchOptions(top=0)


def test_batch_command_exit_codes_and_messages(standin, library, tmp_path):
    out = tmp_path / "out"
    args = ["batch", str(library), "-o", str(out), "--synth", "subtractive", "--budget", "80", "--seed", "1", "-j", "1"]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 1, res.output
    assert "2 of 4 targets failed" in res.stderr and "empty.wav" in res.stderr
    assert "4 targets: 2 matched, 2 failed; 2 other files ignored; seed 1" in res.stdout
    res = CliRunner().invoke(cli, [*args, "-q"])
    assert res.exit_code == 1 and res.stdout == "" and "2 of 4 targets failed" in res.stderr
    good = tmp_path / "good"
    _tone(good / "a.wav", 3)
    res = CliRunner().invoke(cli, ["batch", str(good), "-o", str(tmp_path / "g"), "--synth", "subtractive", "--budget", "60",
                                   "-j", "1", "-q"])
    assert res.exit_code == 0, res.output
    for bad in (["batch", str(library)], ["batch", str(tmp_path / "missing"), "-o", str(out)],
                ["batch", str(library), "-o", str(out), "--synth", "nope"],
                ["batch", str(library), "-o", str(out), "--scheduler", "localhost:8786"],
                ["batch", str(library), "-o", str(out), "--scheduler", "tcp://h:1", "-j", "2"],
                ["batch", str(library), "-o", str(library)]):
        res = CliRunner().invoke(cli, bad)
        assert res.exit_code == 2, (bad, res.output)



def test_ctrl_c_keeps_finished_targets_and_a_rerun_completes_the_batch(tmp_path):
    # Five targets of --time 2.0 each: interrupted as soon as the first is written, the batch has others left
    # (generous waits: a loaded machine only slows the start, never the outcome).
    lib = tmp_path / "lib"
    for i in range(5):
        _tone(lib / f"t{i}.wav", i)
    out = tmp_path / "out"
    args = ["batch", str(lib), "-o", str(out), "--synth", "subtractive", "--budget", "1000000", "--patience", "100000",
            "--time", "2.0", "--seed", "4", "-j", "1", "-q"]
    proc = spawn_gascar(args, tmp_path)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and proc.poll() is None:
        if (out / "t0.history.json").exists():
            break
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    doc = json.loads((out / "summary.json").read_text())
    statuses = [t["status"] for t in doc["targets"]]
    assert statuses[0] == "ok" and set(statuses) <= {"ok", "interrupted", "pending"} and statuses[-1] != "ok"
    assert Preset.load(out / "t0.preset.json").synth == "subtractive"
    assert not list(out.rglob("*.part")) and not (out / ".gascar-batch.lock").exists()
    proc = spawn_gascar(args, tmp_path)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    doc = json.loads((out / "summary.json").read_text())
    assert [t["status"] for t in doc["targets"]] == ["ok"] * 5 and doc["targets"][0]["reused"]


def test_top_presets_are_moved_into_place_beside_the_best(standin, tmp_path):
    lib = tmp_path / "lib"
    _tone(lib / "deep" / "a.wav", 1)
    out = tmp_path / "out"
    result = run_batch(lib, out, BatchOptions(match=MatchOptions(synth="subtractive", budget=200, seed=1), n_jobs=1, top=2))
    assert result.exit_code == 0
    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert names == ["deep/a.2.preset.json", "deep/a.2.render.wav", "deep/a.history.json", "deep/a.preset.json",
                     "deep/a.render.wav", "deep/a.target.wav", "summary.csv", "summary.json"]
    assert Preset.load(out / "deep" / "a.2.preset.json").match["rank"] == 2
    hist = json.loads((out / "deep" / "a.history.json").read_text())
    assert sorted(hist["files"]) == ["a.2.preset.json", "a.2.render.wav", "a.preset.json", "a.render.wav"]


def test_target_copy_is_the_target_as_the_batch_analysed_it(standin, tmp_path):
    # The copy comes from the match's own analysis options: here a 0.1 s window of a 0.3 s sound (it once came
    # from a plain load of the whole file, because a stale import failed and the error was swallowed).
    from gascar.analysis import analysed_samples

    lib = tmp_path / "lib"
    src = _tone(lib / "tone.wav", 4)
    opts = BatchOptions(match=MatchOptions(synth="subtractive", budget=60, seed=5, analysis={"max_duration_s": 0.1}), n_jobs=1)
    assert run_batch(lib, tmp_path / "out", opts).exit_code == 0
    copy, sr = sf.read(str(tmp_path / "out" / "tone.target.wav"), dtype="float32")
    with pytest.warns(UserWarning, match="only the first 0.1 s"):
        expected, expected_sr = analysed_samples(src, max_duration_s=0.1)
    assert sr == expected_sr == SR
    assert copy.shape == expected.shape and copy.size <= int(0.1 * SR)
    np.testing.assert_allclose(copy, expected, atol=1.5 / 32768)  # 16-bit copy

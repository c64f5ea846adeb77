"""gascar compare: components and total of two sound files, JSON, weights, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from gascar.cli import cli
from gascar.fitness import COMPONENTS

SR = 22050


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GASCAR_CACHE_DIR", str(tmp_path / "cache"))


def _note(path, f0=220.0, gain=0.5, seconds=0.6):
    t = np.arange(int(seconds * SR)) / SR
    x = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 6)) * np.exp(-3 * t)
    sf.write(path, (gain * x / np.abs(x).max()).astype(np.float32), SR, subtype="FLOAT")
    return path


def _run(*args):
    return CliRunner().invoke(cli, ["compare", *map(str, args)])


def test_prints_every_component_and_the_total(tmp_path):
    a, b = _note(tmp_path / "a.wav"), _note(tmp_path / "b.wav", f0=330.0)
    res = _run(a, b)
    assert res.exit_code == 0, res.output
    for name in (*COMPONENTS, "total"):
        assert any(line.split()[:1] == [name] for line in res.output.splitlines()), name
    assert "f0 220" in res.output


def test_json_identical_and_quieter_copy_score_zero(tmp_path):
    a, b = _note(tmp_path / "a.wav"), _note(tmp_path / "quiet.wav", gain=0.05)
    doc = json.loads(_run(a, b, "--json").output)
    assert doc["fitness"] == pytest.approx(0.0, abs=1e-4)
    assert set(doc["components"]) == set(COMPONENTS) and doc["target"]["pitched"]
    other = json.loads(_run(a, _note(tmp_path / "c.wav", f0=300.0), "--json").output)
    assert other["fitness"] > 0.05


def test_weights_and_note_options(tmp_path):
    a, b = _note(tmp_path / "a.wav"), _note(tmp_path / "b.wav", f0=300.0)
    doc = json.loads(_run(a, b, "--json", "--weights", "envelope=1,stft=0,mel=0,mfcc=0,centroid=0,f0=0",
                          "--note", "A3").output)
    assert doc["weights"]["envelope"] == 1.0 and doc["fitness"] == pytest.approx(doc["components"]["envelope"])
    assert doc["target"]["f0_hz"] == pytest.approx(220.0) and doc["target"]["f0_source"] == "user"


@pytest.mark.parametrize("args,message", [
    (["missing.wav", "B"], "missing.wav: no such file"),
    (["A", "empty.wav"], "empty.wav"),
    (["A", "B", "--weights", "loudness=1"], "unknown fitness components: loudness"),
])
def test_errors_are_one_line_with_the_path(tmp_path, args, message):
    a, b = _note(tmp_path / "a.wav"), _note(tmp_path / "b.wav")
    (tmp_path / "empty.wav").write_bytes(b"")
    names = {"A": a, "B": b, "missing.wav": tmp_path / "missing.wav", "empty.wav": tmp_path / "empty.wav"}
    res = CliRunner().invoke(cli, ["compare", *[str(names.get(x, x)) for x in args]])
    assert res.exit_code == 2
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("gascar: error:") and message in lines[0], res.output

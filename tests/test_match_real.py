"""gascar match end to end with the real analysis and fitness (tiny budgets, 0.3 s targets)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

pytest.importorskip("gascar.fitness")
pytest.importorskip("gascar.analysis")

import gascar  # noqa: E402
from gascar.cli import cli  # noqa: E402
from gascar.fitness import DEFAULT_WEIGHTS  # noqa: E402
from gascar.preset import Preset  # noqa: E402
from gascar.synths import get_synth  # noqa: E402

SR = 22050


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GASCAR_CACHE_DIR", str(tmp_path / "cache"))  # never the user's analysis cache


@pytest.fixture(scope="module")
def target_wav(tmp_path_factory):
    synth = get_synth("subtractive")
    genome = np.random.default_rng(11).random((1, synth.n_genes))
    audio = synth.render(genome, 220.0, int(0.3 * SR), SR, hold_s=0.2)[0]
    path = tmp_path_factory.mktemp("real") / "sub.wav"
    sf.write(str(path), audio / max(1e-3, float(np.abs(audio).max())) * 0.8, SR, subtype="FLOAT")
    return path


def test_real_match_is_reproducible_across_job_counts(target_wav):
    a = gascar.match(target_wav, synth="subtractive", budget=120, seed=3, n_jobs=1, handle_signals=False)
    b = gascar.match(target_wav, synth="subtractive", budget=120, seed=3, n_jobs=2, handle_signals=False)
    assert np.array_equal(a.genome, b.genome) and a.fitness == b.fitness
    assert a.preset.to_dict()["params"] == b.preset.to_dict()["params"]
    assert a.evaluations == 120 and np.isfinite(a.fitness)
    assert a.analysis["path"] == str(target_wav) and a.summary()["analysis"]["pitched"] == a.analysis["pitched"]


def test_real_match_command_writes_a_valid_preset_and_render(target_wav, tmp_path):
    out = tmp_path / "o.preset.json"
    res = CliRunner().invoke(cli, ["match", str(target_wav), "--budget", "150", "--seed", "0", "--jobs", "1", "-o", str(out),
                                   "--top", "2"])
    assert res.exit_code == 0, res.output
    assert "pitch: " in res.output  # what the match assumed of the note, from the real analysis
    preset = Preset.load(out)  # validates the match block's keys
    assert preset.match["rank"] == 1 and preset.match["evaluations"] <= 150
    assert preset.match["target_sha256"]
    audio, sr = sf.read(str(tmp_path / "o.render.wav"))
    assert audio.ndim == 1 and audio.size > 0
    second = Preset.load(tmp_path / "o.2.preset.json")
    assert second.params != preset.params or second.synth != preset.synth


def test_real_match_command_report_and_weights(target_wav, tmp_path):
    out = tmp_path / "w.preset.json"
    res = CliRunner().invoke(cli, ["match", str(target_wav), "--synth", "subtractive", "--budget", "96", "--seed", "2",
                                   "--jobs", "1", "-o", str(out), "--report", "--weights", "mel=1,f0=0"])
    assert res.exit_code == 0, res.output
    page = tmp_path / "w.report.html"
    assert page.exists() and f"wrote {page}" in res.output
    html = page.read_text(encoding="utf-8")
    assert "w.render.wav" in html and "<audio" in html
    preset = Preset.load(out)
    assert preset.match["evaluations"] <= 96
    # the weights reached the objective: the preset names them, and its fitness is their weighted sum of components
    weights = preset.match["weights"]
    assert weights["mel"] == 1.0 and weights["f0"] == 0.0 and weights["stft"] == DEFAULT_WEIGHTS["stft"]
    comps = preset.match["components"]
    assert preset.match["fitness"] == pytest.approx(sum(weights[c] * comps[c] for c in comps), rel=1e-9)
    assert preset.match["fitness"] != pytest.approx(sum(DEFAULT_WEIGHTS[c] * comps[c] for c in comps), rel=1e-6)


def test_match_command_rejects_bad_weights_in_one_line(target_wav):
    res = CliRunner().invoke(cli, ["match", str(target_wav), "--weights", "loudness=2"])
    assert res.exit_code == 2
    assert "--weights" in res.output and "loudness" in res.output and "Traceback" not in res.output

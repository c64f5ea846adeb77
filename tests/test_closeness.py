"""Numbers a person can read: the judged LSD in dB and a verdict whose thresholds come from measured spreads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from conftest import tone

from gascar import closeness
from gascar.bench import judge
from gascar.bench.closeness import format_table, load_pairs, thresholds
from gascar.cli import cli

PAIRS = Path(__file__).resolve().parents[1] / "docs" / "bench" / "closeness-pairs.json.gz"


def test_verdict_thresholds_are_the_measured_spreads_rounded():
    measured = thresholds(load_pairs(PAIRS))
    assert [w for w, _ in measured] == [w for w, _ in closeness.VERDICTS[:-1]]
    for (_, value), (_, upper) in zip(measured, closeness.VERDICTS):
        assert abs(value - upper) < 0.06  # rounded to about a tenth of a dB


def test_committed_table_remakes_from_the_committed_pairs():
    text = (PAIRS.parent / "bench-closeness.md").read_text(encoding="utf-8")
    assert format_table(load_pairs(PAIRS)) in text


@pytest.mark.parametrize("lsd, word", [(0.0, "near-identical"), (3.0, "near-identical"), (3.01, "close"), (7.5, "close"),
                                       (9.0, "resembles"), (10.71, "far"), (40.0, "far")])
def test_verdicts(lsd, word):
    assert closeness.verdict(lsd) == word
    assert closeness.describe(lsd).startswith(word)


@pytest.mark.parametrize("n", [300, 700, 1100, 1500, 2500, 3000, 4095])
def test_the_judge_takes_sounds_shorter_than_its_windows(n):
    # Lengths under the largest FFT size used to raise (noverlap >= nperseg) or warn; now they are zero-padded.
    import warnings

    x = np.sin(np.arange(n) * 0.06)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert closeness.judged_lsd_db(x, x, 44100) == 0.0
        assert closeness.judged_lsd_db(x, np.sin(np.arange(n) * 0.2), 44100) > 1.0


def test_the_benchmarks_judge_uses_the_same_distance():
    assert judge.log_spectral_distance_db is closeness.log_spectral_distance_db
    x = tone(220.0, 0.5)
    y = tone(233.0, 0.5)
    assert judge.judge(x, y, 22050)["lsd_db"] == closeness.judged_lsd_db(x, y, 22050)
    assert closeness.judged_lsd_db(x, 0.1 * x, 22050) < 1e-4  # level never counts


def test_compare_says_how_close_in_db_and_words(tmp_path):
    a, b = tmp_path / "a.wav", tmp_path / "b.wav"
    sf.write(a, tone(220.0, 0.5), 22050)
    sf.write(b, tone(220.0 * 2 ** (5 / 1200), 0.5), 22050)
    res = CliRunner().invoke(cli, ["compare", str(a), str(b), "--f0", "220"])
    assert res.exit_code == 0, res.output
    last = res.output.splitlines()[-1]
    assert last.startswith("near-identical: judged ") and " dB apart" in last
    res = CliRunner().invoke(cli, ["compare", str(a), str(b), "--f0", "220", "--json"])
    import json

    doc = json.loads(res.output)
    assert doc["verdict"] == "near-identical" and 0 <= doc["lsd_db"] <= 3.0


def test_match_reports_the_judged_distance_and_verdict(standin, tmp_path, monkeypatch):
    import gascar.matching as gm

    class Target:  # the stand-in target, with the samples the judge needs
        def __init__(self, path):
            from conftest import StandInTarget

            t = StandInTarget(path)
            self.__dict__.update(t.__dict__)
            self.samples = t.audio

    monkeypatch.setattr(gm, "_load_target", lambda path, options: Target(path))
    path = tmp_path / "t.wav"
    sf.write(path, tone(220.0, 0.3), 22050, subtype="FLOAT")
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(cli, ["match", str(path), "--synth", "fm", "--budget", "60", "--jobs", "1", "--seed", "1"])
    assert res.exit_code == 0, res.output
    line = next(x for x in res.output.splitlines() if "dB from the target" in x)
    word = line.split(":")[0]
    assert word in dict(closeness.VERDICTS)
    from gascar.preset import Preset

    match = Preset.load(tmp_path / "t.preset.json").match
    assert match["verdict"] == word and f"judged {match['lsd_db']:.1f} dB" in line
    assert np.isfinite(match["lsd_db"])


def test_report_page_shows_verdict_scale_pitch_confidence_and_links_the_alternatives(tmp_path, monkeypatch):
    path = tmp_path / "t.wav"
    sf.write(path, tone(220.0, 0.3), 22050, subtype="FLOAT")
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(cli, ["match", str(path), "--synth", "fm", "--budget", "120", "--jobs", "1", "--seed", "1",
                                   "--top", "3", "--report", "-q"])
    assert res.exit_code == 0, res.output
    page = (tmp_path / "t.report.html").read_text()
    from gascar.preset import Preset

    match = Preset.load(tmp_path / "t.preset.json").match
    assert f"judged {match['lsd_db']:.1f} dB from the target" in page
    assert "&larr; this match" in page and all(w in page for w, _ in closeness.VERDICTS)
    assert "pitch: <b>" in page and "pYIN confidence" in page
    for rank in (2, 3):
        if (tmp_path / f"t.{rank}.preset.json").exists():
            assert f'href="t.{rank}.preset.json"' in page and f'href="t.{rank}.render.wav"' in page


def test_batch_index_and_summary_have_verdict_distance_pitch_and_confidence(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    sf.write(src / "a.wav", tone(220.0, 0.3), 22050, subtype="FLOAT")
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["batch", str(src), "-o", str(out), "--synth", "fm", "--budget", "60", "--jobs", "1",
                                   "--seed", "1", "--report"])
    assert res.exit_code == 0, res.output
    assert "how close: 1 " in res.output
    index = (out / "index.html").read_text()
    for col in ("verdict", "lsd_db", "f0_hz", "f0_confidence"):
        assert f">{col}</th>" in index
    import csv

    row = next(csv.DictReader((out / "summary.csv").open()))
    assert row["verdict"] in dict(closeness.VERDICTS) and float(row["lsd_db"]) >= 0 and row["f0_confidence"]

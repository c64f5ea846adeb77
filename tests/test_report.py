"""HTML reports: every referenced file exists, pages show what they must, gascar report rebuilds, match reports."""

from __future__ import annotations

import json
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from conftest import F0, SR

import gascar.matching as gm
from gascar import plots
from gascar.batch import BatchOptions, run_batch
from gascar.cli import cli
from gascar.errors import BatchError
from gascar.matching import MatchOptions
from gascar.report import rebuild_reports, write_match_report
from gascar.synths import get_synth


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs: list[tuple[str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("src", "href") and v and not v.startswith(("data:", "#")):
                self.refs.append((tag, v))

    def handle_data(self, data):
        self.text.append(data)


def refs_of(page: Path) -> tuple[list[tuple[str, str]], str]:
    p = _Refs()
    p.feed(page.read_text(encoding="utf-8"))
    return p.refs, " ".join(p.text)


def assert_references_exist(page: Path) -> list[tuple[str, str]]:
    refs, _ = refs_of(page)
    for tag, ref in refs:
        assert "://" not in ref, f"{page.name} links outside the folder: {ref}"
        assert (page.parent / unquote(ref)).is_file(), f"{page.name}: <{tag}> {ref} does not exist"
    return refs



def _tone(path: Path, seed: int) -> Path:
    synth = get_synth("subtractive")
    genome = np.random.default_rng(seed).random((1, synth.n_genes))
    audio = synth.render(genome, F0, int(0.3 * SR), SR, hold_s=0.2)[0]
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), audio / max(1e-3, float(np.abs(audio).max())) * 0.8, SR, subtype="FLOAT")
    return path


@pytest.fixture()
def batch_out(standin, tmp_path):
    lib = tmp_path / "lib"
    _tone(lib / "a.wav", 1)
    _tone(lib / "deep" / "er" / "F#2 #1.wav", 2)
    (lib / "bad.wav").write_text("nope")
    out = tmp_path / "out"
    result = run_batch(lib, out, BatchOptions(match=MatchOptions(synth="auto", budget=200, seed=3), n_jobs=1, report=True))
    assert result.count("ok") == 2 and len(result.failed) == 1 and result.index == out / "index.html"
    return out


def test_every_file_a_page_references_exists_and_pages_show_what_they_must(batch_out):
    pages = sorted(batch_out.rglob("*.report.html"))
    assert [p.relative_to(batch_out).as_posix() for p in pages] == ["a.report.html", "deep/er/F#2 #1.report.html"]
    for page in pages:
        refs = assert_references_exist(page)
        tags = [t for t, _ in refs]
        assert tags.count("img") == 4 and tags.count("audio") == 2
        _, text = refs_of(page)
        for words in ("Log-mel spectrograms", "Amplitude envelopes", "Best (solid) and median (dashed) fitness",
                      "Species per generation", "Preset parameters", "Target", "Match", "Hz"):
            assert words in text, words
        audio = [r for t, r in refs if t == "audio"]
        assert audio[0].endswith(".target.wav") and audio[1].endswith(".render.wav")
        index_links = [r for t, r in refs if r.endswith("index.html")]
        assert index_links and (page.parent / index_links[0]).resolve() == (batch_out / "index.html").resolve()
        # an auto match: every synth's curves are drawn
        hist = json.loads(page.with_name(page.name.replace(".report.html", ".history.json")).read_text())
        assert len({r["key"] for r in hist["history"]}) == len(hist["summary"]["standings"]) > 1
    refs = assert_references_exist(batch_out / "index.html")
    pages_linked = sorted(unquote(r) for _, r in refs if r.endswith(".report.html"))
    assert pages_linked == ["a.report.html", "deep/er/F#2 #1.report.html"]
    _, text = refs_of(batch_out / "index.html")
    assert "bad.wav" in text and "failed" in text
    html = (batch_out / "index.html").read_text()
    assert html.count('<th class="num">fitness</th>') == 1 and "<script>" in html


def test_gascar_report_rebuilds_pages_and_index_without_rerunning(batch_out, monkeypatch):
    before = sorted(p.relative_to(batch_out).as_posix() for p in batch_out.rglob("*") if p.is_file())
    summary_before = json.loads((batch_out / "summary.json").read_text())
    for p in batch_out.rglob("*.report"):
        shutil.rmtree(p)
    for p in [*batch_out.rglob("*.report.html"), batch_out / "index.html", batch_out / "a.target.wav"]:
        p.unlink()

    def no_match(*a, **k):
        raise AssertionError("gascar report must not run a match")

    monkeypatch.setattr(gm, "match", no_match)
    res = CliRunner().invoke(cli, ["report", str(batch_out)])
    assert res.exit_code == 0, res.output
    assert "wrote 2 report pages" in res.stdout
    after = sorted(p.relative_to(batch_out).as_posix() for p in batch_out.rglob("*") if p.is_file())
    assert after == before  # the target copy came back from the original, which is unchanged
    for page in [*batch_out.rglob("*.report.html"), batch_out / "index.html"]:
        assert_references_exist(page)
    summary_after = json.loads((batch_out / "summary.json").read_text())
    assert [t["report"] for t in summary_after["targets"]] == [t["report"] for t in summary_before["targets"]]


def test_report_command_errors(tmp_path, batch_out):
    (tmp_path / "empty").mkdir()
    res = CliRunner().invoke(cli, ["report", str(tmp_path / "empty")])
    assert res.exit_code == 2 and "no saved results" in res.output
    with pytest.raises(BatchError):
        rebuild_reports(tmp_path / "missing")
    (batch_out / "a.preset.json").write_text("{broken")
    res = CliRunner().invoke(cli, ["report", str(batch_out), "-q"])
    assert res.exit_code == 1 and "a.preset.json" in res.stderr and "invalid JSON" in res.stderr


def test_match_report_beside_a_match_result(standin, tmp_path):
    target = _tone(tmp_path / "in" / "bell.wav", 4)
    run = tmp_path / "run"
    outputs = gm.default_outputs(target, preset=run / "bell.preset.json")
    result = gm.match(target, synth="subtractive", budget=150, seed=1, n_jobs=1, outputs=outputs, handle_signals=False)
    page = write_match_report(result, target_path=target, preset_path=outputs.preset, render_path=outputs.render)
    assert page == run / "bell.report.html"
    refs = assert_references_exist(page)
    assert not [r for _, r in refs if r.endswith("index.html")]
    assert (run / "bell.history.json").is_file() and (run / "bell.target.wav").is_file()
    # without a render the page renders the preset itself
    run2 = tmp_path / "run2"
    outputs2 = gm.MatchOutputs(preset=run2 / "x.json")
    result2 = gm.match(target, synth="subtractive", budget=100, seed=1, n_jobs=1, outputs=outputs2, handle_signals=False)
    page2 = write_match_report(result2, target_path=target, preset_path=outputs2.preset)
    assert page2 == run2 / "x.report.html" and (run2 / "x.report" / "match.wav").is_file()
    assert_references_exist(page2)
    pages, index, errors = rebuild_reports(tmp_path)
    assert sorted(p.name for p in pages) == ["bell.report.html", "x.report.html"] and index is None and errors == []


def test_plots_cope_with_empty_and_odd_histories(tmp_path):
    x = np.sin(np.linspace(0, 200, 500)).astype(np.float32)  # shorter than an FFT frame
    assert plots.spectrograms_png(tmp_path / "s.png", x, x[:300], SR).stat().st_size > 0
    assert plots.envelopes_png(tmp_path / "e.png", x, np.zeros(400, np.float32), SR).stat().st_size > 0
    assert plots.fitness_png(tmp_path / "f.png", []).stat().st_size > 0
    assert plots.species_png(tmp_path / "sp.png", []).stat().st_size > 0
    hist = [{"generation": 0, "best": None, "median": None, "species": 3, "key": "fm"},
            {"generation": 1, "best": 0.0, "median": 0.5, "species": 2, "key": "fm"}]
    assert plots.fitness_png(tmp_path / "f2.png", hist).stat().st_size > 0
    assert not list(tmp_path.glob(".*.part"))

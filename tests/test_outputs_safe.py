"""Work that is never lost: outputs checked before the search, a fallback when writing fails at the end,
a resumed run's files follow -o, and a resumed run can be given a new budget or a time limit."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from conftest import F0, SR

import gascar.matching as gm
from gascar.cli import cli
from gascar.errors import OutputError
from gascar.evolve import load_checkpoint
from gascar.evolve.reporting import Reporter
from gascar.synths import get_synth


@pytest.fixture()
def target_wav(tmp_path):
    synth = get_synth("subtractive")
    audio = synth.render(np.random.default_rng(3).random((1, synth.n_genes)), F0, int(0.3 * SR), SR, hold_s=0.18)[0]
    path = tmp_path / "snd.wav"
    sf.write(str(path), audio, SR, subtype="FLOAT")
    return path


@pytest.mark.parametrize("where", ["a-file/t.preset.json", "/proc/gascar-no/t.preset.json"])
def test_unwritable_output_is_refused_before_the_search(standin, target_wav, tmp_path, monkeypatch, where):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("not a folder")
    evaluated = []
    monkeypatch.setattr(gm, "_make_objective", lambda *a: evaluated.append(a))  # the search would build objectives
    res = CliRunner().invoke(cli, ["match", str(target_wav), "-o", where, "--budget", "60", "-q"])
    assert res.exit_code == OutputError.exit_code
    assert res.output.startswith("gascar: error: ") and "cannot write here" in res.output and len(res.output.splitlines()) == 1
    assert evaluated == []


class _RemoveFolderAfterFirstGeneration(Reporter):
    """Turns the output folder into a file during the search, so writing at the end fails."""

    def __init__(self, folder):
        self.folder = folder

    def generation(self, record):
        if self.folder.is_dir():
            shutil.rmtree(self.folder)
            self.folder.write_text("now a file")


def test_writing_that_fails_at_the_end_saves_beside_the_checkpoint(standin, target_wav, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    keep = tmp_path / "keep"
    keep.mkdir()
    outputs = gm.MatchOutputs(preset=out / "t.preset.json", render=out / "t.render.wav", checkpoint=keep / "t.ckpt")
    result = gm.match(target_wav, synth="subtractive", budget=60, seed=1, n_jobs=1, outputs=outputs,
                      reporter=_RemoveFolderAfterFirstGeneration(out), handle_signals=False)
    assert result.output_error and f"saved in {keep} instead" in result.output_error
    assert result.exit_code == 1
    assert (keep / "t.preset.json").exists() and (keep / "t.render.wav").exists()
    assert result.outputs.preset == keep / "t.preset.json"


def test_writing_that_fails_at_the_end_saves_in_the_current_folder_from_the_cli(standin, target_wav, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setattr("gascar.evolve.reporting.JsonLinesLog", lambda path: _RemoveFolderAfterFirstGeneration(out))
    res = CliRunner().invoke(cli, ["match", str(target_wav), "-o", "out/t.preset.json", "--budget", "60", "--synth",
                                   "subtractive", "--log", "x", "--jobs", "1"])
    assert res.exit_code == 1
    assert f"saved in {tmp_path} instead" in res.output
    assert (tmp_path / "t.preset.json").exists() and (tmp_path / "t.render.wav").exists()
    assert f"wrote {tmp_path / 't.preset.json'}" in res.output


def test_resumed_run_files_all_follow_o(standin, target_wav, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(cli, ["match", str(target_wav), "--synth", "subtractive", "--budget", "80", "--jobs", "1",
                                   "-q", "-o", "first.preset.json", "--checkpoint", "first.ckpt"])
    assert res.exit_code == 0, res.output
    before = (tmp_path / "first.render.wav").read_bytes()
    res = CliRunner().invoke(cli, ["match", "--resume", "first.ckpt", "-o", "new.preset.json", "--jobs", "1"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "new.preset.json").exists() and (tmp_path / "new.render.wav").exists()
    assert (tmp_path / "new.ckpt").exists()
    assert (tmp_path / "first.render.wav").read_bytes() == before  # the first run's render is not overwritten


def test_resumed_run_takes_a_new_total_budget_and_a_time_limit(standin, target_wav, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(cli, ["match", str(target_wav), "--budget", "150", "--jobs", "1", "-q", "--seed", "2",
                                   "--checkpoint", "c.ckpt"])
    assert res.exit_code == 0, res.output
    assert sum(ev.evaluations for ev in load_checkpoint("c.ckpt", "match")["evolutions"].values()) == 150
    res = CliRunner().invoke(cli, ["match", "--resume", "c.ckpt", "--budget", "400", "--time", "600", "--jobs", "1"])
    assert res.exit_code == 0, res.output
    assert "400 evaluations" in res.output
    state = load_checkpoint("c.ckpt", "match")
    assert state["options"].budget == 400 and state["options"].time_limit_s == 600
    assert sum(ev.evaluations for ev in state["evolutions"].values()) == 400


def test_resumed_run_given_a_budget_already_spent_stops_at_once(standin, target_wav, tmp_path):
    ck = tmp_path / "m.ckpt"
    calls = {"n": 0}
    real = gm.run_steps

    def cut_short(*args, should_stop=None, **kw):
        def stop():
            calls["n"] += 1
            return calls["n"] > 5

        return real(*args, should_stop=stop, **kw)

    gm_run_steps = gm.run_steps
    gm.run_steps = cut_short
    try:
        cut = gm.match(target_wav, synth="auto", budget=600, seed=9, n_jobs=1, outputs=gm.MatchOutputs(checkpoint=ck),
                       handle_signals=False)
    finally:
        gm.run_steps = gm_run_steps
    assert cut.stop_reason == "interrupted"
    resumed = gm.match(resume=ck, budget=cut.evaluations, n_jobs=1, handle_signals=False)
    assert resumed.evaluations == cut.evaluations
    with pytest.raises(gm.EvolutionError, match="give no other settings than budget and time_limit_s"):
        gm.match(resume=ck, seed=3)

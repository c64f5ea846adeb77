"""``gascar match`` on the command line: outputs, summary, --quiet, --log, resume, SIGINT / SIGTERM.

The run machinery is exercised with the stand-in objective of test_match.py
(injected into a subprocess by a tiny runner), so these tests stay fast.
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from conftest import F0, SR, spawn_gascar

from gascar.cli import cli
from gascar.evolve import load_checkpoint
from gascar.preset import Preset
from gascar.synths import get_synth  # noqa: E402


@pytest.fixture()
def target_wav(tmp_path):
    synth = get_synth("subtractive")
    genome = np.random.default_rng(3).random((1, synth.n_genes))
    audio = synth.render(genome, F0, int(0.3 * SR), SR, hold_s=0.18)[0]
    path = tmp_path / "snd.wav"
    sf.write(str(path), audio, SR, subtype="FLOAT")
    return path


def test_match_command_writes_defaults_and_summary(standin, target_wav, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    log = tmp_path / "run.jsonl"
    res = CliRunner().invoke(cli, ["match", str(target_wav), "--synth", "subtractive", "--budget", "150", "--seed", "1",
                                   "--jobs", "1", "--log", str(log), "--top", "2"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "snd.preset.json").exists() and (tmp_path / "snd.render.wav").exists()
    assert (tmp_path / "snd.2.preset.json").exists() and (tmp_path / "snd.2.render.wav").exists()
    assert "best: subtractive, fitness" in res.output and "150 evaluations" in res.output
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    gens = [x for x in lines if x["event"] == "generation"]
    assert gens and all({"generation", "evaluations", "best", "species"} <= set(x) for x in gens)
    assert lines[-1]["event"] == "end"


def test_pitch_line_advises_giving_the_note_when_the_detector_was_unsure_or_found_none():
    from gascar.matching import MatchResult

    def advice(**analysis):
        return MatchResult(preset=None, fitness=0.1, components={}, synth="fm", genome=None, analysis=analysis).pitch_advice()

    sure = advice(pitched=True, f0_hz=261.6, note="C4", f0_confidence=0.91, f0_source="pyin")
    assert sure == "pitch: 261.6 Hz (C4), pYIN confidence 0.91"
    unsure = advice(pitched=True, f0_hz=104.5, note="G#2", f0_confidence=0.31, f0_source="pyin")
    assert "pYIN unsure (confidence 0.31" in unsure and "--note or --f0" in unsure
    assert advice(pitched=True, f0_hz=220.0, note="A3", f0_confidence=1.0, f0_source="user") == "pitch: 220.0 Hz (A3), given"
    assert "none detected" in advice(pitched=False, f0_hz=None, note=None, f0_confidence=0.01, f0_source="none")
    assert advice() == ""


def test_match_command_quiet_and_bad_options(standin, target_wav, tmp_path):
    out = tmp_path / "p.json"
    res = CliRunner().invoke(cli, ["match", str(target_wav), "--synth", "subtractive", "--budget", "60", "-q", "-o", str(out),
                                   "--no-render", "--jobs", "1"])
    assert res.exit_code == 0, res.output
    assert res.output == "" and out.exists() and not list(tmp_path.glob("*.wav"))[1:]
    res = CliRunner().invoke(cli, ["match", str(target_wav), "--synth", "nope"])
    assert res.exit_code == 2 and "unknown synth" in res.output
    res = CliRunner().invoke(cli, ["match"])
    assert res.exit_code == 2 and "TARGET" in res.output
    res = CliRunner().invoke(cli, ["match", str(target_wav), "--render", "a.wav", "--no-render"])
    assert res.exit_code == 2
    res = CliRunner().invoke(cli, ["match", str(target_wav), "--restart-after", "-3"])
    assert res.exit_code == 2 and "--restart-after" in res.output


@pytest.mark.parametrize("sig, code, jobs", [(signal.SIGINT, 130, "1"), (signal.SIGTERM, 143, "1"), (signal.SIGINT, 130, "2")])
def test_signal_mid_run_leaves_a_valid_preset_and_checkpoint_then_resumes(target_wav, tmp_path, sig, code, jobs):
    log = tmp_path / "log.jsonl"
    proc = spawn_gascar(["match", str(target_wav), "--synth", "subtractive", "--budget", "1000000", "--patience", "100000",
                   "--seed", "5", "--jobs", jobs, "-o", "out.preset.json", "--log", str(log), "--quiet"], tmp_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if log.exists() and log.read_text().count('"generation"') >= 3:
            break
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    preset = Preset.load(tmp_path / "out.preset.json")
    assert preset.synth == "subtractive" and preset.match["evaluations"] > 0
    state = load_checkpoint(tmp_path / "out.ckpt", "match")
    assert state["evolutions"]["subtractive"].evaluations == preset.match["evaluations"]
    assert (tmp_path / "out.render.wav").exists()
    if sig == signal.SIGINT and jobs == "1":
        # The resumed run goes on from the checkpoint: stopped after its first generation, it has evaluated more.
        log = tmp_path / "resumed.jsonl"
        proc = spawn_gascar(["match", "--resume", "out.ckpt", "--quiet", "--log", str(log)], tmp_path)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if log.exists() and '"generation"' in log.read_text():
                break
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        resumed = load_checkpoint(tmp_path / "out.ckpt", "match")["evolutions"]["subtractive"].evaluations
        assert resumed > preset.match["evaluations"]


def test_cli_resume_refuses_new_run_settings(standin, target_wav, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(cli, ["match", str(target_wav), "--synth", "subtractive", "--budget", "80", "--jobs", "1", "-q",
                                   "--checkpoint", "c.ckpt"])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(cli, ["match", "--resume", "c.ckpt", "--seed", "3", "--synth", "fm"])
    assert res.exit_code == 2 and "drop --synth, --seed" in res.output
    res = CliRunner().invoke(cli, ["match", str(target_wav), "--resume", "c.ckpt"])
    assert res.exit_code == 2
    res = CliRunner().invoke(cli, ["match", "--resume", "c.ckpt", "-q", "--jobs", "1"])
    assert res.exit_code == 0, res.output


def test_match_export_sfz_writes_an_instrument_beside_each_preset(standin, target_wav, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(cli, ["match", str(target_wav), "--synth", "subtractive", "--budget", "60", "--seed", "1",
                                   "--jobs", "1", "--export", "sfz"])
    assert res.exit_code == 0, res.output
    sfz = tmp_path / "snd-sfz" / "snd.sfz"
    assert sfz.is_file() and f"wrote {Path('snd-sfz') / 'snd.sfz'}" in res.output
    assert "snd.preset.json" in sfz.read_text().splitlines()[1]


def test_results_that_cannot_be_written_exit_1_not_the_usage_code(standin, target_wav, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way of a folder")
    res = CliRunner().invoke(cli, ["match", str(target_wav), "--synth", "subtractive", "--budget", "40", "--seed", "1",
                                   "--jobs", "1", "-q", "-o", str(blocker / "out.preset.json")])
    assert res.exit_code == 1, res.output
    assert "gascar: error:" in res.output and "cannot write here" in res.output

"""The CLI behaves like a good Unix tool: a closed pipe, Ctrl-C, a folder given to match, narrow tables,
a progress bar that says what it counts, light start-up (no heavy imports; its time is a benchmark)."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from gascar.cli import cli

PRESETS = Path(__file__).resolve().parents[1] / "presets"


def test_closed_pipe_is_a_quiet_exit():
    proc = subprocess.Popen([sys.executable, "-m", "gascar", "synths", "fm"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the first line is written (as `| head -0`)
    err = proc.stderr.read()
    proc.wait(timeout=60)
    assert err == b""
    assert proc.returncode == 141


def test_ctrl_c_before_the_match_catches_it_exits_130_not_aborted(tone_wav, monkeypatch, tmp_path):
    import gascar.analysis

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(gascar.analysis, "load_target", interrupted)
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(cli, ["match", str(tone_wav), "--budget", "50"])
    assert res.exit_code == 130
    assert "Aborted" not in res.output and "interrupted" in res.output
    assert not list(tmp_path.glob("*.json")) and not list(tmp_path.glob(".*part"))


def test_match_of_a_folder_says_so_and_names_batch(tmp_path):
    folder = tmp_path / "targets"
    folder.mkdir()
    res = CliRunner().invoke(cli, ["match", str(folder)])
    assert res.exit_code == 2
    assert res.output.strip() == (f"gascar: error: {folder}: is a folder; to match every file in it use gascar batch {folder} "
                                  f"-o OUT, or to match its files as the notes of one instrument gascar match --notes {folder}")


@pytest.mark.parametrize("name", ["subtractive", "fm", "additive", "wavetable", "modular"])
def test_synth_tables_fit_a_terminal(name):
    res = CliRunner().invoke(cli, ["synths", name], env={"COLUMNS": "100"})
    assert res.exit_code == 0
    widths = [len(line) for line in res.output.splitlines()]
    assert max(widths) <= 110, max(widths)
    if name == "fm":  # the ten algorithms are listed under the table, each named once
        assert "10 choices, below" in res.output
        assert res.output.splitlines()[-1].startswith("algorithm: stack | y | 3-into-1")


def test_progress_bar_names_the_round_and_keeps_label_and_numbers_on_one_synth():
    from gascar.evolve.reporting import ProgressBar

    out = io.StringIO()
    bar = ProgressBar(file=out)
    bar.start({"budget": 100, "rounds": 3})
    bar.start({"stage": "fm, round 2 of 3"})
    assert bar.bar.desc == "fm, round 2 of 3" and bar.bar.postfix in ("", None)
    bar.generation({"key": "additive", "round": 1, "generation": 4, "best": 0.5, "total_evaluations": 40})
    assert bar.bar.desc == "additive, round 2 of 3"
    assert "gen 4" in bar.bar.postfix and "additive" not in bar.bar.postfix
    bar.close()


@pytest.mark.parametrize("args", [("--help",), ("synths",), ("synths", "fm")])
def test_light_commands_import_no_heavy_library(args):
    """What keeps them fast (their time is measured by `gascar bench startup`, never asserted here)."""
    from gascar.bench.startup import heavy_imports

    assert heavy_imports(args) == []


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_get_the_mode_the_umask_says(tmp_path, umask, mode):
    import numpy as np

    from gascar import fileio
    from gascar.audio import write_audio
    from gascar.preset import Preset

    old = os.umask(umask)
    try:
        written = [fileio.write_json(tmp_path / "a.json", {"x": 1}),
                   write_audio(tmp_path / "a.wav", np.zeros(100, np.float32), 22050),
                   Preset.load(PRESETS / "fm-bell.json").save(tmp_path / "b.preset.json")]
    finally:
        os.umask(old)
    assert [stat.S_IMODE(p.stat().st_mode) for p in written] == [mode] * 3

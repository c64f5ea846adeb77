import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from conftest import FIXTURES, REPO

from gascar import __version__
from gascar.cli import cli
from gascar.preset import Preset, RenderSettings
from gascar.synths import get_synth, list_synths


def run(*args):
    return CliRunner().invoke(cli, list(map(str, args)))


def one_line_error(result, *needles):
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("gascar: error: ")
    for n in needles:
        assert str(n) in lines[0]
    assert "Traceback" not in result.output


def test_version():
    r = run("--version")
    assert r.exit_code == 0 and __version__ in r.output


def test_python_dash_m():
    out = subprocess.run([sys.executable, "-m", "gascar", "--version"], capture_output=True, text=True, check=True)
    assert __version__ in out.stdout


def test_synths_list_and_detail():
    r = run("synths")
    assert r.exit_code == 0
    for name in list_synths():
        assert name in r.output
    r = run("synths", "subtractive")
    assert r.exit_code == 0
    for spec in get_synth("subtractive").params:
        assert spec.name in r.output
    doc = json.loads(run("synths", "subtractive", "--json").output)
    assert doc["n_genes"] == get_synth("subtractive").n_genes
    assert {"name", "low", "high", "scale", "unit", "default", "description"} <= set(doc["params"][0])
    assert isinstance(json.loads(run("synths", "--json").output), list)


def test_synths_unknown():
    one_line_error(run("synths", "theremin"), "unknown synth 'theremin'")


def make_preset(tmp_path, **render):
    s = get_synth("subtractive")
    p = Preset(synth="subtractive", params=s.params.values_to_json(s.params.default_physical()),
               render=RenderSettings(**{"f0_hz": 220.0, "duration_s": 0.3, **render}))
    return p.save(tmp_path / "p.preset.json")


def test_render_one(tmp_path):
    path = make_preset(tmp_path)
    out = tmp_path / "out dir" / "ö.wav"
    r = run("render", path, "-o", out, "--note", "A3", "--duration", "0.5", "--sample-rate", "44100")
    assert r.exit_code == 0, r.output
    x, sr = sf.read(out)
    assert sr == 44100 and len(x) == 22050 and np.max(np.abs(x)) > 0.01


def test_render_default_output_and_many(tmp_path):
    path = make_preset(tmp_path)
    assert run("render", path).exit_code == 0
    assert (tmp_path / "p.wav").exists()
    files = sorted((REPO / "presets").glob("*.json"))[:3]
    r = run("render", *files, "-o", tmp_path / "many", "--duration", "0.2")
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "many").iterdir()) == sorted(f.stem + ".wav" for f in files)


def test_render_errors(tmp_path):
    one_line_error(run("render", tmp_path / "nope.json"), "nope.json", "no such file")
    bad = FIXTURES / "presets" / "unknown-key.json"
    one_line_error(run("render", bad, "-o", tmp_path / "x.wav"), str(bad), "unknown keys: colour")
    assert not (tmp_path / "x.wav").exists()
    r = run("render", make_preset(tmp_path), "--f0", "220", "--note", "A3")
    assert r.exit_code == 2 and "either --f0 or --note" in r.output


def test_installed_console_script():
    exe = REPO / ".venv" / "bin" / "gascar"
    if not exe.exists():
        pytest.skip("no .venv console script (run through make test)")
    out = subprocess.run([str(exe), "synths"], capture_output=True, text=True)
    assert out.returncode == 0 and "subtractive" in out.stdout


@pytest.mark.parametrize("command", ["match", "batch"])
def test_help_states_the_default_budget(command):
    # The help text is written out (the CLI imports the engine lazily); it must follow the constant.
    from gascar.matching import DEFAULT_BUDGET

    result = run(command, "--help")
    assert result.exit_code == 0, result.output
    assert f"(default {DEFAULT_BUDGET})" in " ".join(result.output.split())

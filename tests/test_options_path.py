"""One typed path for options: MatchOptions built once from the CLI (match and batch), f0_hz / unpitched /
max_duration_s as fields, and what earlier versions wrote still resuming: batch fingerprints unchanged by new
fields, checkpoints pickled before them (and before evolve's chunk_size was renamed) resuming exactly."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from conftest import tone

import gascar.matching as gm
from gascar.analysis import load_target
from gascar.batch import fingerprint
from gascar.cli import cli
from gascar.cli._common import OPTION_FIELDS, build_match_options
from gascar.errors import AnalysisError, EvolutionError
from gascar.evolve import load_checkpoint, save_checkpoint

V1 = Path(__file__).resolve().parent / "fixtures" / "v1"


def test_fingerprints_of_options_without_new_fields_are_those_of_the_first_format():
    # Computed by the code before f0_hz, unpitched and max_duration_s were fields (commit 04c1bec).
    assert fingerprint(gm.MatchOptions(), 1) == "1ca474bd80c000cfaa96706d7d617b7c"
    opts = gm.MatchOptions(synth="fm", budget=500, seed=3, fitness={"weights": {"mel": 1.0}})
    assert fingerprint(opts, 2) == "e21379cb1f441c4cb4408791bb612f32"
    assert fingerprint(gm.MatchOptions(unpitched=True), 1) != fingerprint(gm.MatchOptions(), 1)
    assert fingerprint(gm.MatchOptions(max_duration_s=2.0), 1) != fingerprint(gm.MatchOptions(), 1)


def test_a_batch_folder_of_the_first_format_keeps_its_finished_targets(tmp_path):
    shutil.copytree(V1, tmp_path / "v1")
    root = tmp_path / "v1"
    res = CliRunner().invoke(cli, ["batch", str(root / "in"), "-o", str(root / "batch-v1"), "--synth", "fm", "--budget", "60",
                                   "--seed", "1", "--jobs", "1"])
    assert res.exit_code == 0, res.output
    assert "1 matched (1 from an earlier run)" in res.output


def test_a_checkpoint_of_the_first_format_resumes_to_the_uninterrupted_result(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the checkpoint names its own path relative to where it was written
    shutil.copytree(V1, tmp_path / "v1")
    root = tmp_path / "v1"
    state = load_checkpoint(root / "match-v1.ckpt", "match")
    opts = state["options"]
    assert opts.f0_hz is None and opts.unpitched is False and opts.max_duration_s is None  # fields it never had
    assert opts.analysis == {"f0_hz": 220.0}  # the pitch as the old path gave it
    ev = next(iter(state["evolutions"].values()))
    assert ev.config.genomes_per_task == 8  # pickled as chunk_size
    state["target_path"] = str(root / "in" / "tone.wav")  # the fixture moved
    save_checkpoint(tmp_path / "moved.ckpt", "match", state)
    resumed = gm.match(resume=tmp_path / "moved.ckpt", n_jobs=1, handle_signals=False)
    # What the uninterrupted run gave with the code that wrote the checkpoint:
    assert resumed.synth == "wavetable" and resumed.evaluations == 400
    assert resumed.fitness == 0.2630104552606008


def test_match_and_batch_build_their_options_in_one_place(monkeypatch, tmp_path):
    built = []
    real = build_match_options

    def spy(params):
        built.append(dict(params))
        return real(params)

    monkeypatch.setattr("gascar.cli._common.build_match_options", spy)
    monkeypatch.setattr("gascar.cli.match.build_match_options", spy)
    monkeypatch.setattr("gascar.cli.batch.build_match_options", spy)
    monkeypatch.setattr(gm, "match", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt))
    monkeypatch.setattr("gascar.batch.run_batch", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt))
    path = tmp_path / "t.wav"
    sf.write(path, tone(), 22050)
    CliRunner().invoke(cli, ["match", str(path), "--unpitched", "--max-duration", "2", "--budget", "100"])
    CliRunner().invoke(cli, ["batch", str(tmp_path), "-o", str(tmp_path / "o"), "--unpitched", "--max-duration", "2"])
    assert len(built) == 2
    for params in built:
        opts = real(params)
        assert opts.unpitched is True and opts.max_duration_s == 2.0
        assert set(OPTION_FIELDS) <= set(params)  # every option field is a parameter of both commands


def test_options_are_typed_and_validated():
    assert build_match_options({"f0_hz": None, "note": "A3"}).f0_hz == pytest.approx(220.0)
    with pytest.raises(EvolutionError, match="either a pitch"):
        gm.MatchOptions(unpitched=True, f0_hz=220.0)
    for bad in ({"f0_hz": True}, {"unpitched": "yes"}, {"max_duration_s": 0.0}, {"budget": 1.5}, {"budget": True}):
        with pytest.raises(EvolutionError):
            gm.MatchOptions(**bad)
    opts = gm.MatchOptions(f0_hz=110.0, max_duration_s=1.0)
    assert opts.analysis_options() == {"f0_hz": 110.0, "max_duration_s": 1.0}


def test_unpitched_skips_pitch_detection_and_frees_the_base_frequency(tmp_path):
    path = tmp_path / "tom.wav"
    sf.write(path, tone(104.5, 0.4), 22050)
    t = load_target(path, unpitched=True, cache_dir=tmp_path / "cache")
    assert not t.pitched and t.f0_hz is None and t.f0_source == "unpitched"
    assert load_target(path, cache_dir=tmp_path / "cache").pitched  # the detector's own answer, cached apart
    with pytest.raises(AnalysisError, match="not both"):
        load_target(path, unpitched=True, f0_hz=100.0)
    from gascar.objective import Objective
    from gascar.synths import get_synth

    assert "f0_hz" in Objective(t, get_synth("fm")).space.names  # the free frequency gene


def test_unpitched_and_max_duration_reach_the_match_from_the_cli(tmp_path, monkeypatch):
    path = tmp_path / "long.wav"
    sf.write(path, np.tile(tone(104.5, 0.5), 4), 22050)  # 2 s
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GASCAR_CACHE_DIR", str(tmp_path / "cache"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = CliRunner().invoke(cli, ["match", str(path), "--unpitched", "--max-duration", "0.7", "--synth", "fm",
                                       "--budget", "60", "--jobs", "1", "--seed", "1", "--report"])
    assert res.exit_code == 0, res.output
    assert "pitch: none (--unpitched)" in res.output
    from gascar.preset import Preset

    preset = Preset.load(tmp_path / "long.preset.json")
    assert preset.render.duration_s <= 0.7 + 1e-9
    copy, sr = sf.read(tmp_path / "long.target.wav")
    assert copy.size / sr <= 0.7 + 1e-9  # the report's target copy honours the window too
    assert "--max-duration" in gm.MatchOptions.__doc__ or True


def test_long_file_warning_names_the_option(tmp_path):
    from gascar.audio import load_audio

    path = tmp_path / "long.wav"
    sf.write(path, np.tile(tone(220.0, 0.5), 4), 22050)
    with pytest.warns(UserWarning, match="--max-duration"):
        load_audio(path, max_duration_s=0.5)

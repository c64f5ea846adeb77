"""Voices that carry the target's spectrum (spectral, morph): built from the analysis, pickled with their data, stored
compactly and validated in presets, and played the same everywhere presets are played: what a match scores is
exactly what its written preset plays."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from gascar.analysis import target_from_audio
from gascar.errors import PresetError, SynthError
from gascar.objective import Objective
from gascar.preset import Preset
from gascar.synths import get_synth

SR = 22050
F0 = 196.0
VOICES = ("spectral", "morph")


def note(duration_s: float = 0.8) -> np.ndarray:
    """A bowed-like note: harmonics whose brightness grows then settles, a little breath noise, a release."""
    t = np.arange(int(duration_s * SR)) / SR
    env = np.minimum(t / 0.05, 1.0) * np.where(t < 0.6, 1.0, np.exp(-(t - 0.6) * 15))
    x = sum(np.sin(2 * np.pi * k * F0 * t) / k * (1 - np.exp(-t * 30 / k)) for k in range(1, 20))
    x = x * env + 0.01 * env * np.random.default_rng(0).standard_normal(t.size)
    return (0.4 * x / np.max(np.abs(x))).astype(np.float32)


@pytest.fixture(scope="module")
def target():
    return target_from_audio(note(), SR, f0_hz=F0, name="bowed.wav")


def _objective(name, target):
    return Objective(target, get_synth(name))


@pytest.mark.parametrize("name", VOICES)
def test_a_voice_is_built_from_the_target_and_its_start_sounds_like_it(name, target):
    objective = _objective(name, target)
    assert objective.synth.from_target and objective.synth.voice_json() is not None
    start = objective.start_genomes()
    random = np.random.default_rng(1).random((16, objective.n_genes))
    assert objective(start).min() < 0.5 * np.median(objective(random))


@pytest.mark.parametrize("name", VOICES)
def test_a_preset_carrying_the_voice_round_trips_through_json_and_renders_identically(name, target, tmp_path):
    objective = _objective(name, target)
    g = np.clip(objective.start_genomes()[0] + np.random.default_rng(2).normal(0, 0.05, objective.n_genes), 0, 1)
    scored = objective.render(g[None, :])[0]
    preset = objective.preset(g)
    path = preset.save(tmp_path / f"{name}.preset.json")
    assert path.stat().st_size < 200_000
    loaded = Preset.load(path)
    assert loaded.voice == json.loads(path.read_text())["voice"]
    np.testing.assert_array_equal(loaded.render_audio(), preset.render_audio())
    # What was scored, before the preset's output gain (its level to the target's loudness).
    np.testing.assert_array_equal(loaded.with_render(gain_db=0.0).render_audio(), scored)
    # Re-scored with the preset's own synth, the fitness is the match's.
    again = Objective(target, loaded.synth_instance())
    assert again(g[None, :])[0] == pytest.approx(objective(g[None, :])[0], rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("name", VOICES)
def test_the_voice_travels_with_the_objective_to_workers(name, target):
    objective = _objective(name, target)
    g = np.random.default_rng(3).random((4, objective.n_genes))
    clone = pickle.loads(pickle.dumps(objective))
    assert clone.synth.from_target
    np.testing.assert_array_equal(clone.render(g), objective.render(g))
    # A synth without a target pickles by name and plays its neutral default voice.
    plain = pickle.loads(pickle.dumps(get_synth(name)))
    assert not plain.from_target


def test_a_match_scores_what_its_preset_plays(target, tmp_path):
    from gascar.matching import match
    from gascar.outputs import MatchOutputs

    out = tmp_path / "bowed.preset.json"
    result = match(target, synth="spectral", budget=120, seed=3, n_jobs=2, handle_signals=False,
                   outputs=MatchOutputs(preset=out, render=tmp_path / "bowed.render.wav"))
    preset = Preset.load(out)
    again = Objective(target, preset.synth_instance())
    assert again(again.space.to_genomes({**preset.physical(), **_rest(again, result.genome)}))[0] == pytest.approx(
        result.fitness, rel=1e-9)
    rendered, _ = sf.read(tmp_path / "bowed.render.wav", dtype="float32")
    np.testing.assert_allclose(rendered, preset.render_audio(), atol=1e-4)  # the WAV's own quantisation


def _rest(objective, genome):
    """Physical values of the pitch and note-off genes of ``genome``."""
    phys = objective.space.to_physical(genome[None, :])
    return {n: phys[n] for n in objective.space.names[objective.n_synth_genes:]}


@pytest.mark.parametrize("name", VOICES)
def test_presets_with_voices_play_wherever_presets_play(name, target, tmp_path):
    from gascar.cli import cli
    from gascar.export.sfz import export_sfz
    from gascar.playback import play_notes

    objective = _objective(name, target)
    preset = objective.preset(objective.start_genomes()[0])
    path = preset.save(tmp_path / f"{name}.preset.json")
    # gascar render
    wav = tmp_path / "r.wav"
    res = CliRunner().invoke(cli, ["render", str(path), "-o", str(wav)])
    assert res.exit_code == 0, res.output
    y, sr = sf.read(wav, dtype="float32")
    assert sr == preset.render.sample_rate
    np.testing.assert_allclose(y, preset.render_audio(), atol=1e-4)
    # MIDI playback: two notes, the second an octave up
    from types import SimpleNamespace

    notes = [SimpleNamespace(start_s=0.0, end_s=0.3, f0_hz=F0, velocity=100),
             SimpleNamespace(start_s=0.4, end_s=0.7, f0_hz=2 * F0, velocity=100)]
    mix = play_notes(preset, notes, sample_rate=22050)
    assert np.all(np.isfinite(mix)) and np.abs(mix).max() > 0.01
    # SFZ export across a few keys
    from gascar.export.sfz import SfzOptions

    inst = export_sfz(preset, tmp_path / "sfz", options=SfzOptions(low_key=50, high_key=58))
    assert inst.path.exists() and len(inst.regions) >= 2


def test_a_batch_and_its_report_take_voices(tmp_path):
    from gascar.batch import BatchOptions, run_batch
    from gascar.matching import MatchOptions

    src = tmp_path / "in"
    src.mkdir()
    sf.write(src / "bowed.wav", note(0.5), SR, subtype="FLOAT")
    result = run_batch(src, tmp_path / "out", BatchOptions(match=MatchOptions(synth="morph", budget=60, seed=1), n_jobs=1,
                                                           report=True))
    row = result.rows[0]
    assert row["status"] == "ok", row
    preset = Preset.load(tmp_path / "out" / "bowed.preset.json")
    assert preset.synth == "morph" and preset.voice is not None
    assert (tmp_path / "out" / "bowed.report.html").exists()


# -- validation ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spectral_doc(target):
    objective = _objective("spectral", target)
    return objective.preset(objective.start_genomes()[0]).to_dict()


@pytest.mark.parametrize("change, field", [
    (lambda v: v.update(ratio=v["ratio"][:-1]), "harmonic"),
    (lambda v: v["amp_db"][0].__setitem__(0, float("nan")), "amp_db"),
    (lambda v: v.update(times_s=list(reversed(v["times_s"]))), "times_s"),
    (lambda v: v.update(colour="red"), "colour"),
    (lambda v: v.pop("noise_db"), "noise_db"),
    (lambda v: v.update(f0_hz=-3.0), "f0_hz"),
    (lambda v: v.update(release_db_per_s=[5.0] * len(v["release_db_per_s"])), "release_db_per_s"),
    (lambda v: v.update(version=99), "version"),
])
def test_broken_voice_data_is_a_preset_error_naming_the_field(spectral_doc, change, field):
    doc = json.loads(json.dumps(spectral_doc))
    change(doc["voice"])
    with pytest.raises(PresetError, match=field):
        Preset.from_dict(doc)


def test_voice_data_for_a_synth_without_any_is_refused(spectral_doc):
    doc = json.loads(json.dumps(spectral_doc))
    doc["synth"] = "additive"
    doc["params"] = get_synth("additive").params.values_to_json(get_synth("additive").params.default_physical())
    with pytest.raises(PresetError, match="voice"):
        Preset.from_dict(doc)


def test_the_morph_voice_needs_a_pitched_target():
    x = np.random.default_rng(4).standard_normal(int(0.3 * SR)).astype(np.float32) * 0.2
    noise = target_from_audio(x, SR, name="noise.wav")
    with pytest.raises(SynthError, match="pitch"):
        Objective(noise, get_synth("morph"))
    assert Objective(noise, get_synth("spectral")).synth.from_target  # partials and noise need no pitch


# -- the spectral voice in --synth auto ------------------------------------------------------------------------------


def test_auto_tries_the_spectral_voice_from_the_measured_note(target):
    from gascar.matching import match
    from gascar.synths import auto_synths

    assert "spectral" in auto_synths() and "morph" not in auto_synths()
    result = match(target, synth="auto", budget=240, seed=3, n_jobs=1, handle_signals=False)
    assert "spectral" in result.standings and result.starts == ""
    measured = _objective("spectral", target)
    start = measured.start_genomes()
    assert start.shape == (1, measured.n_genes)
    # The first population holds the measured note: the voice's best is at least as close as that note.
    assert result.standings["spectral"] <= measured(start)[0] * (1 + 1e-9)


def test_auto_leaves_out_a_voice_the_analysis_cannot_build_and_says_so(target):
    import dataclasses

    from gascar.matching import match

    modelless = dataclasses.replace(target, model=None)
    result = match(modelless, synth="auto", budget=200, seed=3, n_jobs=1, handle_signals=False)
    assert "spectral" not in result.standings and len(result.standings) >= 1
    assert result.starts == "left out of --synth auto: spectral (the target's analysis gives no voice: no spectral model)"
    with pytest.raises(SynthError, match="no spectral model"):  # asked by name, it is an error
        match(modelless, synth="spectral", budget=50, seed=3, n_jobs=1, handle_signals=False)


def test_auto_with_the_voice_gives_the_same_result_for_any_number_of_jobs(target):
    from gascar.matching import match

    one = match(target, synth="auto", budget=240, seed=5, n_jobs=1, handle_signals=False)
    two = match(target, synth="auto", budget=240, seed=5, n_jobs=2, handle_signals=False)
    assert one.synth == two.synth and one.fitness == two.fitness and one.standings == two.standings
    np.testing.assert_array_equal(one.genome, two.genome)

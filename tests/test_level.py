"""Every matched preset plays at its target's loudness: in the preset (render.gain_db) and in its written render,
whatever the genome's own gain, drive and EQ; old presets load and render unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import tone

from gascar.analysis import target_from_audio
from gascar.errors import PresetError
from gascar.objective import PEAK_CEILING_DBFS, Objective, level_gain_db
from gascar.preset import Preset
from gascar.synths import get_synth

SR = 22050
PRESETS = Path(__file__).resolve().parents[1] / "presets"


def _rms_db(x) -> float:
    return 20 * np.log10(np.sqrt(np.mean(np.square(np.asarray(x, dtype=np.float64)))))


def _extremes(synth, rng) -> np.ndarray:
    """Random genomes with the gain, drive and EQ genes at their ends (in every combination drawn)."""
    names = [n for n in synth.params.names if n in ("gain_db", "drive_db") or n.startswith("eq_") or n.endswith("_on")]
    g = rng.random((8, synth.n_genes))
    for j, name in enumerate(names):
        col = synth.params.names.index(name)
        g[:, col] = (np.arange(8) >> (j % 3)) % 2  # 0 or 1
    return g


@pytest.mark.parametrize("synth_name", ["subtractive", "fm", "additive", "wavetable", "modular"])
@pytest.mark.parametrize("target_db", [-40.0, -12.0])
def test_matched_presets_play_at_the_targets_loudness(synth_name, target_db):
    x = tone(220.0, 0.4, SR)
    x = x * (10 ** (target_db / 20) / np.sqrt(np.mean(x.astype(np.float64) ** 2)))
    target = target_from_audio(x, SR, f0_hz=220.0)
    objective = Objective(target, get_synth(synth_name))
    rng = np.random.default_rng(7)
    genomes = np.concatenate([_extremes(objective.synth, rng), rng.random((4, objective.synth.n_genes))])
    full = np.concatenate([genomes, rng.random((genomes.shape[0], objective.n_genes - objective.synth.n_genes))], axis=1)
    for g in full:
        preset = Preset.from_dict(json.loads(objective.preset(g).to_json()))  # as saved and loaded
        audio = preset.render_audio()
        raw = objective.render(g[None, :])[0]
        if np.sqrt(np.mean(raw.astype(np.float64) ** 2)) <= 1e-7:
            continue  # a silent voice stays silent (gain 0)
        peak_db = 20 * np.log10(np.max(np.abs(audio)))
        # The target's loudness, unless that would clip: then just under full scale.
        assert abs(_rms_db(audio) - target_db) < 0.01 or abs(peak_db - PEAK_CEILING_DBFS) < 0.01, (preset.render.gain_db,
                                                                                                     _rms_db(audio), peak_db)
        assert peak_db <= PEAK_CEILING_DBFS + 0.01
        fit = objective(g[None, :])[0]
        assert fit == pytest.approx(preset.match["fitness"])  # the level changes no fitness


def test_a_near_silent_voice_gets_the_gain_it_needs_beyond_any_synth_gain():
    loud = tone(220.0, 0.4, SR)
    quiet = loud * 10 ** (-66 / 20)
    gain = level_gain_db(quiet, loud)
    assert gain == pytest.approx(66.0, abs=0.01) or gain < 66.0  # capped only by the peak ceiling
    assert gain > 30.0  # out of reach of a synth's own gain_db (-24 .. +6 dB)
    assert level_gain_db(np.zeros(100), loud) == 0.0


def test_written_render_is_at_the_presets_level(tmp_path, standin_free_match):
    preset_path, render_path, target_path = standin_free_match
    preset = Preset.load(preset_path)
    written, sr = sf.read(render_path, dtype="float32")
    assert abs(_rms_db(written) - _rms_db(preset.render_audio())) < 0.05
    target, _ = sf.read(target_path, dtype="float32")
    assert preset.render.gain_db != 0.0


@pytest.fixture()
def standin_free_match(tmp_path):
    """A real (small) match of a quiet target: -50 dB RMS."""
    import gascar.matching as gm

    x = tone(220.0, 0.3, SR)
    x = x * (10 ** (-50 / 20) / np.sqrt(np.mean(x.astype(np.float64) ** 2)))
    path = tmp_path / "quiet.wav"
    sf.write(path, x, SR, subtype="FLOAT")
    outputs = gm.MatchOutputs(preset=tmp_path / "q.preset.json", render=tmp_path / "q.render.wav")
    gm.match(path, synth="fm", budget=60, seed=1, n_jobs=1, outputs=outputs, handle_signals=False, analysis={"f0_hz": 220.0})
    return outputs.preset, outputs.render, path


def test_old_presets_load_and_render_unchanged():
    for path in sorted(PRESETS.glob("*.json")):
        doc = json.loads(path.read_text())
        if doc["synth"] not in ("subtractive", "fm", "additive", "wavetable", "modular"):
            continue
        preset = Preset.from_dict(doc)
        assert preset.render.gain_db == 0.0 and "gain_db" not in preset.to_dict()["render"]
        synth = get_synth(preset.synth)
        r = preset.render
        raw = synth.render_physical(preset.physical(), r.f0_hz, r.n_samples, r.sample_rate, hold_s=r.hold_s)[0]
        assert np.array_equal(preset.render_audio(), raw)


def test_gain_db_is_validated_and_round_trips():
    doc = json.loads((PRESETS / "fm-bell.json").read_text())
    doc["render"]["gain_db"] = 41.5
    preset = Preset.from_dict(doc)
    assert preset.to_dict()["render"]["gain_db"] == 41.5
    louder = preset.render_audio()
    doc["render"]["gain_db"] = 0
    assert np.allclose(louder, Preset.from_dict(doc).render_audio() * 10 ** (41.5 / 20), rtol=1e-5)
    for bad in ("loud", 1e9, True):
        doc["render"]["gain_db"] = bad
        with pytest.raises(PresetError, match="gain_db"):
            Preset.from_dict(doc)


def test_dx7_presets_carry_the_level_in_the_preset_not_in_the_syx(tmp_path):
    from gascar.export import load_preset, write_native
    from gascar.synths import dx7

    if not dx7.dexed_available():
        pytest.skip("dexed-py (the dx7 extra) is not installed")
    x = tone(220.0, 0.4, SR)
    x = x * (10 ** (-45 / 20) / np.sqrt(np.mean(x.astype(np.float64) ** 2)))
    objective = Objective(target_from_audio(x, SR, f0_hz=220.0), get_synth("dx7"))
    g = np.random.default_rng(2).random((1, objective.n_genes))[0]
    preset = objective.preset(g)
    saved = preset.save(tmp_path / "v.preset.json")
    audio = Preset.load(saved).render_audio()
    assert abs(_rms_db(audio) - (-45.0)) < 0.05 or abs(20 * np.log10(np.max(np.abs(audio))) - PEAK_CEILING_DBFS) < 0.05
    syx_path = write_native(preset, saved)
    from_syx = load_preset(syx_path)  # a DX7 voice has no master level: the .syx plays at the voice's own level
    assert from_syx.render.gain_db == 0.0

"""The vital synth (Vital's engine through vita), its wavetables and .vital files: determinism, malformed input, the extra's absence."""

from __future__ import annotations

import json
import sys
import threading

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from conftest import tone

from gascar import wavetables
from gascar.cli import cli
from gascar.errors import PresetError, SynthError
from gascar.export import load_preset, write_native
from gascar.export import vital as vital_file
from gascar.preset import Preset, RenderSettings
from gascar.synths import auto_synths, get_synth, list_synths, vital

SR = 22050
needs_vita = pytest.mark.skipif(not vital.vita_available(), reason="vita (the vital extra) is not installed")


def random_presets(n, seed=0, **render):
    synth = get_synth("vital")
    g = np.random.default_rng(seed).random((n, synth.n_genes))
    settings = RenderSettings(**{"f0_hz": 220.0, "duration_s": 0.4, "hold_s": 0.25, **render})
    return [Preset.from_genome("vital", g[i], settings, match={"target": "lead.wav", "rank": i + 1}) for i in range(n)]


# -- wavetables ---------------------------------------------------------------------------------------


def test_harmonic_frames_hold_the_levels_asked_for():
    levels = np.array([0.0, -6.0, -12.0, -60.0, -20.0])
    frame = wavetables.harmonic_frames(levels)
    assert frame.shape == (wavetables.FRAME_SIZE,) and frame.dtype == np.float32
    assert np.isclose(np.abs(frame).max(), 1.0)
    spectrum = np.abs(np.fft.rfft(frame))[1:6]
    np.testing.assert_allclose(20 * np.log10(spectrum / spectrum[0]), levels, atol=0.01)
    np.testing.assert_array_equal(wavetables.decode_frame(wavetables.encode_frame(frame)), frame)


def test_a_sound_s_harmonic_levels_are_measured():
    t = np.arange(SR) / SR
    levels = np.array([0.0, -10.0, -3.0, -30.0, -60.0, -20.0])
    x = sum(10 ** (d / 20) * np.sin(2 * np.pi * 196.0 * (k + 1) * t) for k, d in enumerate(levels))
    got = wavetables.harmonic_levels_db(x, SR, 196.0, 8)
    np.testing.assert_allclose(got[:4], levels[:4], atol=0.5)
    assert got[4] < -50 and abs(got[5] + 20) < 0.5 and np.all(got[6:] == wavetables.FLOOR_DB)


def test_malformed_wave_data_is_refused():
    for bad in ("not base64!", wavetables.encode_frame(np.zeros(wavetables.FRAME_SIZE))[:-8]):
        with pytest.raises(ValueError):
            wavetables.decode_frame(bad)


# -- the patch ----------------------------------------------------------------------------------------


def test_genes_are_vital_controls_in_vital_ranges():
    synth = get_synth("vital")
    assert "vital" in list_synths() and "vital" not in auto_synths() and not synth.responds_to_velocity
    assert all(spec.description for spec in synth.params)
    controls = vital.controls(synth.params.default_physical(), 440.0)
    assert set(vital.CONTROL_GENES) <= set(controls) and controls["osc_1_random_phase"] == 0.0
    if vital.vita_available():
        import vita

        engine = vita.Synth()
        known = engine.get_controls()
        for name, value in controls.items():
            assert name in known, name
            d = engine.get_control_details(name)
            assert d.min <= value <= d.max, (name, value)
        for _, source, destination, _ in vital.MODULATIONS:
            assert source in vita.get_modulation_sources() and destination in vita.get_modulation_destinations()


def test_pitch_is_a_midi_note_and_the_tuning_makes_up_the_rest():
    notes, tune = vital.midi_pitch(np.array([440.0, 440.0 * 2 ** (0.3 / 12), 261.63 * 2 ** (-0.4 / 12)]))
    assert notes.tolist() == [69, 69, 60]
    np.testing.assert_allclose(tune, [0.0, 0.3, -0.4], atol=1e-3)


@needs_vita
def test_a_render_does_not_depend_on_the_renders_before_it_nor_on_velocity():
    synth = get_synth("vital")
    g = np.random.default_rng(3).random((6, synth.n_genes))
    kw = dict(hold_s=0.2)
    forward = synth.render(g, 196.0, 8820, SR, **kw)
    backward = synth.render(g[::-1], 196.0, 8820, SR, **kw)[::-1]
    assert forward.shape == (6, 8820) and forward.dtype == np.float32 and np.all(np.isfinite(forward))
    np.testing.assert_allclose(forward, backward, atol=2e-3)
    np.testing.assert_allclose(synth.render(g[:2], 196.0, 8820, SR, velocity=30, **kw), forward[:2], atol=2e-3)


# -- .vital files ---------------------------------------------------------------------------------------


def test_vital_files_round_trip_without_the_engine(tmp_path):
    preset = random_presets(1, seed=2)[0]
    path = vital_file.write_preset(tmp_path / "lead.vital", preset)
    doc = json.loads(path.read_text())
    assert doc["synth_version"] == vital.VITAL_VERSION and len(doc["settings"]["wavetables"]) == 3
    back = load_preset(path)
    assert back.params == preset.params and back.render == preset.render


def test_malformed_vital_files_are_one_line_errors_naming_the_file(tmp_path):
    preset = random_presets(1)[0]
    good = vital_file.vital_state(preset)
    edited = json.loads(json.dumps(good))
    edited["settings"]["filter_1_cutoff"] = 12.0
    no_key = {k: v for k, v in good.items() if k != "gascar"}
    bad_preset = json.loads(json.dumps(good))
    bad_preset["gascar"]["params"]["filter_1_cutoff"] = 999.0
    cases = {
        "text.vital": "hello",
        "list.vital": "[1, 2]",
        "nosettings.vital": json.dumps({"synth_version": "1.5.5"}),
        "vitalsaved.vital": json.dumps(no_key),
        "badpreset.vital": json.dumps(bad_preset),
        "edited.vital": json.dumps(edited),
    }
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text)
        with pytest.raises(PresetError) as err:
            load_preset(path)
        assert str(err.value).startswith(str(path)) and "\n" not in str(err.value)
        result = CliRunner().invoke(cli, ["render", str(path)])
        assert result.exit_code == 2
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"gascar: error: {path}:"), result.output
    with pytest.raises(PresetError, match="only vital presets"):
        fm = get_synth("fm")
        vital_file.write_preset(tmp_path / "x.vital", Preset(synth="fm", params=fm.params.values_to_json(fm.params.default_physical())))


# -- the match writes what it scored ------------------------------------------------------------------


@needs_vita
def test_a_tiny_vital_match_writes_a_vital_file_that_vita_loads_and_renders_as_scored(tmp_path, monkeypatch):
    import vita

    from gascar.analysis import load_target
    from gascar.matching import default_outputs, match
    from gascar.objective import Objective

    wav = tmp_path / "pluck.wav"
    sf.write(wav, tone(196.0, 0.4), SR, subtype="PCM_16")
    monkeypatch.chdir(tmp_path)
    result = match(str(wav), synth="vital", budget=24, seed=1, population=8, outputs=default_outputs(wav), n_jobs=1,
                   handle_signals=False)
    assert {"pluck.preset.json", "pluck.vital", "pluck.render.wav"} <= {p.name for p in result.files}
    objective = Objective(load_target(wav), get_synth("vital"))
    scored = objective.render(result.genome[None, :])[0]
    assert objective(result.genome[None, :])[0] == pytest.approx(result.fitness, rel=1e-4)
    # the file as Vital reads it, through vita's own loader, renders the scored audio
    engine = vita.Synth()
    engine.set_sample_rate(SR)
    assert engine.load_preset(str(tmp_path / "pluck.vital"))
    r = result.preset.render
    note = int(vital.midi_pitch(np.array([r.f0_hz]))[0][0])
    tail = float(vital.release_tail_s(result.preset.physical())[0])
    args = (note, 100 / 127, r.hold_s, vital.render_duration_s(r.n_samples, SR, r.hold_s, tail))
    engine.render(*args)
    x = engine.render(*args)
    np.testing.assert_allclose(0.5 * (x[0] + x[1])[: scored.size], scored, atol=1e-5)
    # the GASCAR preset inside carries the level gain (Vital itself plays the patch at the voice's own level)
    embedded = load_preset(tmp_path / "pluck.vital")
    np.testing.assert_allclose(embedded.render_audio(), scored * np.float32(embedded.render.gain), atol=1e-5 * embedded.render.gain)


@needs_vita
def test_warm_start_begins_at_the_target_s_own_spectrum():
    from gascar.analysis import target_from_audio
    from gascar.matching import start_genomes
    from gascar.objective import Objective

    target = target_from_audio(tone(220.0, 0.5), SR, f0_hz=220.0)
    objective = Objective(target, get_synth("vital"))
    g = start_genomes(objective, target)
    assert g.shape == (1, objective.n_genes)
    physical = objective.space.to_physical(g)
    levels = np.array([physical[n][0] for n in vital.HARMONIC_NAMES])
    np.testing.assert_allclose(levels[:5], -20 * np.log10(np.arange(1, 6)), atol=1.0)  # the tone's 1/k harmonics
    assert levels[6] < -40
    assert objective.f0_hz(g)[0] == pytest.approx(220.0)


@needs_vita
def test_warm_start_reads_the_spectral_model_and_measures_without_one():
    from dataclasses import replace

    from gascar.analysis import target_from_audio

    target = target_from_audio(tone(220.0, 0.5), SR, f0_hz=220.0)
    assert target.model is not None and target.model.usable
    synth = get_synth("vital")
    hold = target.hold_s
    held = (target.model.times_s >= 0.1 * hold) & (target.model.times_s <= max(hold, 0.2))
    expected = target.model.harmonic_levels_db(vital.N_HARMONICS, frames=held)
    start = synth.start_physical(target)[0]
    np.testing.assert_allclose([start[n] for n in vital.HARMONIC_NAMES], expected)
    # Without a usable model the spectrum is measured directly, and it is the same tone's.
    measured = synth.start_physical(replace(target, model=None))[0]
    np.testing.assert_allclose([measured[n] for n in vital.HARMONIC_NAMES][:5], expected[:5], atol=1.0)


# -- the command line -----------------------------------------------------------------------------------


@needs_vita
def test_export_and_render_commands(tmp_path):
    preset = random_presets(1, seed=6)[0]
    path = tmp_path / "lead.preset.json"
    preset.save(path)
    runner = CliRunner()
    result = runner.invoke(cli, ["export", str(path), "--vital", str(tmp_path / "out.vital")])
    assert result.exit_code == 0, result.output
    assert load_preset(tmp_path / "out.vital").params == preset.params
    result = runner.invoke(cli, ["render", str(tmp_path / "out.vital")])
    assert result.exit_code == 0, result.output
    y, _ = sf.read(tmp_path / "out.wav", dtype="float32")
    np.testing.assert_allclose(y, preset.render_audio(), atol=2 / 32768)
    assert write_native(preset, path).name == "lead.vital"


# -- without the extra -----------------------------------------------------------------------------------


def test_without_vita_the_vital_synth_is_a_one_line_error_naming_the_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "vita", None)  # makes the import fail
    monkeypatch.setattr(vital, "_ENGINES", threading.local())  # and forgets engines made by earlier tests
    assert not vital.vita_available()
    with pytest.raises(SynthError, match=r"pip install 'gascar\[vital\]'"):
        get_synth("vital").require()
    wav = tmp_path / "t.wav"
    sf.write(wav, tone(220.0, 0.3), SR)
    result = CliRunner().invoke(cli, ["match", str(wav), "--synth", "vital", "-q"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"gascar: error: the vital synth needs vita, Vital's engine, which is not installed: {vital.INSTALL_HINT}"]
    # .vital files are read and written without the engine; rendering one names the install
    preset = random_presets(1)[0]
    path = write_native(preset, tmp_path / "v.preset.json")
    assert load_preset(path).params == preset.params
    result = CliRunner().invoke(cli, ["render", str(path)])
    assert result.exit_code == 2 and "gascar[vital]" in result.output

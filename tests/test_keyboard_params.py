"""Keyboard parameters: key tracking and velocity response of every synth, neutral by default.

Old presets (the committed ones under presets/ and old-format fixtures written before the parameters existed, with
their renders recorded then in tests/fixtures/presets-v1/renders.json) load, hold no keyboard parameter, and render
as they did; each parameter does what it says.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import FIXTURES, REPO

from gascar.preset import Preset
from gascar.synths import get_synth, keyboard, list_synths

SR = 22050
V1 = FIXTURES / "presets-v1"
NUMPY_SYNTHS = ("subtractive", "fm", "additive", "wavetable", "modular")


def _available(name: str) -> bool:
    try:
        get_synth(name).require()
    except Exception:  # noqa: BLE001 - an optional engine that is not installed
        return False
    return True


def _summary(preset: Preset) -> dict:
    x = preset.with_render(duration_s=min(preset.render.duration_s, 0.6), sample_rate=SR).render_audio().astype(np.float64)
    return {"rms": float(np.sqrt(np.mean(x**2))), "peak": float(np.abs(x).max()), "samples": [float(v) for v in x[1000:6000:500]],
            "n": int(x.size)}


def _old_presets() -> list[tuple[str, Path]]:
    refs = json.loads((V1 / "renders.json").read_text(encoding="utf-8"))
    out = []
    for key in refs:
        out.append((key, REPO / key if key.startswith("presets/") else V1 / key))
    return out


@pytest.mark.parametrize("key, path", _old_presets(), ids=[k for k, _ in _old_presets()])
def test_old_presets_load_without_keyboard_parameters_and_render_as_before(key, path):
    ref = json.loads((V1 / "renders.json").read_text(encoding="utf-8"))[key]
    preset = Preset.load(path)
    if not _available(preset.synth):
        pytest.skip(f"{preset.synth}'s engine is not installed")
    assert preset.keyboard == {} and not preset.responds_to_velocity
    assert preset.to_dict()["params"] == json.loads(path.read_text(encoding="utf-8"))["params"]  # written back unchanged
    got = _summary(preset)
    assert got["n"] == ref["n"]
    # Vital's engine carries a trace of earlier renders (up to 2e-3, see test_vital): a looser bound there
    atol = 1e-4 if preset.synth == "vital" else 1e-7
    np.testing.assert_allclose([got["rms"], got["peak"], *got["samples"]], [ref["rms"], ref["peak"], *ref["samples"]],
                               rtol=1e-5, atol=atol)
    if "syx_sha256" in ref:  # the DX7 voice written for it is byte for byte the old one
        from gascar.export import syx

        assert hashlib.sha256(syx.preset_voice(preset)).hexdigest() == ref["syx_sha256"]
    if "vital_sha256" in ref:  # and so is the .vital file
        from gascar.export.vital import vital_state

        text = json.dumps(vital_state(preset), allow_nan=False)
        assert hashlib.sha256(text.encode()).hexdigest() == ref["vital_sha256"]


@pytest.mark.parametrize("name", NUMPY_SYNTHS)
def test_neutral_keyboard_takes_the_old_path_bit_for_bit(name, monkeypatch):
    """At its defaults the keyboard changes nothing: a render equals one with the keyboard step removed."""
    synth = get_synth(name)
    rng = np.random.default_rng(4)
    g = rng.random((6, synth.n_genes))
    velocity = np.array([1, 30, 64, 100, 127, 90])
    f0 = np.array([55.0, 110.0, 261.6, 440.0, 880.0, 1760.0])
    ours = synth.render(g, f0, 4096, SR, hold_s=0.1, velocity=velocity)
    physical = synth.params.to_physical(g)
    physical.update(synth.keyboard.default_physical())
    np.testing.assert_array_equal(ours, synth.render_physical(physical, f0, 4096, SR, hold_s=0.1, velocity=velocity))
    monkeypatch.setattr(keyboard, "apply", lambda p, *a, **k: dict(p))
    monkeypatch.setattr(keyboard, "neutral", lambda *a, **k: True)
    np.testing.assert_array_equal(ours, synth.render(g, f0, 4096, SR, hold_s=0.1, velocity=velocity))


@pytest.mark.parametrize("name", list_synths())
def test_every_synth_has_neutral_keyboard_parameters_that_render(name):
    synth = get_synth(name)
    if not _available(name):
        pytest.skip(f"{name}'s engine is not installed")
    assert len(synth.keyboard) >= 3, "a synth needs key tracking and velocity response for instrument matches"
    assert all(spec.description for spec in synth.keyboard)
    assert not set(synth.keyboard.names) & set(synth.params.names)
    default = {k: np.atleast_1d(v) for k, v in synth.params.default_physical().items()}
    assert not synth.responds_to({**default, **synth.keyboard.default_physical()})
    g = np.random.default_rng(6).random((3, synth.voice_params.n_genes))
    physical = synth.voice_params.to_physical(g)
    y = synth.render_physical(physical, np.array([110.0, 440.0, 880.0]), 4410, SR, hold_s=0.1, velocity=np.array([20, 100, 127]))
    assert y.shape == (3, 4410) and np.all(np.isfinite(y))
    single = synth.render_physical({k: v[1:2] for k, v in physical.items()}, 440.0, 4410, SR, hold_s=0.1, velocity=100)
    np.testing.assert_allclose(y[1:2], single, atol=2e-3 if name == "vital" else 0)  # a voice renders the same in a batch


def _rms_db(x: np.ndarray) -> np.ndarray:
    return 20 * np.log10(np.sqrt(np.mean(np.asarray(x, np.float64) ** 2, axis=-1)) + 1e-12)


def _centroid(x: np.ndarray) -> np.ndarray:
    spec = np.abs(np.fft.rfft(x, axis=-1))
    freqs = np.fft.rfftfreq(x.shape[-1], 1 / SR)
    return (spec * freqs).sum(axis=-1) / spec.sum(axis=-1)


def _voice(name: str, **keyboard_values) -> dict:
    synth = get_synth(name)
    p = {k: np.full(2, v) for k, v in synth.params.default_physical().items()}
    p.update({k: np.full(2, float(v)) for k, v in keyboard_values.items()})
    return p


@pytest.mark.parametrize("name", NUMPY_SYNTHS)
def test_velocity_level_makes_soft_notes_quieter(name):
    synth = get_synth(name)
    p = _voice(name, velocity_level_db=24.0, gain_db=-12.0)
    y = synth.render_physical(p, 261.6, 8820, SR, velocity=np.array([1, 127]))
    assert _rms_db(y[0]) - _rms_db(y[1]) == pytest.approx(-24.0, abs=1.0)
    assert synth.responds_to(p)


@pytest.mark.parametrize("name", NUMPY_SYNTHS)
def test_key_level_follows_the_octave(name):
    synth = get_synth(name)
    p = _voice(name, key_level_db_per_oct=-6.0, gain_db=-12.0)
    y = synth.render_physical(p, np.array([261.6, 523.25]), 8820, SR)
    flat = synth.render_physical(_voice(name, gain_db=-12.0), np.array([261.6, 523.25]), 8820, SR)
    assert (_rms_db(y) - _rms_db(flat)) == pytest.approx([0.0, -6.0], abs=0.5)


@pytest.mark.parametrize("name", NUMPY_SYNTHS)
def test_key_time_scaling_shortens_decays_up_the_keyboard(name):
    synth = get_synth(name)
    base = {"sustain": 0.0, "decay_s": 0.4}
    if name == "fm":
        base = {f"op{k}_{f}": v for k in range(1, 5) for f, v in (("sustain", 0.0), ("decay_s", 0.4))}
    if name == "additive":
        base = {"sustain": 0.0, "decay_s": 0.4, "decay_tilt": 0.0}
    up = 2 * 261.6
    plain = synth.render_physical(_voice(name, **base), up, SR, SR)[0]
    scaled = synth.render_physical(_voice(name, key_time_scaling=1.0, **base), up, SR, SR)[0]
    half = SR // 2  # an octave up with scaling 1 decays twice as fast: less is left in the second half of the second
    assert _rms_db(scaled[half:]) < _rms_db(plain[half:]) - 6


@pytest.mark.parametrize("name, brightness", [("subtractive", {"velocity_cutoff_oct": 3.0, "cutoff_hz": 3000.0}),
                                              ("wavetable", {"velocity_cutoff_oct": 3.0, "cutoff_hz": 3000.0}),
                                              ("modular", {"velocity_cutoff_oct": 3.0, "cutoff_hz": 3000.0}),
                                              ("fm", {"velocity_mod_db": 20.0, "op2_level": 0.6}),
                                              ("additive", {"velocity_tilt_db_per_oct": 9.0})])
def test_soft_notes_are_darker(name, brightness):
    synth = get_synth(name)
    y = synth.render_physical(_voice(name, **brightness), 261.6, 8820, SR, velocity=np.array([10, 127]))
    assert _centroid(y[0]) < 0.8 * _centroid(y[1])


@pytest.mark.parametrize("name, amount, voice", [("fm", {"key_mod_db_per_oct": -9.0}, {"op2_level": 0.6}),
                                                 ("additive", {"key_tilt_db_per_oct": -4.0}, {})])
def test_key_brightness_tracking(name, amount, voice):
    synth = get_synth(name)
    f0 = np.array([261.6256, 1046.5])
    y = synth.render_physical(_voice(name, **amount, **voice), f0, 8820, SR)
    flat = synth.render_physical(_voice(name, **voice), f0, 8820, SR)
    assert _centroid(y[1]) / f0[1] < 0.85 * (_centroid(flat[1]) / f0[1])  # relative to its note, darker two octaves up
    assert _centroid(y[0]) == pytest.approx(_centroid(flat[0]), rel=1e-3)  # and unchanged at C4


def test_vital_keyboard_reaches_vitals_engine():
    from gascar.synths import vital

    if not _available("vital"):
        pytest.skip("vita is not installed")
    synth = get_synth("vital")
    neutral = {k: v for k, v in synth.params.default_physical().items()}
    assert vital.modulation_slots(neutral) == vital.MODULATIONS  # no slot for the keyboard while it is neutral
    p = _voice("vital", velocity_track=1.0)
    y = synth.render_physical(p, 261.6, 8820, SR, hold_s=0.3, velocity=np.array([30, 127]))
    assert _rms_db(y[0]) - _rms_db(y[1]) < -10
    bright = _voice("vital", mod_velocity_filter_1_cutoff=0.3, filter_1_cutoff=60.0)
    y = synth.render_physical(bright, 261.6, 8820, SR, hold_s=0.3, velocity=np.array([20, 127]))
    assert _centroid(y[0]) < 0.8 * _centroid(y[1])
    controls = vital.controls({**neutral, "mod_note_env_time": -0.2}, 261.6)
    import vita

    engine = vita.Synth()
    for name, value in controls.items():
        d = engine.get_control_details(name)
        assert d.min <= value <= d.max, (name, value)
    for _, source, destination, _ in vital.KEYBOARD_MODULATIONS:
        assert source in vita.get_modulation_sources() and destination in vita.get_modulation_destinations()


def test_a_preset_holds_keyboard_parameters_only_when_given(tmp_path):
    synth = get_synth("subtractive")
    plain = Preset("subtractive", synth.params.values_to_json(synth.params.default_physical()))
    assert plain.keyboard == {} and "velocity_level_db" not in plain.to_dict()["params"]
    assert plain.physical()["velocity_level_db"] == 0.0  # read as neutral
    held = Preset("subtractive", {**plain.params, "velocity_level_db": 12.0})
    assert held.keyboard == {"velocity_level_db": 12.0} and held.responds_to_velocity
    back = Preset.load(held.save(tmp_path / "k.preset.json"))
    assert back.params == held.params and back.voice_genome().shape == (synth.voice_params.n_genes,)
    with pytest.raises(Exception, match="velocity_level_db"):
        Preset("subtractive", {**plain.params, "velocity_level_db": 400.0})
    g = synth.voice_params.to_genomes({**synth.params.default_physical(), **synth.keyboard.default_physical(),
                                       "key_time_scaling": 0.5})[0]
    from gascar.preset import RenderSettings

    from_genome = Preset.from_genome("subtractive", g, RenderSettings())
    assert set(from_genome.keyboard) == set(synth.keyboard.names)  # an instrument match's preset holds them all

import json

import numpy as np
import pytest
from conftest import FIXTURES, REPO

from gascar.errors import GascarError, PresetError, SynthError
from gascar.preset import Preset, RenderSettings
from gascar.synths import get_synth, list_synths

BROKEN = FIXTURES / "presets"


def default_preset(synth="subtractive", **kw):
    s = get_synth(synth)
    return Preset(synth=synth, params=s.params.values_to_json(s.params.default_physical()), **kw)


def test_round_trip_file(tmp_path):
    p = default_preset(render=RenderSettings(f0_hz=220.0, duration_s=0.5, hold_s=0.3), name="test")
    path = p.save(tmp_path / "x.json")
    q = Preset.load(path)
    assert q == p
    doc = json.loads(path.read_text())
    assert list(doc)[:2] == ["format", "version"] and doc["format"] == "gascar-preset"
    assert path.read_text() == p.to_json()  # stable, pretty
    assert path.read_text().startswith("{\n  ")


def test_from_genome_and_back():
    s = get_synth("subtractive")
    g = np.random.default_rng(3).random(s.n_genes)
    p = Preset.from_genome("subtractive", g, RenderSettings(duration_s=0.2))
    a = s.render(g[None], p.render.f0_hz, p.render.n_samples, p.render.sample_rate)[0]
    b = p.render_audio()
    assert np.allclose(a, b, atol=1e-6)
    assert np.allclose(s.render(p.genome()[None], p.render.f0_hz, p.render.n_samples, 22050)[0], b, atol=1e-6)


def test_note_instead_of_f0(tmp_path):
    p = default_preset()
    doc = p.to_dict()
    doc["render"] = {"note": "A4", "duration_s": 0.5}
    path = tmp_path / "n.json"
    path.write_text(json.dumps(doc))
    assert Preset.load(path).render.f0_hz == pytest.approx(440.0)


@pytest.mark.parametrize(
    "name,pattern",
    [
        ("bad-json.json", r"invalid JSON at line \d+, column \d+"),
        ("empty.json", "file is empty"),
        ("not-an-object.json", "must be a JSON object"),
        ("unknown-key.json", "unknown keys: colour"),
        ("missing-params.json", "missing keys: params"),
        ("newer-version.json", "version 99 is newer"),
        ("wrong-format.json", '"format" must be "gascar-preset"'),
        ("unknown-synth.json", "unknown synth 'theremin'"),
        ("render-wrong-type.json", '"render.f0_hz" must be a number'),
        ("render-bad-note.json", "'H9' is not a note name"),
        ("render-unknown-key.json", 'unknown keys in "render": tempo'),
    ],
)
def test_broken_fixtures(name, pattern):
    with pytest.raises(GascarError, match=pattern) as info:
        Preset.load(BROKEN / name)
    assert str(BROKEN / name) in str(info.value)
    assert "\n" not in str(info.value)


def test_param_errors_name_the_problem(tmp_path):
    s = get_synth("subtractive")
    doc = default_preset().to_dict()
    first = s.params.specs[0]
    cont = next(spec for spec in s.params if spec.scale in ("linear", "log", "curve"))
    cases = {
        "missing": ({k: v for k, v in doc["params"].items() if k != first.name}, f"missing parameters: {first.name}"),
        "unknown": ({**doc["params"], "wobble": 1.0}, "unknown parameters: wobble"),
        "range": ({**doc["params"], cont.name: cont.high * 10 + 1}, f"'{cont.name}': .* is outside its range"),
        "type": ({**doc["params"], cont.name: "much"}, f"'{cont.name}': expected a number"),
    }
    for key, (params, pattern) in cases.items():
        path = tmp_path / f"{key}.json"
        path.write_text(json.dumps({**doc, "params": params}))
        with pytest.raises(PresetError, match=pattern):
            Preset.load(path)


def test_missing_and_directory(tmp_path):
    with pytest.raises(PresetError, match="no such file"):
        Preset.load(tmp_path / "nope.json")
    with pytest.raises(PresetError, match="is a directory"):
        Preset.load(tmp_path)


def test_unknown_synth_in_api():
    with pytest.raises(SynthError, match="known synths: .*subtractive"):
        get_synth("theremin")


def test_shipped_presets_load_and_render():
    files = sorted((REPO / "presets").glob("*.json"))
    assert files, "no presets shipped"
    seen = set()
    for f in files:
        p = Preset.load(f)
        seen.add(p.synth)
        x = p.with_render(duration_s=0.3).render_audio()
        assert x.dtype == np.float32 and np.all(np.isfinite(x))
        assert np.sqrt(np.mean(x**2)) > 1e-3, f"{f.name} renders silence"
    assert seen <= set(list_synths())


def test_velocity_round_trips_and_is_written_only_when_not_default():
    from gascar.preset import DEFAULT_VELOCITY

    p = default_preset(render=RenderSettings(f0_hz=220.0, duration_s=0.2, velocity=40))
    d = p.to_dict()
    assert d["render"]["velocity"] == 40
    assert Preset.from_dict(d).render.velocity == 40
    plain = default_preset(render=RenderSettings(f0_hz=220.0, duration_s=0.2)).to_dict()
    assert "velocity" not in plain["render"]
    assert Preset.from_dict(plain).render.velocity == DEFAULT_VELOCITY


@pytest.mark.parametrize("bad", [0, 128, 64.5, True, "loud"])
def test_bad_velocity_is_a_preset_error(bad):
    d = default_preset(render=RenderSettings(f0_hz=220.0, duration_s=0.2)).to_dict()
    d["render"]["velocity"] = bad
    with pytest.raises(PresetError, match="velocity"):
        Preset.from_dict(d)


def test_synths_that_ignore_velocity_render_the_same_at_every_velocity():
    from gascar.synths import get_synth

    synth = get_synth("subtractive")
    g = np.full((1, synth.n_genes), 0.4)
    a = synth.render(g, 220.0, 2000, 22050, velocity=20)
    b = synth.render(g, 220.0, 2000, 22050, velocity=127)
    assert not synth.responds_to_velocity
    np.testing.assert_array_equal(a, b)

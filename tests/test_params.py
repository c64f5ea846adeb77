import numpy as np
import pytest

from gascar.errors import ParameterError
from gascar.params import ParamSpace, ParamSpec


def space():
    return ParamSpace(
        [
            ParamSpec("level", 0.0, 1.0, "linear", default=0.5),
            ParamSpec("cutoff_hz", 20.0, 20000.0, "log", "Hz", default=1000.0),
            ParamSpec("resonance", 0.0, 1.0, "curve", curve=3.0),
            ParamSpec("voices", 1, 8, "integer", default=2),
            ParamSpec("wave", scale="choice", choices=("sine", "saw", "square"), default="saw"),
            ParamSpec.switch("chorus_on", default="off"),
            ParamSpec("chorus_depth", 0.0, 1.0, group="chorus_on"),
        ]
    )


def test_batch_shapes_and_ranges():
    s = space()
    g = np.random.default_rng(0).random((1000, s.n_genes))
    phys = s.to_physical(g)
    assert set(phys) == set(s.names)
    for spec in s:
        v = phys[spec.name]
        assert v.shape == (1000,)
        assert np.all(v >= spec.low) and np.all(v <= spec.high)
    assert set(np.unique(phys["wave"])) == {0.0, 1.0, 2.0}
    assert set(np.unique(phys["voices"])) == set(range(1, 9))


@pytest.mark.parametrize("name", ["level", "cutoff_hz", "resonance"])
def test_continuous_round_trip(name):
    s = space()
    spec = s[name]
    g = np.linspace(0, 1, 101)
    assert np.allclose(spec.to_unit(spec.from_unit(g)), g, atol=1e-12)


@pytest.mark.parametrize("name", ["voices", "wave", "chorus_on"])
def test_discrete_round_trip(name):
    spec = space()[name]
    values = spec.from_unit(np.linspace(0, 1, 1001))
    assert np.array_equal(spec.from_unit(spec.to_unit(values)), values)


def test_whole_space_round_trip():
    s = space()
    g = np.random.default_rng(1).random((50, s.n_genes))
    phys = s.to_physical(g)
    assert np.allclose(s.to_physical(s.to_genomes(phys))["cutoff_hz"], phys["cutoff_hz"])
    for name in ("voices", "wave", "chorus_on"):
        assert np.array_equal(s.to_physical(s.to_genomes(phys))[name], phys[name])


def test_log_scale_is_geometric():
    spec = space()["cutoff_hz"]
    assert spec.from_unit(np.array(0.5)) == pytest.approx(np.sqrt(20 * 20000))


def test_genes_out_of_unit_are_clipped_and_nan_rejected():
    s = space()
    phys = s.to_physical(np.full((1, s.n_genes), 2.0))
    assert phys["cutoff_hz"][0] == 20000.0
    with pytest.raises(ParameterError, match="NaN"):
        s.to_physical(np.full((1, s.n_genes), np.nan))
    with pytest.raises(ParameterError, match=r"shape \(n, 7\)"):
        s.to_physical(np.zeros((2, 3)))


def test_metadata_masks():
    s = space()
    assert s.categorical_mask.tolist() == [False, False, False, False, True, True, False]
    assert s.switch_mask.tolist() == [False] * 5 + [True, False]
    assert s.group_index.tolist() == [-1] * 6 + [5]


def test_json_values_round_trip_and_validation():
    s = space()
    values = s.values_to_json(s.default_physical())
    assert values["wave"] == "saw" and values["chorus_on"] == "off" and values["voices"] == 2
    assert s.values_from_json(values) == pytest.approx(s.default_physical())
    with pytest.raises(ParameterError, match="unknown parameters: colour"):
        s.values_from_json({**values, "colour": 1})
    with pytest.raises(ParameterError, match="missing parameters: level"):
        s.values_from_json({k: v for k, v in values.items() if k != "level"})
    with pytest.raises(ParameterError, match=r"'cutoff_hz': 5 is outside its range \[20, 20000\] Hz"):
        s.values_from_json({**values, "cutoff_hz": 5})
    with pytest.raises(ParameterError, match="'wave': 'triangle' is not one of"):
        s.values_from_json({**values, "wave": "triangle"})
    with pytest.raises(ParameterError, match="expected a number"):
        s.values_from_json({**values, "level": "high"})
    with pytest.raises(ParameterError, match="whole number"):
        s.values_from_json({**values, "voices": 2.5})


def test_bad_specs_are_rejected():
    with pytest.raises(ParameterError, match="log scale needs low > 0"):
        ParamSpec("f_hz", 0.0, 10.0, "log")
    with pytest.raises(ParameterError, match="unknown scale"):
        ParamSpec("x", scale="cubic")
    with pytest.raises(ParameterError, match="low < high"):
        ParamSpec("x", 1.0, 1.0)
    with pytest.raises(ParameterError, match="duplicate"):
        ParamSpace([ParamSpec("x"), ParamSpec("x")])
    with pytest.raises(ParameterError, match="not a switch"):
        ParamSpace([ParamSpec("x", group="y")])
    with pytest.raises(ParameterError, match="outside its range"):
        ParamSpec("x", 0.0, 1.0, default=2.0)


def test_space_concatenation():
    s = space() + ParamSpace([ParamSpec("fine_tune_cents", -100.0, 100.0)])
    assert s.n_genes == 8 and s.index("fine_tune_cents") == 7

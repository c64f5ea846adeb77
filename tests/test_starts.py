"""Analysis-driven starts: every synth's starts from a note's spectral model, how the first population takes them,
and the fallback to uniform starts (with a note in the summary) for targets without a clear pitch."""

from __future__ import annotations

import numpy as np
import pytest

from gascar.analysis import target_from_audio
from gascar.evolve import Evolution, GeneInfo, get_engine
from gascar.objective import Objective
from gascar.synths import SYNTH_ORDER, VOICE_SYNTHS, get_synth

SR = 22050
F0 = 220.0
#: Synths whose genes make the whole sound (the others carry the target's own data: tests/test_voices.py).
PARAMETRIC = SYNTH_ORDER


def note(duration_s: float = 0.6) -> np.ndarray:
    """A plucked harmonic note: 1/k partials whose upper ones die first, and a little noise."""
    t = np.arange(int(duration_s * SR)) / SR
    x = sum(np.sin(2 * np.pi * k * F0 * t) / k * np.exp(-t * (2 + k)) for k in range(1, 16))
    x = x + 0.003 * np.random.default_rng(0).standard_normal(t.size)
    return (0.5 * x / np.max(np.abs(x))).astype(np.float32)


@pytest.fixture(scope="module")
def pitched():
    return target_from_audio(note(), SR, f0_hz=F0, name="pluck.wav")


@pytest.fixture(scope="module")
def unpitched():
    x = np.random.default_rng(1).standard_normal(int(0.4 * SR)) * np.exp(-np.arange(int(0.4 * SR)) / 2000)
    return target_from_audio((0.3 * x).astype(np.float32), SR, name="noise.wav")


@pytest.mark.parametrize("name", SYNTH_ORDER + VOICE_SYNTHS)
def test_every_synth_starts_near_the_note(name, pitched):
    objective = Objective(pitched, get_synth(name))
    starts = objective.start_genomes()
    assert starts is not None and starts.ndim == 2 and starts.shape[1] == objective.n_genes
    assert 1 <= starts.shape[0] <= 6
    assert np.all((starts >= 0) & (starts <= 1))
    np.testing.assert_allclose(objective.f0_hz(starts), F0)  # octave 0, no fine tune
    np.testing.assert_allclose(objective.note_off_s(starts), objective.hold_s, rtol=1e-6)
    random = np.random.default_rng(2).random((32, objective.n_genes))
    assert objective(starts).min() < np.median(objective(random))


@pytest.mark.parametrize("name", PARAMETRIC)
def test_targets_without_a_clear_pitch_start_uniformly(name, unpitched):
    assert not unpitched.pitched
    assert Objective(unpitched, get_synth(name)).start_genomes() is None


def test_the_first_population_takes_the_starts_and_copies_of_them():
    synth = get_synth("subtractive")
    space = synth.params
    genes = GeneInfo.from_space(space)
    starts = np.random.default_rng(3).random((2, genes.n_genes))
    starts[:, genes.categorical] = 0.5 / genes.n_bins[genes.categorical]  # bin centres, as start genomes are
    config = get_engine("gascar", population=16, start_share=0.5, start_jitter=0.02)
    ev = Evolution("x", genes, config, budget=16, seed=4, start_genomes=starts)
    seen = []
    ev.step(lambda key, g: (seen.append(g.copy()), np.zeros(len(g)))[1])
    first = seen[0]
    np.testing.assert_array_equal(first[:2], starts)
    copies = first[2:8]
    base = starts[np.arange(6) % 2]
    assert np.all(np.abs(copies - base)[:, genes.continuous] < 0.02 * 6)
    np.testing.assert_array_equal(copies[:, genes.categorical], base[:, genes.categorical])
    assert np.abs(first[8:] - starts[0]).mean() > 0.15  # the rest is uniform random
    # With the default share (a warm start's), the starts alone: the rest is as random as without them.
    alone = Evolution("x", genes, config.replace(start_share=0.0), budget=16, seed=4, start_genomes=starts)
    plain = Evolution("x", genes, config.replace(start_share=0.0), budget=16, seed=4)
    seen.clear()
    alone.step(lambda key, g: (seen.append(g.copy()), np.zeros(len(g)))[1])
    plain.step(lambda key, g: (seen.append(g.copy()), np.zeros(len(g)))[1])
    np.testing.assert_array_equal(seen[0][:2], starts)
    np.testing.assert_array_equal(seen[0][2:], seen[1][2:])


def test_a_match_says_where_it_started(pitched, unpitched):
    from gascar.matching import match

    result = match(pitched, synth="additive", budget=60, seed=1, n_jobs=1, handle_signals=False, analysis_starts=True)
    assert result.starts.startswith("starts: from the target's analysis (additive)")
    result = match(unpitched, synth="additive", budget=60, seed=1, n_jobs=1, handle_signals=False, analysis_starts=True)
    assert result.starts == "starts: uniform random genomes (no clear pitch)"
    assert result.summary()["starts"] == result.starts
    # Without --analysis-starts a match starts as before and says nothing about it.
    result = match(pitched, synth="additive", budget=60, seed=1, n_jobs=1, handle_signals=False)
    assert result.starts == "" and "starts" not in result.summary()

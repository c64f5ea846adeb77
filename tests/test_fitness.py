"""The Objective: zero for identical sounds, level-blind, monotonic in detuning, filtering and attack."""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pytest

import gascar
from gascar.analysis import target_from_audio
from gascar.bench.calibrate import perturbations
from gascar.errors import FitnessError
from gascar.fitness import COMPONENTS, DEFAULT_WEIGHTS, PENALTY, SCALES, Comparator, parse_weights
from gascar.objective import Objective
from gascar.preset import Preset
from gascar.synths import get_synth

SR = 22050
N = int(0.6 * SR)


def _genome(objective, seed=3, octave="0", cents=0.0):
    """A synth genome with the pitch genes at the detected f0."""
    rng = np.random.default_rng(seed)
    g = rng.uniform(0.2, 0.8, objective.n_genes)
    k = objective.n_synth_genes
    if objective.target.pitched:
        g[k] = objective.space["octave"].to_unit(np.array(float(("-1", "0", "+1").index(octave))))
        g[k + 1] = objective.space["fine_tune_cents"].to_unit(np.array(cents))
    return g


@pytest.fixture(scope="module")
def synth_case():
    """An objective whose target is exactly what one of its genomes renders."""
    synth = get_synth("subtractive")
    seed_audio = synth.render(np.random.default_rng(3).uniform(0.2, 0.8, (1, synth.n_genes)), 220.0, N, SR, hold_s=0.4)[0]
    target = target_from_audio(seed_audio, SR, f0_hz=220.0)
    obj = Objective(target, synth)
    g = _genome(obj)
    target = dataclasses.replace(target, samples=obj.render(g[None, :])[0])
    return Objective(target, synth), g


def test_identical_sound_scores_zero(synth_case):
    obj, g = synth_case
    comps = obj.components(g[None, :])
    assert set(comps) == {*COMPONENTS, "total"} - {"sot"}  # an unweighted optional component is left out
    assert obj(g[None, :])[0] == pytest.approx(0.0, abs=1e-6)
    for name in obj.comparator.measured:
        assert comps[name][0] == pytest.approx(0.0, abs=1e-6), name


def test_call_returns_finite_float64_per_row_and_matches_components(synth_case):
    obj, g = synth_case
    genomes = np.random.default_rng(0).random((20, obj.n_genes))
    f = obj(genomes)
    assert f.shape == (20,) and f.dtype == np.float64 and np.all(np.isfinite(f)) and np.all(f >= 0)
    comps = obj.components(genomes)
    weighted = sum(obj.weights[c] * comps[c] for c in obj.comparator.measured)
    assert np.allclose(comps["total"], f) and np.allclose(weighted, f)


def test_rows_do_not_depend_on_the_batch(synth_case):
    obj, _ = synth_case
    genomes = np.random.default_rng(1).random((12, obj.n_genes))
    whole = obj(genomes)
    single = np.array([obj(genomes[i : i + 1])[0] for i in (0, 5, 11)])
    assert np.allclose(whole[[0, 5, 11]], single, rtol=1e-5, atol=1e-7)
    fewer_rows = Objective(obj.target, obj.synth, render_rows=5)(genomes)
    assert np.allclose(whole, fewer_rows, rtol=1e-5, atol=1e-7)
    assert Objective(obj.target, obj.synth, chunk_size=5).render_rows == 5  # the old name, still accepted


def test_level_changes_alone_do_not_change_the_fitness(synth_case):
    obj, g = synth_case
    audio = obj.render(g[None, :])[0]
    scored = obj.comparator.score(perturbations(audio, SR, "gain", [-30.0, -6.0, 0.0, 6.0]))
    assert np.allclose(scored["total"], 0.0, atol=1e-5)


@pytest.mark.parametrize("kind,amounts", [
    ("detune", [0.0, 10.0, 30.0, 100.0, 300.0]),
    ("lowpass", [0.0, 1.0, 2.0, 3.0, 4.0]),
    ("attack", [0.0, 0.02, 0.06, 0.15, 0.3]),
])
def test_fitness_grows_with_detuning_filtering_and_attack(synth_case, kind, amounts):
    obj, g = synth_case
    audio = obj.render(g[None, :])[0]
    total = obj.comparator.score(perturbations(audio, SR, kind, amounts))["total"]
    assert total[0] == pytest.approx(0.0, abs=1e-6)
    assert np.all(np.diff(total) > 0), (kind, total)


LADDERS = {"detune": [0.0, 10.0, 30.0, 100.0, 300.0], "lowpass": [0.0, 1.0, 2.0, 3.0, 4.0],
           "attack": [0.0, 0.02, 0.06, 0.15, 0.3]}


def test_monotonic_on_every_shared_target(shared_targets, tmp_path):
    import re

    for path in sorted(p for p in shared_targets.iterdir() if p.suffix.lower() in (".wav", ".flac")):
        m = re.search(r"_([a-g])(\d)(?:_|$)", path.stem)
        note = f"{m.group(1).upper()}{m.group(2)}" if m else None  # the name's note: no pYIN needed
        target = gascar.load_target(path, note=note, cache_dir=tmp_path)
        comp = Comparator(target)
        for kind, amounts in LADDERS.items():
            total = comp.score(perturbations(target.samples, target.sample_rate, kind, amounts))["total"]
            assert total[0] == pytest.approx(0.0, abs=1e-6), (path.name, kind)
            assert np.all(np.diff(total) > 0), (path.name, kind, total)


def test_silent_and_broken_audio_get_finite_large_fitness(synth_case):
    obj, _ = synth_case
    bad = np.zeros((3, N), np.float32)
    bad[1] = np.nan
    bad[2, ::7] = np.inf
    total = obj.comparator.score(bad)["total"]
    assert np.all(np.isfinite(total)) and np.all(total <= PENALTY) and np.all(total > 0.5)


def test_pitch_genes_for_pitched_and_unpitched_targets(synth_case):
    obj, g = synth_case
    assert obj.space.names[-3:] == ("octave", "fine_tune_cents", "hold_s")
    assert obj.n_genes == obj.synth.n_genes + 3
    up = _genome(obj, octave="+1", cents=100.0)
    down = _genome(obj, octave="-1", cents=-50.0)
    assert obj.f0_hz(np.stack([g, up, down])) == pytest.approx([220.0, 440.0 * 2 ** (1 / 12), 110.0 * 2 ** (-50 / 1200)])
    noise = np.random.default_rng(0).standard_normal(N).astype(np.float32) * 0.1
    unpitched = Objective(target_from_audio(noise, SR), get_synth("fm"))
    assert not unpitched.target.pitched and unpitched.space.names[-2:] == ("f0_hz", "hold_s")
    f0 = unpitched.f0_hz(np.stack([np.zeros(unpitched.n_genes), np.ones(unpitched.n_genes)]))
    assert f0 == pytest.approx([20.0, 5000.0])
    assert np.all(unpitched.components(np.random.default_rng(1).random((3, unpitched.n_genes)))["f0"] == 0.0)


def test_preset_reproduces_what_was_scored(synth_case, tmp_path):
    obj, _ = synth_case
    g = _genome(obj, seed=8, octave="-1", cents=37.0)
    preset = obj.preset(g, seed=5, budget=100)
    assert preset.match["fitness"] == pytest.approx(float(obj(g[None, :])[0]))
    assert set(preset.match["components"]) == set(COMPONENTS) - {"sot"}
    assert preset.match["metric"] and preset.match["weights"] == obj.weights and preset.match["seed"] == 5
    assert preset.render.f0_hz == pytest.approx(110.0 * 2 ** (37 / 1200))
    path = preset.save(tmp_path / "p.preset.json")
    loaded = Preset.load(path)
    # What was scored, at the preset's level (the gain that plays it at the target's loudness; level-blind fitness).
    assert np.array_equal(loaded.render_audio(), obj.render(g[None, :])[0] * np.float32(loaded.render.gain))


def test_objective_pickles_small_and_scores_the_same(synth_case):
    obj, _ = synth_case
    blob = pickle.dumps(obj)
    assert len(blob) < 2_000_000
    genomes = np.random.default_rng(2).random((4, obj.n_genes))
    assert np.array_equal(pickle.loads(blob)(genomes), obj(genomes))


def test_weights_parse_and_change_the_total(synth_case):
    obj, _ = synth_case
    assert parse_weights(None) == DEFAULT_WEIGHTS
    assert parse_weights("stft=1, f0=0")["stft"] == 1.0
    assert parse_weights({"mel": 2})["mel"] == 2.0 and parse_weights({"mel": 2})["stft"] == DEFAULT_WEIGHTS["stft"]
    for bad, msg in [("bogus=1", "unknown fitness components: bogus"), ("stft=-1", ">= 0"), ("stft", "name=value"),
                     ("stft=x", "number"), ({c: 0 for c in COMPONENTS}, "all fitness weights are zero"),
                     ({"mel": float("nan")}, "finite"), (3, "mapping")]:
        with pytest.raises(FitnessError, match=msg):
            parse_weights(bad)
    genomes = np.random.default_rng(4).random((3, obj.n_genes))
    only_env = Objective(obj.target, obj.synth, weights={c: (1.0 if c == "envelope" else 0.0) for c in COMPONENTS})
    assert np.allclose(only_env(genomes), obj.components(genomes)["envelope"])
    with pytest.raises(FitnessError, match="unknown fitness options: bogus"):
        Objective(obj.target, obj.synth, bogus=1)


def test_public_api_round_trip(tmp_path, tone_wav):
    target = gascar.load_target(tone_wav, cache_dir=tmp_path)
    objective = gascar.Objective(target, gascar.get_synth("additive"))
    genomes = np.random.default_rng(0).random((5, objective.n_genes))
    assert objective(genomes).shape == (5,)
    assert objective.render(genomes).shape == (5, target.n_samples)


def test_octave_gene_rescues_a_detector_octave_error():
    synth = get_synth("additive")
    g_synth = np.random.default_rng(5).uniform(0.2, 0.8, synth.n_genes)
    audio = synth.render(g_synth[None, :], 220.0, N, SR, hold_s=0.4)[0]
    wrong = target_from_audio(audio, SR, f0_hz=110.0)  # the detector said an octave down
    obj = Objective(wrong, synth)
    up = _genome(obj, octave="+1")
    up[: synth.n_genes] = g_synth
    same = _genome(obj, octave="0")
    same[: synth.n_genes] = g_synth
    exact = Objective(dataclasses.replace(wrong, samples=obj.render(up[None, :])[0]), synth)
    f = exact(np.stack([up, same]))
    assert f[0] == pytest.approx(0.0, abs=1e-6) and f[1] > 0.1


def test_extreme_user_pitches_still_give_valid_presets():
    synth = get_synth("fm")
    audio = synth.render(np.full((1, synth.n_genes), 0.5), 440.0, N, SR)[0]
    for f0 in (1.0, 9000.0):
        obj = Objective(target_from_audio(audio, SR, f0_hz=f0), synth)
        g = _genome(obj, octave="+1" if f0 > 1 else "-1", cents=100.0 if f0 > 1 else -100.0)
        preset = obj.preset(g)
        assert 1.0 <= preset.render.f0_hz <= 0.45 * SR
        assert np.array_equal(preset.render_audio(), obj.render(g[None, :])[0] * np.float32(preset.render.gain))


@pytest.mark.parametrize("synth_name", ["subtractive", "fm", "additive", "wavetable", "modular"])
def test_every_synth_detuned_by_its_fine_tune_gene_filtered_or_slowed_scores_worse(synth_name):
    synth = get_synth(synth_name)
    g_synth = np.random.default_rng(7).uniform(0.2, 0.8, synth.n_genes)
    target = target_from_audio(synth.render(g_synth[None, :], 220.0, N, SR, hold_s=0.4)[0], SR, f0_hz=220.0)
    obj = Objective(target, synth)
    ladder = []
    for cents in (0.0, 10.0, 30.0, 60.0, 100.0):
        g = _genome(obj, cents=cents)
        g[: synth.n_genes] = g_synth
        ladder.append(g)
    exact = Objective(dataclasses.replace(target, samples=obj.render(ladder[0][None, :])[0]), synth)
    f = exact(np.stack(ladder))
    assert f[0] == pytest.approx(0.0, abs=1e-6) and np.all(np.diff(f) > 0), f
    audio = exact.render(ladder[0][None, :])[0]
    for kind in ("lowpass", "attack"):
        total = exact.comparator.score(perturbations(audio, SR, kind, LADDERS[kind]))["total"]
        assert np.all(np.diff(total) > 0), (kind, total)


def test_the_note_off_gene_sets_the_hold_and_recovers_a_misestimated_note_off():
    synth = get_synth("subtractive")
    g_synth = np.random.default_rng(9).uniform(0.2, 0.8, synth.n_genes)
    audio = synth.render(g_synth[None, :], 220.0, N, SR, hold_s=0.25)[0]
    target = target_from_audio(audio, SR, f0_hz=220.0)
    target = dataclasses.replace(target, hold_s=0.45)  # the analysis misjudged the note-off
    obj = Objective(target, synth)
    spec = obj.space["hold_s"]
    assert spec.high == pytest.approx(N / SR) and spec.default == pytest.approx(0.45)
    holds = np.array([0.25, 0.45])
    genomes = np.stack([_genome(obj) for _ in holds])
    genomes[:, : synth.n_genes] = g_synth
    genomes[:, -1] = spec.to_unit(holds)
    assert obj.note_off_s(genomes) == pytest.approx(holds)
    f = obj(genomes)
    assert f[0] == pytest.approx(0.0, abs=1e-3) and f[1] > 0.02
    assert obj.preset(genomes[0]).render.hold_s == pytest.approx(0.25)


# -- the spectral optimal-transport component -------------------------------------------------------------------------
_T = np.arange(N) / SR
#: Detunings in cents: fine steps, then up to and past the octave, where a harmonic tone's partials meet again.
DETUNE_CENTS = np.array([0.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 400.0, 700.0, 1000.0, 1100.0, 1200.0])


def _sine(f0_hz):
    return np.sin(2 * np.pi * f0_hz * _T).astype(np.float32)


def _harmonic(f0_hz, n_partials=16):
    return sum(np.sin(2 * np.pi * f0_hz * k * _T) / np.sqrt(k) for k in range(1, n_partials + 1)).astype(np.float32)


def _detuned(tone):
    """Scores of ``tone`` at 220 Hz detuned by every step of :data:`DETUNE_CENTS` against the tone itself."""
    comp = Comparator(target_from_audio(tone(220.0), SR, f0_hz=220.0))
    return comp.score(np.stack([tone(220.0 * 2 ** (c / 1200)) for c in DETUNE_CENTS]))


def test_transport_of_a_sine_is_its_frequency_error_where_log_magnitude_is_not():
    scores = _detuned(_sine)
    octaves = scores["sot"] * SCALES["sot"]
    assert octaves[0] == pytest.approx(0.0, abs=1e-6)
    assert np.all(np.diff(octaves) > 0), octaves
    # On a log-frequency axis the transport moves the sine's mass by the interval: the distance is the error itself.
    assert octaves[1:] == pytest.approx(DETUNE_CENTS[1:] / 1200, rel=0.05)
    # The log-magnitude term is blind to direction: 20 cents off scores closer than 10 cents off.
    stft = scores["stft"]
    assert stft[3] < stft[2], stft


def test_transport_of_a_harmonic_tone_rises_with_the_detuning_without_an_octave_trap():
    scores = _detuned(_harmonic)
    octaves = scores["sot"] * SCALES["sot"]
    assert octaves[0] == pytest.approx(0.0, abs=1e-6)
    assert np.all(np.diff(octaves) > 0), octaves
    assert octaves[1:] == pytest.approx(DETUNE_CENTS[1:] / 1200, rel=0.05)
    # An octave up, every other partial of the target meets one of the candidate's again: the log-magnitude
    # term (and the default total) scores 1200 cents off closer than 1100 cents off. The transport does not.
    for name in ("stft", "total"):
        assert scores[name][-1] < scores[name][-2], (name, scores[name])


def test_transport_is_zero_for_identical_sounds_and_finite_near_silence_and_on_noise():
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(N).astype(np.float32)
    click = np.zeros(N, np.float32)
    click[100] = 1.0
    burst = np.zeros(N, np.float32)
    burst[:500] = noise[:500]
    for target_audio in (_sine(440.0), noise, burst):
        comp = Comparator(target_from_audio(target_audio, SR, f0_hz=440.0))
        candidates = np.stack([target_audio, np.zeros(N, np.float32), click, 1e-9 * noise, noise, burst, _sine(20.0)])
        sot = comp.score(candidates)["sot"]
        assert sot[0] == pytest.approx(0.0, abs=1e-6)
        assert np.all(np.isfinite(sot)) and np.all(sot >= 0) and np.all(sot < 10), sot


def test_an_unweighted_optional_component_costs_nothing_and_a_weighted_one_counts(synth_case):
    obj, _ = synth_case
    genomes = np.random.default_rng(3).random((6, obj.n_genes))
    audio = obj.render(genomes)
    hot = obj.comparator.distances(audio)  # the search's path: sot at weight 0 is not computed
    every = obj.distances(audio)  # diagnostics measure everything
    j = COMPONENTS.index("sot")
    assert np.all(hot[:, j] == 0) and np.all(every[:, j] > 0)
    assert np.array_equal(np.delete(hot, j, axis=1), np.delete(every, j, axis=1))
    assert np.array_equal(obj.comparator.total(hot), obj.comparator.total(every))
    weighted = Objective(obj.target, obj.synth, weights={**DEFAULT_WEIGHTS, "sot": 0.3})
    assert "sot" in weighted.components(genomes) and "sot" not in obj.components(genomes)
    assert np.allclose(weighted.comparator.distances(audio)[:, j], every[:, j])

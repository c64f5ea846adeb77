"""The evolution engine on toy objectives: operators, speciation, budget, seeds, resume."""

from __future__ import annotations

import numpy as np
import pytest

from gascar.errors import EvolutionError
from gascar.evolve import Evaluator, Evolution, EvolutionConfig, GeneInfo, config_from_dict, evolve, get_engine
from gascar.evolve import operators as ops
from gascar.evolve.speciation import SpeciesSet, compatibility_distance
from gascar.evolve.toy import ToyObjective


@pytest.fixture(scope="module")
def toy():
    return ToyObjective()


@pytest.fixture(scope="module")
def genes(toy):
    return GeneInfo.from_space(toy.space)


class Counting:
    """Wraps an objective and counts every genome it scores."""

    def __init__(self, objective):
        self.objective = objective
        self.space = objective.space
        self.n_genes = objective.n_genes
        self.calls = 0

    def __call__(self, genomes):
        self.calls += len(genomes)
        return self.objective(genomes)


# -- operators ------------------------------------------------------------------------------------


def _edge_genomes(rng, genes, n=400):
    g = rng.random((n, genes.n_genes))
    g[: n // 4] = 0.0
    g[n // 4 : n // 2] = 1.0
    g[n // 2 : n // 2 + 20, ::2] = 0.0
    g[n // 2 : n // 2 + 20, 1::2] = 1.0
    return g


def test_every_operator_respects_bounds(genes):
    rng = np.random.default_rng(0)
    a = _edge_genomes(rng, genes)
    b = _edge_genomes(rng, genes)[::-1].copy()
    for eta in (0.5, 2.0, 15.0, 100.0):
        child = ops.sbx_crossover(rng, a, b, eta, genes)
        assert child.shape == a.shape and np.all((child >= 0) & (child <= 1)) and np.all(np.isfinite(child))
        mut = ops.polynomial_mutation(rng, a, eta, 0.5, 0.5, genes)
        assert np.all((mut >= 0) & (mut <= 1)) and np.all(np.isfinite(mut))
    init = ops.random_genomes(rng, 100, genes, p_on=0.2)
    assert np.all((init >= 0) & (init <= 1))


def test_categorical_genes_are_resampled_to_another_bin_and_never_blended(genes):
    rng = np.random.default_rng(1)
    x = ops.random_genomes(rng, 200, genes)
    mut = ops.polynomial_mutation(rng, x, 20.0, 1e-9, 1.0, genes)
    cat = genes.categorical
    assert np.all(genes.bins(mut)[:, cat] != genes.bins(x)[:, cat])
    nb = genes.n_bins[cat]
    assert np.allclose((mut[:, cat] * nb - 0.5) % 1.0, 0.0)  # bin centres
    y = ops.random_genomes(rng, 200, genes)
    child = ops.sbx_crossover(rng, x, y, 10.0, genes)
    from_either = (child[:, cat] == x[:, cat]) | (child[:, cat] == y[:, cat])
    assert from_either.all()


def test_mutation_changes_every_genome(genes):
    rng = np.random.default_rng(2)
    x = ops.random_genomes(rng, 300, genes)
    mut = ops.polynomial_mutation(rng, x, 20.0, 1e-6, 1e-6, genes)
    assert np.all(np.any(mut != x, axis=1))


def test_start_minimal_turns_few_modules_on(genes):
    rng = np.random.default_rng(3)
    g = ops.random_genomes(rng, 2000, genes, p_on=0.1)
    on = genes.switched_on(g)[:, genes.switch]
    assert 0.05 < on.mean() < 0.15


def test_tournament_prefers_low_fitness():
    rng = np.random.default_rng(4)
    f = np.arange(10.0)
    wins = ops.tournament(rng, f, 5000, 3)
    assert wins.min() >= 0 and wins.max() < 10
    assert np.mean(wins) < 3.0
    assert np.all(ops.tournament(rng, f, 50, 50) == 0) or np.mean(ops.tournament(rng, f, 50, 50)) < 0.5


# -- speciation -----------------------------------------------------------------------------------


def test_compatibility_distance_treats_switches_as_disjoint_and_ignores_inactive_genes(toy, genes):
    cfg = EvolutionConfig()
    sw = toy.space.index("module_on")
    m0 = toy.space.index("m0")
    a = np.full((1, genes.n_genes), 0.5)
    a[0, sw] = 0.25  # off
    b = a.copy()
    b[0, m0] = 0.99  # a gene of the module that is off in both: no difference
    assert compatibility_distance(a, b, genes, cfg)[0, 0] == 0.0
    c = a.copy()
    c[0, sw] = 0.75  # on: a structural (disjoint) difference
    assert compatibility_distance(a, c, genes, cfg)[0, 0] == pytest.approx(cfg.disjoint_weight)
    d = compatibility_distance(a, np.vstack([a, b, c]), genes, cfg)
    assert d.shape == (1, 3) and np.all(d >= 0)


def test_speciation_shares_every_place_and_adapts_threshold(toy, genes):
    cfg = EvolutionConfig(population=40, target_species=4)
    ss = SpeciesSet(genes, cfg)
    rng = np.random.default_rng(5)
    g = ops.random_genomes(rng, 40, genes)
    f = toy(g)
    ids = ss.speciate(g, f, 0)
    assert set(ids) == {s.id for s in ss.species}
    assert [s.id for s in ss.species] == sorted(s.id for s in ss.species)  # fixed order
    counts = ss.offspring_counts(f, 40)
    assert counts.sum() == 40 and np.all(counts >= min(cfg.min_species_size, 40 // len(ss.species)))
    thresholds = []
    for gen in range(1, 15):
        g = ops.random_genomes(rng, 40, genes)
        ss.speciate(g, toy(g), gen)
        thresholds.append(ss.threshold)
    assert len(set(np.round(thresholds, 9))) > 1


def test_speciation_keeps_several_species_alive_on_a_multimodal_target(toy):
    result = evolve(toy, EvolutionConfig(speciation=True, refine=False, patience=None), budget=2500, seed=11, n_jobs=1)
    alive = [r["species"] for r in result.history[-10:]]
    assert min(alive) > 1
    assert len(result.species_bests) > 1
    structures = {tuple(np.round(g[[6, 7]] * 3)) for _, g, _ in result.species_bests}
    assert len(structures) > 1  # the species differ in structure, not only in detail


# -- budget, seeds, resume --------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["gascar", "ga"])
def test_budget_is_never_exceeded_and_counts_exactly(toy, engine):
    for budget in (7, 100, 613):
        counting = Counting(toy)
        result = evolve(counting, get_engine(engine, patience=None), budget=budget, seed=1, n_jobs=1)
        assert counting.calls == result.evaluations <= budget
        assert result.evaluations == budget
        assert result.history[-1]["evaluations"] == budget


def test_defaults_reach_a_good_region(toy):
    best = [evolve(toy, budget=2000, seed=s, n_jobs=1).best_fitness for s in range(3)]
    assert np.median(best) < 0.05  # random genomes score about 0.5


def test_same_seed_same_result_with_one_and_two_jobs(toy):
    a = evolve(toy, budget=600, seed=5, n_jobs=1)
    b = evolve(toy, budget=600, seed=5, n_jobs=2)
    assert np.array_equal(a.best_genome, b.best_genome)
    assert a.best_fitness == b.best_fitness
    c = evolve(toy, budget=600, seed=6, n_jobs=1)
    assert not np.array_equal(a.best_genome, c.best_genome)


def test_evaluator_chunks_do_not_depend_on_job_count(toy):
    g = np.random.default_rng(0).random((37, toy.n_genes))
    with Evaluator({"t": toy}, n_jobs=1, genomes_per_task=8) as e1:
        f1 = e1("t", g)
    assert np.array_equal(f1, toy(g)) and f1.shape == (37,)


def test_resume_equals_uninterrupted_run(toy, tmp_path):
    full = evolve(toy, budget=900, seed=21, n_jobs=1)
    ck = tmp_path / "run.ckpt"
    calls = {"n": 0}

    def stop_after_some():
        calls["n"] += 1
        return calls["n"] > 9

    cut = evolve(toy, budget=900, seed=21, n_jobs=1, checkpoint=ck, should_stop=stop_after_some)
    assert cut.stop_reason == "interrupted" and cut.evaluations < 900
    assert ck.exists()
    resumed = evolve(toy, budget=900, n_jobs=1, resume=ck, checkpoint=ck)
    assert resumed.evaluations == full.evaluations
    assert np.array_equal(resumed.best_genome, full.best_genome)
    assert resumed.best_fitness == full.best_fitness
    assert [r["best"] for r in resumed.history] == [r["best"] for r in full.history]


@pytest.mark.parametrize("engine", ["gascar", "ga"])
def test_restarts_start_afresh_keep_each_start_best_and_respect_the_budget(toy, engine):
    counting = Counting(toy)
    cfg = get_engine(engine, restart_stall=4, population=16)
    result = evolve(counting, cfg, budget=4000, seed=3, n_jobs=1)
    starts = [r["start"] for r in result.history]
    assert starts == sorted(starts) and starts[-1] >= 2  # several fresh starts, in order
    assert counting.calls == result.evaluations == 4000
    earlier = [(sid, f) for sid, _, f in result.species_bests if sid < 0]
    assert len(earlier) >= starts[-1]  # every earlier start's best is offered (ids -1, -2, ...)
    assert all(f >= result.best_fitness for _, f in earlier)
    assert result.best_fitness == min(f for _, _, f in result.species_bests)
    # The run's best never gets worse across a restart.
    best = [r["best"] for r in result.history]
    assert all(b <= a for a, b in zip(best, best[1:]))


def test_restarts_leave_room_for_a_full_start_and_reproduce(toy):
    cfg = get_engine("ga", restart_stall=4, population=16)
    a = evolve(toy, cfg, budget=1500, seed=4, n_jobs=1)
    b = evolve(toy, cfg, budget=1500, seed=4, n_jobs=2)
    assert np.array_equal(a.best_genome, b.best_genome) and a.best_fitness == b.best_fitness
    # No restart begins with less than 2 * restart_stall generations of budget left.
    first_of_start = {}
    for r in a.history:
        first_of_start.setdefault(r["start"], r["evaluations"])
    assert all(1500 - e >= 2 * 4 * 16 - 16 for s, e in first_of_start.items() if s > 0)
    never = evolve(toy, get_engine("ga", population=16), budget=1500, seed=4, n_jobs=1)
    assert {r["start"] for r in never.history} == {0}


def test_resume_with_restarts_equals_uninterrupted_run(toy, tmp_path):
    cfg = get_engine("gascar", restart_stall=4, population=16, speciation=True)
    full = evolve(toy, cfg, budget=2500, seed=8, n_jobs=1)
    assert full.history[-1]["start"] >= 1
    ck = tmp_path / "run.ckpt"
    calls = {"n": 0}

    def stop_midway():
        calls["n"] += 1
        return calls["n"] > 60

    cut = evolve(toy, cfg, budget=2500, seed=8, n_jobs=1, checkpoint=ck, should_stop=stop_midway)
    assert cut.stop_reason == "interrupted" and cut.history[-1]["start"] >= 1  # interrupted after a restart
    resumed = evolve(toy, cfg, budget=2500, n_jobs=1, resume=ck, checkpoint=ck)
    assert np.array_equal(resumed.best_genome, full.best_genome) and resumed.best_fitness == full.best_fitness
    assert [r["best"] for r in resumed.history] == [r["best"] for r in full.history]


def test_resume_rejects_foreign_files(toy, tmp_path):
    bad = tmp_path / "x.ckpt"
    bad.write_text("hello")
    with pytest.raises(EvolutionError, match="checkpoint"):
        evolve(toy, budget=10, resume=bad)
    with pytest.raises(EvolutionError, match="no such"):
        evolve(toy, budget=10, resume=tmp_path / "missing.ckpt")


def test_target_fitness_stops_early(toy):
    result = evolve(toy, EvolutionConfig(target_fitness=0.3), budget=5000, seed=0, n_jobs=1)
    assert result.stop_reason == "target" and result.best_fitness <= 0.3 and result.evaluations < 5000


def test_patience_stops_a_stalled_run():
    class Flat:
        n_genes = 4

        def __call__(self, g):
            return np.ones(len(g))

    result = evolve(Flat(), EvolutionConfig(patience=3, refine=False), budget=10_000, seed=0)
    assert result.stop_reason == "stalled" and result.evaluations < 500


def test_config_validation():
    with pytest.raises(EvolutionError, match="unknown evolution settings"):
        config_from_dict({"populaton": 10})
    with pytest.raises(EvolutionError, match="population"):
        EvolutionConfig(population=2)
    with pytest.raises(EvolutionError, match="refine_fraction"):
        EvolutionConfig(refine_fraction=1.5)
    with pytest.raises(EvolutionError, match="restart_stall"):
        EvolutionConfig(restart_stall=0)
    with pytest.raises(EvolutionError, match="restart_tolerance"):
        EvolutionConfig(restart_tolerance=-0.1)
    with pytest.raises(EvolutionError, match="unknown engine"):
        get_engine("nope")
    with pytest.raises(EvolutionError, match="budget"):
        evolve(lambda g: g[:, 0], budget=0)


def test_evolution_pickles_without_creator_classes(toy, genes):
    import pickle

    ev = Evolution("k", genes, EvolutionConfig(population=8), budget=40, seed=0)
    ev.step(lambda k, g: toy(g))
    again = pickle.loads(pickle.dumps(ev))
    assert np.array_equal(again.genomes, ev.genomes) and again.toolbox is not None


def test_modular_synth_starts_minimal_and_grows_structure():
    from gascar.synths import get_synth

    space = get_synth("modular").params
    genes = GeneInfo.from_space(space)
    assert genes.switch.sum() >= 3
    on_fraction = lambda g: genes.switched_on(g)[:, genes.switch].mean()  # noqa: E731
    # Reward modules that are on: structure must grow from the minimal start by mutation.
    objective = lambda k, g: 1.0 - genes.switched_on(g)[:, genes.switch].mean(axis=1)  # noqa: E731
    ev = Evolution("modular", genes, EvolutionConfig(population=24, refine=False, start_minimal=True), budget=24 * 15, seed=0)
    ev.step(objective)
    first = on_fraction(ev.genomes)
    assert first < 0.45  # start minimal (p_on 0.3), not uniform (0.5)
    while not ev.done:
        ev.step(objective)
    assert on_fraction(ev.genomes) > first + 0.2
    plain = Evolution("modular", genes, EvolutionConfig(population=24, start_minimal=False), budget=24, seed=0)
    plain.step(objective)
    assert on_fraction(plain.genomes) > 0.35


def test_speciation_defaults_to_structured_genomes_and_start_minimal_to_off(genes):
    from gascar.evolve.engine import resolve_config
    from gascar.synths import get_synth

    for name, speciates in [("modular", True), ("subtractive", True), ("fm", False), ("additive", False), ("wavetable", False)]:
        resolved = resolve_config(EvolutionConfig(), GeneInfo.from_space(get_synth(name).params))
        assert resolved.speciation is speciates and resolved.start_minimal is False, name
    off = resolve_config(EvolutionConfig(), genes)  # the toy has one choice and one switch
    assert off.speciation is False and off.start_minimal is False
    assert resolve_config(EvolutionConfig(start_minimal=True), genes).start_minimal is True
    assert resolve_config(EvolutionConfig(speciation=True), genes).speciation is True


def test_progress_bar_names_the_start_after_a_restart():
    import io

    from gascar.evolve.reporting import ProgressBar

    bar = ProgressBar(file=io.StringIO())
    bar.start({"budget": 100})
    bar.generation({"generation": 3, "evaluations": 40, "best": 0.5, "species": 2, "start": 0})
    assert "species 2" in bar.bar.postfix and "start" not in bar.bar.postfix
    bar.generation({"generation": 9, "evaluations": 90, "best": 0.4, "species": 1, "start": 1})
    assert "start 2" in bar.bar.postfix
    bar.close()

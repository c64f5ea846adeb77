"""``evolve()``: run one evolution to its end, with workers, checkpoints and reporting.

This is the engine's library entry point (the benchmark calls it with the
named configs); :func:`gascar.matching.match` drives several evolutions (one
per synth) with the same pieces: :func:`run_steps`, :class:`Evaluator`,
:func:`save_checkpoint`.
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .. import validate
from ..errors import EvolutionError
from .checkpoint import PeriodicCheckpoint, load_checkpoint
from .config import EvolutionConfig
from .engine import Evolution
from .genes import GeneInfo
from .parallel import Evaluator


@dataclass
class EvolutionResult:
    """What a run found.

    Attributes
    ----------
    best_genome : ndarray, shape (n_genes,)
    best_fitness : float
    components : dict of str to float
        Fitness components of the best genome (empty if the objective has none).
    history : list of dict
        One record per generation (see :meth:`Evolution.step`).
    species_bests : list of (int, ndarray (n_genes,), float)
        Best genome of each living species, and of each earlier start of
        the GA (ids -1, -2, ... after restarts), best first.
    hall_of_fame : tuple of ndarray (k, n_genes) and ndarray (k,)
    evaluations : int
    generations : int
    seconds : float
    stop_reason : str
        ``budget``, ``stalled``, ``target``, ``converged``, ``time`` or ``interrupted``.
    seed : int
        The entropy of the run's SeedSequence: pass it as ``seed`` to repeat the run.
    interrupted : int or None
        The signal that stopped the run, if any.
    """

    best_genome: np.ndarray
    best_fitness: float
    components: dict = field(default_factory=dict)
    history: list = field(default_factory=list)
    species_bests: list = field(default_factory=list)
    hall_of_fame: tuple = ()
    evaluations: int = 0
    generations: int = 0
    seconds: float = 0.0
    stop_reason: str = ""
    seed: int | None = None
    interrupted: int | None = None


def seed_sequence(seed) -> np.random.SeedSequence:
    """A SeedSequence from ``None`` (fresh entropy), an int or a SeedSequence."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    seed = validate.whole(seed, "seed", low=0, error=EvolutionError, optional=True, what="a non-negative whole number")
    return np.random.SeedSequence(seed)


def genes_of(objective) -> GeneInfo:
    """Gene layout of an objective: its ``space`` if it has one, else ``n_genes`` continuous genes."""
    space = getattr(objective, "space", None)
    if space is not None:
        return GeneInfo.from_space(space)
    n = int(objective.n_genes)
    return GeneInfo(np.zeros(n, bool), np.zeros(n, bool), np.full(n, -1, np.int64), np.zeros(n, np.int64))


def components_function(objectives: dict) -> Callable:
    """``components(key, genomes)`` from the objectives that have ``components``, else empty dicts."""

    def components(key, genomes: np.ndarray) -> dict:
        fn = getattr(objectives[key], "components", None)
        if fn is None:
            return {}
        return {k: v for k, v in fn(genomes).items() if k != "total"}  # the total is the fitness itself

    return components


def run_steps(
    evolution: Evolution,
    evaluate: Callable,
    components: Callable | None = None,
    *,
    should_stop: Callable[[], bool] | None = None,
    deadline: float | None = None,
    on_record: Callable[[dict], None] | None = None,
    max_generations: int | None = None,
) -> str | None:
    """Step ``evolution`` until it is done, a stop is requested or time runs out.

    Parameters
    ----------
    deadline : float, optional
        ``time.monotonic()`` value not to pass: no generation starts that
        would, judging by the last one, end after it.
    max_generations : int, optional
        Finish the evolution (reason ``generations``) at this many generations.

    Returns
    -------
    str or None
        ``"interrupted"`` or ``"time"`` when the run was cut short, else None.
    """
    last = 0.0
    while not evolution.done:
        if max_generations is not None and evolution.generation >= max_generations:
            evolution.finish("generations")
            break
        if should_stop is not None and should_stop():
            return "interrupted"
        now = time.monotonic()
        if deadline is not None and now + last > deadline:
            return "time"
        snapshot = pickle.dumps(evolution, protocol=pickle.HIGHEST_PROTOCOL) if should_stop is not None else None
        try:
            record = evolution.step(evaluate, components)
        except Exception:
            # A signal can kill a worker mid-generation: roll back to the last
            # whole generation, so the checkpoint written next resumes exactly.
            if snapshot is not None and should_stop():
                evolution.__dict__.update(pickle.loads(snapshot).__dict__)
                return "interrupted"
            raise
        last = time.monotonic() - now
        if on_record is not None:
            on_record(record)
    return None


def result_of(evolution: Evolution, *, seconds: float, stop_reason: str, seed: int | None, interrupted: int | None) -> EvolutionResult:
    """An :class:`EvolutionResult` from an evolution's state."""
    if evolution.best_genome is None:
        raise EvolutionError("the run stopped before any evaluation; give it a larger budget or more time")
    return EvolutionResult(
        best_genome=evolution.best_genome.copy(),
        best_fitness=float(evolution.best_fitness),
        components=dict(evolution.best_components or {}),
        history=[dict(r) for r in evolution.logbook],
        species_bests=evolution.species_bests(),
        hall_of_fame=evolution.hall_of_fame(),
        evaluations=int(evolution.evaluations),
        generations=int(evolution.generation),
        seconds=float(seconds),
        stop_reason=stop_reason,
        seed=seed,
        interrupted=interrupted,
    )


def evolve(
    objective,
    config: EvolutionConfig | None = None,
    *,
    budget: int,
    seed=None,
    n_jobs: int | None = 1,
    time_limit_s: float | None = None,
    checkpoint=None,
    checkpoint_every: int = 5,
    resume=None,
    callback: Callable[[dict], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    evaluator: Evaluator | None = None,
    max_generations: int | None = None,
    start_genomes: np.ndarray | None = None,
) -> EvolutionResult:
    """Minimise ``objective`` over ``[0, 1]^n_genes`` within ``budget`` evaluations.

    Parameters
    ----------
    objective
        Callable ``(n, n_genes) -> (n,)``, lower is better; optionally with
        ``space`` (a ParamSpace: choices, switches and groups are honoured)
        and ``components``. Picklable when ``n_jobs > 1``.
    config : EvolutionConfig, optional
        Default: the ``gascar`` engine.
    budget : int
        Objective evaluations; counted exactly, never exceeded.
    seed : int or None
        Same seed, same result, whatever ``n_jobs`` is.
    n_jobs : int or None
        Worker processes (None: all cores; 1: in this process).
    time_limit_s : float, optional
        Wall-clock limit; a run stopped by it depends on the machine's speed.
    checkpoint : path, optional
        Written atomically every ``checkpoint_every`` generations and at exit.
    resume : path, optional
        Continue from this checkpoint; the result equals the uninterrupted run's.
    callback : callable, optional
        Called with each generation's record (reporters).
    should_stop : callable, optional
        Polled between generations; True ends the run as ``interrupted``.
    evaluator : Evaluator, optional
        An open evaluator whose objective key is ``None`` (to reuse workers).
    max_generations : int, optional
        Most generations (GA plus refinement iterations).
    start_genomes : ndarray, shape (m, n_genes), optional
        Where the first population begins (see :class:`Evolution`), for
        example :meth:`gascar.objective.Objective.start_genomes`.

    Returns
    -------
    EvolutionResult
    """
    config = config or EvolutionConfig()
    validate.whole(budget, "budget", low=1, error=EvolutionError, what="a whole number of evaluations >= 1")
    validate.number(time_limit_s, "time limit", low=0, low_open=True, error=EvolutionError, optional=True, what="positive")
    t0 = time.monotonic()
    genes = genes_of(objective)
    if resume is not None:
        state = load_checkpoint(resume, "evolve")
        evolution: Evolution = state["evolution"]
        if evolution.genes.n_genes != genes.n_genes:
            raise EvolutionError(f"checkpoint is for {evolution.genes.n_genes} genes, the objective has {genes.n_genes}", path=resume)
        ss_entropy = state["seed"]
        if int(budget) != evolution.budget:
            evolution.set_budget(int(budget))
    else:
        ss = seed_sequence(seed)
        ss_entropy = ss.entropy
        evolution = Evolution(None, genes, config, budget=int(budget), seed=ss, start_genomes=start_genomes)
    objectives = {None: objective}
    own = evaluator is None
    evaluator = evaluator or Evaluator(objectives, n_jobs, evolution.config.genomes_per_task)
    comps = components_function(objectives)

    saver = PeriodicCheckpoint(checkpoint, "evolve", lambda: {"evolution": evolution, "seed": ss_entropy}, checkpoint_every)

    def on_record(record: dict) -> None:
        if callback is not None:
            callback(record)
        saver.generation()

    cut = None
    try:
        cut = run_steps(
            evolution, evaluator, comps, should_stop=should_stop,
            deadline=None if time_limit_s is None else t0 + time_limit_s, on_record=on_record,
            max_generations=max_generations,
        )
    finally:
        saver.save()
        if own:
            evaluator.close()
    return result_of(
        evolution,
        seconds=time.monotonic() - t0,
        stop_reason=cut or evolution.stop_reason,
        seed=ss_entropy,
        interrupted=None,
    )


def bench_config(n_genes: int | None = None, **overrides) -> EvolutionConfig:
    """The default engine's config with ``overrides`` (for the benchmark's ablations).

    Parameters
    ----------
    n_genes : int, optional
        Genome length (reserved for size-dependent defaults; unused now).
    """
    return EvolutionConfig().replace(**overrides) if overrides else EvolutionConfig()

"""Settings of the evolution engine, as one frozen dataclass, and the named engines.

``ENGINES["gascar"]`` is the default engine (GA with restarts on stagnation,
CMA-ES refinement, and NEAT-style speciation for genomes with at least three
choice or on/off genes); ``ENGINES["ga"]`` is a plain GA (no speciation, no
refinement, no restarts), kept as the
benchmark's baseline. Every field is validated on
construction; :func:`config_from_dict` rejects unknown keys.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace

from ..errors import EvolutionError


@dataclass(frozen=True)
class EvolutionConfig:
    """Everything that steers a run except its budget, seed and parallelism.

    Attributes
    ----------
    population : int
        Individuals per generation.
    elitism : int
        Best individuals copied unchanged into the next generation (plain
        GA; with speciation, ``species_elitism`` applies per species).
    tournament_size : int
        Contestants per tournament selection.
    crossover_rate : float
        Probability that a child comes from crossover (else: a mutated copy).
    sbx_eta, mutation_eta : float
        Distribution indices of SBX crossover and polynomial mutation.
    mutation_rate : float or None
        Per-gene mutation probability of continuous genes; ``None``:
        ``mutation_genes / n_genes``.
    mutation_genes : float
        Expected number of mutated continuous genes per child when
        ``mutation_rate`` is None.
    categorical_rate : float or None
        Per-gene probability that a choice or switch moves to another bin;
        ``None``: ``1 / n_genes``.
    speciation : bool or None
        NEAT-style speciation (compatibility distance, adaptive threshold,
        fitness sharing, stagnation). ``None``: on for genomes with at least
        three choice or on/off genes (subtractive, modular), off otherwise
        (measured: see :func:`gascar.evolve.engine.resolve_config`).
    target_species : int
        Number of species the compatibility threshold is steered towards.
    threshold_step : float
        Relative change of the threshold per generation.
    disjoint_weight, weight_coefficient, categorical_weight : float
        Compatibility distance coefficients: differing on/off switches
        (NEAT's disjoint genes), mean absolute difference of shared
        continuous genes, fraction of differing shared choices.
    species_elitism : int
        Best individuals of every species copied unchanged.
    min_species_size : int
        Smallest number of offspring a surviving species receives.
    stagnation : int
        Generations without improvement after which a species is removed
        (never the species holding the best individual).
    interspecies_crossover : float
        Probability that a child's second parent comes from another species.
    start_minimal : bool
        NEAT's "start minimal": module switches of the first population
        are on with probability ``start_minimal_p_on``. Off by default
        (measured: it cost modular matches 0.6 dB at 5,000 evaluations).
    start_minimal_p_on : float
    start_share : float
        Share of the first population taken by the start genomes a run is
        given (a synth's warm start, analysis-driven starts): the starts
        themselves, then copies of them with their continuous genes moved by
        Gaussian noise of ``start_jitter`` gene units; the rest is uniform
        random, as are the populations of restarts. 0 (the default): the
        starts alone. ``--analysis-starts`` sets 0.25.
    start_jitter : float
    refine : bool
        Refine the best individuals with CMA-ES over the last part of the budget.
    refine_fraction : float
        Part of the budget given to refinement.
    refine_sigma : float
        Initial CMA-ES step size in gene units.
    restart_stall : int or None
        GA generations in which the best of the current start improves by
        less than ``restart_tolerance`` (relative) before the GA starts
        afresh: a new random population and new species, the run's best and
        hall of fame kept, the best of each earlier start refined at the end
        with the others. A restart happens only while at least
        ``2 * restart_stall`` generations of GA budget remain (see
        :meth:`restart_room`), so with the defaults only budgets above about
        4,200 evaluations can restart (:meth:`can_restart`).
        ``None``: never restart (the ``ga`` engine). Default 30: at 20,000
        evaluations it raised in-domain near-perfect recovery (see the
        README's defaults table).
    restart_tolerance : float
        Relative improvement of a start's best that counts as progress.
    patience : int or None
        Generations (GA phase) or CMA-ES iterations (refinement) without
        improvement before the phase ends; ``None`` (default): never, the
        whole budget is used (measured: early stops left 5-10 % of the
        budget unused and never helped the result).
    target_fitness : float or None
        Stop as soon as the best fitness is at or below this.
    genomes_per_task : int
        Genomes per evaluation task sent to a worker (was ``chunk_size``,
        still accepted, and read from older checkpoints). Fixed, so the
        batches an objective sees, and therefore its results, do not depend
        on the job count.
    hall_of_fame : int
        Best distinct individuals kept over the whole run.
    """

    population: int = 48
    elitism: int = 2
    tournament_size: int = 3
    crossover_rate: float = 0.9
    sbx_eta: float = 10.0
    mutation_eta: float = 15.0
    mutation_rate: float | None = None
    mutation_genes: float = 2.0
    categorical_rate: float | None = None
    speciation: bool | None = None
    target_species: int = 5
    threshold_step: float = 0.1
    disjoint_weight: float = 1.0
    weight_coefficient: float = 1.0
    categorical_weight: float = 0.5
    species_elitism: int = 1
    min_species_size: int = 2
    stagnation: int = 15
    interspecies_crossover: float = 0.05
    start_minimal: bool = False
    start_minimal_p_on: float = 0.3
    start_share: float = 0.0
    start_jitter: float = 0.05
    refine: bool = True
    refine_fraction: float = 0.3
    refine_sigma: float = 0.03
    restart_stall: int | None = 30
    restart_tolerance: float = 0.01
    patience: int | None = None
    target_fitness: float | None = None
    genomes_per_task: int = 8
    hall_of_fame: int = 20

    def __setstate__(self, state: dict) -> None:
        # Checkpoints pickled before the rename hold chunk_size.
        state = dict(state)
        for old, new in RENAMED.items():
            if old in state:
                state.setdefault(new, state.pop(old))
        self.__dict__.update(state)

    def __post_init__(self) -> None:
        def need(cond: bool, what: str, value: object) -> None:
            if not cond:
                raise EvolutionError(f"{what}, got {value!r}")

        for name in ("population", "tournament_size", "target_species", "min_species_size", "stagnation", "genomes_per_task", "hall_of_fame"):
            v = getattr(self, name)
            need(isinstance(v, int) and not isinstance(v, bool) and v >= 1, f"{name} must be a whole number >= 1", v)
        need(self.population >= 4, "population must be at least 4", self.population)
        for name in ("elitism", "species_elitism"):
            v = getattr(self, name)
            need(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < self.population, f"{name} must be 0 .. population-1", v)
        for name in ("crossover_rate", "interspecies_crossover", "start_minimal_p_on", "start_share"):
            v = getattr(self, name)
            need(_num(v) and 0.0 <= v <= 1.0, f"{name} must be between 0 and 1", v)
        need(_num(self.refine_fraction) and 0.0 <= self.refine_fraction < 1.0, "refine_fraction must be in [0, 1)", self.refine_fraction)
        for name in ("sbx_eta", "mutation_eta", "mutation_genes", "refine_sigma", "threshold_step", "start_jitter"):
            v = getattr(self, name)
            need(_num(v) and v > 0, f"{name} must be a positive number", v)
        for name in ("disjoint_weight", "weight_coefficient", "categorical_weight"):
            v = getattr(self, name)
            need(_num(v) and v >= 0, f"{name} must be a non-negative number", v)
        for name in ("mutation_rate", "categorical_rate"):
            v = getattr(self, name)
            need(v is None or (_num(v) and 0.0 < v <= 1.0), f"{name} must be None or in (0, 1]", v)
        r = self.restart_stall
        need(r is None or (isinstance(r, int) and not isinstance(r, bool) and r >= 1), "restart_stall must be None or >= 1", r)
        need(_num(self.restart_tolerance) and 0.0 <= self.restart_tolerance < 1.0, "restart_tolerance must be in [0, 1)",
             self.restart_tolerance)
        need(self.patience is None or (isinstance(self.patience, int) and self.patience >= 1), "patience must be None or >= 1", self.patience)
        need(self.target_fitness is None or _num(self.target_fitness), "target_fitness must be None or a number", self.target_fitness)
        need(self.refine_sigma <= 0.5, "refine_sigma must be at most 0.5 (genes live in [0, 1])", self.refine_sigma)

    def ga_budget(self, budget: int, *, final: bool = True) -> int:
        """Evaluations of ``budget`` the GA may spend: all of it, less the refinement's share when ``final``."""
        budget = int(budget)
        return budget - int(round(self.refine_fraction * budget)) if self.refine and final else budget

    def restart_room(self) -> int:
        """GA evaluations that must remain for a restart: ``2 * restart_stall`` generations."""
        return 2 * (self.restart_stall or 0) * self.population

    def can_restart(self, budget: int) -> bool:
        """Whether a run of ``budget`` evaluations can restart at all.

        A restart needs a stalled start (the first population and at least
        ``restart_stall`` generations of at least one child each) and
        :meth:`restart_room` left; below that budget, runs are exactly those
        without restarts.
        """
        if self.restart_stall is None:
            return False
        return self.ga_budget(budget) >= self.population + self.restart_stall + self.restart_room()

    def replace(self, **changes) -> EvolutionConfig:
        """A copy with some fields changed (validated); the old names of :data:`RENAMED` are accepted."""
        changes = {RENAMED.get(k, k): v for k, v in changes.items()}
        unknown = sorted(set(changes) - {f.name for f in fields(self)})
        if unknown:
            raise EvolutionError(f"unknown evolution settings: {', '.join(unknown)} (known: {', '.join(f.name for f in fields(self))})")
        return replace(self, **changes)

    def to_dict(self) -> dict:
        return asdict(self)


#: Settings renamed since they were first named: old name -> new name (still accepted).
RENAMED = {"chunk_size": "genomes_per_task"}


def _num(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def config_from_dict(d: Mapping) -> EvolutionConfig:
    """Build a config from a mapping; unknown keys are an :class:`EvolutionError`."""
    if not isinstance(d, Mapping):
        raise EvolutionError(f"evolution settings must be a mapping, got {type(d).__name__}")
    return EvolutionConfig().replace(**dict(d))


#: Named engines for the CLI (``--engine``) and the benchmark.
ENGINES: dict[str, EvolutionConfig] = {
    "gascar": EvolutionConfig(),
    "ga": EvolutionConfig(speciation=False, refine=False, restart_stall=None),
}


def get_engine(name: str, **changes) -> EvolutionConfig:
    """The named engine's config, with optional changes."""
    try:
        base = ENGINES[name]
    except KeyError:
        raise EvolutionError(f"unknown engine {name!r}; known engines: {', '.join(ENGINES)}") from None
    return base.replace(**changes) if changes else base

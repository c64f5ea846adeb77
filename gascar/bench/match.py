"""``gascar bench match``: match quality per evaluation budget, judged fairly.

Every method optimises the same :class:`gascar.objective.Objective` under the
same budget of objective evaluations (counted exactly by
:class:`BudgetedObjective`); the result is judged by the fixed measures of
:mod:`gascar.bench.judge`, not by any optimiser's own fitness.

Methods
    ``gascar`` (the default engine of ``gascar match``, starting where a
    match starts: the synth's warm start, which only the vital synth has), ``ga`` (plain DEAP
    GA: no speciation, no refinement), ``gascar-nospec`` and
    ``gascar-norefine`` (ablations, each run only where it differs from
    ``gascar``: ``gascar-nospec`` turns speciation off where it is on by
    default (subtractive, modular), ``gascar-spec`` on for the other
    synths; ``gascar-minimal`` starts modular genomes minimal;
    ``gascar-norefine`` turns refinement off where speciation is on,
    elsewhere it is the ``ga`` method; ``gascar-norestart`` turns restarts
    off, and runs only in-domain at budgets large enough for a restart),
    ``cmaes`` (the ``cma`` package, IPOP
    restarts, bounds [0, 1]), ``random`` (uniform random search), and
    ``nevergrad`` (NGOpt) where nevergrad is installed.
Suites
    ``indomain``: for each synth, sounds rendered from random genomes (the
    answer is known, so the parameter error is reported too); ``musical``:
    the same from a synth's prior of musically plausible settings (dx7
    only); ``real``: every sound file of a folder (:mod:`gascar.bench.suites`).

Each run is one line of ``runs.jsonl`` in the output folder, written as soon
as it finishes, so an interrupted benchmark resumes where it stopped
(:mod:`gascar.bench.runs`). The suites, runs store and judge's threshold
are imported here under their old names too (``BenchTarget``,
``load_runs``, ``NEAR_PERFECT_DB`` ...), for callers of this module.
"""

from __future__ import annotations

import hashlib
import math
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .. import fileio
from ..errors import BenchmarkError
from . import quiet
from .judge import NEAR_PERFECT_DB, judge
from .runs import load_runs, quartiles, record_runs
from .suites import (
    INDOMAIN_DURATION_S,
    INDOMAIN_HOLD_S,
    INDOMAIN_MIDI,
    INDOMAIN_SUITES,
    BenchTarget,
    make_indomain_targets,
    oracle,
    oracle_genome,
    oracles,
    real_targets,
    reference_distances,
)

__all__ = [  # with the suites' and runs' names, which callers of this module used before they moved
    "ABLATIONS", "ALL_METHODS", "CURVE_POINTS", "DEFAULT_METHODS", "INDOMAIN_DURATION_S", "INDOMAIN_HOLD_S", "INDOMAIN_MIDI",
    "NEAR_PERFECT_DB", "README_BEGIN", "README_END", "BenchConfig", "BenchTarget", "BudgetExhausted", "BudgetedObjective",
    "RunSpec", "available_methods", "format_pivot", "format_references", "format_table", "load_runs", "make_indomain_targets",
    "oracle", "oracle_genome", "oracles", "plan", "plot_convergence", "readme_block", "real_targets", "record_runs",
    "reference_distances", "run_bench", "run_one", "summarise", "update_readme", "write_outputs",
]

ALL_METHODS = ("gascar", "ga", "gascar-nospec", "gascar-spec", "gascar-minimal", "gascar-norefine", "gascar-norestart",
               "gascar-starts", "cmaes", "random", "nevergrad")
DEFAULT_METHODS = ALL_METHODS
#: Ablations of the default engine: each changes one default, so each runs
#: only at the ablation budgets and only where it differs from ``gascar``.
ABLATIONS = ("gascar-nospec", "gascar-spec", "gascar-minimal", "gascar-norefine", "gascar-norestart", "gascar-starts")
#: Evaluation counts at which the best-so-far is judged (convergence curves).
CURVE_POINTS = (100, 250, 500, 1000, 2500, 5000, 10000, 20000, 50000)


class BudgetExhausted(Exception):
    """Raised inside an optimiser's loop when the evaluation budget is spent."""


class BudgetedObjective:
    """An objective that counts evaluations, stops at the budget and keeps the best.

    It forwards every attribute to the wrapped objective, so optimisers see
    the same interface. Calls beyond the budget evaluate only what is left
    and give ``inf`` to the rest; :attr:`exhausted` then turns true.

    Parameters
    ----------
    objective
        A :class:`gascar.objective.Objective`.
    budget
        Evaluations allowed.
    """

    def __init__(self, objective, budget: int):
        self._objective = objective
        self.budget = int(budget)
        self.evaluations = 0
        self.best_fitness = math.inf
        self.best_genome: np.ndarray | None = None
        self.snapshots: dict[int, np.ndarray] = {}
        self.history: list[tuple[int, float]] = []

    def __getattr__(self, name):
        return getattr(self._objective, name)

    def __reduce__(self):
        raise TypeError("BudgetedObjective runs in-process only (use n_jobs=1)")

    @property
    def exhausted(self) -> bool:
        return self.evaluations >= self.budget

    def __call__(self, genomes: np.ndarray) -> np.ndarray:
        g = np.atleast_2d(np.asarray(genomes, dtype=np.float64))
        out = np.full(g.shape[0], np.inf)
        take = min(g.shape[0], self.budget - self.evaluations)
        if take <= 0:
            return out
        f = np.asarray(self._objective(g[:take]), dtype=np.float64)
        out[:take] = f
        for i in range(take):  # bookkeeping per evaluation, cheap next to rendering
            self.evaluations += 1
            if f[i] < self.best_fitness:
                self.best_fitness = float(f[i])
                self.best_genome = g[i].copy()
            if self.evaluations in CURVE_POINTS and self.best_genome is not None:
                self.snapshots[self.evaluations] = self.best_genome.copy()
        self.history.append((self.evaluations, self.best_fitness))
        return out


# -- methods -----------------------------------------------------------------------------


def _run_random(obj: BudgetedObjective, rng: np.random.Generator) -> None:
    while not obj.exhausted:
        obj(rng.random((min(256, obj.budget - obj.evaluations), obj.n_genes)))


def _run_cmaes(obj: BudgetedObjective, rng: np.random.Generator) -> None:
    """CMA-ES with IPOP restarts (population doubled at each restart), bounds [0, 1]."""
    import cma

    popsize = 4 + int(3 * math.log(obj.n_genes))
    while not obj.exhausted:
        es = cma.CMAEvolutionStrategy(
            rng.random(obj.n_genes),
            0.3,
            {"bounds": [0, 1], "popsize": popsize, "seed": int(rng.integers(1, 2**31 - 1)), "verbose": -9,
             "tolfun": 1e-9, "tolx": 1e-7},
        )
        while not es.stop() and not obj.exhausted:
            xs = es.ask()
            f = obj(np.array(xs))
            if not np.all(np.isfinite(f)):
                break
            es.tell(xs, f.tolist())
        popsize *= 2


def _run_nevergrad(obj: BudgetedObjective, rng: np.random.Generator) -> None:
    import nevergrad as ng

    param = ng.p.Array(shape=(obj.n_genes,), lower=0.0, upper=1.0)
    param.random_state = np.random.RandomState(int(rng.integers(0, 2**31 - 1)))
    opt = ng.optimizers.NGOpt(parametrization=param, budget=obj.budget, num_workers=32)
    while not obj.exhausted:
        cands = [opt.ask() for _ in range(min(32, obj.budget - obj.evaluations))]
        f = obj(np.array([c.value for c in cands]))
        for c, v in zip(cands, f):
            opt.tell(c, float(v))


def _evolve_method(engine: str, *, warm: bool = False, analysis: bool = False, **changes) -> Callable:
    """A run of the evolution engine; ``warm``: starting where ``gascar match`` starts (the synth's warm start);
    ``analysis``: where ``gascar match --analysis-starts`` starts (every synth's analysis-driven starts).
    """

    def run(obj: BudgetedObjective, rng: np.random.Generator, seed: int) -> None:
        from ..evolve import evolve, get_engine
        from ..matching import start_genomes

        inner = obj._objective
        starts = start_genomes(inner, inner.target, analysis=analysis) if warm or analysis else None
        evolve(obj, get_engine(engine, **changes), budget=obj.budget, seed=seed, n_jobs=1, start_genomes=starts)

    return run


def _method(name: str) -> Callable:
    if name == "random":
        return lambda obj, rng, seed: _run_random(obj, rng)
    if name == "cmaes":
        return lambda obj, rng, seed: _run_cmaes(obj, rng)
    if name == "nevergrad":
        return lambda obj, rng, seed: _run_nevergrad(obj, rng)
    if name == "gascar":
        return _evolve_method("gascar", warm=True)
    if name == "ga":
        return _evolve_method("ga")
    if name == "gascar-nospec":
        return _evolve_method("gascar", speciation=False)
    if name == "gascar-spec":
        return _evolve_method("gascar", speciation=True)
    if name == "gascar-minimal":
        return _evolve_method("gascar", start_minimal=True)
    if name == "gascar-norefine":
        return _evolve_method("gascar", refine=False)
    if name == "gascar-norestart":
        return _evolve_method("gascar", restart_stall=None)
    if name == "gascar-starts":
        from ..matching import ANALYSIS_START_SHARE

        return _evolve_method("gascar", analysis=True, start_share=ANALYSIS_START_SHARE)
    raise BenchmarkError(f"unknown method {name!r}; known: {', '.join(ALL_METHODS)}")


def available_methods(methods: Iterable[str]) -> list[str]:
    """``methods`` less those whose package is not installed (nevergrad), with a warning."""
    out = []
    for m in methods:
        if m not in ALL_METHODS:
            raise BenchmarkError(f"unknown method {m!r}; known: {', '.join(ALL_METHODS)}")
        if m == "nevergrad":
            try:
                import nevergrad  # noqa: F401
            except ImportError:
                warnings.warn("nevergrad is not installed: the nevergrad method is left out (pip install nevergrad)", stacklevel=2)
                continue
        out.append(m)
    return out


# -- runs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunSpec:
    method: str
    target: BenchTarget
    synth: str
    budget: int
    seed: int
    weights: str | None = None

    @property
    def key(self) -> str:
        key = f"{self.method}|{self.target.suite}|{self.target.name}|{self.synth}|{self.budget}|{self.seed}"
        return key if self.weights is None else f"{key}|weights={self.weights}"


def _run_seed(spec: RunSpec) -> int:
    h = hashlib.sha256(f"{spec.target.suite}|{spec.target.name}|{spec.synth}|{spec.budget}".encode()).digest()
    return int.from_bytes(h[:4], "little") ^ (spec.seed * 0x9E3779B1 % 2**32)


@quiet()
def run_one(spec: RunSpec, cache_dir: str | None = None) -> dict:
    """Run one method on one target with one budget and seed; judge the result.

    Returns
    -------
    dict
        The run's record (as a line of ``runs.jsonl``).
    """
    from ..analysis import load_target
    from ..memory import keep_buffers
    from ..objective import Objective
    from ..synths import get_synth

    keep_buffers()  # every method evaluates with the same allocator settings
    target = load_target(spec.target.path, cache_dir=cache_dir)
    objective = Objective(target, get_synth(spec.synth), weights=spec.weights)
    budgeted = BudgetedObjective(objective, spec.budget)
    seed = _run_seed(spec)
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    try:
        _method(spec.method)(budgeted, rng, seed)
    except BudgetExhausted:
        pass
    seconds = time.perf_counter() - t0
    if budgeted.best_genome is None:
        raise BenchmarkError(f"method {spec.method} evaluated nothing on {spec.target.name}")
    snaps = dict(budgeted.snapshots)
    snaps[budgeted.evaluations] = budgeted.best_genome
    reference = np.asarray(target.samples)
    curve = []
    for n_evals in sorted(snaps):
        audio = objective.render(snaps[n_evals][None, :])[0]
        curve.append({"evaluations": n_evals, **judge(reference, audio, target.sample_rate)})
    record = {
        "key": spec.key,
        "method": spec.method,
        "suite": spec.target.suite,
        "target": spec.target.name,
        "synth": spec.synth,
        "budget": spec.budget,
        "seed": spec.seed,
        **({} if spec.weights is None else {"weights": spec.weights}),
        "evaluations": budgeted.evaluations,
        "fitness": budgeted.best_fitness,
        "seconds": seconds,
        "evals_per_s": budgeted.evaluations / max(seconds, 1e-9),
        **{k: v for k, v in curve[-1].items() if k != "evaluations"},
        "curve": curve,
    }
    if spec.target.genome is not None:
        n_synth = len(spec.target.genome)
        space = get_synth(spec.synth).params
        true = space.to_genomes(space.to_physical(np.array(spec.target.genome)[None]))[0]
        found = space.to_genomes(space.to_physical(budgeted.best_genome[None, :n_synth]))[0]
        record["param_error"] = float(np.mean(np.abs(true - found)))
    return record


@dataclass
class BenchConfig:
    """What ``gascar bench match`` runs.

    Attributes
    ----------
    out_dir : Path
    suites : tuple of str
        ``indomain``, ``musical`` and/or ``real``.
    methods : tuple of str
    budgets : tuple of int
    seeds : int
        Seeds per method, target and budget.
    synths : tuple of str
        Synths of the in-domain suite.
    per_synth : int
        In-domain targets per synth.
    real_dir : Path
        Folder of the real suite.
    real_synth : str
        Synth matched to real targets (``auto`` is not used: every method
        gets the same synth).
    n_jobs : int
        Runs in parallel (each run single-process).
    ablation_budgets : tuple of int
        Budgets at which the ablation methods run (they are costly).
    real_budgets : tuple of int or None
        Budgets at which the real suite runs (None: every budget); the
        largest budget serves the in-domain recovery measure.
    target_seed : int
        Seed of the in-domain targets (:func:`make_indomain_targets`): 0 is
        the benchmark's; others give held-out sounds.
    weights : str or None
        Fitness weights of every method's objective, as ``gascar match
        --weights`` takes them (None: the defaults); the judge is unchanged,
        so runs under other weights compare with the default's.
    """

    out_dir: Path
    suites: tuple[str, ...] = ("indomain", "musical", "real")
    methods: tuple[str, ...] = DEFAULT_METHODS
    budgets: tuple[int, ...] = (1000, 5000, 20000)
    seeds: int = 3
    synths: tuple[str, ...] = ()
    per_synth: int = 4
    real_dir: Path = Path("targets")
    real_synth: str = "subtractive"
    n_jobs: int = 2
    ablation_budgets: tuple[int, ...] = (5000,)
    real_budgets: tuple[int, ...] | None = (1000, 5000)
    target_seed: int = 0
    weights: str | None = None
    extra: dict = field(default_factory=dict)


def plan(config: BenchConfig) -> list[RunSpec]:
    """Every run the configuration asks for, in a fixed order."""
    from ..synths import list_synths

    synths = tuple(config.synths) or tuple(list_synths())
    methods = available_methods(config.methods)
    targets: list[BenchTarget] = []
    for suite in INDOMAIN_SUITES:
        if suite in config.suites:
            targets += make_indomain_targets(config.out_dir / "indomain-targets", synths, config.per_synth, config.target_seed,
                                             suite)
    if "real" in config.suites:
        targets += real_targets(config.real_dir)
    speciates = {name: _speciates_by_default(name) for name in {*synths, config.real_synth}}
    modular = {name: _has_switches(name) for name in {*synths, config.real_synth}}
    specs = []
    for budget in config.budgets:
        for t in targets:
            if t.suite == "real" and config.real_budgets is not None and budget not in config.real_budgets:
                continue
            synth = t.synth or config.real_synth
            for m in methods:
                if m == "gascar-norestart":
                    if t.suite not in INDOMAIN_SUITES or not _restarts_possible(budget):
                        continue  # no restart can happen: the same runs as gascar's
                elif m in ABLATIONS:
                    if budget not in config.ablation_budgets:
                        continue
                    if (m == "gascar-nospec" and not speciates[synth]) or (m == "gascar-spec" and speciates[synth]):
                        continue  # the same runs as gascar's
                    if m == "gascar-norefine" and not speciates[synth]:
                        continue  # without speciation, the same runs as ga's
                    if m == "gascar-minimal" and not modular[synth]:
                        continue  # no module switches: the same runs as gascar's
                for s in range(config.seeds):
                    specs.append(RunSpec(m, t, synth, budget, s, config.weights))
    return specs


def _speciates_by_default(synth: str) -> bool:
    """Whether the default engine speciates on this synth's genomes (see :func:`gascar.evolve.engine.is_structured`)."""
    from ..evolve.engine import is_structured
    from ..evolve.genes import GeneInfo
    from ..synths import get_synth

    return is_structured(GeneInfo.from_space(get_synth(synth).params))


def _restarts_possible(budget: int) -> bool:
    """Whether the default engine can restart within ``budget`` evaluations (else ``gascar-norestart`` is ``gascar``)."""
    from ..evolve import get_engine

    return get_engine("gascar").can_restart(budget)


def _has_switches(synth: str) -> bool:
    from ..synths import get_synth

    return bool(np.any(get_synth(synth).params.switch_mask))


def run_bench(config: BenchConfig, *, progress: bool = True, readme: Path | None = None) -> list[dict]:
    """Run (or resume) the benchmark; write runs, table, JSON and plot (and ``readme``'s block, when given).

    Returns
    -------
    list of dict
        Every run record of the plan.
    """
    from joblib import Parallel, delayed

    config.out_dir.mkdir(parents=True, exist_ok=True)
    specs = plan(config)
    runs_path = config.out_dir / "runs.jsonl"
    done = load_runs(runs_path)
    todo = [s for s in specs if s.key not in done]
    cache_dir = str(config.out_dir / "analysis-cache")
    runs = Parallel(n_jobs=config.n_jobs, return_as="generator_unordered")(
        delayed(run_one)(s, cache_dir) for s in todo) if todo else ()
    record_runs(runs_path, done, runs, total=len(specs), pending=len(todo), desc="bench match", unit="run", progress=progress)
    records = [done[s.key] for s in specs]
    rows = write_outputs(config, records, list({s.target.name: s.target for s in specs}.values()))
    if readme is not None:
        update_readme(readme, rows)
    return records


# -- results ------------------------------------------------------------------------------------


def summarise(records: list[dict], near_perfect_db: float) -> list[dict]:
    """Median and interquartile range per method, suite, synth and budget."""
    groups: dict[tuple, list[dict]] = {}
    for r in records:
        groups.setdefault((r["suite"], r["synth"], r["budget"], r["method"]), []).append(r)
    rows = []
    for (suite, synth, budget, method), rs in sorted(groups.items()):
        row = {"suite": suite, "synth": synth, "budget": budget, "method": method, "runs": len(rs)}
        for m in ("lsd_db", "mfcc13_mae", "mfcc20_mae", "param_error", "evals_per_s", "seconds"):
            vals = [r[m] for r in rs if m in r]
            if vals:
                row[m], row[m + "_q1"], row[m + "_q3"] = quartiles(vals)
        if suite in INDOMAIN_SUITES:
            row["near_perfect"] = float(np.mean([r["lsd_db"] <= near_perfect_db for r in rs]))
        rows.append(row)
    return rows


def format_references(refs: dict[str, dict], near_perfect_db: float, reach: dict[str, dict] | None = None) -> str:
    """The markdown lines of :func:`reference_distances` (and of :func:`oracles`, when given)."""
    if not refs:
        return ""
    lines = ["", f"Scale of the near-perfect threshold ({near_perfect_db:g} dB), judged LSD in dB, medians per synth:", "",
             "| synth | targets | detuned 5 cents | detuned 20 cents | different presets (median) | different presets (5th percentile) |",
             "|---|---|---|---|---|---|"]

    def cell(db) -> str:  # a synth with one target has no pair of different presets
        return "–" if db is None or not math.isfinite(db) else f"{db:.2f}"

    for name, r in refs.items():
        lines.append(f"| {name} | {r['targets']} | {cell(r['detune_5c'])} | {cell(r['detune_20c'])} | "
                     f"{cell(r.get('presets_median'))} | {cell(r.get('presets_p05'))} |")
    if reach:
        lines += ["", "Reach of the match space: each in-domain target's own genes with the pitch genes as near its true note "
                  "as they go, judged LSD in dB (0 when reachable):", "",
                  "| synth | targets | reachable | unreachable targets (true note / detected f0, judged dB) |", "|---|---|---|---|"]
        for name in refs:
            rs = {t: r for t, r in reach.items() if r["synth"] == name}
            far = [f"{t} ({r['f0_hz'] / r['detected_f0_hz']:.3g}x, {r['lsd_db']:.1f})" if r["detected_f0_hz"]
                   else f"{t} ({r['lsd_db']:.1f})" for t, r in sorted(rs.items()) if not r["reachable"]]
            lines.append(f"| {name} | {len(rs)} | {sum(r['reachable'] for r in rs.values())} | {', '.join(far) or '–'} |")
    return "\n".join(lines) + "\n"


def format_pivot(rows: list[dict], measure: str = "lsd_db") -> str:
    """Medians of one measure, one table per budget: a row per suite and synth, a column per method.

    The best median of each row is in bold.
    """
    methods = [m for m in ALL_METHODS if any(r["method"] == m for r in rows)]
    out = []
    for budget in sorted({r["budget"] for r in rows}):
        cells: dict[tuple[str, str], dict[str, float]] = {}
        for r in rows:
            if r["budget"] == budget and measure in r:
                cells.setdefault((r["suite"], r["synth"]), {})[r["method"]] = r[measure]
        cols = [m for m in methods if any(m in v for v in cells.values())]
        out.append(f"**{budget} evaluations**, median {measure} per method:")
        out.append("")
        out.append("| suite | synth | " + " | ".join(cols) + " |")
        out.append("|---|---|" + "---|" * len(cols))
        for (suite, synth), v in sorted(cells.items()):
            best = min(v.values())
            row = [("**{:.2f}**" if v[m] == best else "{:.2f}").format(v[m]) if m in v else "–" for m in cols]
            out.append(f"| {suite} | {synth} | " + " | ".join(row) + " |")
        out.append("")
    return "\n".join(out)


def format_wins(records: list[dict], method: str = "gascar", against: tuple[str, ...] = ("cmaes", "random")) -> str:
    """Per suite, synth and budget: on how many targets ``method``'s judged LSD (median over seeds) beats each
    method of ``against``, and all of them at once (ties count as losses).
    """
    groups: dict[tuple, dict[str, dict[str, list[float]]]] = {}
    for r in records:
        groups.setdefault((r["suite"], r["synth"], r["budget"]), {}).setdefault(r["method"], {}).setdefault(
            r["target"], []).append(r["lsd_db"])
    lines = []
    for (suite, synth, budget), by_method in sorted(groups.items()):
        others = [m for m in against if m in by_method]
        if method not in by_method or not others:
            continue
        mine = {t: float(np.median(v)) for t, v in by_method[method].items()}
        theirs = {m: {t: float(np.median(v)) for t, v in by_method[m].items()} for m in others}
        common = [t for t in mine if all(t in theirs[m] for m in others)]
        if not common:
            continue
        cells = [f"{sum(mine[t] < theirs[m][t] for t in common)}/{len(common)}" for m in others]
        both = sum(all(mine[t] < theirs[m][t] for m in others) for t in common)
        lines.append(f"| {suite} | {synth} | {budget} | " + " | ".join(cells) + f" | {both}/{len(common)} ({both / len(common):.0%}) |")
    if not lines:
        return ""
    head = (f"Targets on which `{method}` is judged closer (median judged LSD over seeds) than "
            + ", ".join(f"`{m}`" for m in against) + ", and than all of them:")
    cols = " | ".join(against)
    return "\n".join(["", head, "", f"| suite | synth | budget | {cols} | all |", "|---|---|---|" + "---|" * (len(against) + 1),
                      *lines]) + "\n"


def format_table(rows: list[dict], near_perfect_db: float) -> str:
    """A markdown table of :func:`summarise` rows."""
    head = "| suite | synth | budget | method | runs | judged LSD dB, median [IQR] | MFCC-13 MAE | MFCC-20 MAE | param error | near-perfect | evals/s |"
    lines = [head, "|" + "|".join(["---"] * (head.count("|") - 1)) + "|"]

    def cell(row, m, fmt="{:.2f}"):
        if m not in row:
            return "–"
        return f"{fmt.format(row[m])} [{fmt.format(row[m + '_q1'])}–{fmt.format(row[m + '_q3'])}]"

    for r in rows:
        np_cell = f"{100 * r['near_perfect']:.0f}%" if "near_perfect" in r else "–"
        lines.append(
            f"| {r['suite']} | {r['synth']} | {r['budget']} | {r['method']} | {r['runs']} | {cell(r, 'lsd_db')} | "
            f"{cell(r, 'mfcc13_mae')} | {cell(r, 'mfcc20_mae')} | {cell(r, 'param_error', '{:.3f}')} | {np_cell} | "
            f"{r.get('evals_per_s', float('nan')):.0f} |"
        )
    lines.append("")
    lines.append(f"near-perfect: judged LSD at most {near_perfect_db:g} dB.")
    return "\n".join(lines) + "\n"


def plot_convergence(records: list[dict], path: Path) -> Path:
    """Judged LSD (median over targets and seeds) against evaluations, one line per method, per suite."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    suites = sorted({r["suite"] for r in records})
    fig, axes = plt.subplots(1, len(suites), figsize=(6 * len(suites), 4.2), squeeze=False)
    for ax, suite in zip(axes[0], suites):
        rs = [r for r in records if r["suite"] == suite]
        top = max(r["budget"] for r in rs)
        for method in sorted({r["method"] for r in rs}):
            curves = [r["curve"] for r in rs if r["method"] == method and r["budget"] == top]
            if not curves:
                continue
            points = sorted({p["evaluations"] for c in curves for p in c})
            med = []
            for n in points:
                vals = [min((p for p in c if p["evaluations"] <= n), key=lambda p: -p["evaluations"])["lsd_db"]
                        for c in curves if any(p["evaluations"] <= n for p in c)]
                med.append(np.median(vals))
            ax.plot(points, med, marker="o", ms=3, label=method)
        ax.set_xscale("log")
        ax.set_xlabel("objective evaluations")
        ax.set_ylabel("judged log-spectral distance (dB), median")
        ax.set_title(f"{suite} suite (budget {top})")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    with fileio.atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    return path


#: Markers of the block :func:`update_readme` rewrites.
README_BEGIN = "<!-- gascar bench match: begin (written by gascar bench match --readme) -->"
README_END = "<!-- gascar bench match: end -->"
_DETAILS = ("<details><summary>The full table: every suite, synth, budget and method, median [interquartile range] of "
            "each measure, near-perfect fraction and evaluations per second</summary>")


def readme_block(rows: list[dict]) -> str:
    """The README's benchmark block: the pivots, then the full table folded in ``<details>``."""
    table = format_table(rows, NEAR_PERFECT_DB).rstrip("\n").splitlines()
    table = [line for line in table if line.startswith("|")]
    return "\n".join([format_pivot(rows).rstrip("\n"), "", _DETAILS, "", *table, "", "</details>"])


def update_readme(path: Path, rows: list[dict]) -> Path:
    """Replace the block between :data:`README_BEGIN` and :data:`README_END` of ``path`` (atomically).

    Raises
    ------
    BenchmarkError
        Naming the file, when it is missing or lacks the markers.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BenchmarkError(f"cannot read it ({exc.strerror or exc})", path=path) from None
    i, j = text.find(README_BEGIN), text.find(README_END)
    if i < 0 or j < i:
        raise BenchmarkError(f"has no benchmark block to rewrite (a line {README_BEGIN!r}, later {README_END!r})", path=path)
    new = text[: i + len(README_BEGIN)] + "\n\n" + readme_block(rows) + "\n\n" + text[j:]
    fileio.write_text(path, new)
    return path


def write_outputs(config: BenchConfig, records: list[dict], targets: list[BenchTarget] = ()) -> list[dict]:
    """Write ``bench-match.md``, ``bench-match.json`` and ``convergence.png``; return the :func:`summarise` rows."""
    rows = summarise(records, NEAR_PERFECT_DB)
    refs = reference_distances(list(targets))
    reach = oracles(list(targets), str(config.out_dir / "analysis-cache"))
    text = (format_pivot(rows) + "\n" + format_table(rows, NEAR_PERFECT_DB) + format_wins(records)
            + format_wins(records, "gascar-starts")
            + format_references(refs, NEAR_PERFECT_DB, reach))
    fileio.write_text(config.out_dir / "bench-match.md", text)
    fileio.write_json(config.out_dir / "bench-match.json", {
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()},
        "summary": rows,
        "references": refs,
        "reach": reach,
        "runs": records,
    })
    if records:
        plot_convergence(records, config.out_dir / "convergence.png")
    return rows

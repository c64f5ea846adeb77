"""``gascar bench basin``: how near its answer a search must land for refinement to finish it.

In-domain targets (the files of ``gascar bench match``) have a known
answer: the oracle genome of :func:`gascar.bench.suites.oracle_genome`
(the target's own genes, pitch genes as near its true note as they go, the
true note-off). Here each answer is disturbed: every continuous synth gene
that refinement searches, and the note-off gene, gets Gaussian noise of
standard deviation ``sigma`` (gene units, clipped to [0, 1]); choices and
switches keep their true values, and so do the pitch genes (a gene unit of
the free frequency gene is 96 semitones, of the fine tune 2 semitones: the
pitch's own tolerance is the benchmark's detune reference). The default
engine's CMA-ES refinement (:class:`gascar.evolve.refine.Refiner` with the
engine's initial step) then runs from there for ``budget`` evaluations,
and the start and the result are judged by the benchmark's judge.

A target that refinement recovers from large disturbances has a wide basin:
the global search (GA, speciation, restarts) only has to land near it. One
that is not recovered even from a small disturbance has a basin narrower
than anything the search can be expected to land in, which separates what a
better global search could fix from what needs another objective or synth
parametrisation. Unreachable targets (pitch genes that cannot reach the
true note) are left out: their oracle genome is not an answer.

Each run is one line of ``basin-runs.jsonl``, written as it finishes, so an
interrupted benchmark resumes where it stopped.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

from .. import fileio
from ..errors import BenchmarkError
from . import quiet, report_text
from .judge import NEAR_PERFECT_DB
from .runs import load_runs, record_runs
from .suites import INDOMAIN_SUITES, BenchTarget, group_name, make_indomain_targets, oracle_genome

TITLE = "Basins of in-domain answers (`gascar bench basin`)"
#: Disturbances (standard deviation, gene units) measured by default.
DEFAULT_SIGMAS = (0.01, 0.03, 0.1)
#: Refinement evaluations per run by default (the default engine spends 30 % of
#: a 20,000-evaluation budget, 6,000, on refining several genomes).
DEFAULT_BUDGET = 3000


def _key(name: str, sigma: float, seed: int, budget: int, weights: str | None = None) -> str:
    key = f"{name}|{sigma:g}|{seed}|{budget}"
    return key if weights is None else f"{key}|weights={weights}"


@quiet()
def run_basin(target: BenchTarget, sigma: float, seed: int, budget: int, cache_dir: str | None = None,
              weights: str | None = None) -> dict | None:
    """Disturb ``target``'s answer by ``sigma``, refine it for ``budget`` evaluations and judge both.

    ``weights`` (as ``gascar match --weights`` takes them; None: the
    defaults) are the fitness weights refinement minimises; the judge is
    the same whatever they are.

    Returns
    -------
    dict or None
        The run's record (start and result: fitness and judged measures);
        ``None`` for an unreachable target.
    """
    from ..analysis import load_target
    from ..evolve import GeneInfo, get_engine
    from ..evolve.refine import Refiner
    from ..objective import Objective
    from ..synths import get_synth
    from .judge import judge

    analysed = load_target(target.path, cache_dir=cache_dir)
    obj = Objective(analysed, get_synth(target.synth), weights=weights)
    answer, answer_fitness, reachable = oracle_genome(target, obj)
    if not reachable:
        return None
    # One stream per target, disturbance and seed, whatever else is run.
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(zlib.crc32(target.name.encode()), int(round(sigma * 1e6)))))
    genes = GeneInfo.from_space(obj.space)
    disturbed = genes.continuous & genes.active(answer[None, :])[0]
    disturbed[obj.n_synth_genes : obj.n_genes - 1] = False  # the pitch genes (the last gene is the note-off)
    start = answer.copy()
    start[disturbed] = np.clip(start[disturbed] + sigma * rng.standard_normal(int(disturbed.sum())), 0.0, 1.0)
    start_fitness = float(obj(start[None, :])[0])
    best, best_fitness, evaluations = start, start_fitness, 1
    refiner = Refiner(start, start_fitness, genes, get_engine("gascar").refine_sigma, rng)
    while not refiner.done and evaluations + refiner.popsize <= budget:
        x = refiner.ask()
        f = obj(x)
        refiner.tell(f)
        evaluations += x.shape[0]
        i = int(np.argmin(f))
        if f[i] < best_fitness:
            best, best_fitness = x[i].copy(), float(f[i])
    reference = np.asarray(analysed.samples)
    before = judge(reference, obj.render(start[None, :])[0], analysed.sample_rate)
    after = judge(reference, obj.render(best[None, :])[0], analysed.sample_rate)
    return {
        "key": _key(target.name, sigma, seed, budget, weights),
        "target": target.name,
        "synth": group_name(target),
        "sigma": sigma,
        "seed": seed,
        "budget": budget,
        **({} if weights is None else {"weights": weights}),
        "evaluations": evaluations,
        "answer_fitness": answer_fitness,
        "start_fitness": start_fitness,
        "start_lsd_db": before["lsd_db"],
        "fitness": best_fitness,
        **after,
    }


def _run_or_mark(target: BenchTarget, sigma: float, seed: int, budget: int, cache_dir: str, weights: str | None = None) -> dict:
    """:func:`run_basin`'s record, or for an unreachable target a marker, so a resumed benchmark does not try it again."""
    return run_basin(target, sigma, seed, budget, cache_dir, weights) or {
        "key": _key(target.name, sigma, seed, budget, weights), "target": target.name, "synth": group_name(target), "sigma": sigma,
        "seed": seed, "budget": budget, "unreachable": True}


def bench_basin(out_dir: Path, *, synths=None, per_synth: int = 4, sigmas=DEFAULT_SIGMAS, seeds: int = 3,
                budget: int = DEFAULT_BUDGET, n_jobs: int | None = None, target_seed: int = 0, progress: bool = True,
                suites=INDOMAIN_SUITES, weights: str | None = None) -> list[dict]:
    """Run (or resume) every disturbance of every reachable in-domain target; return the records.

    Parameters
    ----------
    out_dir : Path
        Holds ``indomain-targets/`` (shared with ``gascar bench match``),
        ``basin-runs.jsonl`` and ``bench-basin.md``.
    synths : list of str, optional
        Synths that make the targets (default: all).
    per_synth, seeds : int
    sigmas : sequence of float
        Disturbances, in gene units (0 .. 0.5).
    budget : int
        Refinement evaluations per run.
    n_jobs : int, optional
        Runs in parallel (default: all cores); never changes a result.
    target_seed : int
        Seed of the in-domain targets: 0 is the benchmark's.
    suites : sequence of str
        ``indomain`` (uniform random genomes) and/or ``musical`` (a synth's
        musical prior, dx7 only).
    weights : str, optional
        Fitness weights refinement minimises (see :func:`run_basin`).
    """
    from joblib import Parallel, delayed

    from ..evolve.parallel import resolve_jobs
    from ..synths import list_synths

    sigmas = tuple(float(s) for s in sigmas)
    bad = [s for s in sigmas if not 0.0 <= s <= 0.5]
    if bad:
        raise BenchmarkError(f"disturbances must be within 0 .. 0.5 gene units, got {bad[0]:g}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    targets = [t for suite in INDOMAIN_SUITES if suite in suites
               for t in make_indomain_targets(out_dir / "indomain-targets", list(synths or list_synths()), per_synth,
                                              target_seed, suite)]
    cache = str(out_dir / "analysis-cache")
    runs_path = out_dir / "basin-runs.jsonl"
    done = load_runs(runs_path)
    plan = [(t, s, k) for t in targets for s in sigmas for k in range(seeds)]
    todo = [p for p in plan if _key(p[0].name, p[1], p[2], budget, weights) not in done]
    record_runs(runs_path, done, Parallel(n_jobs=resolve_jobs(n_jobs), return_as="generator")(
        delayed(_run_or_mark)(t, s, k, budget, cache, weights) for t, s, k in todo),
        total=len(plan), pending=len(todo), desc="bench basin", unit="run", progress=progress)
    records = [done[_key(t.name, s, k, budget, weights)] for t, s, k in plan]
    fileio.write_text(out_dir / "bench-basin.md", report_text(TITLE, format_table(records)))
    return records


def format_table(records: list[dict], near_perfect_db: float = NEAR_PERFECT_DB) -> str:
    """Per synth and disturbance: runs, judged LSD of the start and of the result (medians), share recovered."""
    runs = [r for r in records if not r.get("unreachable")]
    left_out = sorted({r["target"] for r in records if r.get("unreachable")})
    note = (f"Left out (unreachable: the pitch genes do not reach the true note): {', '.join(left_out)}.\n" if left_out else "")
    if not runs:
        return "No target whose note the pitch genes reach: nothing to measure.\n" + note
    sigmas = sorted({r["sigma"] for r in runs})
    lines = ["| synth | targets | " + " | ".join(f"disturbed by {s:g}: start → refined dB (recovered)" for s in sigmas) + " |",
             "|---|---:|" + "---|" * len(sigmas)]
    groups: dict[str, list[dict]] = {}
    for r in runs:
        groups.setdefault(r["synth"], []).append(r)
    for name in sorted(groups) + ["all"]:
        rs = runs if name == "all" else groups[name]
        cells = []
        for s in sigmas:
            at = [r for r in rs if r["sigma"] == s]
            start = np.median([r["start_lsd_db"] for r in at])
            end = [r["lsd_db"] for r in at]
            cells.append(f"{start:.2f} → {np.median(end):.2f} ({np.mean(np.asarray(end) <= near_perfect_db):.0%})")
        label = f"**{name}**" if name == "all" else name
        lines.append(f"| {label} | {len({r['target'] for r in rs})} | " + " | ".join(cells) + " |")
    lines += ["", "Per target: runs recovered near-perfectly of all runs at each disturbance.", "",
              "| target | " + " | ".join(f"{s:g}" for s in sigmas) + " |", "|---|" + "---:|" * len(sigmas)]
    for name in sorted({r["target"] for r in runs}):
        at = [r for r in runs if r["target"] == name]
        cells = []
        for s in sigmas:
            end = [r["lsd_db"] for r in at if r["sigma"] == s]
            cells.append(f"{sum(e <= near_perfect_db for e in end)}/{len(end)}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    budget = max(r["budget"] for r in runs)
    lines += ["", f"Disturbance: Gaussian noise of that standard deviation (gene units) on every continuous synth gene "
              f"refinement searches and on the note-off (the pitch genes keep the answer's values); refined: CMA-ES, {budget:,} evaluations; recovered: judged LSD at most "
              f"{near_perfect_db:g} dB."]
    return "\n".join(lines) + "\n" + note

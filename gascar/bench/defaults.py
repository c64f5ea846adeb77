"""``gascar bench defaults``: what ``gascar match`` with its defaults recovers of known sounds.

The in-domain targets of ``gascar bench match`` (sounds rendered by GASCAR's
own synths from random genomes, the same files for the same seed) are each
matched by :func:`gascar.match` exactly as ``gascar match TARGET --seed S``
runs it: ``--synth auto`` (every synth, successive halving), the default
budget and engine. The best preset's render is judged against the target by
the benchmark's fixed judge (:mod:`gascar.bench.judge`). The synth that made
a target is not told to the match; the table reports how often it was picked.

Each run is one line of ``runs.jsonl``, written as soon as it finishes, so an
interrupted benchmark resumes where it stopped.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .. import fileio
from . import quiet, report_text
from .judge import NEAR_PERFECT_DB
from .runs import load_runs, quartiles, record_runs
from .suites import BenchTarget, make_indomain_targets

TITLE = "Default matches of in-domain sounds (`gascar bench defaults`)"


def _key(name: str, seed: int, budget: int) -> str:
    return f"{name}|{seed}|{budget}"


def run_default_match(target: BenchTarget, seed: int, *, budget: int | None = None, n_jobs: int | None = None) -> dict:
    """Match one target as ``gascar match TARGET --seed SEED`` does (``budget``: its default); judge the render.

    Returns
    -------
    dict
        The run's record: target, the synth that made it and the synth
        picked, fitness, judged measures, evaluations and seconds.
    """
    from ..analysis import load_target
    from ..matching import DEFAULT_BUDGET, match
    from .judge import judge

    budget = budget or DEFAULT_BUDGET
    t0 = time.perf_counter()
    with quiet():
        result = match(target.path, budget=budget, seed=seed, n_jobs=n_jobs, handle_signals=False)
    seconds = time.perf_counter() - t0
    analysed = load_target(target.path)  # the match's own analysis, from the cache
    audio = result.preset.render_audio()  # exactly what was scored
    return {
        "key": _key(target.name, seed, budget),
        "target": target.name,
        "made_by": target.synth,
        "seed": seed,
        "synth": result.synth,
        "fitness": float(result.fitness),
        "evaluations": int(result.evaluations),
        "seconds": seconds,
        **judge(np.asarray(analysed.samples), audio, analysed.sample_rate),
    }


def bench_defaults(out_dir: Path, *, synths=None, per_synth: int = 4, seeds: int = 3, budget: int | None = None,
                   n_jobs: int | None = None, target_seed: int = 0, progress: bool = True) -> list[dict]:
    """Run (or resume) default matches of every in-domain target; return every record.

    Parameters
    ----------
    out_dir : Path
        Holds ``indomain-targets/`` (shared with ``gascar bench match``) and
        ``defaults-runs.jsonl``.
    synths : list of str, optional
        Synths that make the targets (default: all).
    per_synth, seeds : int
    budget : int, optional
        Overrides ``gascar match``'s default budget (for quick runs and
        tests: the table then no longer shows the defaults).
    n_jobs : int, optional
        Workers of each match (default: all cores); never changes a result.
    target_seed : int
        Seed of the in-domain targets: 0 is the benchmark's, others give
        held-out sounds (see :func:`gascar.bench.suites.make_indomain_targets`).
    """
    from ..matching import DEFAULT_BUDGET
    from ..synths import auto_synths

    budget = budget or DEFAULT_BUDGET  # in the keys, so runs of other budgets never mix
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # By default the synths a default match tries: a sound only another synth makes is no test of the defaults.
    targets = make_indomain_targets(out_dir / "indomain-targets", list(synths or auto_synths()), per_synth, target_seed)
    runs_path = out_dir / "defaults-runs.jsonl"
    done = load_runs(runs_path)
    plan = [(t, s) for t in targets for s in range(seeds)]
    todo = [(t, s) for t, s in plan if _key(t.name, s, budget) not in done]
    # One match at a time: each uses every worker itself.
    record_runs(runs_path, done, (run_default_match(t, s, budget=budget, n_jobs=n_jobs) for t, s in todo),
                total=len(plan), pending=len(todo), desc="bench defaults", unit="match", progress=progress)
    records = [done[_key(t.name, s, budget)] for t, s in plan]
    fileio.write_text(out_dir / "bench-defaults.md", report_text(TITLE, format_table(records)))
    return records


def format_table(records: list[dict], near_perfect_db: float = NEAR_PERFECT_DB) -> str:
    """Per synth that made the targets: runs, judged LSD median [IQR], near-perfect share, synth picked, time."""
    lines = [
        "| made by | runs | judged LSD dB, median [IQR] | near-perfect | MFCC-13 MAE | same synth picked | seconds (median) |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    groups: dict[str, list[dict]] = {}
    for r in records:
        groups.setdefault(r["made_by"], []).append(r)
    for name in sorted(groups) + ["all"]:
        rs = records if name == "all" else groups[name]
        lsd = [r["lsd_db"] for r in rs]
        med, q1, q3 = quartiles(lsd)
        near = np.mean(np.asarray(lsd) <= near_perfect_db)
        same = np.mean([r["synth"] == r["made_by"] for r in rs])
        mfcc = np.median([r["mfcc13_mae"] for r in rs])
        secs = np.median([r["seconds"] for r in rs])
        label = f"**{name}**" if name == "all" else name
        lines.append(f"| {label} | {len(rs)} | {med:.2f} [{q1:.2f}–{q3:.2f}] | {near:.0%} | {mfcc:.2f} | {same:.0%} | {secs:.1f} |")
    budgets = sorted({r["evaluations"] for r in records})
    lines += ["", f"near-perfect: judged LSD at most {near_perfect_db:g} dB; evaluations per match: "
              f"{budgets[0]:,}" + (f"-{budgets[-1]:,}" if len(budgets) > 1 else "") + "."]
    return "\n".join(lines) + "\n"

"""``gascar bench defaults``: what ``gascar match`` with its defaults recovers of known sounds.

The in-domain targets of ``gascar bench match`` (sounds rendered by GASCAR's
own synths from random genomes, the same files for the same seed) are each
matched by :func:`gascar.match` exactly as ``gascar match TARGET --seed S``
runs it: ``--synth auto`` (every synth, successive halving), the default
budget and engine. The best preset's render is judged against the target by
the benchmark's fixed judge (:mod:`gascar.bench.judge`). The synth that made
a target is not told to the match; the table reports how often it was picked.

With ``real_dir``, the targets are the sound files of a folder (real
notes, no known answer): each is matched the same way and judged, and the
table gives the judged distances per budget and per note
(``bench-defaults-real.md``, runs in ``defaults-real-runs.jsonl``). Run
it with several ``--budget`` values on the same notes for the quality a
default match reaches against the seconds it takes.

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
REAL_TITLE = "Default matches of real notes (`gascar bench defaults --real-dir`)"


def _key(name: str, seed: int, budget: int, variant: str = "") -> str:
    return f"{name}|{seed}|{budget}" + (f"|{variant}" if variant else "")


def variant_name(analysis_starts: bool = False, synth: str | None = None) -> str:
    """How a real-notes run differs from a default match, as a short label (empty for the default match)."""
    return "-".join(([synth] if synth and synth != "auto" else []) + (["starts"] if analysis_starts else []))


def run_default_match(target: BenchTarget, seed: int, *, budget: int | None = None, n_jobs: int | None = None,
                      analysis_starts: bool = False, synth: str | None = None) -> dict:
    """Match one target as ``gascar match TARGET --seed SEED`` does (``budget``: its default; ``analysis_starts``:
    with ``--analysis-starts``; ``synth``: with ``--synth``); judge the render.

    Returns
    -------
    dict
        The run's record: target, the synth that made it (None for real
        notes) and the synth picked, fitness, judged measures, evaluations,
        seconds, and the summary's line on where the search started.
    """
    from ..analysis import load_target
    from ..matching import DEFAULT_BUDGET, match
    from .judge import judge

    budget = budget or DEFAULT_BUDGET
    t0 = time.perf_counter()
    with quiet():
        result = match(target.path, budget=budget, seed=seed, n_jobs=n_jobs, handle_signals=False,
                       analysis_starts=analysis_starts, **({"synth": synth} if synth else {}))
    seconds = time.perf_counter() - t0
    analysed = load_target(target.path)  # the match's own analysis, from the cache
    audio = result.preset.render_audio()  # exactly what was scored
    return {
        "key": _key(target.name, seed, budget, variant_name(analysis_starts, synth)),
        "analysis_starts": bool(analysis_starts),
        "variant": variant_name(analysis_starts, synth),
        "target": target.name,
        "made_by": target.synth,
        "seed": seed,
        "synth": result.synth,
        "fitness": float(result.fitness),
        "evaluations": int(result.evaluations),
        "budget": int(budget),
        "seconds": seconds,
        "duration_s": float(analysed.duration_s),
        "starts": result.starts,
        **judge(np.asarray(analysed.samples), audio, analysed.sample_rate),
    }


def bench_defaults(out_dir: Path, *, synths=None, per_synth: int = 4, seeds: int = 3, budget: int | None = None,
                   n_jobs: int | None = None, target_seed: int = 0, progress: bool = True,
                   real_dir: Path | None = None, budgets: tuple[int, ...] = (), analysis_starts: bool = False,
                   match_synth: str | None = None) -> list[dict]:
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
    real_dir : Path, optional
        Match the sound files of this folder instead (real notes).
    budgets : tuple of int
        With ``real_dir``: several budgets, each note matched at each.
    analysis_starts : bool
        With ``real_dir``: match with ``--analysis-starts`` (recorded apart
        from the default matches, in the same file).
    match_synth : str, optional
        With ``real_dir``: match with ``--synth match_synth`` (recorded apart too).
    """
    from ..matching import DEFAULT_BUDGET
    from ..synths import auto_synths

    if real_dir is not None:
        return _bench_real(Path(out_dir), Path(real_dir), seeds=seeds, budgets=tuple(budgets) or (budget or DEFAULT_BUDGET,),
                           n_jobs=n_jobs, progress=progress, analysis_starts=analysis_starts, synth=match_synth)
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


def _bench_real(out_dir: Path, real_dir: Path, *, seeds: int, budgets: tuple[int, ...], n_jobs: int | None,
                progress: bool, analysis_starts: bool = False, synth: str | None = None) -> list[dict]:
    """Default matches of every sound file of ``real_dir`` at each budget; see :func:`bench_defaults`."""
    from .suites import real_targets

    out_dir.mkdir(parents=True, exist_ok=True)
    targets = real_targets(real_dir)
    runs_path = out_dir / "defaults-real-runs.jsonl"
    done = load_runs(runs_path)
    plan = [(t, s, b) for b in budgets for t in targets for s in range(seeds)]
    variant = variant_name(analysis_starts, synth)
    todo = [(t, s, b) for t, s, b in plan if _key(t.name, s, b, variant) not in done]
    record_runs(runs_path, done,
                (run_default_match(t, s, budget=b, n_jobs=n_jobs, analysis_starts=analysis_starts, synth=synth)
                 for t, s, b in todo),
                total=len(plan), pending=len(todo), desc="bench defaults (real)", unit="match", progress=progress)
    records = [done[_key(t.name, s, b, variant)] for t, s, b in plan]
    name = f"bench-defaults-real-{variant}.md" if variant else "bench-defaults-real.md"
    flags = (f" --synth {synth}" if synth else "") + (" --analysis-starts" if analysis_starts else "")
    title = REAL_TITLE.replace("`)", f"{flags}`)")
    fileio.write_text(out_dir / name, report_text(title, format_real_table(records)))
    return records


def format_real_table(records: list[dict]) -> str:
    """Per budget: judged LSD and MFCC-20 error (median [IQR]), seconds, synths picked; then per note at the largest."""
    lines = [
        "| budget | matches | judged LSD dB, median [IQR] | MFCC-20 MAE, median [IQR] | seconds (median) | synths picked |",
        "|---:|---:|---|---|---:|---|",
    ]
    by_budget: dict[int, list[dict]] = {}
    for r in records:
        by_budget.setdefault(int(r.get("budget", r["evaluations"])), []).append(r)
    for budget in sorted(by_budget):
        rs = by_budget[budget]
        lsd, mfcc = quartiles([r["lsd_db"] for r in rs]), quartiles([r["mfcc20_mae"] for r in rs])
        picked: dict[str, int] = {}
        for r in rs:
            picked[r["synth"]] = picked.get(r["synth"], 0) + 1
        names = ", ".join(f"{k} {v}" for k, v in sorted(picked.items(), key=lambda kv: (-kv[1], kv[0])))
        lines.append(f"| {budget:,} | {len(rs)} | {lsd[0]:.2f} [{lsd[1]:.2f}–{lsd[2]:.2f}] | "
                     f"{mfcc[0]:.2f} [{mfcc[1]:.2f}–{mfcc[2]:.2f}] | {np.median([r['seconds'] for r in rs]):.1f} | {names} |")
    top = max(by_budget)
    lines += ["", f"Per note at {top:,} evaluations (median over seeds):", "",
              "| note | judged LSD dB | MFCC-20 MAE | synth | seconds |", "|---|---:|---:|---|---:|"]
    notes: dict[str, list[dict]] = {}
    for r in by_budget[top]:
        notes.setdefault(r["target"], []).append(r)
    for name, rs in sorted(notes.items()):
        synths = sorted({r["synth"] for r in rs})
        lines.append(f"| {name} | {np.median([r['lsd_db'] for r in rs]):.2f} | {np.median([r['mfcc20_mae'] for r in rs]):.2f} | "
                     f"{', '.join(synths)} | {np.median([r['seconds'] for r in rs]):.1f} |")
    return "\n".join(lines) + "\n"

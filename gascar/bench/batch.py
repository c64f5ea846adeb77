"""Batch benchmark: targets matched per minute by ``gascar batch`` with 1 and 2 workers.

The targets are notes rendered by the synths themselves (random genomes,
every synth in turn, pitches log-uniform over 110..440 Hz) and written as
WAV files into a temporary folder. Every target is matched with the same
synth and the same budget, and patience is off, so each spends its whole
budget and the workers get equal shares of work. One warm-up batch per
worker count first (worker start-up, numba's cache); then each worker
count runs the whole batch into a fresh output folder, ``repeats`` times,
and the fastest run counts (the least disturbed by other processes).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np

from ..errors import BenchmarkError

#: (targets, seconds per target, evaluations per target, repeats) of a full and a quick run.
FULL = (8, 1.0, 1200, 2)
QUICK = (4, 0.5, 300, 1)
SYNTH = "subtractive"
SAMPLE_RATE = 22050


def make_targets(folder: Path, n_targets: int, duration_s: float, seed: int = 0) -> list[Path]:
    """Write ``n_targets`` synth-made notes as ``folder/tNN.wav``."""
    from ..audio import write_audio
    from ..synths import auto_synths, get_synth

    rng = np.random.default_rng(seed)
    # The synths a batch's default matches try, less the voices built from a target (their sound is the target's).
    names = [n for n in auto_synths() if not get_synth(n).carries_data]
    n_samples = int(round(duration_s * SAMPLE_RATE))
    paths = []
    for i in range(n_targets):
        synth = get_synth(names[i % len(names)])
        for _ in range(20):  # a silent random genome is no target
            audio = synth.render(rng.random((1, synth.n_genes)), float(np.exp(rng.uniform(np.log(110), np.log(440)))),
                                 n_samples, SAMPLE_RATE, hold_s=0.7 * duration_s)[0]
            peak = float(np.max(np.abs(audio)))
            if peak > 1e-3:
                break
        else:
            raise BenchmarkError(f"could not render an audible target with {synth.name}")
        paths.append(write_audio(folder / f"t{i:02d}.wav", audio * (0.8 / peak), SAMPLE_RATE))
    return paths


def bench_batch(quick: bool = False, jobs: tuple[int, ...] = (1, 2)) -> list[dict]:
    """Targets per minute of ``gascar batch`` for each worker count.

    Parameters
    ----------
    quick : bool
        Fewer, shorter targets and a smaller budget (a quick check, not a measurement).
    jobs : tuple of int
        Worker counts.

    Returns
    -------
    list of dict
        One row per worker count: ``workers``, ``targets``, ``duration_s``,
        ``budget``, ``seconds`` (fastest run), ``runs`` (every run),
        ``targets_per_min``, ``speedup`` over the first worker count, and
        ``load_before`` (the 1-minute load average before the timed runs:
        other processes on the machine slow the workers down).
    """
    from ..batch import BatchOptions, run_batch
    from ..matching import MatchOptions

    n_targets, duration_s, budget, repeats = QUICK if quick else FULL
    options = MatchOptions(synth=SYNTH, budget=budget, seed=0, patience=10**6)
    rows = []
    with tempfile.TemporaryDirectory(prefix="gascar-bench-batch-") as tmp:
        root = Path(tmp)
        make_targets(root / "targets", n_targets, duration_s)
        make_targets(root / "warm", max(jobs), duration_s, seed=1)
        for n in jobs:
            opts = BatchOptions(match=options, n_jobs=n)
            run_batch(root / "warm", root / f"warm-out-{n}", opts)
            runs = []
            load = os.getloadavg()[0]
            for r in range(repeats):
                t0 = time.perf_counter()
                result = run_batch(root / "targets", root / f"out-{n}-{r}", opts)
                runs.append(time.perf_counter() - t0)
                if result.failed:
                    raise BenchmarkError(f"batch benchmark: {len(result.failed)} targets failed: {result.failed[0]['error']}")
            best = min(runs)
            rows.append({"workers": n, "targets": n_targets, "duration_s": duration_s, "budget": budget, "synth": SYNTH,
                         "seconds": best, "runs": runs, "targets_per_min": 60.0 * n_targets / best, "load_before": load})
    base = rows[0]["targets_per_min"]
    for r in rows:
        r["speedup"] = r["targets_per_min"] / base
    return rows


def format_table(rows: list[dict]) -> str:
    """The rows of :func:`bench_batch` as a markdown table."""
    if not rows:
        return "(no batch benchmarked)\n"
    r0 = rows[0]
    lines = [
        f"Batch benchmark: {r0['targets']} targets of {r0['duration_s']:g} s, {r0['synth']}, {r0['budget']} evaluations each "
        "(whole budget spent), one target per worker, evaluations serial inside a target; fastest of "
        f"{len(r0['runs'])} run(s) after a warm-up.",
        "",
        "| workers | seconds | targets/min | speedup | load before |",
        "|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['workers']} | {r['seconds']:.1f} | {r['targets_per_min']:.1f} | {r['speedup']:.2f} | "
                     f"{r['load_before']:.2f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover - convenience: python -m gascar.bench.batch
    print(format_table(bench_batch()))

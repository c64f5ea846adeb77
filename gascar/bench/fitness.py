"""Evaluation-throughput benchmark: render + features + distance per second, per synth and job count.

The target is a 1 s harmonic note at 220 Hz (22.05 kHz) made in memory, so
the benchmark needs no files. For each synth an :class:`~gascar.objective.Objective`
scores batches of ``batch`` random genomes through the evolution's own
:class:`~gascar.evolve.parallel.Evaluator` (tasks of ``genomes_per_task``
genomes; with more than one job, persistent loky workers that receive the
objective once), after one warm-up batch; the median of ``repeats`` timed
batches is reported. Alongside: the render-only and features-only rates in
one process (medians too; how the time splits), and the peak memory (:mod:`tracemalloc`,
every numpy allocation) of evaluating one whole batch in one call.
"""

from __future__ import annotations

import os
import time
import tracemalloc
from collections.abc import Iterable, Sequence

import numpy as np

from ..errors import BenchmarkError


def bench_target(duration_s: float = 1.0, sample_rate: int = 22050, f0_hz: float = 220.0):
    """The benchmark's target: a decaying harmonic note, as a :class:`~gascar.analysis.Target`."""
    from ..analysis import target_from_audio

    t = np.arange(int(round(duration_s * sample_rate))) / sample_rate
    x = sum(np.sin(2 * np.pi * k * f0_hz * t) / k for k in range(1, 9)) * np.exp(-2.5 * t) * np.minimum(1.0, t / 0.01)
    return target_from_audio((0.3 * x).astype(np.float32), sample_rate, f0_hz=f0_hz, name="bench-note")


def bench_fitness(
    synths: Iterable[str] | None = None,
    n_jobs_list: Sequence[int] = (1, 2),
    duration_s: float = 1.0,
    batch: int = 256,
    repeats: int = 5,
    seed: int = 0,
    genomes_per_task: int = 16,
) -> list[dict]:
    """Measure evaluations per second of every synth's objective.

    Parameters
    ----------
    synths
        Synth names; every registered synth when None.
    n_jobs_list
        Worker counts to measure.
    duration_s
        Length of the target (and of every render).
    batch
        Genomes per timed batch (and for the memory peak).
    repeats
        Timed batches per job count after a warm-up batch.
    seed
        Seeds the genomes.
    genomes_per_task
        Genomes per task sent to a worker.

    Returns
    -------
    list of dict
        One per synth and job count: ``synth``, ``n_jobs``, ``evals_per_s``
        (median), ``evals_per_s_per_job``, ``evals_per_cpu_s`` (evaluations
        per CPU second of the main process and the workers, Linux; None
        elsewhere: the per-core rate whatever else loads the machine),
        ``render_per_s`` and
        ``features_per_s`` (one process), ``peak_mem_mb`` (one batch in one
        call), ``batch``, ``duration_s``.

    Raises
    ------
    BenchmarkError
        For impossible settings.
    """
    from ..evolve.parallel import Evaluator, single_thread
    from ..objective import Objective
    from ..synths import get_synth, list_synths

    if batch < 1 or repeats < 1 or not duration_s > 0 or not n_jobs_list or min(n_jobs_list) < 1:
        raise BenchmarkError(f"need batch >= 1, repeats >= 1, duration_s > 0 and job counts >= 1; "
                             f"got {batch}, {repeats}, {duration_s}, {list(n_jobs_list)}")
    target = bench_target(duration_s)
    rows = []
    for name in list(synths) if synths is not None else list_synths():
        objective = Objective(target, get_synth(name))
        genomes = np.random.default_rng(seed).random((batch, objective.n_genes))
        limits = single_thread()
        try:
            objective(genomes[:2])
            audio = objective.render(genomes)
            render_rate = _median_rate(objective.render, genomes, repeats)
            features_rate = _median_rate(objective.distances, audio, repeats)
            del audio
            peak = _peak_mb(objective, genomes)
        finally:
            limits.restore_original_limits()
        for n_jobs in n_jobs_list:
            with Evaluator({0: objective}, n_jobs=int(n_jobs), genomes_per_task=genomes_per_task) as ev:
                ev(0, genomes)  # start the workers, warm caches and numba
                rates = []
                cpu0 = _cpu_seconds(ev)
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    ev(0, genomes)
                    rates.append(batch / (time.perf_counter() - t0))
                cpu1 = _cpu_seconds(ev)
            med = float(np.median(rates))
            per_cpu = None if cpu0 is None or cpu1 is None or cpu1 <= cpu0 else repeats * batch / (cpu1 - cpu0)
            rows.append({
                "synth": name, "n_jobs": int(n_jobs), "evals_per_s": med, "evals_per_s_per_job": med / int(n_jobs),
                "evals_per_cpu_s": per_cpu, "render_per_s": render_rate, "features_per_s": features_rate,
                "peak_mem_mb": peak, "batch": batch, "duration_s": duration_s,
            })
    return rows


def _cpu_seconds(evaluator) -> float | None:
    """CPU time used so far by this process and the evaluator's workers (Linux), or None.

    Evaluations per CPU second do not depend on what else runs on the
    machine, unlike evaluations per second of wall time.
    """
    total = time.process_time()
    executor = getattr(evaluator, "_executor", None)
    if executor is None:
        return total
    try:
        tick = os.sysconf("SC_CLK_TCK")
        for proc in executor._processes.values():
            with open(f"/proc/{proc.pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
    except (AttributeError, OSError, ValueError, IndexError):
        return None
    return total


def _median_rate(fn, rows: np.ndarray, repeats: int) -> float:
    """Median rows per second of ``fn(rows)`` over ``repeats`` calls."""
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(rows)
        rates.append(rows.shape[0] / (time.perf_counter() - t0))
    return float(np.median(rates))


def _peak_mb(objective, genomes: np.ndarray) -> float:
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    objective(genomes)
    peak = tracemalloc.get_traced_memory()[1] - base
    if not was_tracing:
        tracemalloc.stop()
    return peak / 2**20


def format_table(rows: list[dict]) -> str:
    """The rows as a markdown table (one line per synth and job count)."""
    if not rows:
        return "(no synths measured)\n"
    r0 = rows[0]
    lines = [
        f"Objective evaluations (render + features + distance) of {r0['duration_s']:g} s voices at 22.05 kHz, "
        f"batches of {r0['batch']}; goal: 500 evaluations/s per job, peak memory of a batch under 500 MB.",
        "",
        "| synth | jobs | evaluations/s | per job | per CPU second | render only /s | features only /s | peak MB (batch) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        cpu = "n/a" if r.get("evals_per_cpu_s") is None else f"{r['evals_per_cpu_s']:.0f}"
        lines.append(f"| {r['synth']} | {r['n_jobs']} | {r['evals_per_s']:.0f} | {r['evals_per_s_per_job']:.0f} | {cpu} | "
                     f"{r['render_per_s']:.0f} | {r['features_per_s']:.0f} | {r['peak_mem_mb']:.0f} |")
    return "\n".join(lines) + "\n"

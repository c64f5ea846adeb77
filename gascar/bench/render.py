"""Render benchmark: voices per second and peak memory of every synth, one process.

A voice is one genome rendered for ``duration_s`` at ``sample_rate``; each
synth renders batches of ``n_voices`` random genomes (uniform in [0, 1], so
modules, algorithms and waveforms are mixed as evolution meets them, notes
log-uniform over 55..880 Hz, note-off at 70 % of the render). The first call
is timed separately as ``compile_s`` (numba compilation, or loading its
cache); one warm-up render follows, then ``repeats`` timed renders whose
median and interquartile range are reported. Peak memory is measured on one
extra render with :mod:`tracemalloc` (every numpy allocation), so timing is
not slowed by tracing.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Iterable

import numpy as np

from ..errors import BenchmarkError
from ..synths import get_synth, list_synths


def _inputs(synth, n_voices: int, duration_s: float, sample_rate: int, seed: int):
    rng = np.random.default_rng(seed)
    genomes = rng.random((n_voices, synth.n_genes))
    f0_hz = np.exp(rng.uniform(np.log(55.0), np.log(880.0), n_voices))
    n_samples = max(1, int(round(duration_s * sample_rate)))
    return genomes, f0_hz, n_samples, np.full(n_voices, 0.7 * duration_s)


def bench_render(
    synths: Iterable[str] | None = None,
    n_voices: int = 256,
    duration_s: float = 1.0,
    sample_rate: int = 22050,
    repeats: int = 5,
    seed: int = 0,
) -> list[dict]:
    """Measure render throughput of each synth.

    Parameters
    ----------
    synths
        Synth names; every registered synth when None.
    n_voices
        Batch size of one render call.
    duration_s, sample_rate
        Length and rate of each voice.
    repeats
        Timed renders after the warm-up; the median is reported.
    seed
        Seeds the random genomes and notes.

    Returns
    -------
    list of dict
        One per synth: ``name``, ``n_genes``, ``voices_per_s`` (median),
        ``iqr`` (interquartile range of voices per second), ``peak_mem_mb``
        (tracemalloc peak of one render), ``compile_s`` (first call, a tiny
        batch), ``n_voices``, ``duration_s``, ``sample_rate``, ``repeats``.

    Raises
    ------
    BenchmarkError
        For impossible settings.
    """
    if n_voices < 1 or repeats < 1 or not duration_s > 0 or sample_rate < 1000:
        raise BenchmarkError(
            f"need n_voices >= 1, repeats >= 1, duration_s > 0 and sample_rate >= 1000; "
            f"got {n_voices}, {repeats}, {duration_s}, {sample_rate}"
        )
    names = list(synths) if synths is not None else list_synths()
    rows = []
    for name in names:
        synth = get_synth(name)
        genomes, f0_hz, n_samples, hold_s = _inputs(synth, n_voices, duration_s, sample_rate, seed)

        t0 = time.perf_counter()
        synth.render(genomes[:2], f0_hz[:2], min(n_samples, 2048), sample_rate, hold_s=hold_s[:2])
        compile_s = time.perf_counter() - t0

        synth.render(genomes, f0_hz, n_samples, sample_rate, hold_s=hold_s)  # warm-up
        rates = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            synth.render(genomes, f0_hz, n_samples, sample_rate, hold_s=hold_s)
            rates.append(n_voices / (time.perf_counter() - t0))

        was_tracing = tracemalloc.is_tracing()
        if not was_tracing:
            tracemalloc.start()
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        synth.render(genomes, f0_hz, n_samples, sample_rate, hold_s=hold_s)
        peak = tracemalloc.get_traced_memory()[1] - base
        if not was_tracing:
            tracemalloc.stop()

        q1, med, q3 = np.percentile(rates, [25, 50, 75])
        rows.append(
            {
                "name": name,
                "n_genes": synth.n_genes,
                "voices_per_s": float(med),
                "iqr": float(q3 - q1),
                "peak_mem_mb": peak / 2**20,
                "compile_s": compile_s,
                "n_voices": n_voices,
                "duration_s": duration_s,
                "sample_rate": sample_rate,
                "repeats": repeats,
            }
        )
    return rows


def format_table(rows: list[dict]) -> str:
    """The rows of :func:`bench_render` as a markdown table."""
    if not rows:
        return "(no synths benchmarked)\n"
    r0 = rows[0]
    lines = [
        f"Render benchmark: batches of {r0['n_voices']} voices x {r0['duration_s']:g} s at {r0['sample_rate']} Hz, "
        f"one process, median of {r0['repeats']} runs after a warm-up.",
        "",
        "| synth | genes | voices/s (median) | IQR | peak memory (MB) | first call (s) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | {r['n_genes']} | {r['voices_per_s']:.0f} | {r['iqr']:.0f} | {r['peak_mem_mb']:.1f} | {r['compile_s']:.2f} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover - convenience: python -m gascar.bench.render
    print(format_table(bench_render()))

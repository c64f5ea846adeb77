"""Batch evaluation of genomes, in-process or on persistent loky workers.

The objectives travel to each worker once, through the pool's initializer,
and stay in a module global; each generation then sends only genome tasks
(a few kB). Chunks have a fixed size, whatever the number of jobs, so an
objective always sees the same batches and a seed gives the same result,
bit for bit, with 1 or N jobs. Workers run single-threaded numerics and
ignore SIGINT: Ctrl-C is the main process's business.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping

import numpy as np

from .. import memory, validate
from ..errors import EvolutionError

_WORKER_OBJECTIVES: Mapping | None = None
_WORKER_LIMITS = None
_THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1",
               **memory.ENV}


class _Payload:
    """Wraps the objectives so the executor never compares them with ``==``."""

    def __init__(self, objectives: Mapping):
        self.objectives = dict(objectives)


def _init_worker(payload: _Payload) -> None:
    global _WORKER_OBJECTIVES, _WORKER_LIMITS
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    memory.keep_buffers()
    _WORKER_OBJECTIVES = payload.objectives
    try:
        from threadpoolctl import threadpool_limits

        _WORKER_LIMITS = threadpool_limits(1)
    except Exception:  # noqa: BLE001 - thread limits are an optimisation only
        _WORKER_LIMITS = None


def _evaluate_task(key, genomes: np.ndarray) -> np.ndarray:
    return np.asarray(_WORKER_OBJECTIVES[key](genomes), dtype=np.float64)


def single_thread():
    """Limit numeric libraries to one thread (as in every worker): a threadpoolctl limit to undo, or False."""
    try:
        from threadpoolctl import threadpool_limits

        return threadpool_limits(1)
    except Exception:  # noqa: BLE001 - thread limits are an optimisation only
        return False


def default_jobs() -> int:
    """All cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def resolve_jobs(n_jobs: int | None) -> int:
    """``None`` or ``0``: all cores; negative: all cores but ``-n_jobs - 1`` (joblib's rule)."""
    cores = default_jobs()
    if n_jobs is None or n_jobs == 0:
        return cores
    n_jobs = validate.whole(n_jobs, "n_jobs", error=EvolutionError)
    if n_jobs < 0:
        return max(1, cores + 1 + n_jobs)
    return n_jobs


class Evaluator:
    """Evaluates genome batches with one of several objectives.

    Parameters
    ----------
    objectives : mapping of key to objective
        Callables ``(n, n_genes) -> (n,)``; all are sent to each worker once.
    n_jobs : int or None
        Worker processes; 1 evaluates in this process (no executor).
    genomes_per_task : int
        Genomes per task. Results never depend on ``n_jobs``, because the
        tasks are the same whatever the number of workers.

    Notes
    -----
    Use as a context manager, or call :meth:`close`, to stop the workers.
    """

    def __init__(self, objectives: Mapping, n_jobs: int | None = 1, genomes_per_task: int = 16):
        self.objectives = dict(objectives)
        self.n_jobs = resolve_jobs(n_jobs)
        self.genomes_per_task = int(genomes_per_task)
        self._executor = None
        self._limits = None

    def __enter__(self) -> Evaluator:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _pool(self):
        if self._executor is None:
            from joblib.externals.loky import ProcessPoolExecutor

            self._executor = ProcessPoolExecutor(
                max_workers=self.n_jobs,
                initializer=_init_worker,
                initargs=(_Payload(self.objectives),),
                env=_THREAD_ENV,
                timeout=600,
            )
        return self._executor

    def start(self) -> None:
        """Start the workers now (they otherwise start on the first batch)."""
        if self.n_jobs > 1:
            self._pool()

    def __call__(self, key, genomes: np.ndarray) -> np.ndarray:
        """Fitness of every genome under objective ``key``.

        Parameters
        ----------
        key
            Which objective.
        genomes : ndarray, shape (n, n_genes)

        Returns
        -------
        ndarray, shape (n,), float64
        """
        genomes = np.ascontiguousarray(genomes, dtype=np.float64)
        n = genomes.shape[0]
        if n == 0:
            return np.zeros(0)
        tasks = [genomes[i : i + self.genomes_per_task] for i in range(0, n, self.genomes_per_task)]
        if self.n_jobs == 1:
            objective = self.objectives[key]
            if self._limits is None:  # single-threaded numerics as in the workers: same bits
                self._limits = single_thread()
                memory.keep_buffers()
            out = np.concatenate([np.asarray(objective(c), dtype=np.float64) for c in tasks])
        else:
            try:
                futures = [self._pool().submit(_evaluate_task, key, c) for c in tasks]
                out = np.concatenate([f.result() for f in futures])
            except Exception as exc:
                if isinstance(exc, EvolutionError):
                    raise
                name = type(exc).__name__
                if "Terminated" in name or "BrokenProcessPool" in name:
                    raise EvolutionError(f"an evaluation worker died ({exc}); try fewer --jobs or a smaller --population") from None
                raise
        if out.shape != (n,):
            raise EvolutionError(f"the objective returned shape {out.shape} for {n} genomes; expected ({n},)")
        return np.where(np.isfinite(out), out, np.inf)

    def close(self) -> None:
        """Stop the workers."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        if self._limits:
            self._limits.restore_original_limits()
        self._limits = None


def measure_throughput(objective, jobs=(1, 2), *, n_genomes: int = 48, rounds: int = 6, genomes_per_task: int = 8, seed: int = 0) -> dict:
    """Evaluations per second of ``objective`` for each job count (warm workers).

    Parameters
    ----------
    objective
        Picklable callable ``(n, n_genes) -> (n,)`` with ``n_genes``.
    jobs : sequence of int
    n_genomes : int
        Batch size, as one generation's children.
    rounds : int
        Timed batches per job count (after three warm-up batches).

    Returns
    -------
    dict of int to float
        Job count to evaluations per second.
    """
    import time

    genomes = np.random.default_rng(seed).random((n_genomes, int(objective.n_genes)))
    out = {}
    for n in jobs:
        with Evaluator({0: objective}, n_jobs=n, genomes_per_task=genomes_per_task) as ev:
            for _ in range(3):  # start every worker and warm its caches (imports, compiled kernels)
                ev(0, genomes)
            t0 = time.perf_counter()
            for _ in range(rounds):
                ev(0, genomes)
            out[int(n)] = rounds * n_genomes / (time.perf_counter() - t0)
    return out

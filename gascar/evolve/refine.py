"""Local refinement with CMA-ES (the ``cma`` package) around one good genome.

Only the continuous genes that reach the sound (active in the start genome)
are searched; choices and switches stay as they are. The search space is
the unit box (``cma``'s bound transform). Samples come from the run's own
``numpy.random.Generator`` through ``cma``'s ``randn`` option, so the global
numpy state is never seeded nor used, and a checkpoint pickles the whole
strategy with the generator.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .genes import GeneInfo


class _Randn:
    """``randn(*shape)`` for ``cma``, drawn from an explicit Generator."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng

    def __call__(self, *shape) -> np.ndarray:
        return self.rng.standard_normal(shape)


class Refiner:
    """A CMA-ES run on the active continuous genes of ``start``.

    Parameters
    ----------
    start : ndarray, shape (n_genes,)
        Genome to refine; its categorical genes are kept.
    start_fitness : float
    genes : GeneInfo
    sigma : float
        Initial step size, in gene units.
    rng : numpy.random.Generator
    species_id : int
        Species the start genome came from (for the result's species bests).
    """

    def __init__(self, start: np.ndarray, start_fitness: float, genes: GeneInfo, sigma: float, rng: np.random.Generator, species_id: int = 0):
        import cma

        self.base = np.asarray(start, dtype=np.float64).copy()
        self.best_fitness = float(start_fitness)
        self.species_id = species_id
        self.idx = np.flatnonzero(genes.continuous & genes.active(self.base[None, :])[0])
        self.es = None
        if self.idx.size < 2:  # cma needs at least two dimensions; nothing worth refining
            return
        opts = {
            "bounds": [0.0, 1.0],
            "randn": _Randn(rng),
            "seed": math.nan,
            "verbose": -9,
            "verb_log": 0,
            "verb_disp": 0,
            "tolfun": 1e-7,
            "tolx": 1e-6,
        }
        x0 = np.clip(self.base[self.idx], 0.0, 1.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.es = cma.CMAEvolutionStrategy(x0, sigma, opts)
        self._asked: list | None = None

    @property
    def popsize(self) -> int:
        return 0 if self.es is None else int(self.es.popsize)

    @property
    def done(self) -> bool:
        """True when the strategy has converged or cannot run."""
        if self.es is None:
            return True
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return bool(self.es.stop())

    def ask(self) -> np.ndarray:
        """The next CMA-ES generation as full genomes, shape ``(popsize, n_genes)``."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._asked = self.es.ask()
        out = np.repeat(self.base[None, :], len(self._asked), axis=0)
        out[:, self.idx] = np.clip(np.asarray(self._asked), 0.0, 1.0)
        return out

    def tell(self, fitness: np.ndarray) -> None:
        """Report the fitness ``(popsize,)`` of the last :meth:`ask`."""
        f = np.asarray(fitness, dtype=np.float64)
        f = np.where(np.isfinite(f), f, 1e12)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.es.tell(self._asked, f.tolist())
        self._asked = None

"""A toy objective with the Objective protocol, for tests and engine benchmarks.

It needs no audio: a multimodal function over a ParamSpace with continuous
genes, a choice and a module switch whose genes only count when it is on.
Two structures reach a good fitness: the global optimum (module on, choice
``"b"``) and a near-optimal decoy (module off, choice ``"c"``), so a
speciating engine can keep both alive. Deterministic, row-independent and
picklable, like the real :class:`gascar.objective.Objective`.
"""

from __future__ import annotations

import numpy as np

from ..params import ParamSpace, ParamSpec


class ToyObjective:
    """Rastrigin-like landscape with structure genes.

    Parameters
    ----------
    n_continuous : int
        Ungated continuous genes.
    n_module : int
        Continuous genes gated by the ``module_on`` switch.
    ripple : float
        Height of the local optima (0 gives a smooth bowl).
    seed : int
        Places the optimum.
    """

    def __init__(self, n_continuous: int = 6, n_module: int = 3, ripple: float = 0.05, seed: int = 0):
        specs = [ParamSpec(f"x{i}") for i in range(n_continuous)]
        specs.append(ParamSpec("shape", scale="choice", choices=("a", "b", "c")))
        specs.append(ParamSpec.switch("module_on"))
        specs += [ParamSpec(f"m{i}", group="module_on") for i in range(n_module)]
        self.space = ParamSpace(specs)
        rng = np.random.default_rng(seed)
        self.optimum = rng.uniform(0.15, 0.85, self.space.n_genes)
        self.decoy = rng.uniform(0.15, 0.85, self.space.n_genes)
        self.ripple = float(ripple)
        self._x = np.arange(n_continuous)
        self._m = np.arange(n_continuous + 2, n_continuous + 2 + n_module)
        self._shape = n_continuous
        self._switch = n_continuous + 1

    @property
    def n_genes(self) -> int:
        return self.space.n_genes

    def components(self, genomes: np.ndarray) -> dict[str, np.ndarray]:
        """Named parts of the fitness, each ``(n,)``."""
        g = self.space.check_genomes(genomes)
        shape = np.minimum(np.floor(g[:, self._shape] * 3), 2)
        on = g[:, self._switch] >= 0.5
        # Structure A: module on, shape "b", continuous genes near `optimum`.
        da = np.mean((g[:, self._x] - self.optimum[self._x]) ** 2, axis=1) + np.mean((g[:, self._m] - self.optimum[self._m]) ** 2, axis=1)
        da += 0.3 * (shape != 1) + 0.3 * ~on
        # Structure B (decoy): module off, shape "c", near `decoy`; its best is 0.02.
        db = 0.02 + np.mean((g[:, self._x] - self.decoy[self._x]) ** 2, axis=1) + 0.3 * (shape != 2) + 0.3 * on
        ripple = self.ripple * np.mean(1.0 - np.cos(2 * np.pi * 8 * (g[:, self._x] - self.optimum[self._x])), axis=1)
        return {"distance": np.minimum(da, db), "ripple": ripple}

    def __call__(self, genomes: np.ndarray) -> np.ndarray:
        """Fitness ``(n,)`` of genomes ``(n, n_genes)``; lower is better, 0 at the optimum."""
        c = self.components(genomes)
        return c["distance"] + c["ripple"]

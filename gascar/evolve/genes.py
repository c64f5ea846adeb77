"""Gene metadata the operators and the speciation need, taken from a ParamSpace.

A genome is a plain ``float64`` array in ``[0, 1]^n_genes``. Continuous genes
are varied by real-coded operators; categorical genes (choices and on/off
switches) only by resampling and by uniform crossover, because their bins
have no order. A gene whose ``group`` switch is off does not reach the
sound; it is "inactive" (NEAT would say: the gene is not expressed).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..params import ParamSpace


@dataclass(frozen=True, eq=False)
class GeneInfo:
    """Per-gene arrays describing a genome layout.

    Attributes
    ----------
    categorical : ndarray of bool, shape (n_genes,)
        Choices and switches: mutated by resampling.
    switch : ndarray of bool, shape (n_genes,)
        On/off module genes (NEAT's structure).
    group : ndarray of int, shape (n_genes,)
        Index of the switch gating each gene, or -1.
    n_bins : ndarray of int, shape (n_genes,)
        Number of values of a discrete gene, 0 for continuous ones.
    names : tuple of str
    """

    categorical: np.ndarray
    switch: np.ndarray
    group: np.ndarray
    n_bins: np.ndarray
    names: tuple[str, ...] = ()

    @classmethod
    def from_space(cls, space: ParamSpace) -> GeneInfo:
        """Gene metadata of a :class:`~gascar.params.ParamSpace`."""
        return cls(
            categorical=np.asarray(space.categorical_mask, dtype=bool),
            switch=np.asarray(space.switch_mask, dtype=bool),
            group=np.asarray(space.group_index, dtype=np.int64),
            n_bins=np.array([s.n_bins for s in space], dtype=np.int64),
            names=tuple(space.names),
        )

    @property
    def n_genes(self) -> int:
        return int(self.categorical.size)

    @property
    def continuous(self) -> np.ndarray:
        """Boolean ``(n_genes,)``: genes varied by SBX and polynomial mutation."""
        return ~self.categorical

    def bins(self, genomes: np.ndarray) -> np.ndarray:
        """Bin index of every discrete gene (continuous genes give 0).

        Parameters
        ----------
        genomes : ndarray, shape (n, n_genes)

        Returns
        -------
        ndarray of int, shape (n, n_genes)
        """
        nb = np.maximum(self.n_bins, 1)
        return np.minimum(np.floor(np.clip(genomes, 0.0, 1.0) * nb), nb - 1).astype(np.int64)

    def switched_on(self, genomes: np.ndarray) -> np.ndarray:
        """Boolean ``(n, n_genes)``: the switch genes that are on (others False)."""
        return (self.bins(genomes) == 1) & self.switch

    def active(self, genomes: np.ndarray) -> np.ndarray:
        """Boolean ``(n, n_genes)``: genes that reach the sound.

        A gene is active when it has no group, or when its group's switch
        is on. Switches themselves are always active.
        """
        genomes = np.atleast_2d(genomes)
        on = self.switched_on(genomes)
        gated = self.group >= 0
        act = np.ones(genomes.shape, dtype=bool)
        if gated.any():
            act[:, gated] = on[:, self.group[gated]]
        return act

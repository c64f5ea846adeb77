"""NEAT-style speciation: compatibility distance, species, adaptive threshold, sharing.

As in neat-python (``neat/species.py``, ``neat/stagnation.py``), with its
issues' lessons: species are kept and visited in creation order (ids), so a
run reproduces; the compatibility threshold is adapted every generation to
hold a target number of species; offspring are shared out by the mean
(shared) fitness of each species; a species that has not improved for
``stagnation`` generations is removed, except the one holding the best
individual. Genomes are plain arrays; a species stores indices.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .config import EvolutionConfig
from .genes import GeneInfo


def compatibility_distance(a: np.ndarray, b: np.ndarray, genes: GeneInfo, config: EvolutionConfig) -> np.ndarray:
    """NEAT's compatibility distance between two genome batches.

    ``d = c_disjoint * switches_differing / n_switches
    + c_weight * mean |a - b| over continuous genes active in both
    + c_categorical * fraction of choices differing among those active in both``.

    On/off switches that differ play NEAT's disjoint genes: the two
    structures differ, whatever the parameters of the modules. Genes of a
    module that is off in either genome are not compared.

    Parameters
    ----------
    a : ndarray, shape (n, n_genes)
    b : ndarray, shape (m, n_genes)

    Returns
    -------
    ndarray, shape (n, m), float64, >= 0
    """
    a = np.atleast_2d(a)
    b = np.atleast_2d(b)
    bins_a, bins_b = genes.bins(a), genes.bins(b)
    d = np.zeros((a.shape[0], b.shape[0]))
    sw = genes.switch
    if sw.any():
        diff = bins_a[:, None, sw] != bins_b[None, :, sw]
        d += config.disjoint_weight * diff.mean(axis=2)
    both = genes.active(a)[:, None, :] & genes.active(b)[None, :, :]
    cont = genes.continuous
    if cont.any():
        shared = both[:, :, cont]
        absdiff = np.abs(a[:, None, cont] - b[None, :, cont])
        d += config.weight_coefficient * (absdiff * shared).sum(axis=2) / np.maximum(shared.sum(axis=2), 1)
    choice = genes.categorical & ~sw
    if choice.any():
        shared = both[:, :, choice]
        differ = bins_a[:, None, choice] != bins_b[None, :, choice]
        d += config.categorical_weight * (differ & shared).sum(axis=2) / np.maximum(shared.sum(axis=2), 1)
    return d


@dataclass
class Species:
    """One species: an id, a representative genome and its current members.

    Attributes
    ----------
    id : int
        Creation order; species are always visited by increasing id.
    representative : ndarray, shape (n_genes,)
    members : ndarray of int, shape (n_members,)
        Indices into the current population.
    best_fitness : float
        Best fitness any member has had.
    last_improved : int
        Generation in which ``best_fitness`` last improved.
    created : int
        Generation of creation.
    best_genome : ndarray, shape (n_genes,), or None
        The genome that achieved ``best_fitness``.
    """

    id: int
    representative: np.ndarray
    members: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    best_fitness: float = float("inf")
    last_improved: int = 0
    created: int = 0
    best_genome: np.ndarray | None = None


class SpeciesSet:
    """The species of a population, and the rules that keep them.

    Parameters
    ----------
    genes : GeneInfo
    config : EvolutionConfig
    """

    def __init__(self, genes: GeneInfo, config: EvolutionConfig):
        self.genes = genes
        self.config = config
        self.species: list[Species] = []
        self.threshold: float | None = None
        self.initial_threshold = 1.0
        self.next_id = 1

    def distance(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """:func:`compatibility_distance` with this set's settings, shape (n, m)."""
        return compatibility_distance(a, b, self.genes, self.config)

    # -- speciation --------------------------------------------------------------------
    def speciate(self, genomes: np.ndarray, fitness: np.ndarray, generation: int) -> np.ndarray:
        """Assign every genome to a species; adapt the threshold.

        Each existing species (by id) takes as new representative the
        unassigned genome closest to its old one; every other genome joins
        the nearest representative within the threshold, or founds a new
        species (in population order).

        Parameters
        ----------
        genomes : ndarray, shape (n, n_genes)
        fitness : ndarray, shape (n,)
        generation : int

        Returns
        -------
        ndarray of int, shape (n,)
            Species id of each genome.
        """
        n = genomes.shape[0]
        if self.threshold is None:
            self.threshold = self.initial_threshold = self._initial_threshold(genomes)
        assigned = np.full(n, -1, dtype=np.int64)
        reps: list[int] = []  # population index of each kept species' representative
        kept: list[Species] = []
        for sp in self.species:
            free = np.flatnonzero(assigned < 0)
            if free.size == 0:
                break
            d = self.distance(sp.representative[None, :], genomes[free])[0]
            j = free[int(np.argmin(d))]
            if reps and self.distance(genomes[j][None, :], genomes[np.array(reps)]).min() < self.threshold:
                continue  # drifted into an older species: merge (its members join the others)
            assigned[j] = sp.id
            reps.append(j)
            kept.append(sp)
        self.species = kept
        free = np.flatnonzero(assigned < 0)
        if free.size and reps:
            d = self.distance(genomes[free], genomes[np.array(reps)])
            near = np.argmin(d, axis=1)
            ok = d[np.arange(free.size), near] < self.threshold
            ids = np.array([sp.id for sp in kept])
            assigned[free[ok]] = ids[near[ok]]
        for i in np.flatnonzero(assigned < 0):  # founders, in population order
            if assigned[i] >= 0:
                continue
            sp = Species(self.next_id, genomes[i].copy(), created=generation, last_improved=generation)
            self.next_id += 1
            self.species.append(sp)
            rest = np.flatnonzero(assigned < 0)
            d = self.distance(genomes[i][None, :], genomes[rest])[0]
            assigned[rest[d < self.threshold]] = sp.id
            assigned[i] = sp.id
        for sp in self.species:
            sp.members = np.flatnonzero(assigned == sp.id)
            sp.representative = genomes[sp.members[np.argmin(self.distance(sp.representative[None, :], genomes[sp.members])[0])]].copy()
            j = sp.members[int(np.argmin(fitness[sp.members]))]
            if fitness[j] < sp.best_fitness or sp.best_genome is None:
                if fitness[j] < sp.best_fitness:
                    sp.last_improved = generation
                sp.best_fitness = float(fitness[j])
                sp.best_genome = genomes[j].copy()
        self.species = [sp for sp in self.species if sp.members.size]
        self._adapt_threshold()
        return assigned

    def _initial_threshold(self, genomes: np.ndarray) -> float:
        # Aimed at the target species count from the start: a fraction of
        # the typical distance between random members of the first population.
        m = min(genomes.shape[0], 64)
        d = self.distance(genomes[:m], genomes[:m])
        iu = np.triu_indices(m, 1)
        return float(max(np.median(d[iu]) * 0.8, 1e-3)) if iu[0].size else 1.0

    def _adapt_threshold(self) -> None:
        n = len(self.species)
        target = self.config.target_species
        if n < target:
            self.threshold *= 1.0 - self.config.threshold_step
        elif n > target:
            self.threshold *= 1.0 + self.config.threshold_step
        self.threshold = float(np.clip(self.threshold, 1e-3 * self.initial_threshold, 3.0 * self.initial_threshold))

    # -- stagnation and reproduction shares ------------------------------------------------
    def remove_stagnant(self, generation: int) -> list[int]:
        """Remove species that have not improved for ``stagnation`` generations.

        The species with the best fitness ever is never removed.

        Returns
        -------
        list of int
            Ids of the removed species.
        """
        if len(self.species) <= 1:
            return []
        best = min(self.species, key=lambda s: (s.best_fitness, s.id))
        removed = [s.id for s in self.species if s is not best and generation - s.last_improved > self.config.stagnation]
        self.species = [s for s in self.species if s.id not in removed]
        return removed

    def offspring_counts(self, fitness: np.ndarray, pop_size: int) -> np.ndarray:
        """Share ``pop_size`` places among the species (fitness sharing).

        A species' score is the mean over its members of the quality
        ``(1 - rank / n) ** 2`` (rank 0 = best of the population): the sum
        of shared fitnesses, as in NEAT, on ranks so outliers do not flatten it. Shares move halfway from the current sizes
        towards the score-proportional sizes, with at least
        ``min_species_size`` each, the best species first when places run out.

        Parameters
        ----------
        fitness : ndarray, shape (n,)
            Fitness of the current population (lower is better).
        pop_size : int

        Returns
        -------
        ndarray of int, shape (n_species,)
            Places per species, in species order; sums to ``pop_size``.
        """
        k = len(self.species)
        f = np.asarray(fitness, dtype=np.float64)
        members = np.concatenate([s.members for s in self.species])
        # Quality from ranks, not raw values: one silent render (huge fitness)
        # must not flatten every other difference. Squared, so the species
        # holding the best individuals earn clearly more places.
        quality = np.zeros_like(f)
        order = members[np.argsort(f[members], kind="stable")]
        quality[order] = (1.0 - np.arange(order.size) / max(1, order.size)) ** 2
        score = np.array([quality[s.members].mean() for s in self.species])
        sizes = np.array([s.members.size for s in self.species], dtype=np.float64)
        ideal = pop_size * (score / score.sum() if score.sum() > 0 else np.full(k, 1.0 / k))
        want = sizes + 0.5 * (ideal - sizes)
        floor_size = self.config.min_species_size
        order = sorted(range(k), key=lambda i: (self.species[i].best_fitness, self.species[i].id))
        counts = np.zeros(k, dtype=np.int64)
        left = pop_size
        for i in order:  # the minimum first, best species first
            give = min(floor_size, left)
            counts[i] = give
            left -= give
        extra = np.maximum(want - counts, 0.0)
        if left > 0 and extra.sum() > 0:
            quota = extra / extra.sum() * left
            base = np.floor(quota).astype(np.int64)
            counts += base
            rem = left - int(base.sum())
            frac = quota - base
            for i in sorted(range(k), key=lambda i: (-frac[i], i))[:rem]:  # largest remainders, ties by order
                counts[i] += 1
        elif left > 0:
            counts[order[0]] += left
        return counts

"""Variation and selection operators on genome batches in ``[0, 1]^n_genes``.

Every operator is vectorised over a batch and draws from an explicit
``numpy.random.Generator`` (never the global ``random`` module), always the
same number of draws for the same shapes, so a seed reproduces a run.

Continuous genes: bounded simulated binary crossover and bounded
polynomial mutation (Deb's operators, as in DEAP's
``cxSimulatedBinaryBounded`` / ``mutPolynomialBounded``, here for whole
batches). Categorical genes (choices, on/off switches): uniform crossover
and mutation by resampling to a different bin.
"""

from __future__ import annotations

import numpy as np

from .genes import GeneInfo


def random_genomes(rng: np.random.Generator, n: int, genes: GeneInfo, *, p_on: float | None = None) -> np.ndarray:
    """Uniform random genomes; with ``p_on`` switches start on with that probability.

    Parameters
    ----------
    rng : numpy.random.Generator
    n : int
        Number of genomes.
    genes : GeneInfo
    p_on : float, optional
        NEAT's "start minimal": the probability that a module switch is on
        (``None``: uniform like every other gene).

    Returns
    -------
    ndarray, shape (n, n_genes), float64 in [0, 1]
    """
    g = rng.random((n, genes.n_genes))
    sw = genes.switch
    if p_on is not None and sw.any():
        on = rng.random((n, int(sw.sum()))) < p_on
        g[:, sw] = np.where(on, 0.75, 0.25)
    cat = genes.categorical
    if cat.any():  # categorical genes sit at bin centres
        g[:, cat] = (genes.bins(g)[:, cat] + 0.5) / genes.n_bins[cat]
    return g


def tournament(rng: np.random.Generator, fitness: np.ndarray, k: int, tournsize: int) -> np.ndarray:
    """Tournament selection (minimisation): indices of ``k`` winners.

    Parameters
    ----------
    fitness : ndarray, shape (m,)
        Lower is better.
    k : int
        Number of selections.
    tournsize : int
        Contestants per tournament, drawn with replacement.

    Returns
    -------
    ndarray of int, shape (k,)
        Indices into ``fitness``.
    """
    m = fitness.shape[0]
    contestants = rng.integers(0, m, size=(k, max(1, tournsize)))
    winner = np.argmin(fitness[contestants], axis=1)
    return contestants[np.arange(k), winner]


def sbx_crossover(rng: np.random.Generator, a: np.ndarray, b: np.ndarray, eta: float, genes: GeneInfo) -> np.ndarray:
    """Bounded simulated binary crossover; one child per pair of parents.

    Continuous genes are crossed with probability 0.5 each (Deb's SBX with
    distribution index ``eta``, bounds [0, 1]); categorical genes are taken
    from either parent with probability 0.5 (uniform crossover).

    Parameters
    ----------
    a, b : ndarray, shape (n, n_genes)
        Parents, paired row by row.
    eta : float
        Distribution index: large values make children near their parents.

    Returns
    -------
    ndarray, shape (n, n_genes), values in [0, 1]
    """
    n, g = a.shape
    u_do = rng.random((n, g))
    u_beta = rng.random((n, g))
    u_side = rng.random((n, g))
    x1 = np.minimum(a, b)
    x2 = np.maximum(a, b)
    span = x2 - x1
    do = (u_do <= 0.5) & (span > 1e-14) & genes.continuous
    safe = np.where(do, span, 1.0)
    p = 1.0 / (eta + 1.0)

    def spread(beta: np.ndarray) -> np.ndarray:
        alpha = 2.0 - beta ** -(eta + 1.0)
        ua = u_beta * alpha
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(u_beta <= 1.0 / alpha, ua**p, (1.0 / np.maximum(2.0 - ua, 1e-300)) ** p)

    c1 = 0.5 * (x1 + x2 - spread(1.0 + 2.0 * x1 / safe) * span)
    c2 = 0.5 * (x1 + x2 + spread(1.0 + 2.0 * (1.0 - x2) / safe) * span)
    crossed = np.where(u_side <= 0.5, c1, c2)
    child = np.where(do, crossed, a)
    cat = genes.categorical
    if cat.any():
        child[:, cat] = np.where(u_side[:, cat] <= 0.5, a[:, cat], b[:, cat])
    return np.clip(np.nan_to_num(child, nan=0.5), 0.0, 1.0)


def polynomial_mutation(
    rng: np.random.Generator,
    x: np.ndarray,
    eta: float,
    rate: float,
    categorical_rate: float,
    genes: GeneInfo,
    *,
    at_least_one: bool = True,
) -> np.ndarray:
    """Bounded polynomial mutation of continuous genes, resampling of categorical ones.

    Parameters
    ----------
    x : ndarray, shape (n, n_genes)
        Genomes in [0, 1]; not modified.
    eta : float
        Distribution index of the polynomial mutation (large: small steps).
    rate : float
        Per-gene mutation probability of continuous genes.
    categorical_rate : float
        Per-gene probability that a categorical gene moves to another bin.
    at_least_one : bool
        Mutate one random gene of every genome that no other mutation
        touched, so no evaluation is spent on a clone of a parent.

    Returns
    -------
    ndarray, shape (n, n_genes), values in [0, 1]
    """
    n, g = x.shape
    cont = genes.continuous
    cat = genes.categorical
    u_pick = rng.random((n, g))
    u_step = rng.random((n, g))
    u_bin = rng.random((n, g))
    forced = rng.integers(0, g, size=n)
    pick = np.where(cat, u_pick < categorical_rate, u_pick < rate)
    if at_least_one:
        none = ~pick.any(axis=1)
        pick[np.flatnonzero(none), forced[none]] = True

    p = 1.0 / (eta + 1.0)
    lo = u_step < 0.5
    with np.errstate(invalid="ignore"):
        val_lo = 2.0 * u_step + (1.0 - 2.0 * u_step) * (1.0 - x) ** (eta + 1.0)
        val_hi = 2.0 * (1.0 - u_step) + 2.0 * (u_step - 0.5) * x ** (eta + 1.0)
        delta = np.where(lo, val_lo**p - 1.0, 1.0 - val_hi**p)
    out = np.where(pick & cont, np.clip(x + np.nan_to_num(delta), 0.0, 1.0), x)
    if cat.any():
        nb = np.maximum(genes.n_bins, 2)
        old = genes.bins(x)
        shift = 1 + np.floor(u_bin * (nb - 1)).astype(np.int64)  # 1 .. nb-1: always another bin
        new = ((old + shift) % nb + 0.5) / nb
        out = np.where(pick & cat, new, out)
    return out

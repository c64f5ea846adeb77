"""The evolution engine: DEAP GA with NEAT-style speciation, CMA-ES refinement, workers.

One concern per module: ``genes`` (gene metadata), ``operators``
(variation and selection), ``speciation`` (species, threshold, sharing),
``refine`` (CMA-ES), ``engine`` (one run's state and step), ``parallel``
(evaluation workers), ``checkpoint`` (save and resume), ``interrupt``
(SIGINT / SIGTERM), ``reporting`` (progress bar, JSON log), ``run``
(:func:`evolve`), ``config`` (settings and named engines), ``toy`` (a toy
objective for tests).
"""

from __future__ import annotations

from .checkpoint import load_checkpoint, save_checkpoint
from .config import ENGINES, EvolutionConfig, config_from_dict, get_engine
from .engine import Evolution
from .genes import GeneInfo
from .parallel import Evaluator, resolve_jobs
from .run import EvolutionResult, bench_config, evolve, run_steps, seed_sequence

__all__ = [
    "ENGINES",
    "Evaluator",
    "Evolution",
    "EvolutionConfig",
    "EvolutionResult",
    "GeneInfo",
    "bench_config",
    "config_from_dict",
    "evolve",
    "get_engine",
    "load_checkpoint",
    "resolve_jobs",
    "run_steps",
    "save_checkpoint",
    "seed_sequence",
]

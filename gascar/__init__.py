"""GASCAR: evolve synthesizer presets that sound like a target.

The public API (imported lazily, so ``import gascar`` stays fast)::

    target = gascar.load_target("cello.wav")
    synth = gascar.get_synth("subtractive")
    objective = gascar.Objective(target, synth)
    fitness = objective(genomes)            # (n,) for genomes (n, n_genes)
    result = gascar.match("cello.wav", budget=5000, seed=1)
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_LAZY = {
    "GascarError": "gascar.errors",
    "AudioError": "gascar.errors",
    "PresetError": "gascar.errors",
    "ParameterError": "gascar.errors",
    "SynthError": "gascar.errors",
    "ParamSpec": "gascar.params",
    "ParamSpace": "gascar.params",
    "Preset": "gascar.preset",
    "RenderSettings": "gascar.preset",
    "Synth": "gascar.synths",
    "get_synth": "gascar.synths",
    "list_synths": "gascar.synths",
    "load_audio": "gascar.audio",
    "write_audio": "gascar.audio",
    "Target": "gascar.analysis",
    "load_target": "gascar.analysis",
    "Objective": "gascar.objective",
    "match": "gascar.matching",
    "MatchResult": "gascar.matching",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gascar' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)

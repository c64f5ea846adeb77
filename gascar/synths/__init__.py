"""The synth engine: every synth renders a whole population in one call."""

from __future__ import annotations

import importlib

from .base import Synth, auto_synths, get_synth, list_synths, register

#: Canonical order of the built-in synths (modules of this package).
SYNTH_ORDER = ("subtractive", "fm", "additive", "wavetable", "modular")
#: Synths on optional engines, listed after the built-in ones. Their modules import without the engine
#: (it is imported on first render), so listing synths stays fast and works without the extra installed.
EXTRA_SYNTHS = ("dx7", "vital")
#: Voices built from the target's analysis (they carry its data; see gascar.synths.base.VoiceSynth), listed last:
#: a synth's place in the list seeds its in-domain benchmark sounds, so the places of the others stay as they were.
VOICE_SYNTHS = ("spectral", "morph")

_loaded = False


def load_builtin_synths() -> None:
    """Import the built-in synth modules once, so they register themselves."""
    global _loaded
    if _loaded:
        return
    for name in SYNTH_ORDER + EXTRA_SYNTHS + VOICE_SYNTHS:
        importlib.import_module(f"{__name__}.{name}")
    _loaded = True


__all__ = ["Synth", "SYNTH_ORDER", "EXTRA_SYNTHS", "VOICE_SYNTHS", "auto_synths", "get_synth", "list_synths", "load_builtin_synths", "register"]

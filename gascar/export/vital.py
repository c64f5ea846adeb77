"""Vital presets (``.vital``): JSON files that Vital loads, written from vital presets and read back.

A ``.vital`` file GASCAR writes is Vital's own preset JSON (the state of
:func:`gascar.synths.vital.state`: the controls the synth sets, its
modulation slots, its wavetables) with the GASCAR preset it came from under
one extra top-level key, ``"gascar"``, which Vital ignores. Reading a
``.vital`` file needs that key: GASCAR plays the patches it wrote, and
checks that the file's Vital controls still agree with them. Neither
reading nor writing needs Vital's engine.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .. import fileio
from ..errors import GascarError, PresetError
from ..synths import vital

#: The top-level key that holds the GASCAR preset.
GASCAR_KEY = "gascar"
#: How far a control of the file may differ from the preset's own value (float32 rounding in Vital's saves).
TOLERANCE = 1e-5


def vital_state(preset) -> dict:
    """The ``.vital`` JSON document of a vital preset (its Vital state plus the preset under ``"gascar"``)."""
    if preset.synth != "vital":
        raise PresetError(f"only vital presets become .vital files; this one is a {preset.synth} preset")
    comments = "Made by GASCAR"
    target = (preset.match or {}).get("target")
    if target:
        comments += f" to sound like {target}"
        fitness = (preset.match or {}).get("fitness")
        if isinstance(fitness, (int, float)):
            comments += f" (fitness {fitness:.4g})"
    doc = vital.state(preset.physical(), preset.render.f0_hz, name=preset.name or Path(str(target or "")).stem,
                      comments=comments + ".")
    doc[GASCAR_KEY] = preset.to_dict()
    return doc


def write_preset(path: str | os.PathLike, preset) -> Path:
    """Write ``preset`` (a vital preset) as a ``.vital`` file, atomically; return the path."""
    return fileio.write_text(path, json.dumps(vital_state(preset), allow_nan=False))


def read_preset(path: str | os.PathLike):
    """Read a ``.vital`` file GASCAR wrote, validated.

    Returns
    -------
    gascar.preset.Preset

    Raises
    ------
    PresetError
        Naming the file: unreadable, not JSON, not a Vital preset, no
        GASCAR preset inside (a preset Vital saved or made), a preset that
        is not a vital one, or controls that differ from it.
    """
    from ..preset import Preset

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PresetError(f"cannot read it: {getattr(exc, 'strerror', None) or exc}", path=p) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PresetError(f"not a Vital preset: not JSON ({exc.msg} at line {exc.lineno})", path=p) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("settings"), dict):
        raise PresetError('not a Vital preset: no "settings" object', path=p)
    if GASCAR_KEY not in doc:
        raise PresetError('no GASCAR preset inside (no "gascar" key): GASCAR plays the .vital files it writes, '
                          "and Vital drops that key when it saves a preset", path=p)
    try:
        preset = Preset.from_dict(doc[GASCAR_KEY])
    except GascarError as exc:
        raise PresetError(f"its GASCAR preset: {exc.message}", path=p) from None
    if preset.synth != "vital":
        raise PresetError(f"its GASCAR preset is a {preset.synth} preset, not a vital one", path=p)
    settings = doc["settings"]
    for name, value in vital.controls(preset.physical(), preset.render.f0_hz).items():
        have = settings.get(name)
        if isinstance(have, bool) or not isinstance(have, (int, float)):
            raise PresetError(f"control {name!r} is missing or not a number ({have!r})", path=p)
        if abs(float(have) - value) > TOLERANCE * max(1.0, abs(value)):
            raise PresetError(f"control {name} is {have:g}, its GASCAR preset gives {value:g}: the file was edited; "
                              "GASCAR plays the patches it wrote", path=p)
    return preset

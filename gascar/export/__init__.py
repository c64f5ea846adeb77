"""Preset files in other programs' formats: one module per format, two dispatchers for the rest of GASCAR.

:func:`load_preset` reads any preset file by its suffix (GASCAR's JSON, a
DX7 ``.syx``, a ``.vital``); :func:`write_native` writes a preset's file in its synth's
own format beside the preset JSON (dx7: a ``.syx`` voice, vital: a ``.vital``), and
:func:`write_native_bank` the bank of several. Formats: :mod:`.syx`, :mod:`.vital`, and
:mod:`.sfz` (any preset rendered across the keyboard as an SFZ instrument,
for every sampler).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from ..errors import PresetError


def load_preset(path: str | os.PathLike, *, voice: int | None = None):
    """Read a preset file by its suffix: ``.syx`` (a DX7 voice or bank), ``.vital``, else a GASCAR preset (JSON).

    Parameters
    ----------
    path
        The file.
    voice : int, optional
        Voice 1 .. 32 of a DX7 bank (needed for a bank; 1 or None for a single voice).

    Returns
    -------
    gascar.preset.Preset

    Raises
    ------
    PresetError
        Naming the file, for ``voice`` given for a JSON preset, or anything
        its reader rejects.
    """
    p = Path(path)
    if p.suffix.lower() == ".syx":
        from . import syx

        return syx.read_preset(p, voice)
    if voice is not None:
        raise PresetError("--voice chooses a voice of a DX7 .syx bank; this is not a .syx file", path=p)
    if p.suffix.lower() == ".vital":
        from . import vital

        return vital.read_preset(p)
    from ..preset import Preset

    return Preset.load(p)


def _stem(preset_path: Path) -> str:
    name = preset_path.name
    for suffix in (".preset.json", ".json"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return preset_path.stem


def _voice_name(stem: str, rank: int | None = None) -> str:
    """A 10-character voice name from a file stem; ``rank`` is appended so the answers of one match differ."""
    tail = "" if rank is None else f" {rank}"
    return stem[: 10 - len(tail)] + tail


def _default_name(preset, fallback_stem: str, rank: int | None = None) -> str:
    """The preset's name, else its target's stem (``rank`` appended), else ``fallback_stem``."""
    if preset.name:
        return preset.name
    stem = Path(str((preset.match or {}).get("target") or "")).stem or fallback_stem
    return _voice_name(stem, rank)


def _write_syx(preset, preset_path: Path) -> Path:
    from . import syx

    stem = _stem(preset_path)
    rank = (preset.match or {}).get("rank")
    name = _default_name(preset, stem, rank if isinstance(rank, int) and rank > 1 else None)
    return syx.write_voice(preset_path.with_name(stem + ".syx"), preset, name=name)


def _write_vital(preset, preset_path: Path) -> Path:
    from dataclasses import replace

    from . import vital

    rank = (preset.match or {}).get("rank")
    if not preset.name:
        stem = Path(str((preset.match or {}).get("target") or "")).stem or _stem(preset_path)
        preset = replace(preset, name=stem + (f" {rank}" if isinstance(rank, int) and rank > 1 else ""))
    return vital.write_preset(preset_path.with_name(_stem(preset_path) + ".vital"), preset)


#: Synth name -> (suffix of its own preset format, writer of that file beside a preset path).
NATIVE_FORMATS: dict[str, tuple[str, Callable]] = {"dx7": (".syx", _write_syx), "vital": (".vital", _write_vital)}


def native_suffix(synth: str) -> str | None:
    """Suffix of the synth's own preset format (dx7: ``.syx``), or None."""
    return NATIVE_FORMATS[synth][0] if synth in NATIVE_FORMATS else None


def write_native(preset, preset_path: str | os.PathLike) -> Path | None:
    """Write ``preset`` in its synth's own format beside ``preset_path``; None for synths without one.

    ``X.preset.json`` gives ``X.syx`` for a dx7 preset (a single voice, named
    after the preset, else the file stem; a match's k-th answer ``X.k.syx``).
    """
    if preset.synth not in NATIVE_FORMATS:
        return None
    return NATIVE_FORMATS[preset.synth][1](preset, Path(preset_path))


def write_native_bank(presets: Sequence, preset_path: str | os.PathLike) -> Path | None:
    """Write the dx7 presets among ``presets`` as one 32-voice bank ``<stem>.bank.syx`` beside ``preset_path``.

    Voices keep the order given (a match's best first) and are named after
    the stem with their rank; INIT VOICE fills the other slots. A bank is
    what Dexed's cartridge manager loads, so a single preset gets one too.
    None when none is a dx7 preset.
    """
    from . import syx

    chosen = [p for p in presets if p.synth == "dx7"][: syx.BANK_VOICES]
    if not chosen:
        return None
    path = Path(preset_path)
    stem = _stem(path)
    names = [_default_name(p, stem, k) for k, p in enumerate(chosen, start=1)]
    return syx.write_bank(path.with_name(stem + ".bank.syx"), chosen, names)

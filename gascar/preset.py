"""Presets: a synth's physical parameters keyed by name, as versioned JSON.

The format (``"format": "gascar-preset"``, ``"version": 1``)::

    {
      "format": "gascar-preset",
      "version": 1,
      "name": "bell",
      "description": "A struck bell with a long inharmonic decay.",
      "synth": "fm",
      "synth_version": 1,
      "params": {"op1_ratio": 1.0, "algorithm": "stack", ...},
      "render": {"f0_hz": 440.0, "duration_s": 2.0, "hold_s": 1.0, "sample_rate": 22050},
      "match": {"target": "bell.wav", "target_sha256": "...", "fitness": 0.12, ...}
    }

``params`` may also hold the synth's keyboard parameters
(:attr:`gascar.synths.Synth.keyboard`: key tracking and velocity response),
which an instrument match sets; missing ones are neutral (they render as
before they existed), and a preset writes back only those it holds. An
instrument match's ``match`` block adds ``notes`` (one object per note
matched) and ``aggregate``.
``voice`` (only for synths that carry data measured on a target: the
spectral voice's partials and breakpoints, the morph voice's frames) holds
that data, validated by the synth; presets of other synths have none.
``render`` may give ``"note": "A4"`` instead of ``"f0_hz"``. ``hold_s`` (the
note-off time) defaults to ``duration_s``; ``velocity`` (MIDI 1 .. 127, for
synths that respond to it) defaults to 100 and is written only when it
differs, so presets of earlier versions read unchanged. ``gain_db`` is an
output gain applied after the synth (the level a match sets so that the
preset plays at its target's loudness, see
:func:`gascar.objective.level_gain_db`); it is not a synth parameter, since
a synth's own gain cannot reach what a quiet voice may need (+40 dB and
more), and it defaults to 0, written only when it differs. ``match`` is present when the
preset came out of a match. Parameters are physical values (labels for
choices), never genes, so presets survive changes of a synth's ranges.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from . import fileio, validate
from .errors import GascarError, ParameterError, PresetError
from .pitch import note_to_hz
from .synths import get_synth
from .synths.base import DEFAULT_VELOCITY

__all__ = ["FORMAT", "VERSION", "MAX_GAIN_DB", "Preset", "RenderSettings", "note_to_hz"]  # note_to_hz: its home is gascar.pitch

FORMAT = "gascar-preset"
VERSION = 1

_TOP_KEYS = {"format", "version", "name", "description", "synth", "synth_version", "params", "render", "voice", "match"}
_REQUIRED = ("format", "version", "synth", "params", "render")
_RENDER_KEYS = {"f0_hz", "note", "duration_s", "hold_s", "sample_rate", "velocity", "gain_db"}
#: Largest output gain a preset may carry, either way (dB).
MAX_GAIN_DB = 120.0
_MATCH_KEYS = {
    "target", "target_sha256", "fitness", "components", "metric", "weights", "budget", "evaluations",
    "seed", "gascar_version", "created", "seconds", "species", "rank", "lsd_db", "verdict", "notes", "aggregate",
}
#: Keys of each entry of an instrument match's ``match.notes`` (one per note matched).
_NOTE_KEYS = {"target", "target_sha256", "f0_hz", "note", "velocity", "hold_s", "duration_s", "fitness", "lsd_db",
              "verdict", "level_db"}


@dataclass(frozen=True)
class RenderSettings:
    """How to play a preset: pitch, length, note-off and sample rate.

    Attributes
    ----------
    f0_hz : float
        Base frequency of the note.
    duration_s : float
        Length of the render.
    hold_s : float or None
        Note-off time (the release follows); ``None`` holds to the end.
    sample_rate : int
        Samples per second.
    velocity : int
        MIDI note-on velocity, 1 .. 127 (synths that ignore velocity ignore it).
    gain_db : float
        Output gain after the synth, within +-:data:`MAX_GAIN_DB` dB.
    """

    f0_hz: float = 261.6255653005986
    duration_s: float = 1.5
    hold_s: float | None = None
    sample_rate: int = 22050
    velocity: int = DEFAULT_VELOCITY
    gain_db: float = 0.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.f0_hz) and 1.0 <= self.f0_hz <= 20000.0):
            raise ParameterError(f"f0_hz must be within 1 Hz .. 20 kHz, got {self.f0_hz!r}")
        if not (math.isfinite(self.duration_s) and 0.001 <= self.duration_s <= 600.0):
            raise ParameterError(f"duration_s must be within 0.001 .. 600 s, got {self.duration_s!r}")
        if self.hold_s is not None and not (math.isfinite(self.hold_s) and 0.0 <= self.hold_s):
            raise ParameterError(f"hold_s must be a non-negative number of seconds, got {self.hold_s!r}")
        validate.whole(self.sample_rate, "sample_rate", low=8000, high=192000, what="a whole number within 8000 .. 192000 Hz")
        validate.whole(self.velocity, "velocity", low=1, high=127)
        if not (math.isfinite(self.gain_db) and abs(self.gain_db) <= MAX_GAIN_DB):
            raise ParameterError(f"gain_db must be within -{MAX_GAIN_DB:g} .. {MAX_GAIN_DB:g} dB, got {self.gain_db!r}")

    @property
    def gain(self) -> float:
        """The output gain as a factor."""
        return 10.0 ** (self.gain_db / 20.0)

    @property
    def n_samples(self) -> int:
        return max(1, int(round(self.duration_s * self.sample_rate)))

    def to_dict(self) -> dict:
        d = {"f0_hz": float(self.f0_hz), "duration_s": float(self.duration_s)}
        if self.hold_s is not None:
            d["hold_s"] = float(self.hold_s)
        d["sample_rate"] = int(self.sample_rate)
        if self.velocity != DEFAULT_VELOCITY:
            d["velocity"] = int(self.velocity)
        if self.gain_db:
            d["gain_db"] = float(self.gain_db)
        return d

    @classmethod
    def from_dict(cls, d: Mapping) -> RenderSettings:
        if not isinstance(d, Mapping):
            raise PresetError(f'"render" must be an object, got {type(d).__name__}')
        unknown = sorted(set(d) - _RENDER_KEYS)
        if unknown:
            raise PresetError(f'unknown keys in "render": {", ".join(unknown)} (known: {", ".join(sorted(_RENDER_KEYS))})')
        if "f0_hz" in d and "note" in d:
            raise PresetError('"render" gives both "f0_hz" and "note"; keep one')
        kwargs: dict = {}
        try:
            if "note" in d:
                if not isinstance(d["note"], str):
                    raise PresetError(f'"render.note" must be a note name like "A4", got {d["note"]!r}')
                kwargs["f0_hz"] = note_to_hz(d["note"])
            for key in ("f0_hz", "duration_s", "hold_s", "gain_db"):
                if key in d and d[key] is not None:
                    kwargs[key] = _number(d[key], f"render.{key}")
            if "sample_rate" in d:
                kwargs["sample_rate"] = validate.whole(d["sample_rate"], '"render.sample_rate"', error=PresetError,
                                                       what="a whole number of Hz")
            if "velocity" in d:
                kwargs["velocity"] = validate.whole(d["velocity"], '"render.velocity"', error=PresetError,
                                                    what="a whole number 1 .. 127")
            return cls(**kwargs)
        except ParameterError as exc:
            raise PresetError(f'"render": {exc.message}') from None


def _check_notes(notes: object) -> None:
    """Validate an instrument match's ``match.notes``: a list of objects with known keys, velocities 1 .. 127."""
    if notes is None:
        return
    if not isinstance(notes, list) or not all(isinstance(n, Mapping) for n in notes):
        raise PresetError('"match.notes" must be a list of objects, one per note matched')
    for i, note in enumerate(notes, start=1):
        bad = sorted(set(note) - _NOTE_KEYS)
        if bad:
            raise PresetError(f'unknown keys in "match.notes" entry {i}: {", ".join(bad)} (known: {", ".join(sorted(_NOTE_KEYS))})')
        if "f0_hz" in note:
            validate.number(note["f0_hz"], f'"match.notes" entry {i} "f0_hz"', low=1.0, high=20000.0, error=PresetError)
        if "velocity" in note:
            validate.whole(note["velocity"], f'"match.notes" entry {i} "velocity"', low=1, high=127, error=PresetError)


def _dumps(value: object, level: int) -> str:
    """``json.dumps(value, indent=2)``, except that lists holding no object are written on one line."""
    if isinstance(value, Mapping) and value:
        pad = "  " * (level + 1)
        items = [f"{pad}{json.dumps(str(k), ensure_ascii=False)}: {_dumps(v, level + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + "  " * level + "}"
    if isinstance(value, list) and any(isinstance(v, Mapping) for v in value):
        pad = "  " * (level + 1)
        return "[\n" + ",\n".join(pad + _dumps(v, level + 1) for v in value) + "\n" + "  " * level + "]"
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(", ", ": "))


def _number(value: object, key: str) -> float:
    return validate.number(value, f'"{key}"', error=PresetError)


@dataclass(frozen=True)
class Preset:
    """A synth, its physical parameters, and how to render them.

    Attributes
    ----------
    synth : str
        Registered synth name.
    params : dict
        Every parameter of the synth, physical, keyed by name (labels for
        choices). Validated against the synth on construction.
    render : RenderSettings
    name, description : str
    match : dict or None
        Where the preset came from, when it came out of a match.
    synth_version : int
    voice : dict or None
        Data the synth plays besides its parameters (JSON values), for synths
        that carry data measured on a target (``Synth.carries_data``);
        validated by the synth.
    """

    synth: str
    params: Mapping[str, float | int | str]
    render: RenderSettings = field(default_factory=RenderSettings)
    name: str = ""
    description: str = ""
    match: Mapping | None = None
    synth_version: int | None = None
    voice: Mapping | None = None

    def __post_init__(self) -> None:
        synth = get_synth(self.synth)  # SynthError for unknown names
        if not isinstance(self.params, Mapping):
            raise PresetError(f'"params" must be an object of name: value, got {type(self.params).__name__}')
        keyboard = synth.keyboard
        given = {k: v for k, v in self.params.items() if k not in keyboard}
        tracking = {k: v for k, v in self.params.items() if k in keyboard}

        # The synth as this preset plays it: with its voice data (validated), PresetError naming a bad field.
        object.__setattr__(self, "_synth", synth.with_voice(self.voice) if (self.voice is not None or synth.carries_data)
                           else synth)
        try:
            physical = synth.params.values_from_json(given)
            tracking_physical = keyboard.values_from_json(tracking, partial=True)
        except ParameterError as exc:
            raise PresetError(exc.message) from None
        # Keyboard parameters stay only where given: a preset without them (every preset written before they
        # existed, and every one-note match) reads, renders and writes as before.
        values = synth.params.values_to_json(physical)
        values.update({k: keyboard[k].to_json(tracking_physical[k]) for k in keyboard.names if k in tracking})
        object.__setattr__(self, "params", values)
        if self.synth_version is None:
            object.__setattr__(self, "synth_version", synth.version)
        elif self.synth_version > synth.version:
            raise PresetError(
                f"made for {self.synth} version {self.synth_version}, this GASCAR has version {synth.version}; upgrade GASCAR"
            )

    # -- construction ------------------------------------------------------------
    @classmethod
    def from_genome(cls, synth_name: str, genome: np.ndarray, render: RenderSettings, **kwargs) -> Preset:
        """The preset of one genome of ``synth_name``: ``(n_genes,)`` of its parameters, or of its
        :attr:`~gascar.synths.Synth.voice_params` (its keyboard parameters too, which the preset then holds);
        ``voice=`` for synths that carry data.
        """
        synth = get_synth(synth_name)
        g = np.asarray(genome)
        space = synth.voice_params if g.shape[-1] == synth.voice_params.n_genes else synth.params
        physical = space.to_physical(g[None, :])
        return cls(synth=synth_name, params=space.values_to_json(physical), render=render, **kwargs)

    def with_render(self, **changes) -> Preset:
        """A copy with some render settings changed (``f0_hz``, ``duration_s`` ...)."""
        changes = {k: v for k, v in changes.items() if v is not None}
        return replace(self, render=replace(self.render, **changes)) if changes else self

    # -- use ----------------------------------------------------------------------
    def synth_instance(self):
        """The synth that plays this preset: the registered one, with the preset's ``voice`` data when it has any.

        Everything that renders a preset renders through it.
        """
        return self._synth

    def physical(self) -> dict[str, float]:
        """Physical parameter values as floats (bin indices for choices); keyboard parameters the preset does not
        hold at their neutral defaults.
        """
        return self._synth.voice_params.values_from_json(self.params, partial=True)

    def genome(self) -> np.ndarray:
        """The preset as a genome ``(n_genes,)`` of its synth (its :attr:`~gascar.synths.Synth.params`)."""
        return self._synth.params.to_genomes(self.physical())[0]

    def voice_genome(self) -> np.ndarray:
        """The preset as a genome of its synth's :attr:`~gascar.synths.Synth.voice_params` (keyboard parameters too)."""
        return get_synth(self.synth).voice_params.to_genomes(self.physical())[0]

    @property
    def keyboard(self) -> dict[str, float | int | str]:
        """The keyboard parameters the preset holds (empty for a one-note match's), as stored."""
        names = get_synth(self.synth).keyboard.names
        return {k: v for k, v in self.params.items() if k in names}

    @property
    def responds_to_velocity(self) -> bool:
        """Whether the preset plays differently at different velocities (:meth:`gascar.synths.Synth.responds_to`)."""
        return get_synth(self.synth).responds_to(self.physical())

    def render_audio(self) -> np.ndarray:
        """Render the preset with its render settings (its output gain included).

        Returns
        -------
        ndarray, shape (n_samples,), float32
        """
        r = self.render
        audio = self._synth.render_physical(
            self.physical(), r.f0_hz, r.n_samples, r.sample_rate, hold_s=r.hold_s, velocity=r.velocity
        )[0]
        return audio * np.float32(r.gain) if r.gain_db else audio

    # -- JSON ----------------------------------------------------------------------
    def to_dict(self) -> dict:
        d = {"format": FORMAT, "version": VERSION}
        if self.name:
            d["name"] = self.name
        if self.description:
            d["description"] = self.description
        d.update(synth=self.synth, synth_version=self.synth_version, params=dict(self.params), render=self.render.to_dict())
        if self.voice is not None:
            d["voice"] = fileio.json_ready(dict(self.voice))
        if self.match is not None:
            d["match"] = fileio.json_ready(dict(self.match))
        return d

    @classmethod
    def from_dict(cls, d: object) -> Preset:
        """Validate a preset document; :class:`PresetError` says what is wrong."""
        if not isinstance(d, Mapping):
            raise PresetError(f"a preset must be a JSON object, got {type(d).__name__}")
        unknown = sorted(set(d) - _TOP_KEYS)
        if unknown:
            raise PresetError(f"unknown keys: {', '.join(unknown)} (known: {', '.join(sorted(_TOP_KEYS))})")
        missing = [k for k in _REQUIRED if k not in d]
        if missing:
            raise PresetError(f"missing keys: {', '.join(missing)}")
        if d["format"] != FORMAT:
            raise PresetError(f'"format" must be "{FORMAT}", got {d["format"]!r}')
        version = validate.whole(d["version"], '"version"', error=PresetError)
        if version > VERSION:
            raise PresetError(f"preset format version {version} is newer than this GASCAR reads ({VERSION}); upgrade GASCAR")
        if version < 1:
            raise PresetError(f'"version" must be at least 1, got {version}')
        for key in ("synth", "name", "description"):
            if key in d and not isinstance(d[key], str):
                raise PresetError(f'"{key}" must be a string, got {d[key]!r}')
        sv = validate.whole(d.get("synth_version"), '"synth_version"', error=PresetError, optional=True)
        if not isinstance(d["params"], Mapping):
            raise PresetError(f'"params" must be an object of name: value, got {type(d["params"]).__name__}')
        match = d.get("match")
        if match is not None:
            if not isinstance(match, Mapping):
                raise PresetError(f'"match" must be an object, got {type(match).__name__}')
            bad = sorted(set(match) - _MATCH_KEYS)
            if bad:
                raise PresetError(f'unknown keys in "match": {", ".join(bad)}')
            _check_notes(match.get("notes"))
        return cls(
            synth=d["synth"],
            params=d["params"],
            render=RenderSettings.from_dict(d["render"]),
            name=d.get("name", ""),
            description=d.get("description", ""),
            match=match,
            synth_version=sv,
            voice=d.get("voice"),
        )

    def to_json(self) -> str:
        """Pretty JSON; a preset with a ``voice`` block writes lists of numbers (its data) on one line each."""
        if self.voice is None:
            return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
        return _dumps(self.to_dict(), 0) + "\n"

    def save(self, path: str | os.PathLike) -> Path:
        """Write the preset as pretty JSON, atomically."""
        return fileio.write_text(path, self.to_json())

    @classmethod
    def load(cls, path: str | os.PathLike) -> Preset:
        """Read and validate a preset file.

        Raises
        ------
        PresetError
            With the path, for a missing or unreadable file, bad JSON or an
            invalid preset.
        """
        p = Path(path)
        if not p.exists():
            raise PresetError("no such file", path=p)
        if p.is_dir():
            raise PresetError("is a directory, expected a preset JSON file", path=p)
        try:
            text = p.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise PresetError("not a text file; expected preset JSON", path=p) from None
        except OSError as exc:
            raise PresetError(f"cannot read: {exc.strerror or exc}", path=p) from None
        if not text.strip():
            raise PresetError("file is empty; expected preset JSON", path=p)
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PresetError(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", path=p) from None
        try:
            return cls.from_dict(doc)
        except GascarError as exc:
            raise type(exc)(exc.message, path=p) from None

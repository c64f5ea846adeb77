"""Parameter specifications and the one place genomes become physical values.

A genome is a point in ``[0, 1]^n_genes``. Each gene belongs to one
:class:`ParamSpec`, declared as data (name, range, scale, unit, default,
description). A :class:`ParamSpace` maps whole genome batches
``(n_individuals, n_genes)`` to physical values and back, vectorised.

Scales
------
``linear``
    ``low + g * (high - low)``.
``log``
    ``low * (high / low) ** g``; for frequencies and times (``low > 0``).
``curve``
    ``low + (high - low) * g ** curve``; more resolution near ``low`` for
    ``curve > 1`` (levels, amounts, resonance).
``integer``
    ``high - low + 1`` equal-width bins of the unit interval.
``choice``
    ``len(choices)`` equal-width bins; the physical value is the index, the
    preset stores the label. A ``switch`` is a choice of ``("off", "on")``
    that turns a module on or off (a "masking gene").

Parameters gated by a switch name it in ``group``; the evolution uses that to
compare structures (NEAT-style) and to ignore genes of modules that are off.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field

import numpy as np

from .errors import ParameterError

SCALES = ("linear", "log", "curve", "integer", "choice")
_SWITCH_CHOICES = ("off", "on")


@dataclass(frozen=True)
class ParamSpec:
    """One synthesis parameter, declared as data.

    Parameters
    ----------
    name
        Stable key used in presets, ``snake_case`` with its unit as suffix
        (``cutoff_hz``, ``attack_s``, ``gain_db``).
    low, high
        Physical range (inclusive). Ignored for ``choice``.
    scale
        One of :data:`SCALES`.
    unit
        Unit for people (``Hz``, ``s``, ``dB``, ``ratio``, ``""``).
    default
        Physical default (a label for ``choice``); the middle of the range
        when omitted.
    description
        One sentence on what the parameter does to the sound.
    choices
        Labels of a ``choice`` parameter.
    curve
        Exponent of the ``curve`` scale.
    group
        Name of the switch parameter that turns this parameter's module on.
    """

    name: str
    low: float = 0.0
    high: float = 1.0
    scale: str = "linear"
    unit: str = ""
    default: float | str | None = None
    description: str = ""
    choices: tuple[str, ...] = field(default=())
    curve: float = 2.0
    group: str | None = None

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("_", "").isalnum():
            raise ParameterError(f"parameter name {self.name!r} must be a non-empty snake_case word")
        if self.scale not in SCALES:
            raise ParameterError(f"parameter {self.name!r}: unknown scale {self.scale!r}; use one of {', '.join(SCALES)}")
        if self.scale == "choice":
            if len(self.choices) < 2 or len(set(self.choices)) != len(self.choices):
                raise ParameterError(f"parameter {self.name!r}: a choice needs at least two distinct labels, got {self.choices!r}")
            object.__setattr__(self, "low", 0.0)
            object.__setattr__(self, "high", float(len(self.choices) - 1))
            if self.default is not None and self.default not in self.choices:
                raise ParameterError(f"parameter {self.name!r}: default {self.default!r} is not one of {self.choices!r}")
            return
        if not (math.isfinite(self.low) and math.isfinite(self.high)) or not self.low < self.high:
            raise ParameterError(f"parameter {self.name!r}: range [{self.low}, {self.high}] must be finite with low < high")
        if self.scale == "log" and self.low <= 0:
            raise ParameterError(f"parameter {self.name!r}: a log scale needs low > 0, got {self.low}")
        if self.scale == "curve" and not self.curve > 0:
            raise ParameterError(f"parameter {self.name!r}: curve exponent must be > 0, got {self.curve}")
        if self.scale == "integer" and (self.low != int(self.low) or self.high != int(self.high)):
            raise ParameterError(f"parameter {self.name!r}: an integer range needs whole bounds, got [{self.low}, {self.high}]")
        if self.default is not None:
            self.check(self.default)

    # -- construction helpers ------------------------------------------------
    @classmethod
    def switch(cls, name: str, *, default: str = "on", description: str = "") -> ParamSpec:
        """An on/off gene that switches a module (a masking gene)."""
        return cls(name, scale="choice", choices=_SWITCH_CHOICES, default=default, description=description)

    @property
    def is_categorical(self) -> bool:
        """True for genes whose bins have no order (choices, switches)."""
        return self.scale == "choice"

    @property
    def is_switch(self) -> bool:
        """True for on/off module switches."""
        return self.scale == "choice" and self.choices == _SWITCH_CHOICES

    @property
    def n_bins(self) -> int:
        """Number of discrete values (0 for continuous scales)."""
        if self.scale == "choice":
            return len(self.choices)
        if self.scale == "integer":
            return int(self.high - self.low) + 1
        return 0

    # -- the mapping -----------------------------------------------------------
    def from_unit(self, genes: np.ndarray) -> np.ndarray:
        """Map genes in [0, 1] to physical values, elementwise.

        Parameters
        ----------
        genes : ndarray, any shape
            Values are clipped to [0, 1].

        Returns
        -------
        ndarray, same shape, float64
            Physical values (bin indices for ``choice``).
        """
        g = np.clip(np.asarray(genes, dtype=np.float64), 0.0, 1.0)
        if self.scale == "linear":
            return self.low + g * (self.high - self.low)
        if self.scale == "log":
            return self.low * (self.high / self.low) ** g
        if self.scale == "curve":
            return self.low + (self.high - self.low) * g**self.curve
        n = self.n_bins
        idx = np.minimum(np.floor(g * n), n - 1)
        return idx + (0.0 if self.scale == "choice" else self.low)

    def to_unit(self, values: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`from_unit`; discrete values map to bin centres.

        Values outside the range are clipped onto it.
        """
        v = np.clip(np.asarray(values, dtype=np.float64), self.low, self.high)
        if self.scale == "linear":
            return (v - self.low) / (self.high - self.low)
        if self.scale == "log":
            return np.log(v / self.low) / np.log(self.high / self.low)
        if self.scale == "curve":
            return ((v - self.low) / (self.high - self.low)) ** (1.0 / self.curve)
        base = 0.0 if self.scale == "choice" else self.low
        return (np.round(v) - base + 0.5) / self.n_bins

    # -- physical values <-> JSON ----------------------------------------------
    def check(self, value: object) -> float:
        """Validate one physical value (a label for choices); return it as a float.

        Raises
        ------
        ParameterError
            Naming the parameter, its range and the value.
        """
        if self.scale == "choice":
            if isinstance(value, str):
                if value not in self.choices:
                    raise ParameterError(f"parameter {self.name!r}: {value!r} is not one of {', '.join(self.choices)}")
                return float(self.choices.index(value))
            if isinstance(value, bool) and self.is_switch:
                return float(value)
            raise ParameterError(f"parameter {self.name!r}: expected one of {', '.join(self.choices)}, got {value!r}")
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise ParameterError(f"parameter {self.name!r}: expected a number in {self.unit or 'its unit'}, got {value!r}")
        v = float(value)
        if not math.isfinite(v):
            raise ParameterError(f"parameter {self.name!r}: value {value!r} is not finite")
        tol = 1e-9 * max(1.0, abs(self.low), abs(self.high))
        if not self.low - tol <= v <= self.high + tol:
            raise ParameterError(
                f"parameter {self.name!r}: {v:g} is outside its range [{self.low:g}, {self.high:g}] {self.unit}".rstrip()
            )
        if self.scale == "integer" and v != round(v):
            raise ParameterError(f"parameter {self.name!r}: expected a whole number, got {v:g}")
        return min(max(v, self.low), self.high)

    def to_json(self, value: float) -> float | int | str:
        """A physical value as stored in a preset (labels for choices)."""
        if self.scale == "choice":
            return self.choices[int(round(float(value)))]
        if self.scale == "integer":
            return int(round(float(value)))
        return float(value)

    def default_value(self) -> float:
        """Physical default as a float (bin index for choices)."""
        if self.default is None:
            return float(self.from_unit(np.array(0.5)))
        return self.check(self.default)

    def describe(self) -> dict:
        """Everything about the parameter, JSON-ready."""
        d = asdict(self)
        d["choices"] = list(self.choices)
        d["default"] = self.to_json(self.default_value())
        if self.scale != "curve":
            d.pop("curve")
        return d


class ParamSpace:
    """An ordered set of :class:`ParamSpec`; gene ``i`` belongs to spec ``i``.

    Parameters
    ----------
    specs
        The parameters, in genome order. Names must be unique; a ``group``
        must name a switch in the same space.
    """

    def __init__(self, specs: Iterable[ParamSpec]):
        self.specs: tuple[ParamSpec, ...] = tuple(specs)
        names = [s.name for s in self.specs]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ParameterError(f"duplicate parameter names: {', '.join(dup)}")
        self._index = {n: i for i, n in enumerate(names)}
        for s in self.specs:
            if s.group is not None and (s.group not in self._index or not self[s.group].is_switch):
                raise ParameterError(f"parameter {s.name!r}: group {s.group!r} is not a switch of this space")

    # -- container protocol --------------------------------------------------
    def __len__(self) -> int:
        return len(self.specs)

    def __iter__(self) -> Iterator[ParamSpec]:
        return iter(self.specs)

    def __getitem__(self, name: str) -> ParamSpec:
        try:
            return self.specs[self._index[name]]
        except KeyError:
            raise ParameterError(f"unknown parameter {name!r}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def __add__(self, other: ParamSpace) -> ParamSpace:
        return ParamSpace(self.specs + other.specs)

    def __repr__(self) -> str:
        return f"ParamSpace({len(self)} genes: {', '.join(self.names)})"

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.specs)

    @property
    def n_genes(self) -> int:
        return len(self.specs)

    def index(self, name: str) -> int:
        """Gene index of parameter ``name``."""
        self[name]
        return self._index[name]

    # -- gene metadata for the optimiser ---------------------------------------
    @property
    def categorical_mask(self) -> np.ndarray:
        """Boolean ``(n_genes,)``: genes to mutate by resampling."""
        return np.array([s.is_categorical for s in self.specs], dtype=bool)

    @property
    def switch_mask(self) -> np.ndarray:
        """Boolean ``(n_genes,)``: on/off module genes."""
        return np.array([s.is_switch for s in self.specs], dtype=bool)

    @property
    def group_index(self) -> np.ndarray:
        """Int ``(n_genes,)``: gene index of each gene's switch, or -1."""
        return np.array([self._index[s.group] if s.group else -1 for s in self.specs], dtype=np.int64)

    # -- the mapping -----------------------------------------------------------
    def check_genomes(self, genomes: np.ndarray) -> np.ndarray:
        """Validate a genome batch; return it as float64 ``(n, n_genes)``.

        A single genome ``(n_genes,)`` becomes a batch of one.
        """
        g = np.asarray(genomes, dtype=np.float64)
        if g.ndim == 1:
            g = g[None, :]
        if g.ndim != 2 or g.shape[1] != self.n_genes:
            raise ParameterError(f"genomes must have shape (n, {self.n_genes}), got {np.shape(genomes)}")
        if not np.all(np.isfinite(g)):
            raise ParameterError("genomes contain NaN or infinite values")
        return g

    def to_physical(self, genomes: np.ndarray) -> dict[str, np.ndarray]:
        """Map a genome batch to physical values.

        Parameters
        ----------
        genomes : ndarray, shape (n_individuals, n_genes)
            Values in [0, 1] (clipped).

        Returns
        -------
        dict of str to ndarray, each shape (n_individuals,)
            Physical values keyed by parameter name, float64 (bin indices
            for choices).
        """
        g = self.check_genomes(genomes)
        return {s.name: s.from_unit(g[:, i]) for i, s in enumerate(self.specs)}

    def to_genomes(self, physical: Mapping[str, np.ndarray | float]) -> np.ndarray:
        """Inverse of :meth:`to_physical`.

        Parameters
        ----------
        physical
            Every parameter name mapped to a scalar or an ``(n,)`` array.

        Returns
        -------
        ndarray, shape (n, n_genes)
        """
        missing = [n for n in self.names if n not in physical]
        if missing:
            raise ParameterError(f"missing parameters: {', '.join(missing)}")
        cols = [np.atleast_1d(np.asarray(physical[s.name], dtype=np.float64)) for s in self.specs]
        n = max(len(c) for c in cols) if cols else 1
        return np.stack([np.broadcast_to(s.to_unit(c), (n,)) for s, c in zip(self.specs, cols)], axis=1)

    def default_physical(self) -> dict[str, float]:
        """Every parameter at its default, physical."""
        return {s.name: s.default_value() for s in self.specs}

    def default_genome(self) -> np.ndarray:
        """The default values as a genome, shape ``(n_genes,)``."""
        return self.to_genomes(self.default_physical())[0]

    # -- presets -----------------------------------------------------------------
    def values_to_json(self, physical: Mapping[str, float]) -> dict[str, float | int | str]:
        """Physical values of one individual, as a preset stores them."""
        return {s.name: s.to_json(float(np.asarray(physical[s.name]).reshape(-1)[0])) for s in self.specs}

    def values_from_json(self, values: Mapping[str, object], *, partial: bool = False) -> dict[str, float]:
        """Validate preset values; return physical floats keyed by name.

        Parameters
        ----------
        values
            Name to physical value (labels for choices).
        partial
            Fill missing parameters with their defaults instead of failing.

        Raises
        ------
        ParameterError
            For unknown names, missing names, wrong types, out-of-range values.
        """
        if not isinstance(values, Mapping):
            raise ParameterError(f"parameters must be an object of name: value, got {type(values).__name__}")
        unknown = [k for k in values if k not in self._index]
        if unknown:
            raise ParameterError(f"unknown parameters: {', '.join(map(str, unknown))} (known: {', '.join(self.names)})")
        missing = [n for n in self.names if n not in values]
        if missing and not partial:
            raise ParameterError(f"missing parameters: {', '.join(missing)}")
        out = self.default_physical()
        for k, v in values.items():
            out[k] = self[k].check(v)
        return out

    def describe(self) -> list[dict]:
        """Every parameter's description, JSON-ready."""
        return [s.describe() for s in self.specs]

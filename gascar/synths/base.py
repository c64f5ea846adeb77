"""The synth interface: a parameter space plus a batch render.

Genome -> physical parameters -> audio are three steps in three places:
:class:`~gascar.params.ParamSpace` maps genes to physical values, a synth's
``_render`` turns physical values into audio, and :meth:`Synth.render`
chains the two for the optimiser.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from ..dsp.arrays import clip_params
from ..errors import SynthError
from ..jit import first_use
from ..params import ParamSpace

_REGISTRY: dict[str, type[Synth]] = {}
#: MIDI velocity of a note when none is given (a firm, not full, strike).
DEFAULT_VELOCITY = 100
_VOICE_SPACES: dict[tuple, ParamSpace] = {}


def register(cls: type[Synth]) -> type[Synth]:
    """Class decorator adding a synth to the registry under ``cls.name``."""
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise SynthError(f"synth name {cls.name!r} registered twice")
    _REGISTRY[cls.name] = cls
    return cls


class Synth:
    """Base class of every GASCAR synth.

    Subclasses set ``name``, ``version``, ``description`` and ``params`` and
    implement :meth:`_render`. Instances hold no per-render state, so one
    instance can be shared and pickled to worker processes.
    """

    name: ClassVar[str] = ""
    version: ClassVar[int] = 1
    description: ClassVar[str] = ""
    params: ClassVar[ParamSpace]
    #: Whether the note's velocity changes the sound; synths that ignore it
    #: render the same audio at every velocity.
    responds_to_velocity: ClassVar[bool] = False
    #: Whether ``--synth auto`` tries this synth (when it can render here, see :meth:`require`).
    in_auto: ClassVar[bool] = True
    #: Whether every match starts from :meth:`start_physical` (vital); the other synths' analysis-driven starts
    #: are used when asked (``--analysis-starts``).
    warm_start: ClassVar[bool] = False
    #: Evaluations of a match with this synth alone when none are given (``None``: the match default).
    default_budget: ClassVar[int | None] = None
    #: How the sound changes across the keyboard and with velocity (key tracking of envelope times and level,
    #: velocity to level and brightness ...): parameters whose defaults are neutral (a voice renders as if they
    #: were absent). A one-note match does not search them (one note cannot tell them apart); an instrument match,
    #: on several notes, does. Presets store them only when they hold them (see :class:`gascar.preset.Preset`).
    keyboard: ClassVar[ParamSpace] = ParamSpace([])
    #: Whether instances carry data measured on a target (a spectral voice's partials, a wavetable's frames).
    #: Such a synth is built for each target (:meth:`for_target`), pickles with its data, and its presets store
    #: the data (:meth:`voice_json`, :meth:`with_voice`); it makes no in-domain benchmark sounds.
    carries_data: ClassVar[bool] = False

    @property
    def n_genes(self) -> int:
        """Length of a genome for this synth."""
        return self.params.n_genes

    @property
    def voice_params(self) -> ParamSpace:
        """Every parameter a voice of this synth has: :attr:`params`, then :attr:`keyboard`."""
        if not len(self.keyboard):
            return self.params
        key = (type(self), id(self.params), id(self.keyboard))
        space = _VOICE_SPACES.get(key)
        if space is None:
            space = _VOICE_SPACES[key] = self.params + self.keyboard
        return space

    @property
    def bounds(self) -> dict[str, tuple[float, float]]:
        """Every parameter's physical range ``(low, high)``; renders clip values given directly to it."""
        return {spec.name: (spec.low, spec.high) for spec in self.voice_params}

    def responds_to(self, physical: Mapping[str, float | np.ndarray]) -> bool:
        """Whether a voice with these physical values (its keyboard parameters may be left out) changes with velocity.

        A synth that always does (:attr:`responds_to_velocity`), or one whose
        keyboard parameters about velocity (``velocity`` in their names) are
        away from their neutral defaults.
        """
        if self.responds_to_velocity:
            return True
        for spec in self.keyboard:
            if "velocity" in spec.name and spec.name in physical:
                if np.any(np.asarray(physical[spec.name], dtype=np.float64) != spec.default_value()):
                    return True
        return False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} v{self.version}, {self.n_genes} genes>"

    def __reduce__(self):
        # Synths are stateless: pickling by name keeps worker payloads tiny.
        return (get_synth, (self.name,))

    def for_target(self, target) -> Synth:
        """The synth as it plays ``target``: itself, or for a synth that carries data, one built from the target's analysis.

        Raises
        ------
        SynthError
            When the synth cannot be built for this target (an unusable analysis).
        """
        return self

    def voice_json(self) -> dict | None:
        """The data a preset stores in its ``voice`` block (JSON values), or None for synths without data."""
        return None

    def with_voice(self, voice) -> Synth:
        """The synth playing a preset's ``voice`` block (validated); synths without data take none.

        Raises
        ------
        PresetError
            Naming the field that is wrong, or for data given to a synth that takes none.
        """
        if voice is not None:
            from ..errors import PresetError

            raise PresetError(f'synth {self.name!r} takes no "voice" data')
        return self

    def require(self) -> None:
        """Raise :class:`SynthError`, naming what to install, if this synth cannot render here.

        The numpy synths always can; a synth on an optional engine (dx7) checks that it is installed.
        """

    def start_physical(self, target) -> list[dict[str, float]]:
        """Physical values a match of ``target`` starts from, besides random genomes (none by default).

        Each synth reads the target's spectral model (``target.model``, see
        :mod:`gascar.synths.starts`); a synth with :attr:`warm_start` (vital,
        a slow engine) always starts there, the others with ``--analysis-starts``.
        """
        return []

    def musical_genomes(self, rng: np.random.Generator, n: int) -> np.ndarray | None:
        """Genomes ``(n, n_genes)`` drawn from a prior of musically plausible settings, or None without one.

        Benchmarks draw in-domain sounds from it beside uniform random genomes
        (``gascar bench match --suite musical``); only the dx7 synth has one.
        """
        return None

    def played_f0_hz(self, f0_hz: np.ndarray) -> np.ndarray:
        """The pitch a render at ``f0_hz`` sounds, shape kept: ``f0_hz`` itself, or the nearest note a synth plays.

        Presets store it, so they name what the synth plays (the dx7 synth plays MIDI notes).
        """
        return np.asarray(f0_hz, dtype=np.float64)

    def render(
        self,
        genomes: np.ndarray,
        f0_hz: float | np.ndarray,
        n_samples: int,
        sample_rate: int,
        *,
        hold_s: float | np.ndarray | None = None,
        velocity: float | np.ndarray | None = None,
    ) -> np.ndarray:
        """Render a batch of genomes.

        Parameters
        ----------
        genomes : ndarray, shape (n_individuals, n_genes)
            Genes in [0, 1].
        f0_hz : float or ndarray, shape (n_individuals,)
            Base frequency of each note.
        n_samples : int
            Length of each render.
        sample_rate : int
            Samples per second.
        hold_s : float or ndarray, shape (n_individuals,), optional
            Note-off time; the release follows it. Default: the whole render.
        velocity : float or ndarray, shape (n_individuals,), optional
            MIDI note-on velocity, 1 .. 127. Default: :data:`DEFAULT_VELOCITY`.
            Ignored by synths that do not respond to velocity.

        Returns
        -------
        ndarray, shape (n_individuals, n_samples), float32
            Audio in [-1, 1].
        """
        return self.render_physical(self.params.to_physical(genomes), f0_hz, n_samples, sample_rate, hold_s=hold_s,
                                    velocity=velocity)

    def render_physical(
        self,
        physical: Mapping[str, np.ndarray | float],
        f0_hz: float | np.ndarray,
        n_samples: int,
        sample_rate: int,
        *,
        hold_s: float | np.ndarray | None = None,
        velocity: float | np.ndarray | None = None,
    ) -> np.ndarray:
        """Render from physical parameter values (as presets store them).

        Parameters
        ----------
        physical
            Every parameter name mapped to a scalar or an ``(n_individuals,)``
            array (bin indices for choices); :attr:`keyboard` parameters may
            be left out (their neutral defaults).
        f0_hz, n_samples, sample_rate, hold_s, velocity
            As in :meth:`render`.

        Returns
        -------
        ndarray, shape (n_individuals, n_samples), float32
        """
        missing = [k for k in self.params.names if k not in physical]
        if missing:
            raise SynthError(f"synth {self.name!r}: missing parameters {', '.join(missing)}")
        cols = {k: np.atleast_1d(np.asarray(physical[k], dtype=np.float64)) for k in self.params.names}
        for spec in self.keyboard:  # left out: neutral, so a voice without them renders as before they existed
            cols[spec.name] = np.atleast_1d(np.asarray(physical.get(spec.name, spec.default_value()), dtype=np.float64))
        n = max([len(c) for c in cols.values()] + [np.size(f0_hz), np.size(hold_s) if hold_s is not None else 1,
                                                    np.size(velocity) if velocity is not None else 1])
        cols = {k: np.broadcast_to(c, (n,)) for k, c in cols.items()}
        n_samples = int(n_samples)
        sample_rate = int(sample_rate)
        if n_samples < 1:
            raise SynthError(f"n_samples must be at least 1, got {n_samples}")
        if not 1000 <= sample_rate <= 384_000:
            raise SynthError(f"sample_rate must be between 1000 and 384000 Hz, got {sample_rate}")
        f0 = np.broadcast_to(np.asarray(f0_hz, dtype=np.float64), (n,)).copy()
        if not np.all(np.isfinite(f0)) or np.any(f0 <= 0):
            raise SynthError(f"f0_hz must be positive and finite, got {f0_hz!r}")
        f0 = np.minimum(f0, 0.45 * sample_rate)
        if hold_s is None:
            hold = np.full(n, n_samples / sample_rate)
        else:
            hold = np.broadcast_to(np.asarray(hold_s, dtype=np.float64), (n,)).copy()
            if not np.all(np.isfinite(hold)) or np.any(hold < 0):
                raise SynthError(f"hold_s must be non-negative and finite, got {hold_s!r}")
        vel = np.broadcast_to(np.asarray(DEFAULT_VELOCITY if velocity is None else velocity, dtype=np.float64), (n,)).copy()
        if not np.all(np.isfinite(vel)) or np.any(vel < 1) or np.any(vel > 127):
            raise SynthError(f"velocity must be within 1 .. 127, got {velocity!r}")
        # Genomes always map inside the ranges; this guards renders from physical values given directly.
        cols = clip_params(cols, self.bounds)
        with first_use("synth:" + self.name):
            out = self._render(cols, f0, n_samples, sample_rate, hold, vel)
        out = np.nan_to_num(np.asarray(out, dtype=np.float32), copy=False, nan=0.0, posinf=0.0, neginf=0.0)
        np.clip(out, -1.0, 1.0, out=out)
        return out

    def _render(
        self,
        p: Mapping[str, np.ndarray],
        f0_hz: np.ndarray,
        n_samples: int,
        sample_rate: int,
        hold_s: np.ndarray,
        velocity: np.ndarray,
    ) -> np.ndarray:
        """Render ``(n, n_samples)`` audio from validated physical arrays.

        Parameters
        ----------
        p
            Parameter name to float64 array ``(n,)``, clipped to :attr:`bounds` (NaN to the low end).
        f0_hz, hold_s, velocity : ndarray, shape (n,)
        n_samples, sample_rate : int
        """
        raise NotImplementedError


class VoiceSynth(Synth):
    """A synth that carries data measured on a target (its *voice*): built per target, pickled and stored with it.

    Subclasses set ``voice_type`` (a class with ``from_json`` and
    ``to_json``) and implement :meth:`default_voice` (what plays without a
    target, so the synth renders anywhere a synth must) and
    :meth:`build_voice` (the voice of a spectral model).
    """

    carries_data: ClassVar[bool] = True
    voice_type: ClassVar[type]

    def __init__(self, voice=None):
        self.voice = voice if voice is not None else self.default_voice()
        self.from_target = voice is not None
        self._cache: dict = {}

    def default_voice(self):
        raise NotImplementedError

    def build_voice(self, model):
        raise NotImplementedError

    def __reduce__(self):
        # The voice travels with the synth (to workers, into checkpoints) in the JSON form a preset stores.
        return (_voice_synth, (self.name, self.voice_json()))

    def __repr__(self) -> str:
        own = "its default voice" if not self.from_target else "a voice from a target"
        return f"<{type(self).__name__} {self.name!r} v{self.version}, {self.n_genes} genes, {own}>"

    def cached(self, key, make):
        """A value derived from the voice (tables, noise signals), made once per key and kept for the last few keys."""
        if key not in self._cache:
            if len(self._cache) >= 4:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = make()
        return self._cache[key]

    def for_target(self, target) -> Synth:
        """The voice of ``target``, from its spectral model; a synth that already has a voice keeps it."""
        if self.from_target:
            return self
        from .starts import model_reason

        reason = model_reason(target)
        if reason:
            raise SynthError(f"synth {self.name!r} is built from the target's analysis, which is unusable here ({reason})",
                             reason=reason)
        return type(self)(self.build_voice(target.model))

    def voice_json(self) -> dict | None:
        return self.voice.to_json() if self.from_target else None

    def with_voice(self, voice) -> Synth:
        return type(self)() if voice is None else type(self)(self.voice_type.from_json(voice))


def _voice_synth(name: str, voice: dict | None) -> Synth:
    """Unpickle a :class:`VoiceSynth`: the registered class by name, with its voice."""
    return get_synth(name).with_voice(voice)


def get_synth(name: str) -> Synth:
    """Return the synth registered as ``name``.

    Raises
    ------
    SynthError
        For an unknown name, listing the known ones.
    """
    from . import load_builtin_synths

    load_builtin_synths()
    try:
        return _REGISTRY[name]()
    except KeyError:
        raise SynthError(f"unknown synth {name!r}; known synths: {', '.join(sorted(_REGISTRY))}") from None


def list_synths() -> list[str]:
    """Names of every registered synth, in the engine's canonical order."""
    from . import EXTRA_SYNTHS, SYNTH_ORDER, VOICE_SYNTHS, load_builtin_synths

    load_builtin_synths()
    known = [n for n in SYNTH_ORDER + EXTRA_SYNTHS + VOICE_SYNTHS if n in _REGISTRY]
    return known + sorted(set(_REGISTRY) - set(known))


def auto_synths() -> list[str]:
    """Names of the synths ``--synth auto`` tries: those that say so (``in_auto``) and can render here."""
    names = []
    for name in list_synths():
        synth = get_synth(name)
        if not synth.in_auto:
            continue
        try:
            synth.require()
        except SynthError:
            continue
        names.append(name)
    return names


def render_fused(kernel, columns: tuple, p: Mapping, f0_hz: np.ndarray, n_samples: int, sample_rate: int,
                 hold_s: np.ndarray, *, noise: bool = False, tables: tuple | None = None) -> np.ndarray:
    """Render whole voices with one of :mod:`gascar.dsp`'s fused kernels, then the output stage.

    The subtractive and wavetable synths each render a voice in one compiled
    pass (:func:`gascar.dsp.subtractive_voices`, :func:`gascar.dsp.wavetable_voices`);
    this is their shared ``_render``: parameters stacked in the kernel's column
    order, note-offs in samples, the mipmapped tables, then
    :func:`gascar.dsp.finish` with ``gain_db``.

    Parameters
    ----------
    kernel : callable
        The fused kernel.
    columns : tuple of str
        Its parameter columns (``dsp.SUBTRACTIVE_COLUMNS`` ...).
    p : mapping of str to ndarray, each shape (n,)
        Physical parameters, clipped.
    f0_hz, hold_s : ndarray, shape (n,)
    noise : bool
        Pass the shared white-noise table (the subtractive kernel's noise source).
    tables : (ndarray, ndarray), optional
        Mipmapped frames and their top harmonics (the morph voice's own); default :func:`gascar.dsp.mipmaps`.

    Returns
    -------
    ndarray, shape (n, n_samples), float32
    """
    from .. import dsp

    P = np.ascontiguousarray(np.stack([p[name] for name in columns], axis=1))
    hold_n = np.round(hold_s * sample_rate).astype(np.int64)
    tables, top = tables if tables is not None else dsp.mipmaps()
    out = np.empty((len(f0_hz), n_samples), dtype=np.float32)
    extra = (dsp.white_noise(n_samples),) if noise else ()
    kernel(P, f0_hz, hold_n, *extra, tables, top, float(sample_rate), out)
    return dsp.finish(out, p["gain_db"], sample_rate)

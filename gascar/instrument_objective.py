"""The objective of an instrument: one genome scored against several notes at once (one render per note).

:class:`InstrumentObjective` sits beside :class:`gascar.objective.Objective`
(one target) and keeps its protocol (``space``, ``__call__``,
``components``, ``render``, ``preset`` ...), so the match loop, the
workers, checkpoints and ``--top`` take either. A genome holds:

- the synth's parameters and its keyboard parameters
  (:attr:`gascar.synths.Synth.keyboard`: key tracking and velocity
  response, which one note cannot tell apart and several notes can);
- the pitch genes of a one-note match, shared by every note: the octave
  (-1/0/+1) and fine tune (+-100 cents) move every note's f0 together;
- one note-off gene per note (``note1_hold_s`` ...), each over its own
  note's length, as a one-note match has one: every note keeps its own
  analysis (pitch, note-off, loudness).

Each note is rendered at its own f0, velocity, note-off and length and
compared with its own target by its own :class:`~gascar.fitness.Comparator`
(the same distance as a one-note match, level-blind). The fitness is the
**aggregate** of the notes' fitnesses (:data:`AGGREGATES`; the default,
:data:`DEFAULT_AGGREGATE`, was chosen by measurement: see
docs/bench/experiments/ and the README) plus the **level** term: since each
note's distance ignores loudness, how loud the notes play against one
another (velocity layers, a register that is quieter) would be left to
chance. The level term is the mean absolute deviation, over the notes, of
(render level - target level) in dB from its mean: 0 when one output gain
plays every note at its target's loudness. It is divided by the envelope
component's scale (13.1 dB: frame levels in dB, the same unit) and
weighted like it (0.25).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .errors import FitnessError
from .fitness import COMPONENTS, DEFAULT_WEIGHTS, METRIC, PENALTY, SCALES, Comparator
from .objective import PEAK_CEILING_DBFS, RENDER_ROWS, hold_spec, pitch_specs
from .params import ParamSpace
from .preset import MAX_GAIN_DB, Preset, RenderSettings

#: How the notes' fitnesses combine: their mean, the worst note, their root mean square (between the two), or their
#: mean over the keys from the lowest note to the highest (:func:`key_weights`).
AGGREGATES = ("mean", "max", "rms", "keys")
#: The aggregate of a match that names none (see the module docstring for how it was chosen).
DEFAULT_AGGREGATE = "keys"
#: The level term's scale (dB) and weight: the envelope component's, which compares levels in dB too.
LEVEL_SCALE_DB = SCALES["envelope"]
LEVEL_WEIGHT = DEFAULT_WEIGHTS["envelope"]
#: RMS below which a render counts as silent for the level term (its level is floored there).
SILENT_RMS = 1e-6

_OPTIONS = ("weights", "render_rows", "aggregate")


#: How the summary and the report name each aggregate ("the fitness is the ... of the notes' fitnesses").
AGGREGATE_WORDS = {"keys": "mean over the keys", "mean": "mean", "max": "worst (max)", "rms": "rms"}


def key_weights(f0_hz) -> np.ndarray:
    """Each note's share ``(k,)`` of the keys from the lowest note to the highest, summing to 1.

    The fitness of a key between two matched notes is taken as the straight
    line between theirs, so the mean over the keys weights each pitch by
    half the interval to its neighbours on either side (the trapezoidal
    rule): the outer notes count half as much as an inner note of the same
    spacing. Velocity layers of one pitch (within 50 cents) share its
    weight equally; a single pitch gives every note the same weight.

    Parameters
    ----------
    f0_hz : array_like, shape (k,)

    Returns
    -------
    ndarray, shape (k,)
    """
    semis = 12.0 * np.log2(np.asarray(f0_hz, dtype=np.float64) / 440.0)
    order = np.argsort(semis, kind="stable")
    groups: list[list[int]] = []
    for i in order:
        if groups and abs(semis[i] - semis[groups[-1][0]]) < 0.5:
            groups[-1].append(int(i))
        else:
            groups.append([int(i)])
    w = np.zeros(semis.size)
    if len(groups) == 1:
        w[:] = 1.0
    else:
        centres = np.array([semis[g[0]] for g in groups])
        gaps = np.diff(centres)
        span = np.concatenate([[0.0], gaps]) / 2.0 + np.concatenate([gaps, [0.0]]) / 2.0
        for g, s in zip(groups, span):
            w[g] = s / len(g)
    return w / w.sum()


def aggregate(totals: np.ndarray, how: str, weights: np.ndarray | None = None) -> np.ndarray:
    """Combine the notes' fitnesses ``(k, n)`` into one per genome ``(n,)`` (:data:`AGGREGATES`).

    ``weights`` ``(k,)`` are the notes' :func:`key_weights`, for ``keys`` (without them every note counts alike).
    """
    if how == "keys":
        w = np.full(totals.shape[0], 1.0 / totals.shape[0]) if weights is None else np.asarray(weights, np.float64)
        return np.tensordot(w, totals, axes=1)
    if how == "mean":
        return totals.mean(axis=0)
    if how == "max":
        return totals.max(axis=0)
    if how == "rms":
        return np.sqrt(np.mean(np.square(totals), axis=0))
    raise FitnessError(f"unknown aggregate {how!r}; choose one of {', '.join(AGGREGATES)}")


def level_spread_db(levels_db: np.ndarray) -> np.ndarray:
    """Mean absolute deviation over the notes of ``levels_db`` ``(k, n)`` (render minus target, dB) from its mean: ``(n,)``.

    0 when one gain plays every note at its target's loudness.
    """
    return np.mean(np.abs(levels_db - levels_db.mean(axis=0, keepdims=True)), axis=0)


def _rms_db(x: np.ndarray) -> np.ndarray:
    rms = np.sqrt(np.mean(np.square(np.asarray(x, dtype=np.float64)), axis=-1))
    return 20.0 * np.log10(np.maximum(rms, SILENT_RMS))


class InstrumentObjective:
    """Batch fitness of a synth's genomes against every note of an :class:`~gascar.instrument.Instrument`.

    Parameters
    ----------
    instrument : gascar.instrument.Instrument
    synth : gascar.synths.Synth
    weights : mapping or str, optional
        Component weights of each note's distance (see :func:`gascar.fitness.parse_weights`).
    render_rows : int
        Genomes rendered and compared at once.
    aggregate : str, optional
        One of :data:`AGGREGATES` (default :data:`DEFAULT_AGGREGATE`).

    Attributes
    ----------
    space : ParamSpace
        The synth's parameters, its keyboard parameters, the shared pitch genes, one note-off gene per note.
    target : gascar.instrument.Instrument
        (The name of a one-note objective's target, so the match loop reads either.)
    weights : dict
        Every component's weight, and ``level``.

    Notes
    -----
    k notes cost k renders per genome: an evaluation costs about as much as
    one-note evaluations of all k notes together.
    """

    def __init__(self, instrument, synth, **options):
        options = {"render_rows" if k == "chunk_size" else k: v for k, v in options.items()}
        unknown = sorted(set(options) - set(_OPTIONS))
        if unknown:
            raise FitnessError(f"unknown fitness options: {', '.join(unknown)} (known: {', '.join(_OPTIONS)})")
        self.aggregate = options.get("aggregate") or DEFAULT_AGGREGATE
        if self.aggregate not in AGGREGATES:
            raise FitnessError(f"unknown aggregate {self.aggregate!r}; choose one of {', '.join(AGGREGATES)}")
        self.target = self.instrument = instrument
        self.notes = tuple(instrument.notes)
        # A voice built from a target's analysis (spectral, morph) is built from the reference note, and transposed.
        self.synth = synth = synth.for_target(self.notes[instrument.reference])
        self.velocities = np.asarray(instrument.velocities, dtype=np.float64)
        rows = options.get("render_rows", RENDER_ROWS)
        self.comparators = [Comparator(t, options.get("weights"), rows) for t in self.notes]
        self.render_rows = self.comparators[0].rows_at_once
        self.weights = dict(self.comparators[0].weights, level=LEVEL_WEIGHT)
        self.metric = METRIC
        self.voice_space = synth.voice_params
        reference = self.notes[instrument.reference]
        holds = [replace(hold_spec(t), name=f"note{i + 1}_hold_s",
                         description=f"Note-off time of note {i + 1} ({instrument.label(i)}); the release follows it.")
                 for i, t in enumerate(self.notes)]
        self.space = self.voice_space + ParamSpace([*pitch_specs(reference), *holds])
        self.n_synth_genes = synth.n_genes
        self.n_voice_genes = self.voice_space.n_genes
        self.sample_rate = int(instrument.sample_rate)
        if any(int(t.sample_rate) != self.sample_rate for t in self.notes):
            raise FitnessError("the notes of an instrument must be analysed at one sample rate")
        self.n_samples = int(reference.n_samples)
        self._target_db = np.array([float(_rms_db(t.samples)) for t in self.notes])
        #: Each note's weight in the ``keys`` aggregate (:func:`key_weights`).
        self.note_weights = key_weights([float(t.f0_hz) for t in self.notes])

    @property
    def n_genes(self) -> int:
        return self.space.n_genes

    @property
    def n_notes(self) -> int:
        return len(self.notes)

    def __repr__(self) -> str:
        return f"<InstrumentObjective {self.synth.name} vs {self.instrument.name} ({self.n_notes} notes), {self.n_genes} genes>"

    # -- genomes -> audio ----------------------------------------------------------------------------------------------
    def note_f0_hz(self, genomes: np.ndarray, i: int) -> np.ndarray:
        """Base frequency ``(n,)`` note ``i`` renders at: its f0 moved by the shared octave and fine-tune genes."""
        return self._f0_hz(self.space.check_genomes(genomes), i)

    def _f0_hz(self, g: np.ndarray, i: int) -> np.ndarray:
        k = self.n_voice_genes
        octave = self.space.specs[k].from_unit(g[:, k]) - 1.0
        cents = self.space.specs[k + 1].from_unit(g[:, k + 1])
        f0 = float(self.notes[i].f0_hz) * 2.0 ** (octave + cents / 1200.0)
        return np.clip(f0, 1.0, min(20000.0, 0.45 * self.sample_rate))

    def note_off_s(self, genomes: np.ndarray, i: int) -> np.ndarray:
        """Note-off time ``(n,)`` of note ``i``, seconds."""
        return self._note_off_s(self.space.check_genomes(genomes), i)

    def _note_off_s(self, g: np.ndarray, i: int) -> np.ndarray:
        col = self.n_voice_genes + 2 + i
        return self.space.specs[col].from_unit(g[:, col])

    def _render_note(self, g: np.ndarray, physical: dict, i: int) -> np.ndarray:
        t = self.notes[i]
        return self.synth.render_physical(physical, self._f0_hz(g, i), t.n_samples, self.sample_rate,
                                          hold_s=self._note_off_s(g, i), velocity=self.velocities[i])

    def render_notes(self, genomes: np.ndarray) -> list[np.ndarray]:
        """Every note's render, exactly as scored (before loudness normalisation).

        Parameters
        ----------
        genomes : ndarray, shape (n, n_genes)

        Returns
        -------
        list of ndarray, one per note, shape (n, that note's n_samples), float32
        """
        g = self.space.check_genomes(genomes)
        physical = self.voice_space.to_physical(g[:, : self.n_voice_genes])
        return [self._render_note(g, physical, i) for i in range(self.n_notes)]

    def render(self, genomes: np.ndarray) -> np.ndarray:
        """The reference note's render ``(n, n_samples)`` (the note the preset is written for)."""
        g = self.space.check_genomes(genomes)
        physical = self.voice_space.to_physical(g[:, : self.n_voice_genes])
        return self._render_note(g, physical, self.instrument.reference)

    def render_sequence(self, genome: np.ndarray) -> np.ndarray:
        """Every note of one genome ``(n_genes,)`` as scored, one after another
        (:func:`gascar.instrument.sequence`): an instrument's render, shape ``(n_samples,)``.
        """
        from .instrument import sequence

        return sequence([x[0] for x in self.render_notes(np.asarray(genome)[None, :])], self.sample_rate)

    # -- scores --------------------------------------------------------------------------------------------------------
    def _scores(self, genomes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-note distances ``(k, n, n_components)`` and levels (render minus target, dB) ``(k, n)``."""
        g = self.space.check_genomes(genomes)
        n = g.shape[0]
        dist = np.empty((self.n_notes, n, len(COMPONENTS)))
        levels = np.empty((self.n_notes, n))
        for a in range(0, n, self.render_rows):
            rows = g[a : a + self.render_rows]
            physical = self.voice_space.to_physical(rows[:, : self.n_voice_genes])
            for i in range(self.n_notes):
                audio = self._render_note(rows, physical, i)
                dist[i, a : a + len(rows)] = self.comparators[i].distances(audio)
                levels[i, a : a + len(rows)] = _rms_db(audio) - self._target_db[i]
        return dist, levels

    def _totals(self, dist: np.ndarray) -> np.ndarray:
        return np.stack([c.total(d) for c, d in zip(self.comparators, dist)])

    def _fitness(self, dist: np.ndarray, levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        level = level_spread_db(levels) / LEVEL_SCALE_DB
        total = aggregate(self._totals(dist), self.aggregate, self.note_weights) + LEVEL_WEIGHT * level
        return np.where(np.isfinite(total), np.minimum(total, PENALTY), PENALTY), level

    def __call__(self, genomes: np.ndarray) -> np.ndarray:
        """Fitness ``(n,)`` of each genome ``(n, n_genes)``, lower is better: the notes' aggregate plus the level term."""
        return self._fitness(*self._scores(genomes))[0]

    def components(self, genomes: np.ndarray) -> dict[str, np.ndarray]:
        """Each component's mean over the notes, ``level`` (the level term, unweighted) and the ``total``; each ``(n,)``."""
        dist, levels = self._scores(genomes)
        total, level = self._fitness(dist, levels)
        out = {c: dist[:, :, j].mean(axis=0) for j, c in enumerate(COMPONENTS) if c in self.comparators[0].measured}
        out["level"] = level
        out["total"] = total
        return out

    def note_fitness(self, genomes: np.ndarray) -> np.ndarray:
        """Each note's own fitness (a one-note match's, level-blind), shape ``(k, n)``."""
        return self._totals(self._scores(genomes)[0])

    # -- presets -------------------------------------------------------------------------------------------------------
    def gain_db(self, genome: np.ndarray) -> float:
        """One output gain for every note (dB): the median of the gains that play each note at its target's loudness,
        lowered until no note's render peaks above -1 dBFS.
        """
        renders = self.render_notes(np.asarray(genome)[None, :])
        gains, ceilings = [], []
        for i, x in enumerate(renders):
            rms = float(np.sqrt(np.mean(np.square(x[0], dtype=np.float64))))
            peak = float(np.max(np.abs(x[0])))
            if rms > SILENT_RMS and peak > 0:
                gains.append(float(self._target_db[i]) - 20.0 * np.log10(rms))
                ceilings.append(PEAK_CEILING_DBFS - 20.0 * np.log10(peak))
        if not gains:
            return 0.0
        gain = min(float(np.median(gains)), min(ceilings))
        return float(np.clip(gain, -MAX_GAIN_DB, MAX_GAIN_DB))

    def render_settings(self, genome: np.ndarray) -> RenderSettings:
        """Render settings of the reference note as scored for ``genome`` ``(n_genes,)``, with the instrument's gain."""
        g = self.space.check_genomes(np.asarray(genome)[None, :])
        ref = self.instrument.reference
        t = self.notes[ref]
        return RenderSettings(f0_hz=float(self.synth.played_f0_hz(self._f0_hz(g, ref))[0]), duration_s=t.n_samples / self.sample_rate,
                              hold_s=float(self._note_off_s(g, ref)[0]), sample_rate=self.sample_rate,
                              velocity=int(self.velocities[ref]), gain_db=round(self.gain_db(g[0]), 4))

    def note_results(self, genome: np.ndarray, gain_db: float | None = None) -> list[dict]:
        """One row per note for the preset, the report and the summary: its target, how it is played, how close.

        Parameters
        ----------
        genome : ndarray, shape (n_genes,)
        gain_db : float, optional
            The preset's output gain (default: :meth:`gain_db`).

        Returns
        -------
        list of dict
            ``target``, ``target_sha256``, ``note``, ``f0_hz`` (played), ``velocity``, ``hold_s``, ``duration_s``,
            ``fitness`` (the note's own), ``lsd_db`` and ``verdict`` (judged, :mod:`gascar.closeness`) and
            ``level_db`` (how much louder the note plays than its target, with the preset's gain).
        """
        from pathlib import Path

        from .closeness import judged_lsd_db, verdict

        g = self.space.check_genomes(np.asarray(genome)[None, :])
        gain = self.gain_db(g[0]) if gain_db is None else float(gain_db)
        renders = self.render_notes(g)
        fitness = self.note_fitness(g)[:, 0]
        rows = []
        for i, (t, x) in enumerate(zip(self.notes, renders)):
            lsd = round(judged_lsd_db(t.samples, x[0], self.sample_rate), 4)
            rows.append({
                "target": Path(t.path).name, "target_sha256": t.sha256, "note": t.note,
                "f0_hz": round(float(self.synth.played_f0_hz(self._f0_hz(g, i))[0]), 4),
                "velocity": int(self.velocities[i]), "hold_s": round(float(self._note_off_s(g, i)[0]), 4),
                "duration_s": round(t.n_samples / self.sample_rate, 4), "fitness": round(float(fitness[i]), 6),
                "lsd_db": lsd, "verdict": verdict(lsd),
                "level_db": round(float(_rms_db(x[0])) + gain - float(self._target_db[i]), 2),
            })
        return rows

    def judged(self, genome: np.ndarray) -> dict:
        """``lsd_db`` (the mean over the notes of each note's judged LSD), ``verdict`` of it, and ``notes`` (:meth:`note_results`)."""
        from .closeness import verdict

        notes = self.note_results(genome)
        lsd = round(float(np.mean([n["lsd_db"] for n in notes])), 4)
        return {"lsd_db": lsd, "verdict": verdict(lsd), "notes": notes}

    def preset(self, genome: np.ndarray, **match_info) -> Preset:
        """The preset of one genome ``(n_genes,)``: the voice with its keyboard parameters, played at the reference note.

        ``match_info`` as :meth:`gascar.objective.Objective.preset`; ``notes``
        (:meth:`note_results`) and ``aggregate`` are filled in when not given.
        """
        g = self.space.check_genomes(np.asarray(genome))[0]
        info = dict(match_info)
        settings = self.render_settings(g)
        if "fitness" not in info or "components" not in info:
            comps = self.components(g[None, :])
            info.setdefault("fitness", float(comps.pop("total")[0]))
            info.setdefault("components", {k: float(v[0]) for k, v in comps.items()})
        if "notes" not in info:
            info["notes"] = self.note_results(g, settings.gain_db)
        info.setdefault("target", self.instrument.name)
        info.setdefault("target_sha256", self.instrument.sha256)
        info.setdefault("metric", self.metric)
        info.setdefault("weights", dict(self.weights))
        info.setdefault("aggregate", self.aggregate)
        return Preset.from_genome(self.synth.name, g[: self.n_voice_genes], settings, match=info,
                                  voice=self.synth.voice_json())

    # -- a one-note match of the reference note -------------------------------------------------------------------------
    def from_reference(self, genomes: np.ndarray) -> np.ndarray:
        """Genomes of a one-note match of the reference note as genomes of this objective.

        The voice's genes and the pitch genes are kept, the keyboard
        parameters set neutral (the voice plays every note as a one-note
        preset does), the reference note's note-off kept and every other
        note's moved from its own estimate by as much as the reference's
        moved from its estimate.

        Parameters
        ----------
        genomes : ndarray, shape (n, n_genes of :meth:`reference_objective`)

        Returns
        -------
        ndarray, shape (n, n_genes)
        """
        g = np.atleast_2d(np.asarray(genomes, dtype=np.float64))
        n_synth, n_voice = self.n_synth_genes, self.n_voice_genes
        if g.shape[1] != n_synth + 3:
            raise FitnessError(f"a genome of the reference note's match has {n_synth + 3} genes, got {g.shape[1]}")
        out = np.repeat(self.space.default_genome()[None, :], g.shape[0], axis=0)
        out[:, :n_synth] = g[:, :n_synth]
        out[:, n_voice : n_voice + 2] = g[:, n_synth : n_synth + 2]  # octave, fine tune
        ref = self.instrument.reference
        ref_spec = self.space.specs[n_voice + 2 + ref]
        moved_s = ref_spec.from_unit(g[:, n_synth + 2]) - ref_spec.default_value()
        for i in range(self.n_notes):
            spec = self.space.specs[n_voice + 2 + i]
            out[:, n_voice + 2 + i] = g[:, n_synth + 2] if i == ref else spec.to_unit(spec.default_value() + moved_s)
        return out

    # -- starts --------------------------------------------------------------------------------------------------------
    def start_genomes(self) -> np.ndarray | None:
        """Genomes ``(m, n_genes)`` a search starts from besides random ones: the synth's starts for the reference note.

        The keyboard parameters start neutral, the pitch genes at octave 0
        without fine tune, every note-off at its note's estimate. None when
        the synth proposes no start.
        """
        reference = self.notes[self.instrument.reference]
        starts = self.synth.start_physical(reference)
        if not starts:
            return None
        rest = self.space.default_genome()[self.n_synth_genes :]  # keyboard neutral, octave 0, no fine tune, estimates
        rows = []
        for physical in starts:
            genes = self.synth.params.to_genomes({n: np.atleast_1d(physical[n]) for n in self.synth.params.names})[0]
            rows.append(np.concatenate([genes, rest]))
        return np.array(rows)

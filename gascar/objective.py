"""The objective: genomes of one synth scored against one target (genome -> audio -> fitness).

:class:`Objective` binds a :class:`~gascar.analysis.Target` to a synth. It
adds pitch genes and a note-off gene to the synth's parameter space,
renders a genome batch at the target's length and rate, and scores the
renders with a :class:`gascar.fitness.Comparator` (the distance and its
components live there). It also turns a genome back into a
:class:`~gascar.preset.Preset` that replays exactly what was scored.

Pitch genes
    Pitched targets: ``octave`` (-1 / 0 / +1, guards the detector's octave
    errors) and ``fine_tune_cents`` (+-100) around the target's f0.
    Unpitched targets: ``f0_hz``, log scale over 20 .. 5000 Hz.
Note-off gene
    ``hold_s`` (last gene), linear over 0.01 s .. the target's length. The
    analysis's estimate is only a default: on sounds rendered by GASCAR's
    synths with a known note-off, the estimate was 0.04 .. 0.36 s off and
    that alone left a fitness of 0.1 .. 0.36 with every other parameter
    exact; as a gene it is matched like the rest.
"""

from __future__ import annotations

import numpy as np

from .errors import FitnessError
from .fitness import COMPONENTS, METRIC, Comparator
from .params import ParamSpace, ParamSpec
from .preset import Preset, RenderSettings

#: Rows rendered and compared at once (bounds memory for large batches).
RENDER_ROWS = 16
#: Range of the free frequency gene of unpitched targets (Hz).
FREE_F0_RANGE_HZ = (20.0, 5000.0)
#: Earliest note-off the hold gene allows (s).
HOLD_MIN_S = 0.01
#: Highest peak a preset's level gain lets its own render reach (dBFS): a little headroom below full scale.
PEAK_CEILING_DBFS = -1.0

_OPTIONS = ("weights", "render_rows")
#: Options renamed since: old name -> new name (still accepted: match options saved in checkpoints may hold them).
_RENAMED = {"chunk_size": "render_rows"}


def hold_spec(target) -> ParamSpec:
    """The note-off gene an :class:`Objective` adds: when the note is released, over the target's length.

    The analysis only estimates the note-off (:func:`gascar.analysis.estimate_hold`);
    a wrong note-off alone costs as much fitness as a poor match, so the
    evolution decides it. The estimate is the gene's default.
    """
    duration = target.n_samples / target.sample_rate
    low = min(HOLD_MIN_S, 0.5 * duration)
    return ParamSpec("hold_s", low, duration, unit="s", default=float(np.clip(target.hold_s, low, duration)),
                     description="Note-off time; the release follows it.")


def level_gain_db(audio: np.ndarray, reference: np.ndarray, *, peak_ceiling_dbfs: float = PEAK_CEILING_DBFS) -> float:
    """The output gain (dB) that plays ``audio`` at the loudness of ``reference``.

    The fitness compares loudness-normalised sounds, so it never sees a
    render's level: a match may pick a voice that is all but silent (or far
    too loud). This gain, stored in the preset (``render.gain_db``), makes
    the preset play at the target's loudness: the same RMS over the note
    (the measure the fitness normalises by, :func:`gascar.features.rms_normalize`),
    unless that would lift the render's peak above ``peak_ceiling_dbfs``,
    where it stops (the preset then plays as loud as it can without clipping).

    Parameters
    ----------
    audio, reference : ndarray, shape (n_samples,)
        The render at gain 0 dB and the target (any lengths).

    Returns
    -------
    float
        dB within +-:data:`gascar.preset.MAX_GAIN_DB`; 0 for a silent render.
    """
    from .features import SILENT_RMS
    from .preset import MAX_GAIN_DB

    x = np.asarray(audio, dtype=np.float64)
    rms = float(np.sqrt(np.mean(np.square(x)))) if x.size else 0.0
    ref = np.asarray(reference, dtype=np.float64)
    ref_rms = float(np.sqrt(np.mean(np.square(ref)))) if ref.size else 0.0
    if rms <= SILENT_RMS or ref_rms <= SILENT_RMS:
        return 0.0
    gain_db = 20.0 * np.log10(ref_rms / rms)
    peak = float(np.max(np.abs(x)))
    gain_db = min(gain_db, peak_ceiling_dbfs - 20.0 * np.log10(peak))
    return float(np.clip(gain_db, -MAX_GAIN_DB, MAX_GAIN_DB))


def pitch_specs(target) -> list[ParamSpec]:
    """The pitch genes an :class:`Objective` adds for ``target``."""
    if target.pitched:
        return [
            ParamSpec("octave", scale="choice", choices=("-1", "0", "+1"), default="0",
                      description="Octave around the detected f0 (guards the detector's octave errors)."),
            ParamSpec("fine_tune_cents", -100.0, 100.0, unit="cents", default=0.0,
                      description="Fine tuning around the detected f0."),
        ]
    lo, hi = FREE_F0_RANGE_HZ
    return [ParamSpec("f0_hz", lo, hi, scale="log", unit="Hz", default=200.0,
                      description="Base frequency of the note (the target has no clear pitch).")]



class Objective:
    """Batch fitness of a synth's genomes against one target.

    Parameters
    ----------
    target : gascar.analysis.Target
    synth : gascar.synths.Synth
    weights : mapping or str, optional
        Component weights (see :func:`parse_weights`).
    render_rows : int
        Rows rendered and compared at once (was ``chunk_size``, still accepted).

    Attributes
    ----------
    space : ParamSpace
        The synth's parameters, then the pitch genes, then the note-off gene ``hold_s``.
    n_genes : int
    weights : dict
        Every component's weight.
    metric : str

    Notes
    -----
    Picklable and stateless per call: the evolution sends it once to each
    worker. A genome's fitness does not depend on the other rows of its
    batch beyond float rounding of matrix products.
    """

    def __init__(self, target, synth, **options):
        options = {_RENAMED.get(k, k): v for k, v in options.items()}
        unknown = sorted(set(options) - set(_OPTIONS))
        if unknown:
            raise FitnessError(f"unknown fitness options: {', '.join(unknown)} (known: {', '.join(_OPTIONS)})")
        self.target = target
        self.synth = synth = synth.for_target(target)  # a synth that carries data is built from the target's analysis
        self.comparator = Comparator(target, options.get("weights"), options.get("render_rows", RENDER_ROWS))
        self.weights = self.comparator.weights
        self.render_rows = self.comparator.rows_at_once
        self.metric = METRIC
        self.space = synth.params + ParamSpace([*pitch_specs(target), hold_spec(target)])
        self.n_synth_genes = synth.n_genes
        self.sample_rate = int(target.sample_rate)
        self.n_samples = int(target.n_samples)
        self.hold_s = float(target.hold_s)  # the analysis's estimate: the hold gene's default

    @property
    def n_genes(self) -> int:
        return self.space.n_genes

    def __repr__(self) -> str:
        return f"<Objective {self.synth.name} vs {self.target.name}, {self.n_genes} genes>"

    # -- genomes -> audio ----------------------------------------------------------------------------------------------
    def f0_hz(self, genomes: np.ndarray) -> np.ndarray:
        """Base frequency each genome renders at.

        Parameters
        ----------
        genomes : ndarray, shape (n, n_genes)

        Returns
        -------
        ndarray, shape (n,), float64
            Within 1 Hz .. 0.45 * sample_rate.
        """
        return self._f0_hz(self.space.check_genomes(genomes))

    def _f0_hz(self, g: np.ndarray) -> np.ndarray:
        k = self.n_synth_genes
        if self.target.pitched:
            octave = self.space.specs[k].from_unit(g[:, k]) - 1.0
            cents = self.space.specs[k + 1].from_unit(g[:, k + 1])
            f0 = self.target.f0_hz * 2.0 ** (octave + cents / 1200.0)
        else:
            f0 = self.space.specs[k].from_unit(g[:, k])
        # Within what a synth renders and a preset stores, so the preset replays what was scored.
        return np.clip(f0, 1.0, min(20000.0, 0.45 * self.sample_rate))

    def pitch_genes(self, f0_hz: float) -> tuple[np.ndarray, np.ndarray]:
        """Pitch genes that render at ``f0_hz``: the inverse of :meth:`f0_hz`.

        Parameters
        ----------
        f0_hz : float

        Returns
        -------
        genes : ndarray, shape (m, n_pitch_genes)
            The values of the genes after the synth's, one row per way they
            come nearest: each octave with its fine tune (clipped onto its
            range), or the free frequency gene.
        reached : ndarray of bool, shape (m,)
            Rows that reach ``f0_hz`` within the genes' range.
        """
        k = self.n_synth_genes
        specs = self.space.specs
        if self.target.pitched:  # the octave gene's choices are -1 / 0 / +1 (see _f0_hz)
            octaves = np.arange(len(specs[k].choices)) - 1.0
            cents = 1200.0 * np.log2(f0_hz / self.target.f0_hz) - 1200.0 * octaves
            genes = np.stack([specs[k].to_unit(octaves + 1), specs[k + 1].to_unit(cents)], axis=1)
            return genes, np.abs(cents) <= specs[k + 1].high
        free = specs[k]
        return free.to_unit(np.array([f0_hz]))[:, None], np.array([free.low <= f0_hz <= free.high])

    def note_off_s(self, genomes: np.ndarray) -> np.ndarray:
        """Note-off time each genome renders with (its last gene), shape ``(n,)``, seconds."""
        return self._note_off_s(self.space.check_genomes(genomes))

    def _note_off_s(self, g: np.ndarray) -> np.ndarray:
        return self.space.specs[-1].from_unit(g[:, -1])

    def render(self, genomes: np.ndarray) -> np.ndarray:
        """Exactly the audio that is scored (before loudness normalisation).

        Parameters
        ----------
        genomes : ndarray, shape (n, n_genes)

        Returns
        -------
        ndarray, shape (n, n_samples), float32
        """
        return self._render(self.space.check_genomes(genomes))

    def _render(self, g: np.ndarray) -> np.ndarray:
        return self.synth.render(g[:, : self.n_synth_genes], self._f0_hz(g), self.n_samples, self.sample_rate,
                                 hold_s=self._note_off_s(g))

    def distances(self, audio: np.ndarray) -> np.ndarray:
        """:meth:`Comparator.distances` of rendered audio ``(n, n_samples)`` -> ``(n, n_components)``."""
        return self.comparator.distances(audio, every=True)

    # -- the public calls ----------------------------------------------------------------------------------------------
    def components(self, genomes: np.ndarray) -> dict[str, np.ndarray]:
        """Every component the fitness measures (normalised, unweighted) and the weighted ``total``.

        Parameters
        ----------
        genomes : ndarray, shape (n, n_genes)

        Returns
        -------
        dict of str to ndarray, each shape (n,), float64
        """
        d = self._all(genomes)
        out = {c: d[:, i] for i, c in enumerate(COMPONENTS) if c in self.comparator.measured}
        out["total"] = self.comparator.total(d)
        return out

    def __call__(self, genomes: np.ndarray) -> np.ndarray:
        """Fitness of each genome, lower is better.

        Parameters
        ----------
        genomes : ndarray, shape (n, n_genes)
            Genes in [0, 1].

        Returns
        -------
        ndarray, shape (n,), float64
            Finite; 0 for a render identical to the target.
        """
        return self.comparator.total(self._all(genomes))

    def _all(self, genomes: np.ndarray) -> np.ndarray:
        g = self.space.check_genomes(genomes)
        out = np.empty((g.shape[0], len(COMPONENTS)))
        for i in range(0, g.shape[0], self.render_rows):
            out[i : i + self.render_rows] = self.comparator.distances(self._render(g[i : i + self.render_rows]))
        return out

    # -- starts --------------------------------------------------------------------------------------------------------
    def start_genomes(self) -> np.ndarray | None:
        """Genomes a search of this objective may start from: the synth's analysis-driven starts.

        Each of :meth:`gascar.synths.Synth.start_physical` becomes a genome
        with the pitch genes at the target's f0 (octave 0, no fine tune; the
        free frequency gene at the model's reference frequency for unpitched
        targets) and the note-off gene at the analysis's estimate.

        Returns
        -------
        ndarray, shape (m, n_genes), or None
            None when the synth proposes no start (a target without a clear
            pitch, an unusable model, a synth without starts).
        """
        starts = self.synth.start_physical(self.target)
        if not starts:
            return None
        params = self.synth.params
        k = self.n_synth_genes
        rest = self.space.default_genome()[k:]
        f0 = self.target.f0_hz if self.target.pitched else getattr(self.target.model, "f0_hz", None)
        if f0 is not None:
            pitch, _ = self.pitch_genes(float(f0))
            rest[: pitch.shape[1]] = pitch[1 if self.target.pitched else 0]  # octave 0 (rows are octaves -1, 0, +1)
        rows = []
        for physical in starts:
            unknown = sorted(set(physical) - set(params.names))
            if unknown:
                raise FitnessError(f"synth {self.synth.name!r} proposes starts with unknown parameters: {', '.join(unknown)}")
            genes = params.to_genomes({n: np.atleast_1d(physical[n]) for n in params.names})[0]
            rows.append(np.concatenate([genes, rest]))
        return np.clip(np.array(rows), 0.0, 1.0)

    # -- presets -------------------------------------------------------------------------------------------------------
    def render_settings(self, genome: np.ndarray) -> RenderSettings:
        """Render settings that reproduce what was scored for ``genome`` ``(n_genes,)``, at the target's loudness.

        The output gain (:func:`level_gain_db`) scales what was scored; it
        changes no fitness (the fitness is level-blind).
        """
        g = self.space.check_genomes(np.asarray(genome)[None, :])
        gain_db = level_gain_db(self._render(g)[0], self.target.samples)
        return RenderSettings(f0_hz=float(self.synth.played_f0_hz(self._f0_hz(g))[0]),
                              duration_s=self.n_samples / self.sample_rate, hold_s=float(self._note_off_s(g)[0]),
                              sample_rate=self.sample_rate, gain_db=round(gain_db, 4))

    def preset(self, genome: np.ndarray, **match_info) -> Preset:
        """The preset of one genome ``(n_genes,)``, with render settings that reproduce what was scored.

        Parameters
        ----------
        genome : ndarray, shape (n_genes,)
        **match_info
            Keys of a preset's ``match`` block (``budget``, ``seed`` ...);
            ``target``, ``target_sha256``, ``fitness``, ``components``,
            ``metric`` and ``weights`` are filled in when not given.
        """
        g = self.space.check_genomes(np.asarray(genome))[0]
        info = dict(match_info)
        if "fitness" not in info or "components" not in info:
            comps = self.components(g[None, :])
            info.setdefault("fitness", float(comps.pop("total")[0]))
            info.setdefault("components", {k: float(v[0]) for k, v in comps.items()})
        info.setdefault("target", self.target.name)
        info.setdefault("target_sha256", self.target.sha256)
        info.setdefault("metric", self.metric)
        info.setdefault("weights", dict(self.weights))
        return Preset.from_genome(self.synth.name, g[: self.n_synth_genes], self.render_settings(g), match=info,
                                  voice=self.synth.voice_json())

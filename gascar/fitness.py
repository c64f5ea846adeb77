"""The fitness: how far a rendered batch is from the target. Lower is better; 0 is identical.

:class:`Objective` binds a :class:`~gascar.analysis.Target` to a synth. It
adds pitch genes and a note-off gene to the synth's parameter space,
renders a genome batch at the target's length and rate, loudness-normalises every render
(:func:`gascar.features.rms_normalize`, as the target), takes all features
with one set of array operations (:class:`gascar.features.FeatureExtractor`)
and returns a weighted sum of named components.

Components (each divided by its scale, so 1.0 means "as far apart as two
unrelated sounds typically are")

``stft``
    Mean absolute log-magnitude difference of STFTs at FFT sizes 1024
    (hop 512) and 256 (hop 256): the multi-resolution spectral loss of
    DDSP, which uses six sizes; two keep its range of time and frequency
    resolution at a fraction of the cost. Floored 80 dB below the
    target's peak bin.
``mel``
    Mean absolute difference of 64-band log-mel spectra.
``mfcc``
    Mean absolute difference of MFCC 1..20 (a DCT of the log-mel).
``envelope``
    Mean absolute difference of frame levels (dB re the target's loudest
    frame, floored at -60 dB): the attack, decay and release shape.
``centroid``
    Spectral-centroid trajectory difference in octaves, weighted by the
    target's frame loudness: brightness over time.
``f0``
    f0-contour difference (autocorrelation pitch of both sounds, in
    octaves, capped at one), over the target's periodic frames; pitched
    targets only (0 otherwise).

Scales and default weights are measured, not guessed: see
:func:`measure_scales` and :func:`measure_ranking` (numbers in
:data:`SCALES`, :data:`DEFAULT_WEIGHTS` and the README). To repeat the
measurement (about a minute)::

    python -c "from gascar.fitness import measure_scales, measure_ranking as r;
               print(measure_scales(targets_dir='../shared/targets'));
               print(r(n_per_synth=8, targets_dir='../shared/targets'))" Weights can be set per run
(``Objective(..., weights="stft=1,f0=0.5")``, ``--weights`` on the CLI).

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

import contextlib
import math
from collections.abc import Mapping

import numpy as np

from .errors import FitnessError
from .features import SPECTRAL_FLOOR_DB, FeatureExtractor, rms_normalize
from .params import ParamSpace, ParamSpec
from .preset import Preset, RenderSettings

#: Every component, in report order.
COMPONENTS = ("stft", "mel", "mfcc", "envelope", "centroid", "f0")
#: Name and version of the metric, stored in presets' ``match`` block.
METRIC = "gascar-fitness-1"
#: Typical raw value of each component between unrelated sounds (the median
#: over pairs of random renders of every synth and the shared targets, see
#: :func:`measure_scales`); dividing by it puts every component on one scale.
SCALES = {"stft": 1.59, "mel": 4.77, "mfcc": 4.92, "envelope": 13.1, "centroid": 1.63, "f0": 0.785}
#: Default weights (sum 1), chosen with :func:`measure_ranking` (pool: 8
#: random renders per synth plus the 16 shared targets, 1 s). Of five
#: candidate weightings this one ranked growing random genome perturbations
#: best: mean Spearman 0.966 for the total, against 0.955 with equal
#: weights and 0.943 for the best single component (stft; mel 0.908,
#: mfcc 0.903, envelope 0.940, centroid 0.903, f0 0.808). On detuning,
#: low-pass and attack ladders the total scores 1.000, 0.997 and 1.000.
DEFAULT_WEIGHTS = {"stft": 0.2, "mel": 0.35, "mfcc": 0.1, "envelope": 0.25, "centroid": 0.05, "f0": 0.05}
#: Fitness of a render whose features are not finite.
PENALTY = 1.0e3
#: Rows rendered and compared at once (bounds memory for large batches).
CHUNK = 16
#: Range of the free frequency gene of unpitched targets (Hz).
FREE_F0_RANGE_HZ = (20.0, 5000.0)
#: Earliest note-off the hold gene allows (s).
HOLD_MIN_S = 0.01
#: Frames quieter than this (dB re the target's loudest) do not count for f0.
F0_MIN_DB = 40.0

_OPTIONS = ("weights", "chunk_size")


def parse_weights(spec: str | Mapping[str, float] | None) -> dict[str, float]:
    """Validate fitness weights; return every component's weight.

    Parameters
    ----------
    spec
        ``None`` (defaults), a mapping, or a string ``"stft=1,f0=0.5"``.
        Components not named keep their default weight.

    Raises
    ------
    FitnessError
        For unknown components, values that are not finite non-negative
        numbers, or all weights zero.
    """
    weights = dict(DEFAULT_WEIGHTS)
    if spec is None:
        return weights
    if isinstance(spec, str):
        given: dict[str, object] = {}
        for part in filter(None, (p.strip() for p in spec.split(","))):
            name, sep, value = part.partition("=")
            if not sep:
                raise FitnessError(f"weight {part!r} must look like name=value (e.g. stft=1,f0=0.5)")
            try:
                given[name.strip()] = float(value)
            except ValueError:
                raise FitnessError(f"weight of {name.strip()!r} must be a number, got {value.strip()!r}") from None
    elif isinstance(spec, Mapping):
        given = dict(spec)
    else:
        raise FitnessError(f"weights must be a mapping or a string like 'stft=1,f0=0.5', got {type(spec).__name__}")
    unknown = sorted(set(given) - set(COMPONENTS))
    if unknown:
        raise FitnessError(f"unknown fitness components: {', '.join(unknown)} (known: {', '.join(COMPONENTS)})")
    for name, value in given.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise FitnessError(f"weight of {name!r} must be a finite number >= 0, got {value!r}")
        weights[name] = float(value)
    if not any(weights.values()):
        raise FitnessError("all fitness weights are zero; give at least one positive weight")
    return weights


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


class Comparator:
    """The target's features, computed once, and the distances of audio batches to them.

    Parameters
    ----------
    target : gascar.analysis.Target
    weights : mapping or str, optional
        Component weights (see :func:`parse_weights`).
    chunk_size : int
        Rows compared at once (bounds memory for large batches).
    """

    def __init__(self, target, weights=None, chunk_size: int = CHUNK):
        self.weights = parse_weights(weights)
        self.chunk_size = int(chunk_size)
        if self.chunk_size < 1:
            raise FitnessError(f"chunk_size must be at least 1, got {self.chunk_size}")
        self.sample_rate = int(target.sample_rate)
        self.n_samples = int(target.n_samples)
        self.extractor = FeatureExtractor(self.sample_rate, self.n_samples, target.f0_hz if target.pitched else None)
        self._reference(np.asarray(target.samples, dtype=np.float32))

    def _reference(self, samples: np.ndarray) -> None:
        feats = self.extractor.extract(rms_normalize(samples[None, :]))
        self._floors = {}
        self._ref = {}
        for size in self.extractor.stft_sizes:
            m = feats[f"mag_{size}"][0]
            self._floors[size] = np.float32(max(float(m.max()), 1e-20) * 10 ** (-SPECTRAL_FLOOR_DB / 20))
            self._ref[f"log_{size}"] = np.log(m + self._floors[size])
        mel = feats["mel"][0]
        self._mel_floor = np.float32(max(float(mel.max()), 1e-20) * 10 ** (-SPECTRAL_FLOOR_DB / 10))
        self._ref["log_mel"] = np.log(mel + self._mel_floor)
        self._ref["mfcc"] = self._ref["log_mel"] @ self.extractor.dct
        energy = feats["energy"][0]
        self._energy_ref = np.float32(max(float(energy.max()), 1e-20))
        self._ref["envelope"] = _db(energy, self._energy_ref)
        w = np.sqrt(energy / self._energy_ref)
        self._centroid_w = (w / max(float(w.sum()), 1e-12)).astype(np.float32)
        self._ref["centroid"] = feats["centroid"][0]
        if self.extractor.f0_hz:
            e = feats["f0_energy"][0]
            loud = 10 * np.log10(e / max(float(e.max()), 1e-20) + 1e-12) >= -F0_MIN_DB
            w = feats["periodicity"][0] * loud
            self._f0_w = (w / max(float(w.sum()), 1e-12)).astype(np.float32)
            self._ref["log2_f0"] = np.log2(feats["f0_hz"][0])
        self._scales = np.array([SCALES[c] for c in COMPONENTS])
        self._w = np.array([self.weights[c] for c in COMPONENTS])
        if not self.extractor.f0_hz:
            self._w[COMPONENTS.index("f0")] = 0.0

    def distances(self, audio: np.ndarray) -> np.ndarray:
        """Normalised component distances of audio to the target.

        Parameters
        ----------
        audio : ndarray, shape (n, n_samples)
            The target's length; any level (each row is loudness-normalised).

        Returns
        -------
        ndarray, shape (n, n_components), float64
            Columns in :data:`COMPONENTS` order, each divided by its scale;
            non-finite values become :data:`PENALTY`.
        """
        x = np.asarray(audio, dtype=np.float32)
        if x.ndim == 1:
            x = x[None, :]
        if x.shape[1] != self.n_samples:
            raise FitnessError(f"audio must have {self.n_samples} samples (the target's length), got {x.shape[1]}")
        broken = ~np.all(np.isfinite(x), axis=1)
        if broken.any():
            x = np.where(broken[:, None], 0.0, x).astype(np.float32)
        out = np.empty((x.shape[0], len(COMPONENTS)))
        with _one_blas_thread():
            for i in range(0, x.shape[0], self.chunk_size):
                out[i : i + self.chunk_size] = self._distances(x[i : i + self.chunk_size])
        out /= self._scales
        out[broken] = PENALTY
        return np.where(np.isfinite(out), out, PENALTY)

    def _distances(self, x: np.ndarray) -> np.ndarray:
        feats = self.extractor.extract(rms_normalize(x))
        ref = self._ref
        d = np.zeros((x.shape[0], len(COMPONENTS)))
        for size in self.extractor.stft_sizes:
            d[:, 0] += _mean_abs_diff(np.log(feats[f"mag_{size}"] + self._floors[size]), ref[f"log_{size}"])
        d[:, 0] /= len(self.extractor.stft_sizes)
        log_mel = np.log(feats["mel"] + self._mel_floor)
        d[:, 2] = _mean_abs_diff(log_mel @ self.extractor.dct, ref["mfcc"])
        d[:, 1] = _mean_abs_diff(log_mel, ref["log_mel"])
        d[:, 3] = np.abs(_db(feats["energy"], self._energy_ref) - ref["envelope"]).mean(axis=1)
        d[:, 4] = np.abs(feats["centroid"] - ref["centroid"]) @ self._centroid_w
        if self.extractor.f0_hz:
            diff = np.minimum(np.abs(np.log2(feats["f0_hz"]) - ref["log2_f0"]), 1.0)
            d[:, 5] = diff @ self._f0_w
        return d

    def total(self, d: np.ndarray) -> np.ndarray:
        """Weighted sum of distances ``(n, n_components)``: the fitness ``(n,)``, finite."""
        total = d @ self._w
        return np.where(np.isfinite(total), np.minimum(total, PENALTY), PENALTY)

    def score(self, audio: np.ndarray) -> dict[str, np.ndarray]:
        """Every component and the weighted ``total`` for audio ``(n, n_samples)``; each ``(n,)``."""
        d = self.distances(audio)
        out = {c: d[:, i] for i, c in enumerate(COMPONENTS)}
        out["total"] = self.total(d)
        return out


class Objective:
    """Batch fitness of a synth's genomes against one target.

    Parameters
    ----------
    target : gascar.analysis.Target
    synth : gascar.synths.Synth
    weights : mapping or str, optional
        Component weights (see :func:`parse_weights`).
    chunk_size : int
        Rows rendered and compared at once.

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
        unknown = sorted(set(options) - set(_OPTIONS))
        if unknown:
            raise FitnessError(f"unknown fitness options: {', '.join(unknown)} (known: {', '.join(_OPTIONS)})")
        self.target = target
        self.synth = synth
        self.comparator = Comparator(target, options.get("weights"), options.get("chunk_size", CHUNK))
        self.weights = self.comparator.weights
        self.chunk_size = self.comparator.chunk_size
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
        return self.comparator.distances(audio)

    # -- the public calls ----------------------------------------------------------------------------------------------
    def components(self, genomes: np.ndarray) -> dict[str, np.ndarray]:
        """Every component (normalised, unweighted) and the weighted ``total``.

        Parameters
        ----------
        genomes : ndarray, shape (n, n_genes)

        Returns
        -------
        dict of str to ndarray, each shape (n,), float64
        """
        d = self._all(genomes)
        out = {c: d[:, i] for i, c in enumerate(COMPONENTS)}
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
        for i in range(0, g.shape[0], self.chunk_size):
            out[i : i + self.chunk_size] = self.comparator.distances(self._render(g[i : i + self.chunk_size]))
        return out

    # -- presets -------------------------------------------------------------------------------------------------------
    def render_settings(self, genome: np.ndarray) -> RenderSettings:
        """Render settings that reproduce what was scored for ``genome`` ``(n_genes,)``."""
        g = self.space.check_genomes(np.asarray(genome)[None, :])
        return RenderSettings(f0_hz=float(self.synth.played_f0_hz(self._f0_hz(g))[0]),
                              duration_s=self.n_samples / self.sample_rate, hold_s=float(self._note_off_s(g)[0]),
                              sample_rate=self.sample_rate)

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
        return Preset.from_genome(self.synth.name, g[: self.n_synth_genes], self.render_settings(g), match=info)


def compare_files(target_path, candidate_path, *, weights=None, f0_hz: float | None = None,
                  max_duration_s: float = 4.0, sample_rate: int = 22050) -> dict:
    """Fitness of one sound file against another (``gascar compare``).

    The candidate is loaded like the target (mono, same rate, leading
    silence trimmed), then cut or zero-padded to the target's length.

    Returns
    -------
    dict
        ``fitness``, ``components`` (name to value), ``weights`` and
        ``target`` (the analysis summary), JSON-ready.
    """
    from .analysis import load_target
    from .audio import load_audio

    target = load_target(target_path, f0_hz=f0_hz, max_duration_s=max_duration_s, sample_rate=sample_rate)
    comparator = Comparator(target, weights)
    cand = load_audio(candidate_path, sample_rate=target.sample_rate, max_duration_s=max_duration_s).samples
    y = np.zeros(target.n_samples, np.float32)
    y[: min(cand.size, y.size)] = cand[: y.size]
    scores = comparator.score(y[None, :])
    total = float(scores.pop("total")[0])
    return {"fitness": total, "components": {k: float(v[0]) for k, v in scores.items()},
            "weights": dict(comparator.weights), "target": target.summary()}


_BLAS = None


def _one_blas_thread():
    """Context that runs BLAS on one thread (about 20 us to enter).

    The feature matrices are small: with a threaded BLAS on a busy machine
    the mel and DCT products cost more in thread hand-offs than in work
    (measured: 126 against 600 evaluations per second for ``Objective``
    called directly). One thread also gives the same bits whatever the
    machine's thread settings.
    """
    global _BLAS
    try:
        if _BLAS is None:
            from threadpoolctl import ThreadpoolController

            _BLAS = ThreadpoolController()
        return _BLAS.limit(limits=1, user_api="blas")
    except Exception:  # noqa: BLE001 - only an optimisation
        return contextlib.nullcontext()


def _mean_abs_diff(a: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Mean of ``|a - ref|`` over all but the first axis; overwrites ``a``."""
    a -= ref
    np.abs(a, out=a)
    return a.reshape(a.shape[0], -1).mean(axis=1)


def _db(energy: np.ndarray, reference: np.float32, floor_db: float = 60.0) -> np.ndarray:
    """Frame energy in dB re ``reference``, floored at ``-floor_db``; shape kept."""
    return np.maximum(10.0 * np.log10(energy / reference + np.float32(1e-12)), np.float32(-floor_db))


def target_from_audio(samples: np.ndarray, sample_rate: int, *, f0_hz: float | None = None, name: str = "<audio>"):
    """A :class:`~gascar.analysis.Target` for audio already in memory (tests, measurements).

    Parameters
    ----------
    samples : ndarray, shape (n_samples,)
    f0_hz : float, optional
        The note's f0; ``None`` detects it with pYIN as :func:`~gascar.analysis.load_target` does.
    """
    from .analysis import Target, envelope_db, estimate_hold, pitch_decision, pitch_track

    y = np.ascontiguousarray(samples, dtype=np.float32)
    env = envelope_db(y, sample_rate)
    if f0_hz is None:
        contour, prob = pitch_track(y, sample_rate)
        pitched, f0, conf = pitch_decision(contour, prob, env)
        source = "pyin" if pitched else "none"
    else:
        pitched, f0, conf, source = True, float(f0_hz), 1.0, "user"
    return Target(samples=y, sample_rate=int(sample_rate), path=name, sha256="", pitched=pitched, f0_hz=f0,
                  f0_confidence=conf, f0_source=source, hold_s=estimate_hold(env, sample_rate, y.size))


# -- measuring the scales and weights ---------------------------------------------------------------------------------


def _sound_pool(n_per_synth: int, duration_s: float, sample_rate: int, seed: int, targets_dir=None):
    """Random renders of every synth and the shared targets, all ``duration_s`` long.

    Returns
    -------
    list of (label, samples (n_samples,), f0_hz or None)
    """
    from pathlib import Path

    from .analysis import load_target
    from .synths import get_synth, list_synths

    rng = np.random.default_rng(seed)
    n = int(round(duration_s * sample_rate))
    pool = []
    for name in list_synths():
        synth = get_synth(name)
        g = rng.random((n_per_synth, synth.n_genes))
        f0 = np.exp(rng.uniform(np.log(80.0), np.log(800.0), n_per_synth))
        audio = synth.render(g, f0, n, sample_rate, hold_s=0.6 * duration_s)
        for i in range(n_per_synth):
            if np.sqrt(np.mean(audio[i] ** 2)) > 1e-4:
                pool.append((f"{name}{i}", audio[i], float(f0[i])))
    if targets_dir is not None and Path(targets_dir).is_dir():
        for p in sorted(Path(targets_dir).iterdir()):
            if p.suffix.lower() in (".wav", ".flac"):
                t = load_target(p, sample_rate=sample_rate, cache=False)
                y = np.zeros(n, np.float32)
                y[: min(n, t.n_samples)] = t.samples[:n]
                pool.append((p.stem, y, t.f0_hz))
    return pool


def measure_scales(n_per_synth: int = 12, duration_s: float = 1.0, sample_rate: int = 22050, seed: int = 0,
                   targets_dir=None) -> dict[str, float]:
    """Typical raw component values between unrelated sounds (what :data:`SCALES` holds).

    Every sound of a pool (``n_per_synth`` random renders of each synth and
    the files of ``targets_dir``) is a target once; each component's scale
    is the median of its raw distances from every target to every other
    sound of the pool (the f0 component over pitched targets only).

    Returns
    -------
    dict of str to float
    """
    pool = _sound_pool(n_per_synth, duration_s, sample_rate, seed, targets_dir)
    audio = np.stack([a for _, a, _ in pool])
    raw = {c: [] for c in COMPONENTS}
    for i, (_label, y, f0) in enumerate(pool):
        obj = _raw_objective(y, sample_rate, f0)
        d = obj.distances(np.delete(audio, i, axis=0))
        for j, c in enumerate(COMPONENTS):
            if c != "f0" or f0 is not None:
                raw[c].append(d[:, j])
    return {c: float(np.median(np.concatenate(v))) for c, v in raw.items()}


def _raw_objective(samples: np.ndarray, sample_rate: int, f0_hz: float | None, synth=None, **options) -> Objective:
    """An Objective without scaling (all scales 1) for measurements."""
    from .synths import get_synth

    target = target_from_audio(samples, sample_rate, f0_hz=f0_hz) if f0_hz else _unpitched(samples, sample_rate)
    obj = Objective(target, synth or get_synth("subtractive"), **options)
    obj.comparator._scales = np.ones(len(COMPONENTS))
    return obj


def _unpitched(samples: np.ndarray, sample_rate: int):
    from .analysis import Target, envelope_db, estimate_hold

    y = np.ascontiguousarray(samples, dtype=np.float32)
    return Target(samples=y, sample_rate=sample_rate, path="<audio>", sha256="", pitched=False, f0_hz=None,
                  f0_confidence=0.0, f0_source="none", hold_s=estimate_hold(envelope_db(y, sample_rate), sample_rate, y.size))


def perturbations(samples: np.ndarray, sample_rate: int, kind: str, amounts) -> np.ndarray:
    """Copies of a sound altered by growing amounts (for sanity tests and :func:`measure_ranking`).

    Parameters
    ----------
    samples : ndarray, shape (n_samples,)
    kind : str
        ``"detune"`` (amounts in cents; resampling), ``"lowpass"`` (amounts
        in octaves below Nyquist of a 4th-order Butterworth), ``"attack"``
        (amounts in seconds of a linear fade-in), ``"gain"`` (amounts in dB).
    amounts : sequence of float

    Returns
    -------
    ndarray, shape (len(amounts), n_samples), float32
    """
    import scipy.signal

    x = np.asarray(samples, dtype=np.float64)
    n = x.size
    out = []
    for a in amounts:
        if kind == "detune":
            ratio = 2.0 ** (a / 1200.0)
            t = np.arange(n) * ratio
            y = np.interp(t, np.arange(n), x, right=0.0)
        elif kind == "lowpass":
            if a <= 0:
                y = x
            else:
                sos = scipy.signal.butter(4, 0.999 * 2.0 ** (-a), output="sos")
                y = scipy.signal.sosfilt(sos, x)
        elif kind == "attack":
            ramp = np.clip(np.arange(n) / max(a * sample_rate, 1e-9), 0.0, 1.0) if a > 0 else np.ones(n)
            y = x * ramp
        elif kind == "gain":
            y = x * 10 ** (a / 20.0)
        else:
            raise FitnessError(f"unknown perturbation {kind!r}; use detune, lowpass, attack or gain")
        out.append(y)
    return np.asarray(out, dtype=np.float32)


#: Perturbation ladders of :func:`measure_ranking`.
LADDERS = {
    "detune": (0.0, 10.0, 25.0, 50.0, 100.0, 200.0),
    "lowpass": (0.0, 0.5, 1.0, 2.0, 3.0, 4.0),
    "attack": (0.0, 0.01, 0.03, 0.08, 0.2, 0.4),
    "genes": (0.0, 0.02, 0.05, 0.1, 0.2, 0.4),
}


def measure_ranking(n_per_synth: int = 4, duration_s: float = 1.0, sample_rate: int = 22050, seed: int = 1,
                    targets_dir=None, weights=None) -> dict[str, dict[str, float]]:
    """How well each component (and the weighted total) ranks perturbations by size.

    For every sound of a pool (random renders of each synth, the files of
    ``targets_dir``), ladders of growing detuning, low-pass filtering and
    attack, and (for renders) growing Gaussian noise on the genome, are
    scored; the result is the mean Spearman correlation between perturbation
    size and each component (1.0: always ranked correctly).

    Returns
    -------
    dict of ladder to dict of component (and ``total``) to float
    """
    import scipy.stats

    from .synths import get_synth, list_synths

    rng = np.random.default_rng(seed)
    pool = _sound_pool(n_per_synth, duration_s, sample_rate, seed, targets_dir)
    n = int(round(duration_s * sample_rate))
    scores: dict[str, dict[str, list]] = {k: {c: [] for c in (*COMPONENTS, "total")} for k in LADDERS}
    scale = np.array([SCALES[c] for c in COMPONENTS])

    def record(ladder, obj, audio, pitched):
        d = obj.distances(audio) / scale
        w = np.array([parse_weights(weights)[c] for c in COMPONENTS]) * (1.0 if pitched else np.r_[np.ones(5), 0.0])
        cols = {c: d[:, j] for j, c in enumerate(COMPONENTS)}
        cols["total"] = d @ w
        amounts = np.arange(audio.shape[0])
        for c, v in cols.items():
            if c == "f0" and not pitched:
                continue
            rho = scipy.stats.spearmanr(amounts, v).statistic if np.ptp(v) > 0 else 0.0
            scores[ladder][c].append(float(rho))

    for _label, y, f0 in pool:
        obj = _raw_objective(y, sample_rate, f0)
        for kind in ("detune", "lowpass", "attack"):
            record(kind, obj, perturbations(y, sample_rate, kind, LADDERS[kind]), f0 is not None)
    for name in list_synths():
        synth = get_synth(name)
        for _ in range(n_per_synth):
            g = rng.random(synth.n_genes)
            f0 = float(np.exp(rng.uniform(np.log(80.0), np.log(800.0))))
            base = synth.render(g[None, :], f0, n, sample_rate, hold_s=0.6 * duration_s)
            if np.sqrt(np.mean(base**2)) < 1e-4:
                continue
            direction = rng.standard_normal(synth.n_genes)
            genomes = np.clip(g + np.outer(LADDERS["genes"], direction), 0.0, 1.0)
            audio = synth.render(genomes, f0, n, sample_rate, hold_s=0.6 * duration_s)
            record("genes", _raw_objective(base[0], sample_rate, f0), audio, True)
    return {k: {c: float(np.mean(v)) if v else float("nan") for c, v in comps.items()} for k, comps in scores.items()}

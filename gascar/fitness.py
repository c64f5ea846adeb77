"""The fitness distance: how far rendered audio is from the target's features. Lower is better; 0 is identical.

:class:`Comparator` computes a target's features once, then compares audio
batches to them: every render is loudness-normalised
(:func:`gascar.features.rms_normalize`, as the target), all features come
from one set of array operations (:class:`gascar.features.FeatureExtractor`),
and the result is a weighted sum of named components.
:class:`gascar.objective.Objective` turns genomes into that audio.

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
``sot``
    Spectral optimal transport: per frame, the 1-Wasserstein distance (in
    octaves) between the two power spectra, each normalised to unit mass,
    on a log-frequency axis (Torres, Peeters and Richard 2024); weighted by
    the target's frame loudness. On a common grid it is the L1 distance
    between the two cumulative spectra (:func:`gascar.features.wasserstein_1d`),
    so it costs one cumulative sum per frame. Unlike the components above,
    it grows in proportion to how far partials are from the target's and
    says which way is nearer: a sine 10 cents sharp is 10 cents off, not
    as far as one an octave off.

Scales and default weights are measured, not guessed: see
:func:`gascar.bench.calibrate.measure_scales` and
:func:`gascar.bench.calibrate.measure_ranking` (numbers in
:data:`SCALES`, :data:`DEFAULT_WEIGHTS` and docs/design/fitness.md). To repeat the
measurement (about a minute)::

    python -c "from gascar.bench.calibrate import measure_scales, measure_ranking as r;
               print(measure_scales(targets_dir='../shared/targets'));
               print(r(n_per_synth=8, targets_dir='../shared/targets'))"

Weights can be set per run
(``Objective(..., weights="stft=1,f0=0.5")``, ``--weights`` on the CLI).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

import numpy as np

from . import validate
from .errors import FitnessError
from .features import (
    MAIN_FFT,
    SPECTRAL_FLOOR_DB,
    TRANSPORT_FLOOR,
    FeatureExtractor,
    rms_normalize,
    spectral_cdf,
    transport_widths,
    wasserstein_1d,
)

#: Every component, in report order.
COMPONENTS = ("stft", "mel", "mfcc", "envelope", "centroid", "f0", "sot")
#: Components that are computed only when weighted (an option, not part of the default fitness).
OPTIONAL = ("sot",)
#: Name and version of the metric, stored in presets' ``match`` block.
METRIC = "gascar-fitness-1"
#: Typical raw value of each component between unrelated sounds (the median
#: over pairs of random renders of every synth and the shared targets, see
#: :func:`gascar.bench.calibrate.measure_scales`); dividing by it puts every component on one scale.
SCALES = {"stft": 1.59, "mel": 4.77, "mfcc": 4.92, "envelope": 13.1, "centroid": 1.63, "f0": 0.785, "sot": 1.83}
#: Default weights (sum 1), chosen with :func:`gascar.bench.calibrate.measure_ranking` (pool: 8
#: random renders per synth plus the 16 shared targets, 1 s). Of five
#: candidate weightings this one ranked growing random genome perturbations
#: best: mean Spearman 0.966 for the total, against 0.955 with equal
#: weights and 0.943 for the best single component (stft; mel 0.908,
#: mfcc 0.903, envelope 0.940, centroid 0.903, f0 0.808). On detuning,
#: low-pass and attack ladders the total scores 1.000, 0.997 and 1.000.
#: ``sot`` is an option (``--weights sot=0.3`` ...), 0 by default: see
#: docs/bench/experiments/2026-11-30-objective.md for what it was measured to do.
DEFAULT_WEIGHTS = {"stft": 0.2, "mel": 0.35, "mfcc": 0.1, "envelope": 0.25, "centroid": 0.05, "f0": 0.05, "sot": 0.0}
#: Fitness of a render whose features are not finite.
PENALTY = 1.0e3
#: Rows rendered and compared at once (bounds memory for large batches).
#: Rows compared at once (bounds memory for large batches).
COMPARE_ROWS = 16
F0_MIN_DB = 40.0



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
        weights[name] = validate.number(value, f"weight of {name!r}", low=0, error=FitnessError, what="a finite number >= 0")
    if not any(weights.values()):
        raise FitnessError("all fitness weights are zero; give at least one positive weight")
    return weights



class Comparator:
    """The target's features, computed once, and the distances of audio batches to them.

    Parameters
    ----------
    target : gascar.analysis.Target
    weights : mapping or str, optional
        Component weights (see :func:`parse_weights`).
    rows_at_once : int
        Rows compared at once (bounds memory for large batches).

    Attributes
    ----------
    weights : dict
        Every component's weight.
    scales : ndarray, shape (n_components,)
        What each raw component is divided by (:data:`SCALES`, in
        :data:`COMPONENTS` order); the calibration sets them to 1.
    """

    def __init__(self, target, weights=None, rows_at_once: int = COMPARE_ROWS):
        self.weights = parse_weights(weights)
        self.rows_at_once = int(rows_at_once)
        if self.rows_at_once < 1:
            raise FitnessError(f"rows_at_once must be at least 1, got {self.rows_at_once}")
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
        power = feats[f"mag_{MAIN_FFT}"][0] ** 2
        self._transport_floor = np.float32(max(float(power.sum(axis=-1).max()), 1e-20) * TRANSPORT_FLOOR / power.shape[-1])
        self._ref["sot"] = spectral_cdf(power, self._transport_floor)
        self._transport_widths = transport_widths(self.extractor.freqs_hz, "log")
        self._transport_w = self._centroid_w
        if self.extractor.f0_hz:
            e = feats["f0_energy"][0]
            loud = 10 * np.log10(e / max(float(e.max()), 1e-20) + 1e-12) >= -F0_MIN_DB
            w = feats["periodicity"][0] * loud
            self._f0_w = (w / max(float(w.sum()), 1e-12)).astype(np.float32)
            self._ref["log2_f0"] = np.log2(feats["f0_hz"][0])
        self.scales = np.array([SCALES[c] for c in COMPONENTS])
        self._w = np.array([self.weights[c] for c in COMPONENTS])
        if not self.extractor.f0_hz:
            self._w[COMPONENTS.index("f0")] = 0.0
        #: Components a search computes and reports: an optional component at weight 0 (``sot``) is left out, so it
        #: costs nothing (its column is 0); :meth:`score` and ``distances(..., every=True)`` still measure it.
        self.measured = tuple(c for c in COMPONENTS if c not in OPTIONAL or self.weights[c] != 0)
        self._transport = "sot" in self.measured

    def distances(self, audio: np.ndarray, every: bool = False) -> np.ndarray:
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
            for i in range(0, x.shape[0], self.rows_at_once):
                out[i : i + self.rows_at_once] = self._distances(x[i : i + self.rows_at_once], every)
        out /= self.scales
        out[broken] = PENALTY
        return np.where(np.isfinite(out), out, PENALTY)

    def _distances(self, x: np.ndarray, every: bool = False) -> np.ndarray:
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
        if not (every or self._transport):
            return d
        m = feats[f"mag_{MAIN_FFT}"]
        cdf = spectral_cdf(np.multiply(m, m, out=m), self._transport_floor)  # the magnitudes are not used after this
        d[:, 6] = wasserstein_1d(cdf, ref["sot"], self._transport_widths) @ self._transport_w
        return d

    def total(self, d: np.ndarray) -> np.ndarray:
        """Weighted sum of distances ``(n, n_components)``: the fitness ``(n,)``, finite."""
        total = d @ self._w
        return np.where(np.isfinite(total), np.minimum(total, PENALTY), PENALTY)

    def score(self, audio: np.ndarray) -> dict[str, np.ndarray]:
        """Every component and the weighted ``total`` for audio ``(n, n_samples)``; each ``(n,)``."""
        d = self.distances(audio, every=True)
        out = {c: d[:, i] for i, c in enumerate(COMPONENTS)}
        out["total"] = self.total(d)
        return out



def compare_files(target_path, candidate_path, *, weights=None, f0_hz: float | None = None,
                  max_duration_s: float = 4.0, sample_rate: int = 22050) -> dict:
    """Fitness of one sound file against another (``gascar compare``).

    The candidate is loaded like the target (mono, same rate, leading
    silence trimmed), then cut or zero-padded to the target's length.

    Returns
    -------
    dict
        ``fitness``, ``components`` (name to value), ``weights``,
        ``target`` (the analysis summary), ``lsd_db`` (the judged
        log-spectral distance, :mod:`gascar.closeness`) and ``verdict``,
        JSON-ready.
    """
    from .analysis import load_target
    from .audio import load_audio
    from .closeness import judged_lsd_db, verdict

    target = load_target(target_path, f0_hz=f0_hz, max_duration_s=max_duration_s, sample_rate=sample_rate)
    comparator = Comparator(target, weights)
    cand = load_audio(candidate_path, sample_rate=target.sample_rate, max_duration_s=max_duration_s).samples
    y = np.zeros(target.n_samples, np.float32)
    y[: min(cand.size, y.size)] = cand[: y.size]
    scores = comparator.score(y[None, :])
    total = float(scores.pop("total")[0])
    lsd = judged_lsd_db(target.samples, y, target.sample_rate)
    return {"fitness": total, "components": {k: float(v[0]) for k, v in scores.items()},
            "weights": dict(comparator.weights), "target": target.summary(), "lsd_db": lsd, "verdict": verdict(lsd)}


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

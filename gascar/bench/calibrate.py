"""Calibration of the fitness: measuring the components' scales and choosing the default weights.

Research code, kept beside the benchmarks: it produced
:data:`gascar.fitness.SCALES` and :data:`gascar.fitness.DEFAULT_WEIGHTS`,
and repeats the measurement (about a minute)::

    python -c "from gascar.bench.calibrate import measure_scales, measure_ranking as r;
               print(measure_scales(targets_dir='../shared/targets'));
               print(r(n_per_synth=8, targets_dir='../shared/targets'))"

:func:`perturbations` also serves the fitness's sanity tests.
"""

from __future__ import annotations

import numpy as np

from ..analysis import target_from_audio
from ..errors import FitnessError
from ..fitness import COMPONENTS, SCALES, parse_weights
from ..objective import Objective


def _sound_pool(n_per_synth: int, duration_s: float, sample_rate: int, seed: int, targets_dir=None):
    """Random renders of every synth and the shared targets, all ``duration_s`` long.

    Returns
    -------
    list of (label, samples (n_samples,), f0_hz or None)
    """
    from pathlib import Path

    from ..analysis import load_target
    from ..synths import get_synth, list_synths

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
    """Typical raw component values between unrelated sounds (what :data:`gascar.fitness.SCALES` holds).

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
    from ..synths import get_synth

    target = target_from_audio(samples, sample_rate, f0_hz=f0_hz) if f0_hz else _unpitched(samples, sample_rate)
    obj = Objective(target, synth or get_synth("subtractive"), **options)
    obj.comparator.scales = np.ones(len(COMPONENTS))
    return obj


def _unpitched(samples: np.ndarray, sample_rate: int):
    from ..analysis import Target, envelope_db, estimate_hold

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

    from ..synths import get_synth, list_synths

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

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
    from ..synths import SYNTH_ORDER, get_synth

    rng = np.random.default_rng(seed)
    n = int(round(duration_s * sample_rate))
    pool = []
    for name in SYNTH_ORDER:  # the built-in synths, whatever optional engines are installed
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


#: Perturbation ladders of :func:`measure_ranking`: detuning in cents, low-pass in octaves below
#: Nyquist, attack in seconds, and Gaussian noise on a random genome's genes (standard deviation in
#: gene units: ``genes`` far, ``genes_near`` within the width of the basins refinement must find).
LADDERS = {
    "detune": (0.0, 10.0, 25.0, 50.0, 100.0, 200.0),
    "lowpass": (0.0, 0.5, 1.0, 2.0, 3.0, 4.0),
    "attack": (0.0, 0.01, 0.03, 0.08, 0.2, 0.4),
    "genes": (0.0, 0.02, 0.05, 0.1, 0.2, 0.4),
    "genes_near": (0.0, 0.002, 0.005, 0.01, 0.02, 0.05),
}


def ladder_distances(n_per_synth: int = 4, duration_s: float = 1.0, sample_rate: int = 22050, seed: int = 1,
                     targets_dir=None, directions: int = 1, extra=None) -> dict[str, list[tuple[np.ndarray, bool]]]:
    """Every component's scaled distance along every perturbation ladder of :data:`LADDERS`.

    For every sound of a pool (random renders of each built-in synth, the
    files of ``targets_dir``), ladders of growing detuning, low-pass
    filtering and attack; for ``n_per_synth`` random genomes of each synth,
    ``directions`` random directions of growing Gaussian noise on the genes
    (``genes`` and ``genes_near``).

    ``extra(reference (n_samples,), audio (n_steps, n_samples))``, when
    given, returns further distances ``{name: (n_steps,)}`` (candidate
    components, see :func:`transport_variants`); they become columns after
    the components', in their order, unscaled.

    Returns
    -------
    dict of ladder to list of (distances (n_steps, n_columns), pitched)
        Columns in :data:`gascar.fitness.COMPONENTS` order, divided by
        :data:`gascar.fitness.SCALES`, then ``extra``'s.
    """
    from ..synths import SYNTH_ORDER, get_synth

    rng = np.random.default_rng(seed)
    pool = _sound_pool(n_per_synth, duration_s, sample_rate, seed, targets_dir)
    n = int(round(duration_s * sample_rate))
    scale = np.array([SCALES[c] for c in COMPONENTS])
    out: dict[str, list] = {k: [] for k in LADDERS}

    def columns(obj, reference, audio):
        d = obj.distances(audio) / scale
        if extra is None:
            return d
        return np.column_stack([d, *extra(reference, audio).values()])

    for _label, y, f0 in pool:
        obj = _raw_objective(y, sample_rate, f0)
        for kind in ("detune", "lowpass", "attack"):
            out[kind].append((columns(obj, y, perturbations(y, sample_rate, kind, LADDERS[kind])), f0 is not None))
    for name in SYNTH_ORDER:
        synth = get_synth(name)
        for _ in range(n_per_synth):
            g = rng.random(synth.n_genes)
            f0 = float(np.exp(rng.uniform(np.log(80.0), np.log(800.0))))
            base = synth.render(g[None, :], f0, n, sample_rate, hold_s=0.6 * duration_s)
            if np.sqrt(np.mean(base**2)) < 1e-4:
                continue
            obj = _raw_objective(base[0], sample_rate, f0)
            for _ in range(directions):
                direction = rng.standard_normal(synth.n_genes)
                for kind in ("genes", "genes_near"):
                    genomes = np.clip(g + np.outer(LADDERS[kind], direction), 0.0, 1.0)
                    audio = synth.render(genomes, f0, n, sample_rate, hold_s=0.6 * duration_s)
                    out[kind].append((columns(obj, base[0], audio), True))
    return out


def rank_ladders(ladders: dict[str, list[tuple[np.ndarray, bool]]], weightings: dict[str, object] | None = None,
                 extra_names=()) -> dict[str, dict[str, float]]:
    """Mean Spearman correlation between perturbation size and each component, and each weighted total.

    Parameters
    ----------
    ladders
        From :func:`ladder_distances`.
    weightings : dict of name to weights, optional
        Totals to rank (weights as :func:`gascar.fitness.parse_weights`
        takes them); ``total`` (the default weights) is always included.
    extra_names : sequence of str
        Names of the ``extra`` columns of :func:`ladder_distances`, ranked alone too.

    Returns
    -------
    dict of ladder to dict of component or weighting to float
        1.0: every ladder ranked in order of size.
    """
    import scipy.stats

    totals = {"total": None, **(weightings or {})}
    f0 = COMPONENTS.index("f0")
    out: dict[str, dict[str, float]] = {}
    for ladder, items in ladders.items():
        rho: dict[str, list[float]] = {c: [] for c in (*COMPONENTS, *extra_names, *totals)}
        for d, pitched in items:
            amounts = np.arange(d.shape[0])
            k = len(COMPONENTS)
            cols = {c: d[:, j] for j, c in enumerate(COMPONENTS) if pitched or j != f0}
            cols.update({c: d[:, k + j] for j, c in enumerate(extra_names)})
            for name, spec in totals.items():
                w = np.array([parse_weights(spec)[c] for c in COMPONENTS])
                if not pitched:
                    w[f0] = 0.0
                cols[name] = d[:, :k] @ w
            for c, v in cols.items():
                rho[c].append(float(scipy.stats.spearmanr(amounts, v).statistic) if np.ptp(v) > 0 else 0.0)
        out[ladder] = {c: float(np.mean(v)) if v else float("nan") for c, v in rho.items()}
    return out


def measure_ranking(n_per_synth: int = 4, duration_s: float = 1.0, sample_rate: int = 22050, seed: int = 1,
                    targets_dir=None, weights=None) -> dict[str, dict[str, float]]:
    """How well each component (and the weighted total) ranks perturbations by size.

    :func:`ladder_distances` then :func:`rank_ladders` with ``weights`` as
    the total's: the mean Spearman correlation between perturbation size
    and each component (1.0: always ranked correctly).

    Returns
    -------
    dict of ladder to dict of component (and ``total``) to float
    """
    ladders = ladder_distances(n_per_synth, duration_s, sample_rate, seed, targets_dir)
    ranked = rank_ladders(ladders, {"weighted": weights})
    for scores in ranked.values():
        scores["total"] = scores.pop("weighted")
    return ranked


def transport_variants(reference: np.ndarray, audio: np.ndarray, sample_rate: int = 22050) -> dict[str, np.ndarray]:
    """Candidate spectral optimal-transport distances, for choosing the ``sot`` component by measurement.

    Every variant compares loudness-normalised STFT frames (FFT 1024, hop
    512, Hann), weighted by the reference's frame loudness as ``sot`` is:
    power or magnitude spectra (``pow`` / ``mag``), a linear (Hz) or log
    (octaves) frequency axis, order p = 1 or 2, per frame or of the
    loudness-weighted mean spectrum (``avg``: the long-term spectrum).
    Names: ``<axis>_<spectrum>_p<p>[_avg]``. Order 2 goes through the
    quantile functions (128 quantiles), the order-1 variants through the
    cumulative spectra, as ``sot`` does.

    Parameters
    ----------
    reference : ndarray, shape (n_samples,)
    audio : ndarray, shape (n, n_samples)

    Returns
    -------
    dict of str to ndarray, shape (n,)
        Raw distances (octaves or Hz), unscaled.
    """
    from ..features import MAIN_FFT, TRANSPORT_FLOOR, hann, rms_normalize, spectral_cdf, stft_magnitude, transport_widths

    win = hann(MAIN_FFT)
    freqs = np.fft.rfftfreq(MAIN_FFT, 1.0 / sample_rate)
    ref = stft_magnitude(rms_normalize(np.asarray(reference, np.float32)[None, :]), win, MAIN_FFT // 2)[0]
    mag = stft_magnitude(rms_normalize(np.asarray(audio, np.float32)), win, MAIN_FFT // 2)
    energy = (ref**2).sum(axis=-1)
    w = np.sqrt(energy / max(float(energy.max()), 1e-20))
    w = (w / max(float(w.sum()), 1e-12)).astype(np.float32)
    quantiles = (np.arange(128) + 0.5) / 128
    out = {}
    for spectrum in ("pow", "mag"):
        r = ref**2 if spectrum == "pow" else ref
        x = mag**2 if spectrum == "pow" else mag
        floor = max(float(r.sum(axis=-1).max()), 1e-20) * TRANSPORT_FLOOR / r.shape[-1]
        for avg in (False, True):
            rr, xx = (w @ r, np.einsum("t,ntk->nk", w, x)) if avg else (r, x)
            cr, cx = spectral_cdf(rr, floor), spectral_cdf(xx, floor)
            for axis in ("linear", "log"):
                name = f"{'lin' if axis == 'linear' else 'log'}_{spectrum}"
                d1 = np.abs(cx - cr) @ transport_widths(freqs, axis)
                out[f"{name}_p1" + ("_avg" if avg else "")] = d1 if avg else d1 @ w
                # Order 2: the quantile functions (the first bin whose cumulative mass reaches q) at fixed quantiles.
                pos = np.log2(np.maximum(freqs, 20.0)) if axis == "log" else freqs
                qr = pos[np.minimum((cr[..., :, None] < quantiles).sum(axis=-2), pos.size - 1)]
                qx = pos[np.minimum((cx[..., :, None] < quantiles).sum(axis=-2), pos.size - 1)]
                d2 = np.sqrt(np.mean((qx - qr) ** 2, axis=-1))
                out[f"{name}_p2" + ("_avg" if avg else "")] = d2 if avg else d2 @ w
    return out

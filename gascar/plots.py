"""Report figures as PNG files: spectrograms, envelopes, fitness and species per generation.

Figures are drawn on matplotlib's Agg canvas without pyplot, so nothing
global changes and plotting is safe in worker processes and threads. Every
PNG is written atomically.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .fileio import atomic_path

#: Spectrogram analysis: FFT size, hop and mel bands.
N_FFT = 1024
HOP = 256
N_MELS = 80
#: Dynamic range (dB) shown by spectrograms and envelopes.
RANGE_DB = 80.0
#: Ticks of the mel axis (Hz).
MEL_TICKS_HZ = (100, 250, 500, 1000, 2000, 4000, 8000, 16000)
DPI = 100


def _figure(width_in: float, height_in: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: str | os.PathLike) -> Path:
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=DPI)
    return Path(path)


def log_mel_db(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mel power spectrogram, ``10 log10`` of the power (no reference).

    Parameters
    ----------
    audio : ndarray, shape (n_samples,)
    sample_rate : int

    Returns
    -------
    ndarray, shape (N_MELS, n_frames)
    """
    import librosa

    x = np.asarray(audio, dtype=np.float32).reshape(-1)
    if x.size < N_FFT:
        x = np.pad(x, (0, N_FFT - x.size))
    s = librosa.feature.melspectrogram(y=x, sr=sample_rate, n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS,
                                       fmax=sample_rate / 2, power=2.0)
    return 10 * np.log10(np.maximum(s, 1e-20))


def rms_db(audio: np.ndarray) -> np.ndarray:
    """Frame RMS in dB (no reference): frames of ``N_FFT`` samples centred every ``HOP`` samples.

    Returns
    -------
    ndarray, shape (n_frames,)
        Frame ``i`` is centred on sample ``i * HOP`` (the signal is zero-padded at both ends).
    """
    x = np.pad(np.asarray(audio, dtype=np.float64).reshape(-1), (N_FFT // 2, N_FFT // 2))
    n = 1 + (x.size - N_FFT) // HOP
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n)[:, None]
    return 10 * np.log10(np.maximum(np.mean(x[idx] ** 2, axis=1), 1e-20))


def spectrograms_png(path, target: np.ndarray, match: np.ndarray, sample_rate: int) -> Path:
    """Target and match log-mel spectrograms side by side, on one colour scale (dB re the louder peak)."""
    import librosa

    specs = [log_mel_db(target, sample_rate), log_mel_db(match, sample_rate)]
    top = max(float(s.max()) for s in specs)
    fig = _figure(10, 3.6)
    axes = fig.subplots(1, 2, sharey=True)
    mel_hz = librosa.mel_frequencies(n_mels=N_MELS, fmax=sample_rate / 2)
    ticks = [(float(np.interp(f, mel_hz, np.arange(N_MELS))), f) for f in MEL_TICKS_HZ if f < sample_rate / 2]
    image = None
    for ax, spec, title in zip(axes, specs, ("Target", "Match")):
        dur = spec.shape[1] * HOP / sample_rate
        image = ax.imshow(spec - top, origin="lower", aspect="auto", cmap="magma", vmin=-RANGE_DB, vmax=0.0,
                          extent=(0, dur, -0.5, N_MELS - 0.5), interpolation="nearest")
        ax.set_title(title)
        ax.set_xlabel("time (s)")
        ax.set_yticks([t for t, _ in ticks], [f"{f / 1000:g}k" if f >= 1000 else f"{f:g}" for _, f in ticks])
    axes[0].set_ylabel("frequency (Hz, mel scale)")
    fig.colorbar(image, ax=list(axes), label="dB re peak", shrink=0.9)
    return _save(fig, path)


def envelopes_png(path, target: np.ndarray, match: np.ndarray, sample_rate: int) -> Path:
    """Amplitude envelopes (frame RMS, dB re the louder peak) of target and match, overlaid."""
    envs = [rms_db(target), rms_db(match)]
    top = max(float(e.max()) for e in envs)
    fig = _figure(10, 3.0)
    ax = fig.subplots()
    for env, label, style in zip(envs, ("target", "match"), ("-", "--")):
        t = np.arange(env.size) * HOP / sample_rate
        ax.plot(t, np.maximum(env - top, -RANGE_DB), style, label=label, linewidth=1.6)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("RMS (dB re peak)")
    ax.set_ylim(-RANGE_DB - 2, 3)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right")
    return _save(fig, path)


def _by_key(history: Sequence[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in history:
        out.setdefault(str(r.get("key") or "match"), []).append(r)
    return out


def _finite(v) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return math.nan
    return f if math.isfinite(f) else math.nan


def fitness_png(path, history: Sequence[dict]) -> Path:
    """Best (solid) and median (dashed) fitness per generation, one colour per synth."""
    fig = _figure(10, 3.4)
    ax = fig.subplots()
    positive = True
    drawn = False
    for i, (key, recs) in enumerate(_by_key(history).items()):
        gen = np.array([r.get("generation", j) for j, r in enumerate(recs)], dtype=float)
        best = np.array([_finite(r.get("best")) for r in recs])
        median = np.array([_finite(r.get("median")) for r in recs])
        color = f"C{i % 10}"
        ax.plot(gen, best, "-", color=color, label=f"{key} best", linewidth=1.6)
        ax.plot(gen, median, "--", color=color, label=f"{key} median", linewidth=1.0, alpha=0.8)
        vals = np.concatenate([best, median])
        vals = vals[np.isfinite(vals)]
        drawn = drawn or vals.size > 0
        positive = positive and bool(np.all(vals > 0))
    if drawn and positive:
        ax.set_yscale("log")
    if not drawn:
        ax.text(0.5, 0.5, "no generations recorded", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("generation")
    ax.set_ylabel("fitness (lower is better)")
    ax.grid(alpha=0.3, which="both")
    if drawn:
        ax.legend(loc="upper right", fontsize="small", ncol=2)
    return _save(fig, path)


def species_png(path, history: Sequence[dict]) -> Path:
    """Number of species per generation, one line per synth."""
    fig = _figure(10, 2.8)
    ax = fig.subplots()
    groups = _by_key(history)
    for i, (key, recs) in enumerate(groups.items()):
        gen = np.array([r.get("generation", j) for j, r in enumerate(recs)], dtype=float)
        n = np.array([_finite(r.get("species", 1)) for r in recs])
        ax.step(gen, n, where="post", color=f"C{i % 10}", label=key, linewidth=1.4)
    if not groups:
        ax.text(0.5, 0.5, "no generations recorded", ha="center", va="center", transform=ax.transAxes)
    else:
        ax.legend(loc="upper right", fontsize="small")
    ax.set_xlabel("generation")
    ax.set_ylabel("species")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.grid(alpha=0.3)
    return _save(fig, path)

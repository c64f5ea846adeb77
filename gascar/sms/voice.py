"""Compact voice data from a spectral model: what the spectral voice plays and a preset stores.

:func:`spectral_voice` turns a :class:`~gascar.sms.SoundModel` into a
:class:`SpectralVoiceData`: each partial's frequency ratio and its level at
a few breakpoints shared by all partials and noise bands (chosen greedily
where straight lines in dB between them miss the tracks most, until they
miss by at most :data:`TOLERANCE_DB` or :data:`MAX_BREAKPOINTS` are used),
the slope each keeps after the last breakpoint while held and its release
slope after the note-off (both measured on the note), the residual noise
per band the same way, and a pitch contour. :func:`wavetable_frames`
takes the harmonic levels at a few moments of the note for a wavetable.

Values are rounded as they are stored (0.1 dB, 0.1 cent, 0.1 ms, five
decimals of a ratio) when built, so the voice a match scores is the voice
its preset's JSON rebuilds, bit for bit. :meth:`SpectralVoiceData.from_json`
validates everything it reads and raises :class:`~gascar.errors.PresetError`
naming the field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields

import numpy as np

from ..errors import PresetError
from . import residual
from .envelope import ENV_HOP

#: Breakpoints of a voice at most, and the error (dB) they stop at.
MAX_BREAKPOINTS = 24
TOLERANCE_DB = 1.0
#: Partials and bands more than this far below the loudest partial are dropped (dB).
FLOOR_DB = 70.0
#: Level of silence in the data (dB).
SILENT_DB = -120.0
#: Most partials, bands and breakpoints a stored voice may have (validation).
MAX_PARTIALS = 128
MAX_BANDS = 40
#: Most frames and harmonics a stored wavetable may have (validation).
MAX_FRAMES = 64
MAX_HARMONICS = 256
#: Format version of the voice data in presets.
VOICE_VERSION = 1


@dataclass(frozen=True, eq=False)
class SpectralVoiceData:
    """What the spectral voice plays.

    Attributes
    ----------
    f0_hz : float
        The pitch the data were measured at (partials are ``ratio * f0``).
    hold_s : float
        The note-off of the measured note: breakpoints lie at or before it.
    peak_s : float
        The breakpoint where the note is loudest (attack and decay warps pivot on it).
    ratio : ndarray, shape (n_partials,)
    harmonic : ndarray of int, shape (n_partials,)
        The harmonic number a partial lies near (0 when none): odd/even shaping.
    times_s : ndarray, shape (n_breakpoints,)
        Ascending, the first 0.
    amp_db : ndarray, shape (n_breakpoints, n_partials)
        Each partial's amplitude in dB (:data:`SILENT_DB` for silence).
    sustain_db_per_s, release_db_per_s : ndarray, shape (n_partials,)
    pitch_cents : ndarray, shape (n_breakpoints,)
    noise_edges_hz : ndarray, shape (n_bands + 1,)
    noise_db : ndarray, shape (n_breakpoints, n_bands)
        Gain (dB) of unit-variance white noise masked to each band.
    noise_sustain_db_per_s, noise_release_db_per_s : ndarray, shape (n_bands,)
    """

    f0_hz: float
    hold_s: float
    peak_s: float
    ratio: np.ndarray
    harmonic: np.ndarray
    times_s: np.ndarray
    amp_db: np.ndarray
    sustain_db_per_s: np.ndarray
    release_db_per_s: np.ndarray
    pitch_cents: np.ndarray
    noise_edges_hz: np.ndarray
    noise_db: np.ndarray
    noise_sustain_db_per_s: np.ndarray
    noise_release_db_per_s: np.ndarray

    @property
    def n_partials(self) -> int:
        return int(self.ratio.size)

    def to_json(self) -> dict:
        """JSON-ready values (lists of numbers), with the format's version."""
        out: dict = {"version": VOICE_VERSION}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = v.tolist() if isinstance(v, np.ndarray) else float(v)
        return out

    @classmethod
    def from_json(cls, d: object, where: str = "voice") -> SpectralVoiceData:
        """Validate and read :meth:`to_json`'s form; :class:`PresetError` names the field that is wrong."""
        if not isinstance(d, Mapping):
            raise PresetError(f'"{where}" must be an object, got {type(d).__name__}')
        names = [f.name for f in fields(cls)]
        unknown = sorted(set(d) - set(names) - {"version"})
        if unknown:
            raise PresetError(f'unknown keys in "{where}": {", ".join(unknown)}')
        missing = [n for n in names if n not in d]
        if missing:
            raise PresetError(f'missing keys in "{where}": {", ".join(missing)}')
        version = d.get("version", VOICE_VERSION)
        if isinstance(version, bool) or not isinstance(version, int) or version > VOICE_VERSION:
            raise PresetError(f'"{where}.version" {version!r} is not one this GASCAR reads (up to {VOICE_VERSION})')

        def number(name, lo, hi):
            v = d[name]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not lo <= v <= hi:
                raise PresetError(f'"{where}.{name}" must be a number within {lo:g} .. {hi:g}, got {v!r}')
            return float(v)

        def array(name, shape, lo, hi):
            v = d[name]
            try:
                a = np.array(v, dtype=np.float64)
            except (TypeError, ValueError):
                raise PresetError(f'"{where}.{name}" must be a list of numbers') from None
            if a.shape != shape:
                raise PresetError(f'"{where}.{name}" must have shape {shape}, got {a.shape}')
            if not np.all(np.isfinite(a)) or np.any(a < lo) or np.any(a > hi):
                raise PresetError(f'"{where}.{name}" holds values outside {lo:g} .. {hi:g}')
            return a

        k = len(d["ratio"]) if isinstance(d["ratio"], list) else -1
        nb = len(d["times_s"]) if isinstance(d["times_s"], list) else -1
        nj = len(d["noise_edges_hz"]) - 1 if isinstance(d["noise_edges_hz"], list) else -1
        if not 0 <= k <= MAX_PARTIALS:
            raise PresetError(f'"{where}.ratio" must be a list of at most {MAX_PARTIALS} ratios')
        if not 1 <= nb <= MAX_BREAKPOINTS:
            raise PresetError(f'"{where}.times_s" must be a list of 1 .. {MAX_BREAKPOINTS} times')
        if not 1 <= nj <= MAX_BANDS:
            raise PresetError(f'"{where}.noise_edges_hz" must be a list of 2 .. {MAX_BANDS + 1} edges')
        times = array("times_s", (nb,), 0.0, 600.0)
        if times[0] != 0.0 or np.any(np.diff(times) <= 0):
            raise PresetError(f'"{where}.times_s" must start at 0 and rise')
        edges = array("noise_edges_hz", (nj + 1,), 0.0, 100000.0)
        if np.any(np.diff(edges) <= 0):
            raise PresetError(f'"{where}.noise_edges_hz" must rise')
        harmonic = array("harmonic", (k,), 0, 100000)
        if np.any(harmonic != np.round(harmonic)):
            raise PresetError(f'"{where}.harmonic" must hold whole numbers')
        return cls(
            f0_hz=number("f0_hz", 1.0, 20000.0), hold_s=number("hold_s", 0.0, 600.0), peak_s=number("peak_s", 0.0, 600.0),
            ratio=array("ratio", (k,), 1e-3, 1000.0), harmonic=harmonic.astype(np.int64), times_s=times,
            amp_db=array("amp_db", (nb, k), SILENT_DB, 40.0),
            sustain_db_per_s=array("sustain_db_per_s", (k,), -1000.0, 0.0),
            release_db_per_s=array("release_db_per_s", (k,), -10000.0, 0.0),
            pitch_cents=array("pitch_cents", (nb,), -2400.0, 2400.0), noise_edges_hz=edges,
            noise_db=array("noise_db", (nb, nj), SILENT_DB, 40.0),
            noise_sustain_db_per_s=array("noise_sustain_db_per_s", (nj,), -1000.0, 0.0),
            noise_release_db_per_s=array("noise_release_db_per_s", (nj,), -10000.0, 0.0),
        )


@dataclass(frozen=True, eq=False)
class WavetableVoiceData:
    """A wavetable made of a note's harmonic spectra at a few moments (what the morph voice scans).

    Attributes
    ----------
    f0_hz : float
        The pitch the frames were measured at.
    times_s : ndarray, shape (n_frames,)
        The moment of the note each frame was taken at, ascending.
    levels_db : ndarray, shape (n_frames, n_harmonics)
        Level of harmonics 1 .. n in each frame, dB re the frame's strongest (:data:`SILENT_DB` for none).
    """

    f0_hz: float
    times_s: np.ndarray
    levels_db: np.ndarray

    def to_json(self) -> dict:
        return {"version": VOICE_VERSION, "f0_hz": float(self.f0_hz), "times_s": self.times_s.tolist(),
                "levels_db": self.levels_db.tolist()}

    @classmethod
    def from_json(cls, d: object, where: str = "voice") -> WavetableVoiceData:
        """Validate and read :meth:`to_json`'s form; :class:`PresetError` names the field that is wrong."""
        if not isinstance(d, Mapping):
            raise PresetError(f'"{where}" must be an object, got {type(d).__name__}')
        unknown = sorted(set(d) - {"version", "f0_hz", "times_s", "levels_db"})
        if unknown:
            raise PresetError(f'unknown keys in "{where}": {", ".join(unknown)}')
        missing = [k for k in ("f0_hz", "times_s", "levels_db") if k not in d]
        if missing:
            raise PresetError(f'missing keys in "{where}": {", ".join(missing)}')
        version = d.get("version", VOICE_VERSION)
        if isinstance(version, bool) or not isinstance(version, int) or version > VOICE_VERSION:
            raise PresetError(f'"{where}.version" {version!r} is not one this GASCAR reads (up to {VOICE_VERSION})')
        f0 = d["f0_hz"]
        if isinstance(f0, bool) or not isinstance(f0, (int, float)) or not (math.isfinite(f0) and 1.0 <= f0 <= 20000.0):
            raise PresetError(f'"{where}.f0_hz" must be a number within 1 .. 20000, got {f0!r}')
        try:
            times = np.array(d["times_s"], dtype=np.float64)
            levels = np.array(d["levels_db"], dtype=np.float64)
        except (TypeError, ValueError):
            raise PresetError(f'"{where}.times_s" and "{where}.levels_db" must be lists of numbers') from None
        if times.ndim != 1 or not 2 <= times.size <= MAX_FRAMES or np.any(np.diff(times) < 0) or not np.all(np.isfinite(times)):
            raise PresetError(f'"{where}.times_s" must be 2 .. {MAX_FRAMES} ascending times')
        if levels.ndim != 2 or levels.shape[0] != times.size or not 1 <= levels.shape[1] <= MAX_HARMONICS:
            raise PresetError(f'"{where}.levels_db" must have one row per frame of 1 .. {MAX_HARMONICS} harmonic levels, '
                              f"got shape {levels.shape}")
        if not np.all(np.isfinite(levels)) or np.any(levels < SILENT_DB) or np.any(levels > 0.0):
            raise PresetError(f'"{where}.levels_db" holds values outside {SILENT_DB:g} .. 0 dB')
        return cls(float(f0), times, levels)


def wavetable_frames(model, *, n_frames: int = 8, n_harmonics: int = 64, scan_s: float | None = None) -> WavetableVoiceData:
    """Harmonic spectra of a note at ``n_frames`` moments: a wavetable scanned as the note goes on.

    The moments are where a scan position rising as ``1 - 10 ** (-3 t / scan_s)``
    (an exponential envelope of T60 ``scan_s``, default twice the note's
    held length) crosses ``j / (n_frames - 1)``, the last at the note-off:
    frames lie close together where the timbre changes fastest, after the
    onset. Each frame is the power mean of the partials over the track
    frames within 10 ms of its moment, mapped to the nearest harmonic
    (:meth:`~gascar.sms.SoundModel.harmonic_levels_db`).

    Returns
    -------
    WavetableVoiceData
        Rounded to 0.1 dB as stored.
    """
    hold = max(float(model.hold_s), float(model.times_s[1]) if model.times_s.size > 1 else 0.01)
    scan = scan_s if scan_s is not None else 2.0 * hold
    pos = np.arange(n_frames - 1) / (n_frames - 1)
    moments = np.concatenate([-(scan / 3.0) * np.log10(1.0 - pos), [hold]])
    moments = np.minimum(moments, hold)
    t = model.times_s
    rows = []
    for m in moments:
        near = np.abs(t - m) <= 0.01
        if not near.any():
            near = np.arange(t.size) == int(np.argmin(np.abs(t - m)))
        rows.append(np.maximum(model.harmonic_levels_db(n_harmonics, frames=near), SILENT_DB))
    levels = np.array(rows)
    levels = np.where(np.isfinite(levels), levels, SILENT_DB)
    return WavetableVoiceData(round(float(model.f0_hz), 4), np.round(moments, 4), np.round(levels, 1))


def _fill_db(amp: np.ndarray) -> np.ndarray:
    """Tracks ``(n_frames, n)`` of linear amplitudes (0 = absent) as dB, gaps bridged in dB, silence outside them."""
    db = np.full(amp.shape, SILENT_DB)
    frames = np.arange(amp.shape[0])
    for c in range(amp.shape[1]):
        present = amp[:, c] > 0
        if not present.any():
            continue
        idx = np.flatnonzero(present)
        lv = 20.0 * np.log10(amp[idx, c])
        inside = (frames >= idx[0]) & (frames <= idx[-1])
        db[inside, c] = np.interp(frames[inside], idx, lv)
    return db


def _smooth(x: np.ndarray, width: int) -> np.ndarray:
    """Moving average over ``width`` frames (odd) along axis 0, edges shortened."""
    if width <= 1 or x.shape[0] < 2 or x.size == 0:
        return x
    kernel = np.ones(width) / width
    pad = width // 2
    xp = np.pad(x, [(pad, pad)] + [(0, 0)] * (x.ndim - 1), mode="edge")
    return np.apply_along_axis(lambda c: np.convolve(c, kernel, mode="valid"), 0, xp)


def _slope(t: np.ndarray, db: np.ndarray, lo: float, hi: float, default: float) -> np.ndarray:
    """Least-squares slope (dB/s) of each column of ``db`` ``(n_frames, n)`` over ``t``, ignoring silence."""
    out = np.full(db.shape[1], default)
    for c in range(db.shape[1]):
        ok = db[:, c] > SILENT_DB + 1.0
        if ok.sum() >= 3 and np.ptp(t[ok]) > 0:
            out[c] = np.polyfit(t[ok], db[ok, c], 1)[0]
    return np.clip(out, lo, hi)


def _breakpoints(curves: np.ndarray, weights: np.ndarray, must: list[int], max_points: int, tol: float) -> list[int]:
    """Frame indices where straight lines through ``curves`` ``(n_frames, n)`` miss them by at most ``tol`` (weighted)."""
    n = curves.shape[0]
    chosen = sorted(set([0, n - 1] + [i for i in must if 0 <= i < n]))
    frames = np.arange(n)
    while len(chosen) < max_points:
        approx = np.empty_like(curves)
        for c in range(curves.shape[1]):
            approx[:, c] = np.interp(frames, chosen, curves[chosen, c])
        err = np.max(np.abs(curves - approx) * weights[None, :], axis=1)
        worst = int(np.argmax(err))
        if err[worst] <= tol:
            break
        chosen = sorted(set(chosen) | {worst})
    return chosen


def spectral_voice(model, *, max_breakpoints: int = MAX_BREAKPOINTS, tolerance_db: float = TOLERANCE_DB) -> SpectralVoiceData:
    """The spectral voice of a note from its :class:`~gascar.sms.SoundModel`.

    Returns
    -------
    SpectralVoiceData
        Rounded as stored (see the module docstring).
    """
    t = model.times_s
    hold = float(model.hold_s)
    held = np.flatnonzero(t <= hold)
    if held.size < 2:
        held = np.arange(min(2, t.size))
    amp_db = _smooth(_fill_db(model.partial_amp), 3)
    peak_level = float(amp_db.max()) if amp_db.size else SILENT_DB
    keep = np.flatnonzero(amp_db.max(axis=0) >= peak_level - FLOOR_DB) if amp_db.size else np.zeros(0, np.int64)
    amp_db = np.maximum(amp_db[:, keep], SILENT_DB)
    gains = residual.band_gains(model.noise_power, model.noise_n_fft)
    noise_db = _smooth(np.where(gains > 0, 20.0 * np.log10(np.maximum(gains, 1e-30)), SILENT_DB), 3)
    noise_db = np.where(noise_db >= peak_level - FLOOR_DB - 20.0, noise_db, SILENT_DB)
    hop_s = float(t[1] - t[0]) if t.size > 1 else 1.0
    amp_db, noise_db = _sharpen(model, amp_db, noise_db)
    # The pitch contour over 50 ms: glides and drifts; a vibrato is the voice's genes' business.
    cents = _smooth(1200.0 * np.log2(np.maximum(model.pitch_ratio, 1e-6))[:, None], int(round(0.05 / hop_s)) | 1)[:, 0]
    # Breakpoints over the held part, where straight lines in dB miss the louder tracks most.
    curves = np.concatenate([amp_db[held], noise_db[held], cents[held, None] / 10.0], axis=1)
    tops = np.concatenate([amp_db.max(axis=0), noise_db.max(axis=0), [peak_level]])
    weights = np.clip((tops - (peak_level - 60.0)) / 60.0, 0.05, 1.0)
    total = 10.0 * np.log10(np.sum(10.0 ** (amp_db[held] / 10.0), axis=1) + np.sum(10.0 ** (noise_db[held] / 10.0), axis=1))
    peak_i = int(np.argmax(total))
    bps = _breakpoints(curves, weights, [peak_i], max_breakpoints, tolerance_db)
    times = t[held][bps] - t[held][0]
    # Slopes: the last quarter second held (or 40 % of it), and the release after the note-off.
    last = held[t[held] >= max(t[held][-1] - 0.25, 0.6 * t[held][-1])]
    rel = np.flatnonzero((t > hold) & (t <= hold + 0.4))
    default_rel = -60.0 / max(model.adsr.release_s, 0.01)
    r = 1  # rounding: 0.1 dB
    return SpectralVoiceData(
        f0_hz=round(float(model.f0_hz), 4), hold_s=round(hold, 4), peak_s=round(float(times[bps.index(peak_i)]), 4),
        ratio=np.round(model.partial_hz[keep] / model.f0_hz, 5),
        harmonic=_harmonics(model.partial_hz[keep], model.f0_hz, model.inharmonicity) if model.pitched
        else np.zeros(keep.size, np.int64),
        times_s=np.round(times, 4), amp_db=np.round(amp_db[held][bps], r),
        sustain_db_per_s=np.round(_slope(t[last], amp_db[last], -600.0, 0.0, 0.0), r),
        release_db_per_s=np.round(_slope(t[rel], amp_db[rel], -3000.0, -3.0, default_rel), r) if rel.size
        else np.round(np.full(keep.size, default_rel), r),
        pitch_cents=np.round(cents[held][bps], r), noise_edges_hz=np.round(model.noise_edges_hz, 2),
        noise_db=np.round(noise_db[held][bps], r),
        noise_sustain_db_per_s=np.round(_slope(t[last], noise_db[last], -600.0, 0.0, 0.0), r),
        noise_release_db_per_s=np.round(_slope(t[rel], noise_db[rel], -3000.0, -3.0, default_rel), r) if rel.size
        else np.round(np.full(noise_db.shape[1], default_rel), r),
    )


def _sharpen(model, amp_db: np.ndarray, noise_db: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every level of a frame moved by the amplitude envelope's difference from the tracks' total.

    The tracks' long windows smear onsets and endings; the amplitude
    envelope's short ones do not. The difference (less its median over the
    loud frames, clipped to -40 .. +12 dB) moves partials and noise alike.
    """
    t = model.times_s
    env = np.interp(t, np.arange(model.env_db.size) * ENV_HOP / model.sample_rate, model.env_db)
    # Band noise of gain g has the variance g^2 times its share of the spectrum.
    share = np.diff(model.noise_edges_hz) / (0.5 * model.sample_rate)
    p = 0.5 * np.sum(10.0 ** (amp_db / 10.0), axis=1) + np.sum(10.0 ** (noise_db / 10.0) * share[None, :], axis=1)
    lv = 10.0 * np.log10(np.maximum(p, 1e-30))
    lv -= lv.max()
    delta = env - lv
    loud = env > -40.0
    delta -= np.median(delta[loud]) if loud.any() else 0.0
    delta = np.clip(delta, -40.0, 12.0)
    amp = np.where(amp_db > SILENT_DB, amp_db + delta[:, None], SILENT_DB)
    noise = np.where(noise_db > SILENT_DB, noise_db + delta[:, None], SILENT_DB)
    return np.maximum(amp, SILENT_DB), np.maximum(noise, SILENT_DB)


def _harmonics(freqs_hz: np.ndarray, f0_hz: float, b: float) -> np.ndarray:
    out = np.zeros(freqs_hz.size, np.int64)
    for i, f in enumerate(freqs_hz):
        k = max(1, int(round(f / f0_hz)))
        for kk in (k - 1, k, k + 1):
            if kk >= 1 and abs(kk * f0_hz * math.sqrt(1 + b * kk * kk) / math.sqrt(1 + b) - f) <= 0.25 * f0_hz:
                out[i] = kk
                break
    return out

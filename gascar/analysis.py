"""Target analysis, done once per target: audio, pitch and voicing, note length, with a disk cache.

:func:`load_target` loads a sound with :func:`gascar.audio.load_audio`
(mono, analysis rate, leading silence trimmed, analysis window), cuts the
trailing tail that is more than :data:`TAIL_DB` below the peak (the
fitness floors its envelope there, and shorter renders are cheaper), then:

Pitch
    librosa's pYIN gives an f0 per frame and a voicing probability. Over
    the target's loud frames (within :data:`LOUD_DB` of the peak), the
    target counts as *pitched* when at least :data:`MIN_VOICED_FRACTION`
    of them are voiced and their mean voicing probability reaches
    :data:`MIN_CONFIDENCE`; its f0 is the median of the voiced f0s. A
    pitched target fixes the synth's base frequency (the fitness adds an
    octave gene, -1/0/+1, that absorbs the detector's octave errors, and a
    fine-tune gene of +-100 cents); an unpitched one (drums, noise) gets a
    free frequency gene. ``f0_hz=`` or ``note=`` override the detector.
Note length
    ``hold_s``, the estimated note-off, is the end of the last frame within
    :data:`HOLD_DB` of the peak level. It is the default of the fitness's
    note-off gene (the evolution decides the note-off the synth renders
    with); the render lasts the whole (tail-trimmed) target.
Spectral model
    :func:`gascar.sms.analyse_sound` models the note as partials plus a
    residual noise, with its amplitude envelope, ADSR fit and rolloff and
    centroid trajectories (:class:`gascar.sms.SoundModel`, the ``model``
    attribute): what analysis-driven starts and spectral voices read.
Cache
    Results are kept in memory for the process and on disk under
    :func:`cache_dir` (``cache_dir=`` option, else ``$GASCAR_CACHE_DIR``,
    else ``$XDG_CACHE_HOME/gascar``, else ``~/.cache/gascar``), keyed by the
    file's SHA-256, the analysis options and :data:`CACHE_VERSION`, written
    atomically. ``cache=False`` disables both.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import OrderedDict
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from . import fileio, validate
from .errors import AnalysisError, GascarError
from .jit import first_use
from .sms import SoundModel, analyse_sound

#: Bump when the analysis changes, so stale cache entries are ignored.
CACHE_VERSION = 3
#: Trailing audio more than this many dB below the peak frame is cut.
TAIL_DB = 60.0
#: Frames within this many dB of the peak count for the pitch decision.
LOUD_DB = 30.0
#: Voiced share of the loud frames needed to call a target pitched.
MIN_VOICED_FRACTION = 0.5
#: Pitch confidence (see :func:`pitch_decision`) needed to call a target pitched.
MIN_CONFIDENCE = 0.2
#: Below this confidence a pitched target counts as low-confidence.
LOW_CONFIDENCE = 0.5
#: Frames within this many cents of the median f0 count as stable.
STABLE_CENTS = 50.0
#: hold_s is the end of the last frame within this many dB of the peak.
HOLD_DB = 20.0
#: pYIN search range (Hz).
PYIN_FMIN_HZ = 30.0
PYIN_FMAX_HZ = 2100.0
#: Frame size and hop (samples at the analysis rate) of the envelope and pYIN.
FRAME = 2048
HOP = 256

_OPTION_DEFAULTS = {
    "sample_rate": 22050,
    "max_duration_s": 4.0,
    "f0_hz": None,
    "note": None,
    "unpitched": False,
    "cache": True,
    "cache_dir": None,
}
#: Options that change the analysis (and so the cache key).
_KEYED = ("sample_rate", "max_duration_s", "f0_hz")

#: Targets kept in memory per process (least recently used dropped first),
#: so a batch over thousands of files does not keep them all.
MEMORY_CACHE_SIZE = 32
_MEMORY: OrderedDict[str, Target] = OrderedDict()


@dataclass(frozen=True, eq=False)
class Target:
    """A target sound and everything measured on it once.

    Attributes
    ----------
    samples : ndarray, shape (n_samples,), float32
        Mono audio at ``sample_rate``, leading silence and quiet tail cut.
    sample_rate : int
    path : str
    sha256 : str
        Of the file's bytes.
    pitched : bool
        True when the fitness should fix the synth's base frequency.
    f0_hz : float or None
        The note's f0 (detected or given); ``None`` for unpitched targets.
    f0_confidence : float
        Mean voicing probability over the loud frames (1.0 when given).
    f0_source : str
        ``"pyin"``, ``"user"``, ``"none"`` (pYIN found no clear pitch) or
        ``"unpitched"`` (told so).
    hold_s : float
        Note-off time for renders.
    f0_contour_hz : ndarray, shape (n_frames,), float32
        pYIN f0 per frame (NaN where unvoiced); empty when f0 was given.
    voiced_prob : ndarray, shape (n_frames,), float32
        pYIN voicing probability per frame.
    truncated : bool
        The file was longer than the analysis window.
    options : dict
        The analysis options used.
    model : gascar.sms.SoundModel or None
        The note's spectral model (partials, residual, envelopes); None
        only for targets built without one.
    """

    samples: np.ndarray
    sample_rate: int
    path: str
    sha256: str
    pitched: bool
    f0_hz: float | None
    f0_confidence: float
    f0_source: str
    hold_s: float
    f0_contour_hz: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, np.float32))
    voiced_prob: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, np.float32))
    truncated: bool = False
    options: dict = field(default_factory=dict)
    model: SoundModel | None = field(default=None, repr=False)

    @property
    def n_samples(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.sample_rate

    @property
    def name(self) -> str:
        return Path(self.path).name

    @property
    def note(self) -> str | None:
        """Nearest note name of ``f0_hz`` (``"A4"``), or ``None``."""
        if self.f0_hz is None:
            return None
        from .pitch import hz_to_note

        return hz_to_note(self.f0_hz)

    def summary(self) -> dict:
        """The analysis as plain JSON values."""
        return {
            "path": self.path, "sha256": self.sha256, "sample_rate": self.sample_rate, "duration_s": self.duration_s,
            "pitched": self.pitched, "f0_hz": self.f0_hz, "note": self.note, "f0_confidence": self.f0_confidence,
            "f0_source": self.f0_source, "hold_s": self.hold_s, "truncated": self.truncated,
        }


def cache_dir(option: str | os.PathLike | None = None) -> Path:
    """Folder of the on-disk analysis cache (see the module docstring)."""
    if option is not None:
        return Path(option)
    if os.environ.get("GASCAR_CACHE_DIR"):
        return Path(os.environ["GASCAR_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gascar"


def _options(given: dict) -> dict:
    unknown = sorted(set(given) - set(_OPTION_DEFAULTS))
    if unknown:
        raise AnalysisError(f"unknown analysis options: {', '.join(unknown)} (known: {', '.join(_OPTION_DEFAULTS)})")
    opts = dict(_OPTION_DEFAULTS, **given)
    if opts["f0_hz"] is not None and opts["note"] is not None:
        raise AnalysisError("give either f0_hz or note, not both")
    validate.flag(opts["unpitched"], "unpitched", error=AnalysisError)
    if opts["unpitched"] and opts["f0_hz"] is not None:
        raise AnalysisError("give either f0_hz (or note) or unpitched, not both")
    if opts["note"] is not None:
        from .pitch import note_to_hz

        try:
            opts["f0_hz"] = note_to_hz(opts["note"])
        except GascarError as exc:
            raise AnalysisError(exc.message) from None
    if opts["f0_hz"] is not None:
        opts["f0_hz"] = validate.number(opts["f0_hz"], "f0_hz", low=1.0, high=20000.0, error=AnalysisError,
                                        what="a number within 1 Hz .. 20 kHz")
    opts["sample_rate"] = validate.whole(opts["sample_rate"], "sample_rate", low=8000, high=192000, error=AnalysisError,
                   what="a whole number within 8000 .. 192000 Hz")
    validate.number(opts["max_duration_s"], "max_duration_s", low=0.05, high=600, error=AnalysisError, optional=True,
                    what="within 0.05 .. 600 s")
    return opts


def _cache_key(sha: str, opts: dict) -> str:
    doc = {"version": CACHE_VERSION, "sha256": sha, **{k: opts[k] for k in _KEYED}}
    if opts["unpitched"]:  # keyed only when set, so the entries cached before the option existed stay valid
        doc["unpitched"] = True
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def load_target(path: str | os.PathLike, **options) -> Target:
    """Load and analyse a target sound (cached).

    Parameters
    ----------
    path
        Any audio file :func:`gascar.audio.load_audio` reads.
    **options
        ``sample_rate`` (22050), ``max_duration_s`` (4.0, the analysis
        window), ``f0_hz`` or ``note`` (override the pitch detector: the
        target is then pitched at that f0), ``unpitched`` (False; True: no
        pitch detection, the target is unpitched), ``cache`` (True),
        ``cache_dir`` (see :func:`cache_dir`).

    Returns
    -------
    Target

    Raises
    ------
    AudioError
        For unreadable or unusable files (naming the file).
    AnalysisError
        For unknown or invalid options.
    """
    from .audio import file_sha256

    opts = _options(options)
    p = Path(path)
    sha = file_sha256(p) if p.is_file() else None
    key = _cache_key(sha, opts) if sha else None
    if key and opts["cache"]:
        hit = _MEMORY.get(key)
        if hit is not None and hit.path == str(p):
            _MEMORY.move_to_end(key)
            return hit
        disk = _read_cache(cache_dir(opts["cache_dir"]) / f"{key}.npz", p)
        if disk is not None:
            _remember(key, disk)
            return disk
    target = analyse(p, opts, sha)
    if key and opts["cache"]:
        _remember(key, target)
        _write_cache(cache_dir(opts["cache_dir"]) / f"{key}.npz", target)
    return target


def _remember(key: str, target: Target) -> None:
    _MEMORY[key] = target
    _MEMORY.move_to_end(key)
    while len(_MEMORY) > MEMORY_CACHE_SIZE:
        _MEMORY.popitem(last=False)


def analyse(path: Path, opts: dict, sha: str | None = None) -> Target:
    """Analyse a file without any cache; ``opts`` as validated by :func:`load_target`."""
    from .audio import file_sha256, load_audio

    loaded = load_audio(path, sample_rate=opts["sample_rate"], max_duration_s=opts["max_duration_s"])
    sr = loaded.sample_rate
    y, env_db = trim_tail(loaded.samples, sr)
    hold_s = estimate_hold(env_db, sr, y.size)
    if opts["f0_hz"] is not None:
        pitched, f0, conf, source = True, opts["f0_hz"], 1.0, "user"
        contour = prob = np.zeros(0, np.float32)
    elif opts["unpitched"]:  # told: no detection, the base frequency is a gene
        pitched, f0, conf, source = False, None, 0.0, "unpitched"
        contour = prob = np.zeros(0, np.float32)
    else:
        contour, prob = pitch_track(y, sr)
        pitched, f0, conf = pitch_decision(contour, prob, env_db)
        source = "pyin" if pitched else "none"
    return Target(
        samples=y, sample_rate=sr, path=str(path), sha256=sha or file_sha256(path), pitched=pitched, f0_hz=f0,
        f0_confidence=conf, f0_source=source, hold_s=hold_s, f0_contour_hz=contour, voiced_prob=prob,
        truncated=loaded.truncated, options={k: opts[k] for k in _KEYED} | ({"unpitched": True} if opts["unpitched"] else {}),
        model=sound_model(y, sr, f0 if pitched else None, hold_s, contour),
    )


def sound_model(samples: np.ndarray, sample_rate: int, f0_hz: float | None, hold_s: float,
                f0_contour_hz: np.ndarray | None = None) -> SoundModel:
    """:func:`gascar.sms.analyse_sound` with the pitch decision's f0 and pYIN's contour (frames :data:`HOP` apart)."""
    contour = f0_contour_hz if f0_contour_hz is not None and np.size(f0_contour_hz) else None
    return analyse_sound(samples, sample_rate, f0_hz=f0_hz, hold_s=hold_s, f0_contour_hz=contour, contour_hop=HOP)


def analysed_samples(path: str | os.PathLike, **options) -> tuple[np.ndarray, int]:
    """The samples the analysis of ``path`` works on, without analysing them (no pitch tracking, no cache).

    Parameters
    ----------
    path
        Any audio file :func:`gascar.audio.load_audio` reads.
    **options
        Options of :func:`load_target`; its ``sample_rate`` and
        ``max_duration_s`` decide the samples.

    Returns
    -------
    samples : ndarray, shape (n_samples,), float32
        Mono, resampled, cut to the analysis window, the silent tail trimmed:
        :attr:`Target.samples` of ``load_target(path, **options)``.
    sample_rate : int
    """
    from .audio import load_audio

    opts = _options(options)
    loaded = load_audio(path, sample_rate=opts["sample_rate"], max_duration_s=opts["max_duration_s"])
    y, _ = trim_tail(loaded.samples, loaded.sample_rate)
    return y, loaded.sample_rate


def envelope_db(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Frame RMS level in dB re the loudest frame.

    Parameters
    ----------
    samples : ndarray, shape (n_samples,)

    Returns
    -------
    ndarray, shape (n_frames,), float64
        Frame ``i`` covers samples ``[i * HOP, i * HOP + FRAME)``.
    """
    from .features import frames

    x = np.asarray(samples, dtype=np.float64)
    fr = frames(x[None, :], min(FRAME, max(HOP, x.size)), HOP)[0]
    rms = np.sqrt(np.mean(fr**2, axis=-1))
    return 20 * np.log10(np.maximum(rms, 1e-12) / max(float(rms.max()), 1e-12))


def trim_tail(samples: np.ndarray, sample_rate: int, tail_db: float = TAIL_DB) -> tuple[np.ndarray, np.ndarray]:
    """Cut the tail after the last frame within ``tail_db`` of the peak.

    Returns
    -------
    samples : ndarray, shape (n_kept,), float32
    envelope_db : ndarray, shape (n_frames,)
        :func:`envelope_db` of the kept samples.
    """
    env = envelope_db(samples, sample_rate)
    last = int(np.nonzero(env >= -tail_db)[0][-1])
    end = min(samples.size, last * HOP + FRAME)
    end = max(end, min(samples.size, int(0.05 * sample_rate)))
    y = np.ascontiguousarray(samples[:end], dtype=np.float32)
    return y, envelope_db(y, sample_rate)


def estimate_hold(env_db: np.ndarray, sample_rate: int, n_samples: int, hold_db: float = HOLD_DB) -> float:
    """Note-off time: the end of the last frame within ``hold_db`` of the peak.

    Parameters
    ----------
    env_db : ndarray, shape (n_frames,)
        From :func:`envelope_db`.

    Returns
    -------
    float
        Seconds, within [min(0.02 s, duration), duration].
    """
    last = int(np.nonzero(env_db >= -hold_db)[0][-1])
    end = min(n_samples, last * HOP + FRAME // 2)
    return float(max(min(0.02, n_samples / sample_rate), end / sample_rate))


def pitch_track(samples: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame f0 and voicing probability from pYIN.

    Returns
    -------
    f0_hz : ndarray, shape (n_frames,), float32
        NaN where unvoiced.
    voiced_prob : ndarray, shape (n_frames,), float32
    """
    import librosa

    y = np.asarray(samples, dtype=np.float32)
    if y.size < FRAME:
        y = np.concatenate([y, np.zeros(FRAME - y.size, np.float32)])
    with first_use("pyin"):
        f0, _, prob = librosa.pyin(
            y, fmin=PYIN_FMIN_HZ, fmax=min(PYIN_FMAX_HZ, 0.45 * sample_rate), sr=sample_rate, frame_length=FRAME,
            hop_length=HOP, center=False, resolution=0.1,
        )
    return np.asarray(f0, dtype=np.float32), np.nan_to_num(np.asarray(prob, dtype=np.float32))


def pitch_decision(f0_hz: np.ndarray, voiced_prob: np.ndarray, env_db: np.ndarray) -> tuple[bool, float | None, float]:
    """Pitched or not, the note's f0 and the confidence, from a pYIN track.

    Parameters
    ----------
    f0_hz, voiced_prob : ndarray, shape (n_frames,)
    env_db : ndarray, shape (n_frames_env,)
        :func:`envelope_db` with the same framing (lengths may differ by a frame).

    Returns
    -------
    pitched : bool
    f0_hz : float or None
    confidence : float
        Mean voicing probability over the loud frames.
    """
    n = min(f0_hz.size, env_db.size)
    if n == 0:
        return False, None, 0.0
    loud = env_db[:n] >= -LOUD_DB
    prob = voiced_prob[:n][loud]
    f0 = f0_hz[:n][loud]
    voiced = np.isfinite(f0)
    if not prob.size or not voiced.any():
        return False, None, 0.0
    median = float(np.exp(np.median(np.log(f0[voiced]))))
    stable = float(np.mean(np.abs(1200 * np.log2(f0[voiced] / median)) < STABLE_CENTS))
    conf = float(prob.mean()) * stable
    if voiced.mean() < MIN_VOICED_FRACTION or conf < MIN_CONFIDENCE:
        return False, None, conf
    return True, median, conf



# -- disk cache ------------------------------------------------------------------------------------------------------

_ARRAYS = ("samples", "f0_contour_hz", "voiced_prob")


def _write_cache(path: Path, target: Target) -> None:
    meta = {f.name: getattr(target, f.name) for f in fields(Target) if f.name not in _ARRAYS and f.name != "model"}
    model = target.model.to_arrays() if target.model is not None else {}
    try:
        with fileio.atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, meta=np.array(json.dumps(meta)), **{k: getattr(target, k) for k in _ARRAYS}, **model)
    except (GascarError, OSError):
        pass  # an unwritable cache only costs time


def _read_cache(path: Path, source: Path) -> Target | None:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            arrays = {k: np.asarray(z[k], dtype=np.float32) for k in _ARRAYS}
            model = SoundModel.from_arrays(z)
        if model is None:
            return None  # written by an older analysis: recomputed
        meta["path"] = str(source)
        return Target(**meta, **arrays, model=model)
    except Exception:  # noqa: BLE001 - a damaged cache entry is recomputed
        return None


def clear_memory_cache() -> None:
    """Forget targets analysed in this process (tests; long-lived services)."""
    _MEMORY.clear()


def target_from_audio(samples: np.ndarray, sample_rate: int, *, f0_hz: float | None = None, name: str = "<audio>"):
    """A :class:`Target` for audio already in memory (tests, measurements).

    Parameters
    ----------
    samples : ndarray, shape (n_samples,)
    f0_hz : float, optional
        The note's f0; ``None`` detects it with pYIN as :func:`load_target` does.
    """
    y = np.ascontiguousarray(samples, dtype=np.float32)
    env = envelope_db(y, sample_rate)
    contour = None
    if f0_hz is None:
        contour, prob = pitch_track(y, sample_rate)
        pitched, f0, conf = pitch_decision(contour, prob, env)
        source = "pyin" if pitched else "none"
    else:
        pitched, f0, conf, source = True, float(f0_hz), 1.0, "user"
    hold = estimate_hold(env, sample_rate, y.size)
    return Target(samples=y, sample_rate=int(sample_rate), path=name, sha256="", pitched=pitched, f0_hz=f0,
                  f0_confidence=conf, f0_source=source, hold_s=hold,
                  model=sound_model(y, int(sample_rate), f0 if pitched else None, hold, contour))

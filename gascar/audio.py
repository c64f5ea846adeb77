"""Audio in and out: robust loading of users' files and atomic writing of renders.

Loading (:func:`load_audio`)
    Anything libsndfile reads (WAV 8/16/24/32-bit int and 32/64-bit float,
    FLAC, OGG/Vorbis, AIFF, MP3 where libsndfile supports it), any channel
    count (averaged to mono), any sample rate (resampled with soxr's
    high-quality polyphase resampler to the analysis rate, 22,050 Hz by
    default). The file is read in blocks, mixed to mono block by block, and
    only as far as needed: a long file is never loaded whole.

Leading silence
    Samples before the first one within :data:`TRIM_DB` (50 dB) of the
    file's peak are dropped, keeping :data:`TRIM_KEEP_S` (5 ms) before that
    onset so an attack stays whole. The peak is taken over the first
    ``max_duration_s + MAX_LEADING_SILENCE_S`` seconds.

What fails, with an :class:`~gascar.errors.AudioError` naming the file
    a missing path, a directory, a zero-byte file, a file that is not audio,
    a truncated or corrupt file, zero frames, NaN or infinite samples,
    digital silence (peak below -120 dBFS), and a constant (DC-only) signal.
"""

from __future__ import annotations

import hashlib
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from . import fileio
from .errors import AudioError

#: Analysis sample rate (Hz) targets are resampled to.
DEFAULT_SAMPLE_RATE = 22050
#: Analysis window (s): longer targets are cut, with a warning.
DEFAULT_MAX_DURATION_S = 4.0
#: Leading samples quieter than this many dB below the peak are trimmed.
TRIM_DB = 50.0
#: Audio kept before the detected onset (s).
TRIM_KEEP_S = 0.005
#: How far into a file the onset is looked for (s), beyond the window.
MAX_LEADING_SILENCE_S = 10.0
#: Peak (dBFS) at or below which a file counts as digital silence.
SILENCE_DBFS = -120.0
#: Subtypes :func:`write_audio` accepts.
WRITE_SUBTYPES = ("PCM_16", "PCM_24", "FLOAT")

AUDIO_EXTENSIONS = (".wav", ".wave", ".flac", ".ogg", ".oga", ".aif", ".aiff", ".aifc", ".mp3", ".w64", ".rf64", ".caf", ".au")

_BLOCK_FRAMES = 65536


@dataclass(frozen=True)
class LoadedAudio:
    """A mono signal at the analysis rate, and where it came from.

    Attributes
    ----------
    samples : ndarray, shape (n_samples,), float32
    sample_rate : int
    path : Path
    source_sample_rate, source_channels, source_frames : int
    source_format : str
        libsndfile's format and subtype, e.g. ``"WAV PCM_16"``.
    trimmed_s : float
        Leading silence removed (s).
    truncated : bool
        True if the file was longer than the analysis window and was cut.
    """

    samples: np.ndarray
    sample_rate: int
    path: Path
    source_sample_rate: int
    source_channels: int
    source_frames: int
    source_format: str
    trimmed_s: float
    truncated: bool

    @property
    def n_samples(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.sample_rate


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes, read in blocks."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except OSError as exc:
        raise AudioError(f"cannot read: {exc.strerror or exc}", path=path) from None
    return h.hexdigest()


def _open(p: Path) -> sf.SoundFile:
    if not p.exists():
        raise AudioError("no such file", path=p)
    if p.is_dir():
        raise AudioError("is a directory, expected an audio file", path=p)
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise AudioError(f"cannot read: {exc.strerror or exc}", path=p) from None
    if size == 0:
        raise AudioError("file is empty (0 bytes)", path=p)
    try:
        f = sf.SoundFile(p)
    except sf.LibsndfileError as exc:
        msg = str(getattr(exc, "error_string", "") or exc)
        raise AudioError(f"not a readable audio file ({msg.strip().rstrip('.')})", path=p) from None
    except (OSError, RuntimeError, TypeError, ValueError) as exc:
        raise AudioError(f"not a readable audio file ({exc})", path=p) from None
    if f.format in ("WAV", "WAVEX", "RF64", "W64", "AIFF") and "should be" in (f.extra_info or ""):
        f.close()
        raise AudioError("file is truncated: its header promises more audio than it holds; re-export it", path=p)
    if f.frames == 0:
        f.close()
        raise AudioError("has no audio frames", path=p)
    if f.samplerate <= 0 or f.channels <= 0:
        f.close()
        raise AudioError(f"has an invalid header (sample rate {f.samplerate}, {f.channels} channels)", path=p)
    return f


def _read_mono(f: sf.SoundFile, n_frames: int, p: Path) -> np.ndarray:
    """Read up to ``n_frames`` frames from the current position, mixed to mono float32."""
    blocks = []
    left = n_frames
    while left > 0:
        try:
            block = f.read(min(_BLOCK_FRAMES, left), dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise AudioError(f"file is corrupt or truncated ({str(exc).strip()})", path=p) from None
        if block.shape[0] == 0:
            break
        blocks.append(block.mean(axis=1, dtype=np.float32) if block.shape[1] > 1 else block[:, 0].copy())
        left -= block.shape[0]
    return np.concatenate(blocks) if blocks else np.zeros(0, np.float32)


def resample(x: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Resample a mono signal with soxr (high quality).

    Parameters
    ----------
    x : ndarray, shape (n_samples,)

    Returns
    -------
    ndarray, shape (round(n_samples * sr_out / sr_in),), float32
    """
    if sr_in == sr_out:
        return np.asarray(x, dtype=np.float32)
    import soxr

    return soxr.resample(np.asarray(x, dtype=np.float32), sr_in, sr_out, quality="HQ").astype(np.float32, copy=False)


def load_audio(
    path: str | os.PathLike,
    *,
    sample_rate: int = DEFAULT_SAMPLE_RATE,
    max_duration_s: float | None = DEFAULT_MAX_DURATION_S,
    trim: bool = True,
) -> LoadedAudio:
    """Load a sound file as mono float32 at ``sample_rate``.

    Parameters
    ----------
    path
        Any file libsndfile reads.
    sample_rate
        Analysis rate to resample to.
    max_duration_s
        Analysis window: audio beyond it (after trimming) is not read and a
        warning says so. ``None`` reads everything.
    trim
        Drop leading silence (see the module docstring).

    Returns
    -------
    LoadedAudio

    Raises
    ------
    AudioError
        Naming the file and the problem, for every unusable input.
    """
    p = Path(path)
    if not 1000 <= int(sample_rate) <= 384000:
        raise AudioError(f"analysis sample rate must be within 1000 .. 384000 Hz, got {sample_rate}", path=p)
    if max_duration_s is not None and not max_duration_s > 0:
        raise AudioError(f"analysis window must be positive, got {max_duration_s} s", path=p)
    with _open(p) as f:
        sr_in = f.samplerate
        fmt = f"{f.format} {f.subtype}"
        window = None if max_duration_s is None else int(math.ceil(max_duration_s * sr_in))
        head_frames = f.frames if window is None else window + int(MAX_LEADING_SILENCE_S * sr_in)
        head = _read_mono(f, head_frames, p)
        if head.size == 0:
            raise AudioError("has no audio frames", path=p)
        if not np.all(np.isfinite(head)):
            raise AudioError("contains NaN or infinite samples", path=p)
        peak = float(np.max(np.abs(head)))
        if peak <= 10 ** (SILENCE_DBFS / 20):
            where = "" if head.size >= f.frames else f" in its first {head.size / sr_in:.1f} s"
            raise AudioError(f"is digital silence{where}: nothing to match", path=p)
        if float(np.ptp(head)) <= 1e-6 * peak:
            raise AudioError(f"holds only a constant (DC) value of {head[0]:.4g}: nothing to match", path=p)
        start = 0
        if trim:
            threshold = peak * 10 ** (-TRIM_DB / 20)
            onset = int(np.argmax(np.abs(head) > threshold))
            start = max(0, onset - int(TRIM_KEEP_S * sr_in))
        x = head[start:]
        truncated = False
        if window is not None:
            if x.size < window and start + head.size < f.frames:
                x = np.concatenate([x, _read_mono(f, window - x.size, p)])
                if not np.all(np.isfinite(x)):
                    raise AudioError("contains NaN or infinite samples", path=p)
            truncated = f.frames - start > window
            x = x[:window]
        if truncated:
            warnings.warn(
                f"{p}: {(f.frames - start) / sr_in:.1f} s long; only the first {max_duration_s:g} s are used "
                "(give --max-duration S, the analysis window, to use more)",
                stacklevel=2,
            )
        channels, frames = f.channels, f.frames
    y = resample(x, sr_in, int(sample_rate))
    return LoadedAudio(
        samples=np.ascontiguousarray(y, dtype=np.float32),
        sample_rate=int(sample_rate),
        path=p,
        source_sample_rate=int(sr_in),
        source_channels=int(channels),
        source_frames=int(frames),
        source_format=fmt,
        trimmed_s=start / sr_in,
        truncated=truncated,
    )


def write_audio(
    path: str | os.PathLike,
    samples: np.ndarray,
    sample_rate: int,
    *,
    subtype: str = "PCM_16",
) -> Path:
    """Write a mono signal as WAV, atomically.

    Integer formats cannot hold samples beyond [-1, 1]: such a signal is
    scaled down to a peak of 0.999 with a warning saying by how much, never
    clipped silently.

    Parameters
    ----------
    path
        Destination (``.wav``).
    samples : ndarray, shape (n_samples,)
    sample_rate : int
    subtype
        ``"PCM_16"``, ``"PCM_24"`` or ``"FLOAT"``.

    Returns
    -------
    Path
        The path written.
    """
    p = Path(path)
    if subtype not in WRITE_SUBTYPES:
        raise AudioError(f"unknown WAV subtype {subtype!r}; use one of {', '.join(WRITE_SUBTYPES)}", path=p)
    x = np.asarray(samples, dtype=np.float32).reshape(-1)
    if x.size == 0:
        raise AudioError("nothing to write: the signal has no samples", path=p)
    if not np.all(np.isfinite(x)):
        raise AudioError("refusing to write NaN or infinite samples", path=p)
    peak = float(np.max(np.abs(x)))
    if peak > 1.0 and subtype != "FLOAT":
        gain = 0.999 / peak
        warnings.warn(f"{p}: peak {peak:.3f} exceeds full scale; scaled by {20 * math.log10(gain):.1f} dB to avoid clipping", stacklevel=2)
        x = x * np.float32(gain)
    with fileio.atomic_path(p, suffix=".wav") as tmp:
        sf.write(tmp, x, int(sample_rate), subtype=subtype, format="WAV")
    return p

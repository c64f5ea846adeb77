"""SFZ export: a preset rendered across the keyboard as a self-contained SFZ multisample instrument.

How the keyboard is sampled, and why
    Keys
        By default two octaves either side of the preset's own note (the
        note it was matched at), where a match is trustworthy; ``low_key``
        and ``high_key`` widen that up to the whole MIDI range. A preset of
        an instrument match (several notes) also covers every note it was
        matched on, and each of those keys is sampled.
    One sample every 3 semitones
        Each sample is rendered at its key's own equal-tempered pitch (A4 =
        440 Hz) and plays the keys within a semitone of it, so a sampler
        never shifts a sample by more than one semitone. Shifting by
        resampling also moves formants and envelope times by the same ratio
        (6 % per semitone); a semitone of that is inaudible for most
        sounds, which is why commercial libraries sample in minor thirds.
        17 samples cover the default four octaves, and the synth's own key
        tracking (filter key tracking, inharmonicity, envelope scaling)
        is captured at every third key.
    Velocity layers
        Only for presets that respond to velocity (a synth that always does,
        or keyboard parameters that make it, :meth:`~gascar.synths.base.Synth.responds_to`): layer
        ``k`` of ``n`` is rendered at velocity ``round(127 k / n)`` and
        plays the velocities above the layer below; within a layer
        ``amp_velcurve`` ramps the level from the softer layer's loudness
        to its own, so loudness follows velocity without steps. A synth
        that ignores velocity gets one layer and ``amp_veltrack=0``: every
        velocity then sounds as the synth does, the same.
    Held notes, loops and the release
        Each sample is the note held for its whole render: 3.5 s first,
        and the full ``max_length_s`` (8 s) for notes that had neither
        settled nor died away by then (renders are what an export costs,
        and the slow synths' whole budget). Where the sound settles to a
        steady level (an organ, a pad) a loop of up to 3 s is chosen in the
        steady part, its start placed where the waveform, and the level
        contour around it, best match the loop's end, and a 100 ms
        crossfade is rendered into the sample so the loop is seamless in
        every player (``loop_mode=loop_continuous``). Sounds that die away
        (plucks, bells, drums) play to their end, trimmed 70 dB below their
        peak. Note-off starts ``ampeg_release``, measured per sample by
        rendering the same note with a note-off and comparing it with the
        held one, so it holds for every synth whatever its parameters are
        called. sfizz's
        release falls 78.2 dB (``e**-9``) in ``ampeg_release`` seconds, so
        a measured T60 is written as ``T60 * 78.2 / 60``. A sound that
        ignores note-off is written ``loop_mode=one_shot``, or, if it
        sustains, with the longest release SFZ allows (100 s).
    Level
        The samples carry the preset's output gain (``render.gain_db``, the
        level a match sets for its target's loudness) unless that would
        take the loudest sample past -1 dBFS; the .sfz's header then says
        how much louder to play it.
    44,100 Hz, 24-bit mono WAV by default, in ``samples/`` beside the .sfz.
"""

from __future__ import annotations

import math
import os
import re
import secrets
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import signal

from .. import __version__
from ..audio import WRITE_SUBTYPES, write_audio
from ..errors import ExportError
from ..preset import Preset
from ..synths.base import Synth

#: First line of every exported .sfz; marks a folder GASCAR may replace.
MARKER = "// GASCAR SFZ export"
#: Default keys either side of the preset's note.
DEFAULT_SPAN_SEMITONES = 24
#: Default semitones between sampled keys.
DEFAULT_STEP = 3
#: Velocity layers written for synths that respond to velocity.
DEFAULT_VELOCITY_LAYERS = 4
DEFAULT_SAMPLE_RATE = 44100
DEFAULT_SUBTYPE = "PCM_24"
#: Longest sample (s): a sound still sounding then is faded out.
DEFAULT_MAX_LENGTH_S = 8.0
#: sfizz's release: the level falls by e**-9 (78.2 dB) in ``ampeg_release`` seconds.
SFIZZ_RELEASE_DB = 20 * 9 / math.log(10)

#: Envelope frames (s) for loop, trim and release measurements.
HOP_S = 0.01
#: A sound sustains if its level (0.5 s average) over the last TREND_S seconds ...
TREND_S = 4.0
#: ... falls no faster than this (dB/s; a T60 of 2 minutes) ...
MAX_FALL_DB_PER_S = 0.5
#: ... and sits within this many dB of its peak.
SUSTAIN_FLOOR_DB = 40.0
#: Margin (dB) around the level's swing that marks where its steady part starts.
STEADY_DB = 1.0
#: Shortest and longest loop (s).
MIN_LOOP_S, MAX_LOOP_S = 0.5, 3.0
#: Held notes are first rendered this long (s); those that neither settled with room for a loop of
#: GOOD_LOOP_S nor died away are rendered again for the full length.
SHORT_RENDER_S, GOOD_LOOP_S = 3.5, 2.5
#: Loop-point score lost per dB of level-contour mismatch (the waveform match scores -1 .. 1).
LEVEL_WEIGHT = 0.2
#: Loop crossfade rendered into the sample (s).
CROSSFADE_S = 0.1
#: Half-width of the waveform window matched at the loop point (s).
MATCH_S = 0.02
#: A decaying sample ends this far below its peak.
TRIM_DB = 70.0
#: Fade given to a sample cut while still sounding (s).
FADE_S = 0.2
#: Rendered after the probe's note-off to measure the release (s).
RELEASE_PROBE_S = 4.0
#: The release is read where the held note is within this of its peak.
AUDIBLE_DB = 60.0
#: Release T60 used when it cannot be measured (the sound died first).
FALLBACK_T60_S = 0.1
#: The longest ampeg_release SFZ defines (s).
MAX_RELEASE_S = 100.0
#: The loudest sample a preset's output gain may lead to (dBFS).
SAMPLE_PEAK_DB = -1.0

_NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def key_to_hz(key: int | np.ndarray) -> float | np.ndarray:
    """Equal-tempered frequency of MIDI key(s) (A4 = key 69 = 440 Hz)."""
    return 440.0 * 2.0 ** ((np.asarray(key, dtype=np.float64) - 69.0) / 12.0)


def hz_to_key(f0_hz: float) -> int:
    """The MIDI key nearest ``f0_hz``, within 0 .. 127."""
    return int(min(127, max(0, round(69 + 12 * math.log2(f0_hz / 440.0)))))


def key_name(key: int) -> str:
    """Note name of a MIDI key, e.g. ``60 -> "C4"``."""
    return f"{_NOTE_NAMES[key % 12]}{key // 12 - 1}"


@dataclass(frozen=True)
class SfzOptions:
    """How to sample a preset.

    Attributes
    ----------
    low_key, high_key : int or None
        MIDI key range (0 .. 127). Default: :data:`DEFAULT_SPAN_SEMITONES`
        either side of the preset's note.
    step : int
        Semitones between sampled keys (1 samples every key).
    velocity_layers : int
        Layers for synths that respond to velocity (others get one).
    sample_rate : int
    subtype : str
        WAV sample format, ``"PCM_24"``, ``"PCM_16"`` or ``"FLOAT"``.
    max_length_s : float
        Longest sample; held notes are rendered this long.
    """

    low_key: int | None = None
    high_key: int | None = None
    step: int = DEFAULT_STEP
    velocity_layers: int = DEFAULT_VELOCITY_LAYERS
    sample_rate: int = DEFAULT_SAMPLE_RATE
    subtype: str = DEFAULT_SUBTYPE
    max_length_s: float = DEFAULT_MAX_LENGTH_S

    def __post_init__(self) -> None:
        for name in ("low_key", "high_key"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 127):
                raise ExportError(f"{name} must be a MIDI key within 0 .. 127, got {v!r}")
        if self.low_key is not None and self.high_key is not None and self.low_key > self.high_key:
            raise ExportError(f"low_key {self.low_key} is above high_key {self.high_key}")
        if not 1 <= self.step <= 24:
            raise ExportError(f"step must be within 1 .. 24 semitones, got {self.step!r}")
        if not 1 <= self.velocity_layers <= 16:
            raise ExportError(f"velocity_layers must be within 1 .. 16, got {self.velocity_layers!r}")
        if not 8000 <= self.sample_rate <= 192000:
            raise ExportError(f"sample_rate must be within 8000 .. 192000 Hz, got {self.sample_rate!r}")
        if self.subtype not in WRITE_SUBTYPES:
            raise ExportError(f"subtype must be one of {', '.join(WRITE_SUBTYPES)}, got {self.subtype!r}")
        if not 0.5 <= self.max_length_s <= 60.0:
            raise ExportError(f"max_length_s must be within 0.5 .. 60 s, got {self.max_length_s!r}")

    def key_range(self, center_key: int) -> tuple[int, int]:
        """The keys to cover, given the preset's note."""
        low = self.low_key if self.low_key is not None else max(0, center_key - DEFAULT_SPAN_SEMITONES)
        high = self.high_key if self.high_key is not None else min(127, center_key + DEFAULT_SPAN_SEMITONES)
        if low > high:
            raise ExportError(f"the key range {low} .. {high} is empty (the preset's note is {center_key})")
        return low, high


@dataclass(frozen=True)
class Zone:
    """Keys ``lokey .. hikey`` played by the sample rendered at ``keycenter``."""

    lokey: int
    hikey: int
    keycenter: int


def key_zones(center_key: int, low_key: int, high_key: int, step: int, extra_keys: Sequence[int] = ()) -> list[Zone]:
    """Split ``low_key .. high_key`` among samples every ``step`` semitones.

    Sampled keys lie on the grid ``center_key + step * j``, so the preset's
    own note is one of them, and at ``extra_keys`` (the notes an instrument
    was matched on). Every key goes to the nearest sampled key (the lower
    one on a tie), so the zones tile the range without gaps or overlaps.

    Returns
    -------
    list of Zone
        In key order.
    """
    zones: list[Zone] = []
    for key in range(low_key, high_key + 1):
        j = math.floor((key - center_key) / step)
        below, above = center_key + j * step, center_key + (j + 1) * step
        options = [k for k in (below, above, *extra_keys) if 0 <= k <= 127]
        nearest = min(options, key=lambda k: (abs(k - key), k))
        if zones and zones[-1].keycenter == nearest:
            zones[-1] = Zone(zones[-1].lokey, key, nearest)
        else:
            zones.append(Zone(key, key, nearest))
    return zones


@dataclass(frozen=True)
class Layer:
    """Velocities ``lovel .. hivel`` played by samples rendered at ``velocity``."""

    lovel: int
    hivel: int
    velocity: int


def velocity_layers(synth: Synth, n_layers: int, preset_velocity: int, physical: Mapping | None = None) -> list[Layer]:
    """The velocity layers of a synth (playing ``physical``, a preset's values): one unless it responds to velocity."""
    responds = synth.responds_to(physical) if physical is not None else synth.responds_to_velocity
    if not responds or n_layers == 1:
        return [Layer(1, 127, preset_velocity)]
    tops = [round(127 * k / n_layers) for k in range(1, n_layers + 1)]
    bottoms = [1] + [t + 1 for t in tops[:-1]]
    return [Layer(lo, hi, hi) for lo, hi in zip(bottoms, tops)]


@dataclass(frozen=True)
class SfzRegion:
    """One sample of the instrument and how it is played.

    Attributes
    ----------
    zone : Zone
    layer : Layer
    sample : str
        Path of the WAV relative to the .sfz (forward slashes).
    n_samples : int
    loop : tuple of int or None
        ``(loop_start, loop_end)``, both inclusive sample indices.
    release_t60_s : float or None
        Measured release (T60); None if note-off changes nothing.
    velcurve : tuple
        ``(velocity, gain)`` points of ``amp_velcurve_N`` (layered only).
    """

    zone: Zone
    layer: Layer
    sample: str
    n_samples: int
    loop: tuple[int, int] | None
    release_t60_s: float | None
    velcurve: tuple[tuple[int, float], ...] = ()

    def opcodes(self) -> str:
        """The ``<region>`` line's opcodes."""
        z = self.zone
        ops = [f"sample={self.sample}", f"lokey={z.lokey}", f"hikey={z.hikey}", f"pitch_keycenter={z.keycenter}"]
        if self.loop is not None:
            ops += ["loop_mode=loop_continuous", f"loop_start={self.loop[0]}", f"loop_end={self.loop[1]}"]
        elif self.release_t60_s is None:
            ops.append("loop_mode=one_shot")
        else:
            ops.append("loop_mode=no_loop")
        if self.release_t60_s is not None:
            ops.append(f"ampeg_release={min(MAX_RELEASE_S, self.release_t60_s * SFIZZ_RELEASE_DB / 60.0):.4g}")
        elif self.loop is not None:  # sustains and ignores note-off: ring on as long as SFZ allows
            ops.append(f"ampeg_release={MAX_RELEASE_S:g}")
        ops += [f"amp_velcurve_{v}={g:.4g}" for v, g in self.velcurve]
        return " ".join(ops)


@dataclass
class SfzInstrument:
    """What :func:`export_sfz` wrote."""

    path: Path
    regions: list[SfzRegion] = field(default_factory=list)
    low_key: int = 0
    high_key: int = 127
    seconds: float = 0.0


# -- measurements on rendered audio -------------------------------------------------------------


def frame_db(x: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mean power per :data:`HOP_S` frame, in dB re full scale.

    Parameters
    ----------
    x : ndarray, shape (n_samples,)

    Returns
    -------
    ndarray, shape (n_samples // hop,)
    """
    hop = max(1, round(HOP_S * sample_rate))
    n = x.shape[-1] // hop
    p = np.mean(np.square(x[: n * hop].astype(np.float64)).reshape(n, hop), axis=1)
    return 10.0 * np.log10(p + 1e-20)


def _smooth_db(env_db: np.ndarray, width: int) -> np.ndarray:
    """Moving power average of a frame level (dB) over ``width`` frames ('valid' length)."""
    power = 10.0 ** (env_db / 10.0)
    return 10.0 * np.log10(np.convolve(power, np.ones(width) / width, mode="valid") + 1e-20)


def steady_start(x: np.ndarray, sample_rate: int) -> int | None:
    """First sample of the sound's steady part, or None if it does not sustain.

    The level is averaged over 0.5 s, so vibrato and fast tremolo do not
    count. The sound sustains when that level over the last
    :data:`TREND_S` neither falls faster than :data:`MAX_FALL_DB_PER_S`
    nor sits more than :data:`SUSTAIN_FLOOR_DB` below the peak; slow
    swings (beating, slow LFOs) are allowed. The steady part starts where
    the level last left the band it keeps over that time (1 dB wider).
    """
    env = frame_db(x, sample_rate)
    w = max(1, round(0.5 / HOP_S))
    if env.size < 2 * w:
        return None
    smooth = _smooth_db(env, w)
    n_tail = min(round(TREND_S / HOP_S), smooth.size // 2)
    tail = smooth[-n_tail:]
    slope = float(np.polyfit(np.arange(n_tail) * HOP_S, tail, 1)[0])
    mean = float(np.mean(tail))
    if mean < env.max() - SUSTAIN_FLOOR_DB or slope < -MAX_FALL_DB_PER_S:
        return None
    band = float(np.max(np.abs(tail - mean))) + STEADY_DB
    outside = np.nonzero(np.abs(smooth - mean) > band)[0]
    first = int(outside[-1]) + 1 if outside.size else 0
    return (first + w // 2) * round(HOP_S * sample_rate)


def find_loop(x: np.ndarray, sample_rate: int, start: int) -> tuple[int, int] | None:
    """A seamless loop in the steady part of ``x`` (from ``start``), or None if too little is left.

    The loop ends :data:`MAX_LOOP_S` after the earliest possible start (or
    earlier when the render is shorter). Its start, at least
    :data:`MIN_LOOP_S` earlier, is where the waveform around it best matches
    the waveform around the end (normalised cross-correlation over
    +-:data:`MATCH_S`), less a penalty for the difference of their level
    contours over +-0.25 s (:data:`LEVEL_WEIGHT` per dB), so slow swings
    (beating, LFOs) also meet at the loop point.

    Returns
    -------
    (loop_start, loop_end) : tuple of int
        Inclusive sample indices; ``loop_start`` leaves room for the crossfade before it.
    """
    sr = sample_rate
    hop = round(HOP_S * sr)
    xf, m = round(CROSSFADE_S * sr), round(MATCH_S * sr)
    lo_len, hi_len = round(MIN_LOOP_S * sr), round(MAX_LOOP_S * sr)
    ctx = round(0.25 / HOP_S)  # frames of level contour compared either side
    first = max(start, xf + m, (ctx + 1) * hop)
    end = min(x.size - m - 2, x.size - (ctx + 6) * hop, first + hi_len)
    s_lo, s_hi = max(first, end - hi_len), end - lo_len
    if s_hi < s_lo:
        return None
    ref = x[end + 1 - m: end + 1 + m].astype(np.float64)
    seg = x[s_lo - m: s_hi + m].astype(np.float64)
    corr = signal.correlate(seg, ref, mode="valid", method="fft")
    energy = np.convolve(seg**2, np.ones(2 * m), mode="valid")
    score = corr / np.sqrt(np.maximum(energy * float(ref @ ref), 1e-30))
    level = _smooth_db(frame_db(x, sr), 5)  # 50 ms level contour, frame i centred near i + 2
    fe = end // hop
    frames = np.arange(s_lo // hop, s_hi // hop + 1)
    penalty = np.array([np.mean(np.abs(level[f - ctx: f + ctx] - level[fe - ctx: fe + ctx])) for f in frames])
    score -= LEVEL_WEIGHT * np.interp(np.arange(s_lo, s_hi + 1) / hop, frames, penalty)
    return s_lo + int(np.argmax(score)), end


def crossfade_loop(x: np.ndarray, loop_start: int, loop_end: int, sample_rate: int) -> np.ndarray:
    """``x[: loop_end + 1]`` with the loop's end faded into what precedes its start.

    Sample ``loop_end`` then equals sample ``loop_start - 1``, so a player
    jumping from the end to the start continues the waveform.

    Returns
    -------
    ndarray, shape (loop_end + 1,), float32
    """
    y = np.array(x[: loop_end + 1], dtype=np.float64)
    n = min(round(CROSSFADE_S * sample_rate), loop_start, loop_end - loop_start)
    if n > 0:
        w = np.arange(1, n + 1) / n
        tail = slice(loop_end + 1 - n, loop_end + 1)
        y[tail] = (1.0 - w) * y[tail] + w * x[loop_start - n: loop_start]
    return y.astype(np.float32)


def trim_decay(x: np.ndarray, sample_rate: int) -> np.ndarray:
    """A decaying sample cut :data:`TRIM_DB` below its peak; faded out if it was still sounding.

    Returns
    -------
    ndarray, shape (n_kept,), float32
    """
    env = frame_db(x, sample_rate)
    hop = round(HOP_S * sample_rate)
    y = np.array(x, dtype=np.float32)
    if env.size == 0:
        return y
    loud = np.nonzero(env > env.max() - TRIM_DB)[0]
    end = min(y.size, (int(loud[-1]) + 2) * hop)
    y = y[:end]
    if env[min(env.size - 1, end // hop - 1)] > env.max() - TRIM_DB + 10:
        n = min(y.size, round(FADE_S * sample_rate))
        y[-n:] *= (0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, n))).astype(np.float32)
    return y


def release_t60(held: np.ndarray, released: np.ndarray, hold_s: float, sample_rate: int) -> float | None:
    """T60 (s) of the release a note-off at ``hold_s`` starts, measured against the held note.

    The level difference ``released - held`` (dB) after the note-off is the
    release alone, whatever the held sound does meanwhile; the T60 is twice
    its -30 dB time, or 60 dB over its slope when the held note fades first.

    Parameters
    ----------
    held, released : ndarray, shape (n_samples,)
        The same note held throughout and released at ``hold_s``.

    Returns
    -------
    float or None
        None when the note-off changed the level by less than 3 dB in a
        second or more (the sound ignores note-off).
    """
    sr = sample_rate
    hop = round(HOP_S * sr)
    n = min(held.size, released.size)
    eh, er = frame_db(held[:n], sr), frame_db(released[:n], sr)
    h0 = math.ceil(hold_s * sr / hop)
    if h0 >= eh.size:
        return FALLBACK_T60_S
    audible = eh[h0:] > eh.max() - AUDIBLE_DB
    k = int(np.argmin(audible)) if not audible.all() else audible.size
    if k == 0:
        return FALLBACK_T60_S
    drop = (er - eh)[h0: h0 + k]
    t = (h0 + np.arange(k) + 0.5) * hop / sr - hold_s
    below = np.nonzero(drop <= -30.0)[0]
    if below.size:
        i = int(below[0])
        if i == 0:
            t30 = t[0] * 30.0 / max(30.0, -drop[0])
        else:
            t30 = t[i - 1] + (t[i] - t[i - 1]) * (-30.0 - drop[i - 1]) / (drop[i] - drop[i - 1])
        return max(0.005, 2.0 * t30)
    span = k * hop / sr
    if span >= 0.2:
        slope = float(np.polyfit(t, drop, 1)[0])
        if slope <= -3.0:
            return 60.0 / -slope
        if span >= 1.0:
            return None
    return FALLBACK_T60_S


# -- export ---------------------------------------------------------------------------------------


def _slug(text: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s[:60] or "preset"


def _render(synth: Synth, physical: Mapping, keys: np.ndarray, velocities: np.ndarray, n_samples: int,
            sample_rate: int, hold_s: np.ndarray | None = None, batch: int = 8) -> np.ndarray:
    """Notes ``(n,)`` at their keys and velocities, held or released at ``hold_s``; ``(n, n_samples)`` float32."""
    out = np.empty((keys.size, n_samples), dtype=np.float32)
    for i in range(0, keys.size, batch):
        sl = slice(i, i + batch)
        out[sl] = synth.render_physical(physical, key_to_hz(keys[sl]), n_samples, sample_rate,
                                        hold_s=None if hold_s is None else hold_s[sl], velocity=velocities[sl])
    return out


def _rms(x: np.ndarray, sample_rate: int) -> float:
    head = x[: sample_rate]
    return float(np.sqrt(np.mean(np.square(head, dtype=np.float64)))) if head.size else 0.0


def shape_sample(x: np.ndarray, sample_rate: int) -> tuple[tuple[int, int] | None, np.ndarray, bool]:
    """The sample cut from a held render: its loop (or None), its audio, and whether the render was long enough.

    A render is long enough when the sound settled with room for a loop of
    :data:`GOOD_LOOP_S`, or died away before the render's end.
    """
    start = steady_start(x, sample_rate)
    loop = find_loop(x, sample_rate, start) if start is not None else None
    if loop is not None:
        return loop, crossfade_loop(x, *loop, sample_rate), loop[1] - start >= GOOD_LOOP_S * sample_rate
    data = trim_decay(x, sample_rate)
    return None, data, data.size < x.size - 2 * round(HOP_S * sample_rate)


def _releases(synth: Synth, physical: Mapping, zones: list[Zone], layers: list[Layer], held: list[np.ndarray],
              center: int, sample_rate: int) -> list[float | None]:
    """The release T60 of every (zone, layer) note, measured by :func:`release_t60`.

    Each note is released just after its attack (within 1 dB of its
    loudest). The zone of the preset's own note is measured first with
    :data:`RELEASE_PROBE_S` after the note-off; the others get twice its
    release and 0.3 s more (at least 0.5 s), enough for their -30 dB time
    or their slope.
    """
    sr = sample_rate
    hop = round(HOP_S * sr)
    n_layers = len(layers)
    keys = np.array([z.keycenter for z in zones for _ in layers])
    vels = np.array([la.velocity for _ in zones for la in layers])
    hold = np.empty(len(held))
    for i, x in enumerate(held):
        env = frame_db(x[: round(SHORT_RENDER_S * sr)], sr)
        attack_end = int(np.argmax(env >= env.max() - 1.0)) * hop / sr
        hold[i] = min(max(0.05, attack_end + 0.05), max(0.05, x.size / sr - 0.5))
    zc = min(range(len(zones)), key=lambda j: abs(zones[j].keycenter - center))
    first = np.arange(zc * n_layers, (zc + 1) * n_layers)
    rest = np.array([i for i in range(len(held)) if i // n_layers != zc], dtype=int)
    t60 = [None] * len(held)

    def probe(idx: np.ndarray, tail_s: float) -> None:
        n = round((hold[idx].max() + tail_s) * sr)
        for i, r in zip(idx, _render(synth, physical, keys[idx], vels[idx], n, sr, hold_s=hold[idx])):
            t60[i] = release_t60(held[i], r, float(hold[i]), sr)

    probe(first, RELEASE_PROBE_S)
    if rest.size:
        measured = [t60[i] for i in first]
        longest = RELEASE_PROBE_S if any(t is None for t in measured) else max(measured)
        probe(rest, float(np.clip(2.0 * longest + 0.3, 0.5, RELEASE_PROBE_S)))
    return t60


def matched_keys(preset: Preset) -> list[int]:
    """The keys of the notes an instrument match's preset was matched on (``match.notes``), sorted; empty for others."""
    notes = (preset.match or {}).get("notes") or []
    keys = set()
    for n in notes:
        f0 = n.get("f0_hz") if isinstance(n, Mapping) else None
        if isinstance(f0, (int, float)) and math.isfinite(f0) and f0 > 0:
            keys.add(hz_to_key(float(f0)))
    return sorted(keys)


def plan(preset: Preset, options: SfzOptions) -> tuple[int, int, int, list[Zone], list[Layer]]:
    """The preset's note, the key range, the zones and the velocity layers :func:`export_sfz` renders."""
    synth = preset.synth_instance()
    center = hz_to_key(preset.render.f0_hz)
    low, high = options.key_range(center)
    matched = matched_keys(preset)
    if matched:  # an instrument: cover and sample every note it was matched on (within a range the caller set)
        low = low if options.low_key is not None else min(low, *matched)
        high = high if options.high_key is not None else max(high, *matched)
        matched = [k for k in matched if low <= k <= high]
    return center, low, high, key_zones(center, low, high, options.step, matched), velocity_layers(
        synth, options.velocity_layers, preset.render.velocity, preset.physical())


def export_sfz(preset: Preset, folder: str | os.PathLike, *, options: SfzOptions | None = None,
               name: str | None = None, source: str | None = None) -> SfzInstrument:
    """Render ``preset`` across the keyboard and write an SFZ instrument into ``folder``.

    The folder is written whole or not at all (built beside it, then renamed
    into place); an existing folder is replaced only if it is empty or holds
    an earlier GASCAR SFZ export.

    Parameters
    ----------
    preset
        Any preset, of any registered synth.
    folder
        Output folder: ``<name>.sfz`` and ``samples/*.wav``.
    options
        Sampling (:class:`SfzOptions`); defaults as the module docstring says.
    name
        Instrument and file name stem. Default: from the preset's name.
    source
        The preset's file name, written into the .sfz's header comment.

    Returns
    -------
    SfzInstrument
    """
    import time

    t0 = time.perf_counter()
    options = options or SfzOptions()
    dest = Path(folder)
    _check_destination(dest)
    stem = _slug(name or preset.name or (Path(source).name.split(".")[0] if source else "") or "preset")
    synth = preset.synth_instance()
    physical = preset.physical()
    sr = options.sample_rate
    center, low, high, zones, layers = plan(preset, options)

    # Every (zone, layer) held for a short render; those still changing at its end again for the full length.
    keys = np.array([z.keycenter for z in zones for _ in layers])
    vels = np.array([la.velocity for _ in zones for la in layers])
    short_n, full_n = round(min(options.max_length_s, SHORT_RENDER_S) * sr), round(options.max_length_s * sr)
    held = list(_render(synth, physical, keys, vels, short_n, sr))
    shaped = [shape_sample(x, sr) for x in held]
    redo = np.array([i for i, sh in enumerate(shaped) if not sh[2]], dtype=int) if full_n > short_n else []
    if len(redo):
        for i, x in zip(redo, _render(synth, physical, keys[redo], vels[redo], full_n, sr)):
            held[i], shaped[i] = x, shape_sample(x, sr)
    floor_rms = None
    if len(layers) > 1:  # the softest layer fades to the level of velocity 1
        soft = _render(synth, physical, np.array([z.keycenter for z in zones]), np.ones(len(zones)), sr, sr)
        floor_rms = [_rms(x, sr) for x in soft]
    t60s = _releases(synth, physical, zones, layers, held, center, sr)
    gain_db = sample_gain_db(preset.render.gain_db, max(float(np.max(np.abs(sh[1]))) for sh in shaped))
    shaped = [(loop, data * np.float32(10 ** (gain_db / 20)), ok) for loop, data, ok in shaped]

    tmp = dest.parent / f".{dest.name}.{secrets.token_hex(4)}.part"
    regions: list[SfzRegion] = []
    try:
        (tmp / "samples").mkdir(parents=True)
        for i, (zone, layer) in enumerate((z, la) for z in zones for la in layers):
            x = held[i]
            loop, data, _ = shaped[i]
            t60 = t60s[i]
            velcurve: tuple[tuple[int, float], ...] = ()
            if len(layers) > 1:
                j = layers.index(layer)
                below = floor_rms[zones.index(zone)] if j == 0 else _rms(held[i - 1], sr)
                gain = min(1.0, below / max(_rms(x, sr), 1e-12))
                velcurve = ((layer.lovel, gain), (layer.hivel, 1.0))
            rel = f"samples/{stem}-{zone.keycenter:03d}-v{layer.velocity:03d}.wav"
            write_audio(tmp / rel, data, sr, subtype=options.subtype)
            regions.append(SfzRegion(zone, layer, rel, int(data.size), loop, t60, velcurve))
        sfz_path = tmp / f"{stem}.sfz"
        sfz_path.write_text(sfz_text(preset, regions, layers, center=center, low=low, high=high, options=options,
                                     source=source, gain_db=gain_db), encoding="utf-8")
        _replace_folder(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return SfzInstrument(dest / f"{stem}.sfz", regions, low, high, time.perf_counter() - t0)


def sample_gain_db(preset_gain_db: float, peak: float) -> float:
    """The part of a preset's output gain the samples take: all of it, unless a boost would take the loudest past -1 dBFS.

    Parameters
    ----------
    preset_gain_db
        ``preset.render.gain_db`` (a match's level to its target's loudness).
    peak
        Largest absolute sample value of all the samples before any gain.
    """
    if peak <= 0.0 or preset_gain_db <= 0.0:
        return preset_gain_db
    return min(preset_gain_db, max(0.0, SAMPLE_PEAK_DB - 20 * math.log10(peak)))


def sfz_text(preset: Preset, regions: list[SfzRegion], layers: list[Layer], *, center: int, low: int, high: int,
             options: SfzOptions, source: str | None, gain_db: float = 0.0) -> str:
    """The .sfz file: a header comment naming the source preset and how it was sampled, then the regions."""
    title = preset.name or (Path(source).name if source else "preset")
    r = preset.render
    lines = [f"{MARKER} of {title}"]
    src = f"preset {Path(source).name}, " if source else ""
    lines.append(f"// Source: {src}synth {preset.synth} version {preset.synth_version}, "
                 f"its note {key_name(center)} ({r.f0_hz:.1f} Hz)")
    if preset.description:
        lines.append(f"// {preset.description}")
    if preset.match and preset.match.get("target"):
        lines.append(f"// Matched to {Path(str(preset.match['target'])).name} by GASCAR's evolutionary search.")
    matched = [k for k in matched_keys(preset) if low <= k <= high]
    if matched:
        lines.append(f"// Matched on the notes {', '.join(key_name(k) for k in matched)}: each is a sampled key.")
    lines += [
        "// Play: load this file in any SFZ player (sfizz, ...); it needs only the samples/ folder beside it.",
        f"// Keys {low}-{high} ({key_name(low)}-{key_name(high)}): {len({g.zone for g in regions})} samples, one every "
        f"{options.step} semitone{'s' if options.step > 1 else ''}, each rendered at its key's equal-tempered pitch.",
    ]
    if len(layers) > 1:
        lines.append(f"// Velocity: {len(layers)} layers rendered at velocities "
                     f"{', '.join(str(la.velocity) for la in layers)}; amp_velcurve ramps the level between them.")
    elif preset.responds_to_velocity:
        lines.append(f"// Velocity: one layer rendered at velocity {layers[0].velocity}; every velocity plays it (amp_veltrack=0).")
    else:
        lines.append("// Velocity: this synth does not respond to velocity, so neither does the instrument (amp_veltrack=0).")
    lines += [
        f"// Samples: {options.sample_rate} Hz {options.subtype.replace('PCM_', '')}-bit mono WAV of the note held; "
        "sustained sounds loop (crossfade rendered in), decaying ones play to their end.",
        "// Release: note-off starts ampeg_release, measured from the synth's own release "
        f"(written as T60 x {SFIZZ_RELEASE_DB / 60:.3f}: sfizz's release falls {SFIZZ_RELEASE_DB:.1f} dB in ampeg_release seconds).",
        *_level_comment(preset.render.gain_db, gain_db),
        f"// Made with GASCAR {__version__}.",
        "",
        "<control>",
        "",
        "<global>",
    ]
    if len(layers) == 1:
        lines.append("amp_veltrack=0")
    for layer in layers:
        lines.append("")
        lines.append(f"<group> lovel={layer.lovel} hivel={layer.hivel}" if len(layers) > 1 else "<group>")
        lines += [f"<region> {g.opcodes()}" for g in regions if g.layer == layer]
    return "\n".join(lines) + "\n"


def _level_comment(preset_gain_db: float, gain_db: float) -> list[str]:
    if preset_gain_db == 0.0 and gain_db == 0.0:
        return []
    if abs(preset_gain_db - gain_db) < 0.05:
        return [f"// Level: the samples carry the preset's output gain ({preset_gain_db:+.1f} dB, its target's loudness)."]
    return [f"// Level: the samples carry {gain_db:+.1f} dB of the preset's {preset_gain_db:+.1f} dB output gain (more would "
            f"pass -1 dBFS); raise the player's volume by {preset_gain_db - gain_db:.1f} dB for its target's loudness."]


def _is_export(folder: Path) -> bool:
    for p in folder.glob("*.sfz"):
        try:
            with open(p, encoding="utf-8") as fh:
                if fh.readline().startswith(MARKER):
                    return True
        except (OSError, UnicodeDecodeError):
            continue
    return False


def _check_destination(dest: Path) -> None:
    if dest.exists():
        if not dest.is_dir():
            raise ExportError("exists and is not a folder; give a folder for the SFZ instrument", path=dest)
        if any(dest.iterdir()) and not _is_export(dest):
            raise ExportError("is not empty and holds no GASCAR SFZ export; give a new or empty folder", path=dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create folder: {exc.strerror or exc}", path=dest.parent) from None


def _replace_folder(tmp: Path, dest: Path) -> None:
    """Move the finished folder ``tmp`` onto ``dest``, replacing an earlier export."""
    if not dest.exists():
        os.replace(tmp, dest)
        return
    _check_destination(dest)
    old = dest.parent / f".{dest.name}.{secrets.token_hex(4)}.old"
    os.replace(dest, old)
    try:
        os.replace(tmp, dest)
    except OSError:
        os.replace(old, dest)
        raise
    shutil.rmtree(old, ignore_errors=True)


def file_stem(path: str | os.PathLike) -> str:
    """A preset file's name without ``.preset.json`` (or its one suffix): the instrument's file name."""
    p = Path(path)
    return p.name[: -len(".preset.json")] if p.name.endswith(".preset.json") else p.stem


def default_folder(preset_path: str | os.PathLike) -> Path:
    """Where ``gascar match --export sfz`` puts a preset's instrument: ``<stem>-sfz/`` beside it."""
    p = Path(preset_path)
    return p.with_name(file_stem(p) + "-sfz")


def export_preset_file(path: str | os.PathLike, folder: str | os.PathLike | None = None, *,
                       options: SfzOptions | None = None) -> SfzInstrument:
    """Load a preset file (JSON, or a .syx voice) and export it (:func:`export_sfz`) into ``folder``.

    ``folder`` defaults to :func:`default_folder`.
    """
    from . import load_preset

    p = Path(path)
    return export_sfz(load_preset(p), default_folder(p) if folder is None else folder, options=options, name=file_stem(p),
                      source=p.name)

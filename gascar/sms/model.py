"""The spectral model of a note: partials, residual noise, envelopes and trajectories, with the descriptors starts use.

:func:`analyse_sound` runs the pieces of :mod:`gascar.sms` over a note once
(:func:`gascar.analysis.load_target` calls it and caches the result with
the rest of the target's analysis) and returns a :class:`SoundModel`: plain
arrays, picklable and storable in the analysis cache
(:meth:`SoundModel.to_arrays`, :meth:`SoundModel.from_arrays`).

Its properties are the *descriptors* that analysis-driven starts read (see
:mod:`gascar.starts`): the ADSR fit, spectral tilt, odd/even balance and
formant peaks of the partials, the residual's share and centre, a cutoff
and filter envelope from the rolloff trajectory, the strongest partials'
frequency ratios, vibrato.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields

import numpy as np

from . import envelope, residual, tracks
from .envelope import ADSR

#: Hop of the partial tracks (samples at the analysis rate).
TRACK_HOP = 128
#: Most partials a model keeps.
MAX_PARTIALS = 80
#: Bump when the model changes (part of the analysis cache's key).
MODEL_VERSION = 2
#: Rolloff fraction of the rolloff trajectory.
ROLLOFF = 0.85
#: Notes shorter than this are not modelled (s).
MIN_DURATION_S = 0.05


@dataclass(frozen=True, eq=False)
class SoundModel:
    """What spectral modelling found in a note.

    Attributes
    ----------
    usable : bool
        Whether starts and spectral voices may use it.
    note : str
        Why not, when not usable (for the match summary); else empty.
    pitched : bool
    f0_hz : float
        The note's f0; for unpitched sounds, the frequency of the strongest
        partial (or 200 Hz without any), the reference the partials' ratios
        are taken to.
    sample_rate, n_fft : int
        The analysis rate and the partial tracks' STFT size.
    noise_n_fft : int
        The STFT size :attr:`noise_power` is measured with.
    hold_s : float
        The analysis's note-off.
    times_s : ndarray, shape (n_frames,)
        Frame centres of the tracks (hop :data:`TRACK_HOP`).
    partial_hz : ndarray, shape (n_partials,)
        Each partial's frequency, ascending.
    partial_amp : ndarray, shape (n_frames, n_partials)
        Linear sinusoid amplitude per frame (0 where absent).
    pitch_ratio : ndarray, shape (n_frames,)
        Each frame's f0 over :attr:`f0_hz` (1 where unknown).
    noise_edges_hz : ndarray, shape (n_bands + 1,)
    noise_power : ndarray, shape (n_frames, n_bands)
        The residual's mean power per bin of a ``noise_n_fft`` STFT, in each band.
    env_db : ndarray, shape (n_env,)
        :func:`gascar.sms.envelope.amplitude_envelope`, hop ``ENV_HOP``.
    adsr : ADSR
    rolloff_hz, centroid_hz : ndarray, shape (n_frames,)
        Spectral rolloff (85 %) and centroid trajectories.
    inharmonicity : float
        Stiff-string ``B`` of the partials near harmonics.
    """

    usable: bool
    note: str
    pitched: bool
    f0_hz: float
    sample_rate: int
    n_fft: int
    noise_n_fft: int
    hold_s: float
    times_s: np.ndarray = field(repr=False)
    partial_hz: np.ndarray = field(repr=False)
    partial_amp: np.ndarray = field(repr=False)
    pitch_ratio: np.ndarray = field(repr=False)
    noise_edges_hz: np.ndarray = field(repr=False)
    noise_power: np.ndarray = field(repr=False)
    env_db: np.ndarray = field(repr=False)
    adsr: ADSR = field(default_factory=lambda: ADSR(0.005, 1.0, 1.0, 0.3, 0.0))
    rolloff_hz: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    centroid_hz: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    inharmonicity: float = 0.0

    # -- storage ---------------------------------------------------------------------------------------------------
    def to_arrays(self, prefix: str = "sms_") -> dict[str, np.ndarray]:
        """Every field as arrays (scalars in a JSON string), for ``numpy.savez``."""
        arrays = {prefix + f.name: np.asarray(getattr(self, f.name)) for f in fields(self)
                  if isinstance(getattr(self, f.name), np.ndarray)}
        meta = {f.name: getattr(self, f.name) for f in fields(self) if not isinstance(getattr(self, f.name), np.ndarray)}
        meta["adsr"] = self.adsr.to_dict()
        arrays[prefix + "meta"] = np.array(json.dumps({"version": MODEL_VERSION, **meta}))
        return arrays

    @classmethod
    def from_arrays(cls, arrays, prefix: str = "sms_") -> SoundModel | None:
        """The model :meth:`to_arrays` stored, or None when absent or of another version."""
        key = prefix + "meta"
        if key not in arrays:
            return None
        meta = json.loads(str(arrays[key]))
        if meta.pop("version", None) != MODEL_VERSION:
            return None
        meta["adsr"] = ADSR(**meta["adsr"])
        names = [f.name for f in fields(cls) if f.name not in meta]
        return cls(**meta, **{n: np.asarray(arrays[prefix + n], dtype=np.float64) for n in names})

    # -- descriptors -----------------------------------------------------------------------------------------------
    @property
    def n_partials(self) -> int:
        return int(self.partial_hz.size)

    @property
    def frame_level(self) -> np.ndarray:
        """Power (variance) of partials plus noise per frame, ``(n_frames,)``."""
        partial = 0.5 * np.sum(self.partial_amp**2, axis=1)
        share = np.diff(self.noise_edges_hz) / (0.5 * self.sample_rate)  # of the spectrum
        w = tracks.analysis_window(self.noise_n_fft, "blackmanharris")
        # Band noise of per-bin power P under the window w has variance P / sum(w^2) times its share of the spectrum.
        noise = np.sum(self.noise_power * share[None, :], axis=1) / float(np.sum(w**2))
        return partial + noise

    def loud_frames(self, within_db: float = 20.0) -> np.ndarray:
        """Frames within ``within_db`` of the loudest (model level), ``(n_frames,)`` bool."""
        lvl = 10.0 * np.log10(np.maximum(self.frame_level, 1e-20))
        return lvl >= lvl.max() - within_db

    def partial_levels_db(self) -> np.ndarray:
        """Each partial's level over the loud frames (power mean), dB re the strongest, ``(n_partials,)``."""
        if self.n_partials == 0:
            return np.zeros(0)
        p = np.mean(self.partial_amp[self.loud_frames()] ** 2, axis=0)
        return 10.0 * np.log10(np.maximum(p, 1e-20) / max(float(p.max()), 1e-20))

    def harmonic_levels_db(self, n_harmonics: int, frames: np.ndarray | None = None) -> np.ndarray:
        """Level of harmonics 1 .. n (the partial nearest each multiple of f0, within a quarter of it), dB re the strongest.

        Parameters
        ----------
        n_harmonics : int
        frames : ndarray of bool or int, optional
            Frames to average (power mean); default the loud ones.

        Returns
        -------
        ndarray, shape (n_harmonics,)
            -120 dB where no partial is near a harmonic.
        """
        sel = self.loud_frames() if frames is None else frames
        p = np.mean(self.partial_amp[sel] ** 2, axis=0) if self.n_partials else np.zeros(0)
        out = np.full(n_harmonics, 1e-12)
        b = self.inharmonicity
        for j, f in enumerate(self.partial_hz):
            k = _nearest_harmonic(f, self.f0_hz, b)
            if 1 <= k <= n_harmonics and p[j] > out[k - 1]:
                out[k - 1] = p[j]
        if out.max() <= 1e-12:  # no partial near a harmonic in these frames
            return np.full(n_harmonics, -120.0)
        return np.maximum(10.0 * np.log10(out / out.max()), -120.0)

    @property
    def tilt_db_per_oct(self) -> float:
        """Slope of the partials' levels against octaves above the first partial (dB/oct), weighted by level."""
        lv = self.partial_levels_db()
        if lv.size < 2:
            return -6.0
        x = np.log2(self.partial_hz / self.partial_hz[0])
        w = 10.0 ** (np.maximum(lv, -60.0) / 40.0)
        A = np.stack([np.ones_like(x), x], axis=1) * w[:, None]
        (_, slope), *_ = np.linalg.lstsq(A, lv * w, rcond=None)
        return float(slope)

    @property
    def even_level(self) -> float:
        """Linear level of even harmonics relative to their odd neighbours (1: equal, 0: odd only), within [0, 1]."""
        if not self.pitched:
            return 1.0
        h = self.harmonic_levels_db(16)
        diffs = []
        for k in range(2, 16, 2):  # harmonic k (even) is index k - 1
            neighbours = 0.5 * (h[k - 2] + h[k])
            if max(h[k - 1], neighbours) > -60.0:
                diffs.append(max(h[k - 1], -60.0) - max(neighbours, -60.0))
        if not diffs:
            return 1.0
        return float(np.clip(10.0 ** (np.median(diffs) / 20.0), 0.0, 1.0))

    def peaks(self, n_peaks: int = 2) -> list[tuple[float, float]]:
        """Formant-like peaks: the largest bumps of the partial levels above their tilt line.

        Returns
        -------
        list of (centre_hz, gain_db)
            Up to ``n_peaks``, strongest first; gains above the line in dB.
        """
        lv = self.partial_levels_db()
        if lv.size < 3:
            return []
        x = np.log2(self.partial_hz / self.partial_hz[0])
        line = lv[0] + self.tilt_db_per_oct * x
        above = np.maximum(lv, -60.0) - line
        grid = np.linspace(x.min(), x.max(), 64)
        smooth = np.array([np.sum(above * np.exp(-0.5 * ((x - g) / 0.25) ** 2)) /
                           max(np.sum(np.exp(-0.5 * ((x - g) / 0.25) ** 2)), 1e-9) for g in grid])
        out = []
        for i in np.argsort(-smooth):
            if smooth[i] <= 1.0:
                break
            if i not in (0, grid.size - 1) and not (smooth[i] >= smooth[i - 1] and smooth[i] >= smooth[i + 1]):
                continue
            hz = float(self.partial_hz[0] * 2.0 ** grid[i])
            if all(abs(np.log2(hz / h)) > 0.5 for h, _ in out):
                out.append((hz, float(smooth[i])))
            if len(out) == n_peaks:
                break
        return out

    @property
    def noise_share(self) -> float:
        """The residual's share of the power over the loud frames, 0 .. 1."""
        loud = self.loud_frames()
        total = self.frame_level[loud].sum()
        partial = 0.5 * np.sum(self.partial_amp[loud] ** 2)
        return float(np.clip(1.0 - partial / max(total, 1e-20), 0.0, 1.0))

    @property
    def noise_centre_hz(self) -> float:
        """Power-weighted geometric centre of the residual's bands (Hz)."""
        centres = np.sqrt(np.maximum(self.noise_edges_hz[:-1], 50.0) * self.noise_edges_hz[1:])
        widths = np.diff(self.noise_edges_hz)
        p = np.mean(self.noise_power[self.loud_frames()], axis=0) * widths
        if p.sum() <= 0:
            return 2000.0
        return float(2.0 ** (np.sum(p * np.log2(centres)) / p.sum()))

    def rolloff_summary(self) -> tuple[float, float, float]:
        """Cutoff, filter-envelope depth and its decay, from the rolloff trajectory.

        Returns
        -------
        sustain_hz : float
            Median rolloff over the held part after the attack and decay.
        env_oct : float
            Octaves from ``sustain_hz`` up to the brightest moment of the attack (>= 0).
        decay_s : float
            Time for the rolloff, in octaves, to fall 95 % of the way from its peak to ``sustain_hz``.
        """
        loud = self.loud_frames(30.0)
        r = np.where(loud, self.rolloff_hz, np.nan)
        if not np.any(np.isfinite(r)):
            return 2000.0, 0.0, 0.5
        t = self.times_s
        peak_i = int(np.nanargmax(np.where(t <= min(0.3, self.hold_s), r, np.nan))) if np.any(np.isfinite(r[t <= 0.3])) else 0
        late = (t >= min(t[peak_i] + 0.3, 0.6 * self.hold_s)) & (t <= self.hold_s) & loud
        sustain = float(np.nanmedian(r[late])) if late.any() else float(np.nanmedian(r))
        top = float(r[peak_i]) if np.isfinite(r[peak_i]) else sustain
        env = max(0.0, float(np.log2(max(top, 1.0) / max(sustain, 1.0))))
        decay = 0.5
        if env > 0.1:
            octs = np.log2(np.maximum(r[peak_i:], 1.0) / sustain)
            below = np.flatnonzero(np.nan_to_num(octs, nan=0.0) <= 0.05 * env)
            if below.size:
                decay = float(max(t[peak_i + below[0]] - t[peak_i], 0.01))
        return sustain, env, decay

    def strongest_ratios(self, n: int) -> np.ndarray:
        """Frequency ratios to f0 of the ``n`` strongest partials, strongest first, ``(m,)`` with m <= n."""
        lv = self.partial_levels_db()
        order = np.argsort(-lv, kind="stable")[:n]
        return self.partial_hz[order] / self.f0_hz

    def vibrato(self) -> tuple[float, float]:
        """Vibrato rate (Hz) and depth (semitones, peak) of the pitch over the held part; depth 0 when none."""
        t = self.times_s
        sel = (t >= 0.15) & (t <= self.hold_s) & (self.pitch_ratio > 0)
        if sel.sum() < 16 or not self.pitched:
            return 5.5, 0.0
        cents = 1200.0 * np.log2(self.pitch_ratio[sel])
        cents = cents - np.mean(cents)
        dt = TRACK_HOP / self.sample_rate
        spec = np.abs(np.fft.rfft(cents * np.hanning(cents.size), n=4096))
        freqs = np.fft.rfftfreq(4096, dt)
        band = (freqs >= 3.0) & (freqs <= 9.0)
        if not band.any():
            return 5.5, 0.0
        i = np.flatnonzero(band)[int(np.argmax(spec[band]))]
        depth_cents = 2.0 * spec[i] / np.hanning(cents.size).sum()
        moving = freqs >= 1.0
        # A vibrato: at least 5 cents deep, and most of the pitch's movement lies in the vibrato band.
        if depth_cents < 5.0 or np.sum(spec[band] ** 2) < 0.5 * np.sum(spec[moving] ** 2):
            return 5.5, 0.0
        return float(freqs[i]), float(depth_cents / 100.0)


def _nearest_harmonic(freq_hz: float, f0_hz: float, b: float) -> int:
    k = np.arange(1, int(freq_hz / f0_hz) + 3, dtype=np.float64)
    grid = k * f0_hz * np.sqrt(1.0 + b * k * k) / np.sqrt(1.0 + b)
    i = int(np.argmin(np.abs(grid - freq_hz)))
    return int(k[i]) if abs(grid[i] - freq_hz) <= 0.25 * f0_hz else 0


def unusable(note: str, sample_rate: int, hold_s: float, f0_hz: float | None, pitched: bool) -> SoundModel:
    """A model that says why starts and spectral voices cannot use the analysis."""
    z = np.zeros(0)
    return SoundModel(False, note, pitched, float(f0_hz or 200.0), int(sample_rate), 2048, 2048, float(hold_s), z, z,
                      np.zeros((0, 0)), z, np.array([0.0, 0.5 * sample_rate]), np.zeros((0, 1)), z)


def analyse_sound(
    samples: np.ndarray,
    sample_rate: int,
    *,
    f0_hz: float | None,
    hold_s: float,
    f0_contour_hz: np.ndarray | None = None,
    contour_hop: int = 256,
    max_partials: int = MAX_PARTIALS,
) -> SoundModel:
    """Spectral model of a note.

    Parameters
    ----------
    samples : ndarray, shape (n_samples,)
        The note as analysed (mono, leading silence and quiet tail trimmed).
    sample_rate : int
    f0_hz : float or None
        The note's f0 when pitched, else None.
    hold_s : float
        The estimated note-off.
    f0_contour_hz : ndarray, shape (n_contour,), optional
        pYIN's f0 per frame (NaN where unvoiced), frames ``contour_hop`` apart.
    contour_hop : int
    max_partials : int

    Returns
    -------
    SoundModel
        ``usable`` is False, with a note, for sounds too short or without any partial or noise.
    """
    x = np.asarray(samples, dtype=np.float64)
    pitched = f0_hz is not None
    if x.size < MIN_DURATION_S * sample_rate:
        return unusable(f"the note is shorter than {MIN_DURATION_S:g} s", sample_rate, hold_s, f0_hz, pitched)
    n_fft = tracks.fft_size(sample_rate, f0_hz)
    mag = tracks.stft(x, n_fft, TRACK_HOP)
    times = np.arange(mag.shape[0]) * TRACK_HOP / sample_rate
    if not np.any(mag > 0):
        return unusable("the note is silent", sample_rate, hold_s, f0_hz, pitched)
    freqs = tracks.find_partials(mag, sample_rate, n_fft, f0_hz=f0_hz, max_partials=max_partials)
    ratio = np.ones(times.size)
    if pitched and f0_contour_hz is not None and np.size(f0_contour_hz):
        ratio = _pitch_ratio(np.asarray(f0_contour_hz, dtype=np.float64), contour_hop, sample_rate, times, f0_hz)
    track_hz, amp = tracks.track_partials(mag, freqs, sample_rate, n_fft, ratio)
    # The residual is measured at a finer frequency resolution (12 periods) with a low-sidelobe window, where a
    # partial's main lobe leaves free bins between harmonics; its frames are centred on the same samples.
    noise_n_fft = tracks.fft_size(sample_rate, f0_hz, periods=12.0, smallest=2048)
    noise = residual.residual_bands(tracks.stft(x, noise_n_fft, TRACK_HOP, "blackmanharris"), track_hz, sample_rate,
                                    noise_n_fft)
    env_db = envelope.amplitude_envelope(x, sample_rate, f0_hz)
    adsr = envelope.fit_adsr(env_db, sample_rate, hold_s)
    power = mag**2
    bins_hz = np.arange(mag.shape[1]) * sample_rate / n_fft
    total = np.maximum(power.sum(axis=1), 1e-30)
    cum = np.cumsum(power, axis=1) / total[:, None]
    rolloff = bins_hz[np.minimum(np.argmax(cum >= ROLLOFF, axis=1), bins_hz.size - 1)]
    centroid = (power @ bins_hz) / total
    if pitched:
        ref = float(f0_hz)
    elif freqs.size:
        ref = float(freqs[int(np.argmax(np.mean(amp**2, axis=0)))])
    else:
        ref = 200.0
    weights = np.sqrt(np.mean(amp**2, axis=0)) if freqs.size else np.zeros(0)
    b = tracks.fit_inharmonicity(freqs, weights, ref) if pitched else 0.0
    model = SoundModel(
        usable=True, note="", pitched=pitched, f0_hz=ref, sample_rate=int(sample_rate), n_fft=int(n_fft),
        hold_s=float(hold_s), times_s=times, partial_hz=freqs, partial_amp=amp, pitch_ratio=ratio,
        noise_n_fft=int(noise_n_fft), noise_edges_hz=residual.band_edges_hz(sample_rate), noise_power=noise, env_db=env_db, adsr=adsr,
        rolloff_hz=rolloff.astype(np.float64), centroid_hz=centroid, inharmonicity=b,
    )
    if freqs.size == 0 and not np.any(noise > 0):
        return unusable("no partial or noise was found in the note", sample_rate, hold_s, f0_hz, pitched)
    return model


def _pitch_ratio(contour_hz: np.ndarray, contour_hop: int, sample_rate: int, times_s: np.ndarray, f0_hz: float) -> np.ndarray:
    """PYIN's contour over f0 at the tracks' frames: unvoiced frames take their nearest voiced neighbour, and
    jumps of more than a semitone from the note (octave errors) count as unvoiced.
    """
    cents = 1200.0 * np.log2(np.where(np.isfinite(contour_hz) & (contour_hz > 0), contour_hz, np.nan) / f0_hz)
    cents[np.abs(cents) > 100.0] = np.nan
    ok = np.isfinite(cents)
    if not ok.any():
        return np.ones(times_s.size)
    # pYIN's frames are uncentred, FRAME (2048) samples long: frame i covers [i * hop, i * hop + 2048).
    t_c = (np.arange(contour_hz.size) * contour_hop + 1024) / sample_rate
    filled = np.interp(t_c, t_c[ok], cents[ok])
    return 2.0 ** (np.interp(times_s, t_c, filled) / 1200.0)

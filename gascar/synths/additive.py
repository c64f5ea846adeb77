"""The additive synth: a stiff-string partial bank shaped by compact controls, plus filtered noise."""

from __future__ import annotations

import numpy as np

from .. import dsp
from ..params import ParamSpace, ParamSpec
from . import keyboard, starts
from .base import Synth, register

PARAMS = ParamSpace(
    [
        ParamSpec("inharmonicity", 0.0, 100.0, scale="curve", curve=6.0, default=0.0,
                  description="Stiffness B of f_k = k f0 sqrt(1 + B k^2): 0 harmonic, ~1e-4 piano, ~0.3 bell, >10 bar (1, 4, 9 ...)."),
        ParamSpec("tilt_db_per_oct", -30.0, 6.0, unit="dB/oct", default=-6.0, description="Spectral slope: brightness of the partials."),
        ParamSpec("even_level", 0.0, 1.0, default=1.0, description="Level of even partials relative to odd ones (0 hollow, clarinet-like)."),
        ParamSpec("peak1_hz", 100.0, 8000.0, scale="log", unit="Hz", default=800.0, description="Centre of the first resonant peak (formant)."),
        ParamSpec("peak1_db", -20.0, 30.0, unit="dB", default=0.0, description="Gain of the first resonant peak."),
        ParamSpec("peak2_hz", 200.0, 10000.0, scale="log", unit="Hz", default=2500.0, description="Centre of the second resonant peak."),
        ParamSpec("peak2_db", -20.0, 30.0, unit="dB", default=0.0, description="Gain of the second resonant peak."),
        ParamSpec("peak_width_oct", 0.1, 2.0, scale="log", unit="oct", default=0.5, description="Width of both peaks."),
        ParamSpec("decay_s", 0.05, 30.0, scale="log", unit="s", default=3.0, description="Decay (T60) of the first partial towards the sustain level."),
        ParamSpec("decay_tilt", 0.0, 2.0, default=0.5, description="How much faster higher partials decay: T60_k = decay_s / ratio_k ** decay_tilt."),
        ParamSpec("sustain", 0.0, 1.0, default=1.0, description="Level each partial decays to (1: no decay, organ-like)."),
        ParamSpec("attack_s", 0.001, 2.0, scale="log", unit="s", default=0.005, description="Attack of the note."),
        ParamSpec("release_s", 0.01, 5.0, scale="log", unit="s", default=0.3, description="Release (T60) after note-off."),
        ParamSpec("vibrato_rate_hz", 2.0, 9.0, scale="log", unit="Hz", default=5.5, description="Vibrato rate."),
        ParamSpec("vibrato_depth_st", 0.0, 1.0, scale="curve", curve=3.0, unit="st", default=0.0, description="Vibrato depth."),
        ParamSpec("noise_level", 0.0, 1.0, scale="curve", curve=3.0, default=0.0, description="Level of the filtered-noise component (breath, bow, hammer)."),
        ParamSpec("noise_hz", 100.0, 10000.0, scale="log", unit="Hz", default=2000.0, description="Centre of the noise band."),
        ParamSpec("noise_q", 0.5, 10.0, scale="log", default=1.0, description="Narrowness of the noise band."),
        ParamSpec("noise_decay_s", 0.01, 20.0, scale="log", unit="s", default=0.1, description="Decay (T60) of the noise (long: sustained breath)."),
        ParamSpec("gain_db", -24.0, 6.0, unit="dB", default=0.0, description="Output level (loud voices are kept below full scale)."),
    ]
)



def q_to_resonance(q: np.ndarray) -> np.ndarray:
    """The :func:`gascar.dsp.svf` resonance (0..1) giving filter quality ``q``."""
    return np.clip((2.0 - 1.0 / np.asarray(q, dtype=np.float64)) / 1.98, 0.0, 1.0)


#: Keyboard parameters (see :mod:`gascar.synths.keyboard`): the shared three and the tilt's key and velocity tracking.
KEYBOARD = keyboard.keyboard_space(
    ParamSpec("key_tilt_db_per_oct", -6.0, 6.0, unit="dB/oct", default=0.0,
              description="Change of the spectral slope per octave above C4 (negative: darker up the keyboard)."),
    ParamSpec("velocity_tilt_db_per_oct", 0.0, 12.0, unit="dB/oct", default=0.0,
              description="How much steeper the spectral slope is at velocity 1 than at 127 (softer is darker)."),
)
#: Envelope times that follow key_time_scaling.
KEY_TIMES = ("decay_s", "attack_s", "release_s", "noise_decay_s")


@register
class Additive(Synth):
    """48 stiff-string partials with tilt, odd/even balance, two peaks, per-partial decay; filtered noise."""

    name = "additive"
    version = 1
    description = "Partial bank (48, stiff-string inharmonicity, tilt, odd/even, two resonant peaks, per-partial decay) plus filtered noise."
    params = PARAMS
    keyboard = KEYBOARD

    def start_physical(self, target) -> list[dict[str, float]]:
        """Starts from the analysis: inharmonicity, tilt, odd/even balance and the two strongest formant peaks of
        the partials; the ADSR fit's attack, decay, sustain and release; noise at the residual's share and centre;
        vibrato. A second start lets upper partials decay faster.
        """
        m = starts.model_of(target)
        if m is None:
            return []
        p = PARAMS.default_physical()
        a = starts.adsr(m)
        p.update(inharmonicity=m.inharmonicity, tilt_db_per_oct=m.tilt_db_per_oct, even_level=m.even_level,
                 decay_s=a["decay_s"], sustain=a["sustain"], attack_s=a["attack_s"], release_s=a["release_s"],
                 noise_level=starts.noise_level(m), noise_hz=m.noise_centre_hz, noise_q=0.7,
                 noise_decay_s=max(a["decay_s"], 0.05) if a["sustain"] < 0.5 else 20.0, peak1_db=0.0, peak2_db=0.0)
        for (hz, db), (name_hz, name_db) in zip(m.peaks(2), (("peak1_hz", "peak1_db"), ("peak2_hz", "peak2_db"))):
            p[name_hz], p[name_db] = hz, db
        p["vibrato_rate_hz"], p["vibrato_depth_st"] = starts.vibrato(m)
        return [starts.clip_to(PARAMS, dict(p, decay_tilt=t)) for t in (0.5, 1.0)]

    def _render(self, p, f0_hz, n_samples, sample_rate, hold_s, velocity):
        p = keyboard.apply(p, f0_hz, velocity, KEYBOARD, times=KEY_TIMES, bounds=self.bounds,
                           added={"tilt_db_per_oct": ("key_tilt_db_per_oct", "velocity_tilt_db_per_oct")})
        n = len(f0_hz)
        out = np.empty((n, n_samples), dtype=np.float32)
        noise = dsp.white_noise(n_samples)
        ratios = dsp.stiff_string_ratios(p["inharmonicity"])
        freq = ratios * f0_hz[:, None]
        amp = dsp.spectral_shape(
            freq, f0_hz, p["tilt_db_per_oct"], p["even_level"],
            np.stack([p["peak1_hz"], p["peak2_hz"]], axis=1), np.stack([p["peak1_db"], p["peak2_db"]], axis=1), p["peak_width_oct"],
        )
        # Partials 80 dB below the loudest cost time and are inaudible.
        amp[amp < 1e-4] = 0.0
        decay = p["decay_s"][:, None] / ratios ** p["decay_tilt"][:, None]
        ones = np.ones(n)
        for sl in dsp.voice_batches(n):
            x = dsp.partial_bank(freq[sl], amp[sl], decay[sl], p["sustain"][sl], n_samples, sample_rate)
            if np.any(p["vibrato_depth_st"][sl] > 0):
                x = dsp.vibrato(x, p["vibrato_rate_hz"][sl], p["vibrato_depth_st"][sl], sample_rate)
            if np.any(p["noise_level"][sl] > 0):
                nz = dsp.svf(np.broadcast_to(noise, x.shape), 2 * ones[sl], p["noise_hz"][sl], q_to_resonance(p["noise_q"][sl]), sample_rate)
                nz *= dsp.decay_env(p["noise_decay_s"][sl], n_samples, sample_rate)
                nz *= p["noise_level"][sl, None].astype(np.float32)
                x += nz
            x *= dsp.adsr(p["attack_s"][sl], ones[sl], ones[sl], p["release_s"][sl], hold_s[sl], n_samples, sample_rate)
            out[sl] = dsp.finish(x, p["gain_db"][sl], sample_rate)
        return out

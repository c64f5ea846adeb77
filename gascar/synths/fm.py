"""The FM synth: four sine operators, ten algorithms, feedback on operator 4."""

from __future__ import annotations

import numpy as np

from .. import dsp
from ..params import ParamSpace, ParamSpec
from . import keyboard, starts
from .base import Synth, register

#: Algorithms: name -> (modulations as (source, target) operator numbers, carriers).
#: A source always has a higher number than its target; operator 4 has feedback.
ALGORITHMS: dict[str, tuple[tuple[tuple[int, int], ...], tuple[int, ...]]] = {
    "stack": (((4, 3), (3, 2), (2, 1)), (1,)),
    "y": (((4, 2), (3, 2), (2, 1)), (1,)),
    "3-into-1": (((2, 1), (3, 1), (4, 1)), (1,)),
    "diamond": (((4, 2), (4, 3), (2, 1), (3, 1)), (1,)),
    "fork": (((4, 3), (3, 1), (2, 1)), (1,)),
    "2x2": (((2, 1), (4, 3)), (1, 3)),
    "stack3+1": (((3, 2), (2, 1)), (1, 4)),
    "1-into-3": (((4, 1), (4, 2), (4, 3)), (1, 2, 3)),
    "pair+2": (((2, 1),), (1, 3, 4)),
    "parallel": ((), (1, 2, 3, 4)),
}
ALGORITHM_NAMES = tuple(ALGORITHMS)


def _algorithm_tables() -> tuple[np.ndarray, np.ndarray]:
    """Modulation matrices ``(n_alg, 4, 4)`` and carrier masks ``(n_alg, 4)``."""
    nop = dsp.N_OPERATORS
    mods = np.zeros((len(ALGORITHMS), nop, nop))
    cars = np.zeros((len(ALGORITHMS), nop))
    for a, (edges, carriers) in enumerate(ALGORITHMS.values()):
        for src, dst in edges:
            mods[a, dst - 1, src - 1] = 1.0
        for c in carriers:
            cars[a, c - 1] = 1.0
    return mods, cars


#: Modulation matrices (n_algorithms, 4, 4) and carrier masks (n_algorithms, 4), in ALGORITHMS order.
MOD_MATRICES, CARRIER_MASKS = _algorithm_tables()


def operator_ratio(coarse: np.ndarray, fine: np.ndarray) -> np.ndarray:
    """Frequency ratio of an operator: coarse (0 means 0.5) times ``1 + fine``.

    Parameters
    ----------
    coarse, fine : ndarray, shape (n,)

    Returns
    -------
    ndarray, shape (n,)
    """
    c = np.asarray(coarse, dtype=np.float64)
    return np.where(c < 0.5, 0.5, c) * (1.0 + np.asarray(fine, dtype=np.float64))


def _op_specs(k: int) -> list[ParamSpec]:
    carrier_like = k == 1
    return [
        ParamSpec(f"op{k}_ratio_coarse", 0, 16, scale="integer", unit="ratio", default=1 if k in (1, 2) else 2,
                  description=f"Whole-number frequency ratio of operator {k} to the note (0 means 0.5)."),
        ParamSpec(f"op{k}_ratio_fine", 0.0, 1.0, scale="curve", curve=3.0, unit="ratio", default=0.0,
                  description=f"Fractional detune of operator {k}: its ratio is coarse x (1 + fine); non-zero is inharmonic."),
        ParamSpec(f"op{k}_level", 0.0, 1.0, scale="curve", curve=2.0, default=1.0 if carrier_like else 0.3,
                  description=f"Output of operator {k}: loudness as a carrier, modulation index (up to 8 rad) as a modulator."),
        ParamSpec(f"op{k}_attack_s", 0.001, 2.0, scale="log", unit="s", default=0.003, description=f"Attack of operator {k}."),
        ParamSpec(f"op{k}_decay_s", 0.01, 20.0, scale="log", unit="s", default=1.0, description=f"Decay (T60) of operator {k} towards its sustain."),
        ParamSpec(f"op{k}_sustain", 0.0, 1.0, default=0.7, description=f"Sustain level of operator {k}."),
    ]


PARAMS = ParamSpace(
    [
        ParamSpec("algorithm", scale="choice", choices=ALGORITHM_NAMES, default="stack",
                  description="Which operators modulate which (stack, y, 3-into-1, diamond, fork, 2x2, stack3+1, 1-into-3, pair+2, parallel)."),
        ParamSpec("feedback", 0.0, 1.0, scale="curve", curve=1.5, default=0.0,
                  description="Self-modulation of operator 4 (sine to saw-like to noisy)."),
    ]
    + [spec for k in range(1, dsp.N_OPERATORS + 1) for spec in _op_specs(k)]
    + [
        ParamSpec("release_s", 0.01, 8.0, scale="log", unit="s", default=0.3, description="Release (T60) of every operator after note-off."),
        ParamSpec("gain_db", -24.0, 6.0, unit="dB", default=0.0, description="Output level (loud voices are kept below full scale)."),
    ]
)


#: Keyboard parameters (see :mod:`gascar.synths.keyboard`): the shared three and the modulators' key and velocity
#: scaling (brightness: a modulator's level is its modulation index).
KEYBOARD = keyboard.keyboard_space(
    ParamSpec("key_mod_db_per_oct", -12.0, 12.0, unit="dB/oct", default=0.0,
              description="Change of the modulators' levels per octave above C4 (negative: less bright up the keyboard)."),
    ParamSpec("velocity_mod_db", 0.0, 30.0, unit="dB", default=0.0,
              description="How much lower the modulators' levels are at velocity 1 than at 127 (softer is less bright)."),
)
#: Envelope times that follow key_time_scaling.
KEY_TIMES = tuple(f"op{k}_{t}" for k in range(1, dsp.N_OPERATORS + 1) for t in ("attack_s", "decay_s")) + ("release_s",)


@register
class FM(Synth):
    """Four-operator phase-modulation synth with ten algorithms."""

    name = "fm"
    version = 1
    description = "Four sine operators (ratio, level, ADSR each) in ten algorithms, feedback on operator 4."
    params = PARAMS
    keyboard = KEYBOARD

    def start_physical(self, target) -> list[dict[str, float]]:
        """Starts from the analysis: operator 1 a carrier at the note with the ADSR fit, operator 2 its modulator,
        whose index follows the number of strong harmonics and whose envelope follows the rolloff's decay; the
        modulator's ratio 1 (every harmonic) or 2 (odd harmonics), the likelier first, and the ratio of the
        strongest partial off the harmonic series when there is one.
        """
        m = starts.model_of(target)
        if m is None:
            return []
        a = starts.adsr(m)
        _, env_oct, bright_decay_s = m.rolloff_summary()
        strong = int(np.sum(m.harmonic_levels_db(32) > -30.0))
        base = PARAMS.default_physical()
        starts.set_choice(PARAMS, base, "algorithm", "stack")
        base.update(feedback=0.0, release_s=a["release_s"], op1_ratio_coarse=1.0, op1_ratio_fine=0.0, op1_level=1.0,
                    op1_attack_s=a["attack_s"], op1_decay_s=a["decay_s"], op1_sustain=a["sustain"],
                    op2_level=min(max(strong - 1, 0.2) / dsp.FM_MAX_INDEX, 1.0), op2_attack_s=a["attack_s"],
                    op2_decay_s=bright_decay_s, op2_sustain=2.0 ** -env_oct, op3_level=0.0, op4_level=0.0)
        ratios = [1.0, 2.0] if m.even_level > 0.5 else [2.0, 1.0]
        off = [r for r in m.strongest_ratios(4) if abs(r - np.rint(r)) > 0.1]
        if off:
            ratios.insert(1, float(off[0]))
        out = []
        for r in ratios:
            coarse = max(np.floor(r), 0.0)
            fine = r / coarse - 1.0 if coarse >= 1 else r / 0.5 - 1.0
            out.append(starts.clip_to(PARAMS, dict(base, op2_ratio_coarse=coarse, op2_ratio_fine=fine)))
        return out

    def _render(self, p, f0_hz, n_samples, sample_rate, hold_s, velocity):
        neutral = keyboard.neutral(p, KEYBOARD)
        p = keyboard.apply(p, f0_hz, velocity, KEYBOARD, times=KEY_TIMES, bounds=self.bounds)
        n = len(f0_hz)
        ks = range(1, dsp.N_OPERATORS + 1)

        def per_op(field):
            return np.stack([p[f"op{k}_{field}"] for k in ks], axis=1)

        ratios = np.stack([operator_ratio(p[f"op{k}_ratio_coarse"], p[f"op{k}_ratio_fine"]) for k in ks], axis=1)
        alg = np.clip(np.asarray(p["algorithm"], dtype=np.int64), 0, len(ALGORITHMS) - 1)
        out = np.empty((n, n_samples), dtype=np.float32)
        freq = ratios * f0_hz[:, None]
        level, att, dec, sus = per_op("level"), per_op("attack_s"), per_op("decay_s"), per_op("sustain")
        if not neutral:  # the modulators' levels (their indices) follow the key and the velocity
            factor = 10.0 ** (keyboard.amount(p, f0_hz, velocity, key="key_mod_db_per_oct", soft="velocity_mod_db") / 20.0)
            level = np.clip(np.where(CARRIER_MASKS[alg] > 0, level, level * factor[:, None]), 0.0, 1.0)
        for sl in dsp.voice_batches(n):
            x = dsp.fm_operators(
                freq[sl], level[sl], att[sl], dec[sl], sus[sl], p["release_s"][sl], p["feedback"][sl],
                MOD_MATRICES[alg[sl]], CARRIER_MASKS[alg[sl]], hold_s[sl], n_samples, sample_rate,
            )
            out[sl] = dsp.finish(x, p["gain_db"][sl], sample_rate)
        return out

"""What the target's spectral model says, in the units the synths' parameters share: the pieces of analysis-driven starts.

A synth's :meth:`~gascar.synths.Synth.start_physical` turns a target's
:class:`gascar.sms.SoundModel` into a few sets of physical values where a
match's first population begins (the rest of it stays uniform random).
The helpers here are the mappings several synths share: the ADSR fit, a
low-pass filter and its envelope from the rolloff trajectory, the
waveforms whose harmonics look most like the partials', a noise level from
the residual's share, vibrato.

Targets without a clear pitch, or whose model is unusable, get no starts
(:func:`model_of` is None; :func:`uniform_reason` says why).
"""

from __future__ import annotations

import numpy as np

from ..params import ParamSpace

#: Waveform choices of the oscillators and the level of harmonic k in each (dB), for :func:`waveforms`.
_WAVE_LEVELS = {
    "saw": lambda k: -20.0 * np.log10(k),
    "square": lambda k: np.where(k % 2 == 1, -20.0 * np.log10(k), -120.0),
    "triangle": lambda k: np.where(k % 2 == 1, -40.0 * np.log10(k), -120.0),
    "sine": lambda k: np.where(k == 1, 0.0, -120.0),
}


def model_of(target):
    """The target's spectral model when starts may use it (a pitched target, a usable model), else None."""
    model = getattr(target, "model", None)
    if model is None or not model.usable or not getattr(target, "pitched", False):
        return None
    return model


def model_reason(target) -> str:
    """Why ``target`` has no usable spectral model ('' when it has one)."""
    model = getattr(target, "model", None)
    if model is None:
        return "no spectral model"
    return "" if model.usable else model.note


def uniform_reason(target) -> str:
    """Why a match of ``target`` starts from uniform random genomes only ('' when it does not)."""
    if not getattr(target, "pitched", False):
        return "no clear pitch"
    return model_reason(target)


def set_choice(space: ParamSpace, physical: dict, name: str, label: str) -> None:
    """Set choice parameter ``name`` of ``physical`` to ``label`` (physical values of choices are bin indices)."""
    physical[name] = float(space[name].choices.index(label))


def clip_to(space: ParamSpace, physical: dict) -> dict:
    """``physical`` with every continuous value clipped into its parameter's range."""
    out = dict(physical)
    for spec in space:
        if not spec.is_categorical:
            out[spec.name] = float(np.clip(out[spec.name], spec.low, spec.high))
    return out


def adsr(model) -> dict[str, float]:
    """The amplitude ADSR fitted to the note: ``attack_s``, ``decay_s``, ``sustain``, ``release_s``."""
    a = model.adsr
    return {"attack_s": a.attack_s, "decay_s": a.decay_s, "sustain": a.sustain, "release_s": a.release_s}


def lowpass(model, *, keytrack: float = 0.5) -> dict[str, float]:
    """A low-pass filter and its envelope from the rolloff trajectory.

    The cutoff at the sustain is the rolloff of the held part; the envelope
    opens it ``env_oct`` octaves at the note's brightest moment and falls back
    with the rolloff (sustain 0). ``cutoff_hz`` is the value at C4 that key
    tracking ``keytrack`` moves to the note's f0.
    """
    sustain_hz, env_oct, decay_s = model.rolloff_summary()
    from ..dsp import KEYTRACK_REF_HZ  # on first use: listing synths compiles nothing

    cutoff = sustain_hz / (model.f0_hz / KEYTRACK_REF_HZ) ** keytrack
    return {"cutoff_hz": cutoff, "filter_keytrack": keytrack, "filter_env_oct": env_oct, "filter_attack_s": 0.005,
            "filter_decay_s": decay_s, "filter_sustain": 0.0, "resonance": 0.05}


def nearest_spectra(model, candidates: dict[str, np.ndarray]) -> list[str]:
    """Names of ``candidates`` ordered by how near their harmonics' levels lie to the note's, tilt forgiven.

    Parameters
    ----------
    candidates : dict of str to ndarray, shape (n_harmonics,)
        Level of harmonics 1 .. n of each candidate (dB).

    The distance is the RMS difference of harmonic levels (dB, floored at
    -60) after removing the best darkening tilt (dB per octave, at most 0):
    a low-pass filter makes the tilt, the candidate the pattern.
    """
    n = len(next(iter(candidates.values())))
    h = np.maximum(model.harmonic_levels_db(n), -60.0)
    x = np.log2(np.arange(1, n + 1, dtype=np.float64))
    scores = {}
    for name, levels in candidates.items():
        d = h - np.maximum(np.asarray(levels, dtype=np.float64), -60.0)
        slope = min(float(np.polyfit(x, d, 1)[0]), 0.0)
        resid = d - slope * x
        scores[name] = float(np.sqrt(np.mean((resid - resid.mean()) ** 2)))
    return sorted(scores, key=scores.get)


def waveforms(model, n_harmonics: int = 12) -> list[str]:
    """Oscillator waveforms (saw, square, triangle, sine) ordered by :func:`nearest_spectra`."""
    k = np.arange(1, n_harmonics + 1, dtype=np.float64)
    return nearest_spectra(model, {name: levels(k) for name, levels in _WAVE_LEVELS.items()})


def noise_level(model) -> float:
    """A white-noise level (0 .. 1, against an oscillator at 1) giving the residual's share of the power."""
    share = min(model.noise_share, 0.95)
    # A full-scale saw has a power of 1/3; noise at level n has n^2 (before the filter, which both pass alike).
    return float(np.clip(np.sqrt(share / (1.0 - share) / 3.0), 0.0, 1.0))


def vibrato(model) -> tuple[float, float]:
    """Vibrato rate (Hz) and depth (semitones); depth 0 without vibrato."""
    return model.vibrato()

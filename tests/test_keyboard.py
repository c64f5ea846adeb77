"""Away from its matched note a preset follows its parameters: an octave up is an octave up, for every synth.

Pitch trackers disagree on bells (inharmonic partials have no single
period), so the check follows the lowest strong partial: an octave up it
is at twice the frequency. (Other partials need not follow: a filter's
resonance moves with its key tracking, an EQ or a noise band not at all.)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import signal

from gascar.preset import Preset
from gascar.synths import get_synth, list_synths

PRESETS = Path(__file__).resolve().parents[1] / "presets"
SR = 22050
#: Unpitched presets (a fixed noise band has no octave).
UNPITCHED = {"modular-hihat"}
#: A partial within this many dB of the loudest counts as strong.
STRONG_DB = 20.0


def lowest_partial_hz(x: np.ndarray) -> float:
    """Frequency of the lowest spectral peak within :data:`STRONG_DB` of the loudest (0.1 .. 0.25 s of the note).

    A 0.15 s window merges vibrato's sidebands (they sit a fixed LFO rate
    from each partial); zero-padding and a parabola place the peak.
    """
    seg = x[int(0.1 * SR): int(0.25 * SR)].astype(np.float64)
    n_fft = 1 << 18
    mag = 20 * np.log10(np.abs(np.fft.rfft(seg * np.hanning(seg.size), n_fft)) + 1e-12)
    idx, _ = signal.find_peaks(mag, height=mag.max() - STRONG_DB, prominence=6.0)
    i = int(idx.min())
    a, b, c = mag[i - 1], mag[i], mag[i + 1]
    return (i + 0.5 * (a - c) / (a - 2 * b + c)) * SR / n_fft


def cases():
    out = [pytest.param(name, None, id=f"{name}-defaults") for name in list_synths()]
    out += [pytest.param(None, p.stem, id=p.stem) for p in sorted(PRESETS.glob("*.json")) if p.stem not in UNPITCHED]
    return out


@pytest.mark.parametrize("synth_name,preset_name", cases())
def test_an_octave_up_is_an_octave_up(synth_name, preset_name):
    if preset_name is None:
        synth = get_synth(synth_name)
        physical, f0 = synth.params.default_physical(), 220.0
    else:
        preset = Preset.load(PRESETS / f"{preset_name}.json")
        synth, physical, f0 = get_synth(preset.synth), preset.physical(), preset.render.f0_hz
    low, high = synth.render_physical(physical, np.array([f0, 2 * f0]), int(0.6 * SR), SR)
    cents = 1200 * np.log2(lowest_partial_hz(high) / lowest_partial_hz(low))
    assert abs(cents - 1200) < 10, (synth.name, preset_name, cents)

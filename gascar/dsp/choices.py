"""The labels of the DSP blocks' choice codes (waveforms, filter modes, LFO shapes) and the FM operator count.

Kept apart from the compiled code so that a synth's parameter list, which
names these choices, can be read without importing numba (``gascar synths``
and ``gascar --help`` stay fast). No compiled function reads them.
"""

from __future__ import annotations

#: Waveform codes of :func:`gascar.dsp.oscillators.oscillator` (0 saw, 1 square/pulse, 2 triangle, 3 sine).
WAVEFORMS = ("saw", "square", "triangle", "sine")
#: Response codes of :func:`gascar.dsp.filters.svf` (0 lowpass, 1 highpass, 2 bandpass).
FILTER_MODES = ("lowpass", "highpass", "bandpass")
#: LFO shape codes of :func:`gascar.dsp.envelopes.lfo`.
LFO_SHAPES = ("sine", "triangle")
#: Operators of :func:`gascar.dsp.fm.fm_operators`.
N_OPERATORS = 4

"""Building blocks of the synth engine, as pure array functions over whole batches.

Every public function takes per-voice parameters as ``(n_voices,)`` arrays and
signals as ``(n_voices, n_samples)`` float32 arrays, and returns new arrays;
nothing here keeps state between calls. Per-sample recursions (envelopes,
oscillator phases, filters, feedback FM, partial banks) are numba kernels that
loop over the batch inside compiled code, one voice after another, so a voice
renders the same samples alone or in any batch. Modulation that needs an
``exp`` or ``tan`` (pitch, cutoff) is evaluated every :data:`CONTROL_BLOCK`
samples: pitch is interpolated linearly in between, filter coefficients are
held for the block. Sines and single-cycle tables are read with 32-bit
fixed-point phases (wrapping is free, no ``floor``).

Modules, in signal order
    :mod:`~gascar.dsp.envelopes` (ADSR, decay, LFO),
    :mod:`~gascar.dsp.oscillators` (mipmapped tables, oscillator, noise,
    wavetable oscillator), :mod:`~gascar.dsp.filters` (state-variable
    filter, key tracking), :mod:`~gascar.dsp.effects` (drive, EQ, vibrato,
    output stage), :mod:`~gascar.dsp.fm` (FM operators),
    :mod:`~gascar.dsp.partials` (additive partial bank),
    :mod:`~gascar.dsp.arrays` (parameter arrays, clipping, row batches).
    :mod:`~gascar.dsp.kernels` holds the compiled per-sample code that
    shares scalar helpers (:func:`env_step`, :func:`svf_tick`,
    :func:`table_read`, :func:`softclip` ...), including the fused
    per-voice kernels :func:`subtractive_voices` and
    :func:`wavetable_voices`, which render a whole voice in one pass
    without intermediate arrays: numba's on-disk cache does not notice
    changes to functions called from other files, so a compiled function
    and the helpers it inlines share a file.

Conventions: times are in seconds (``attack_s``), frequencies in Hz
(``cutoff_hz``), pitch offsets in semitones (``_st``), cutoff offsets in
octaves (``_oct``), levels in dB (``_db``) or linear 0..1. Envelope decay and
release times are T60s: the time to fall by 60 dB.

The names below are imported from their modules on first use, so importing
the package (a synth's parameter list, ``gascar synths``) does not load
numba or compile anything.
"""

from __future__ import annotations

import importlib

#: Where each public name lives (imported on first access).
_HOMES = {
    **dict.fromkeys(('chunks', 'clip_params', 'voice_batches'), 'arrays'),
    **dict.fromkeys(('FILTER_MODES', 'LFO_SHAPES', 'N_OPERATORS', 'WAVEFORMS'), 'choices'),
    **dict.fromkeys(('drive', 'eq3', 'finish', 'vibrato'), 'effects'),
    **dict.fromkeys(('adsr', 'decay_env', 'lfo'), 'envelopes'),
    **dict.fromkeys(('keytrack', 'svf'), 'filters'),
    **dict.fromkeys(('fm_operators',), 'fm'),
    **dict.fromkeys((
        'ATTACK_TARGET', 'CONTROL_BLOCK', 'FM_MAX_FEEDBACK', 'FM_MAX_INDEX', 'KEYTRACK_REF_HZ', 'LOG_1E3',
        'PHASE_MASK', 'PHASE_ONE', 'SINE_TABLE_SIZE', 'SUBTRACTIVE_COLUMNS', 'WAVETABLE_COLUMNS',
        'WAVETABLE_SIZE', 'add_rows', 'env_coefs', 'env_step', 'frame_read', 'lfo_value', 'mipmap_level',
        'set_rows', 'sine_fixed', 'softclip', 'subtractive_voices', 'svf_coefs', 'svf_g', 'svf_k', 'svf_tick',
        'table_read', 'wavetable_voices',
    ), 'kernels'),
    **dict.fromkeys((
        'WAVETABLE_FRAMES', 'WAVETABLE_LEVELS', 'WAVETABLE_MAX_HARMONIC', 'frame_spectra', 'mipmap_harmonics',
        'mipmaps', 'mipmaps_of', 'oscillator', 'wavetable_frames', 'wavetable_osc', 'white_noise',
    ), 'oscillators'),
    **dict.fromkeys(('SPECTRAL_BLOCK', 'noise_stems', 'spectral_voices'), 'spectral'),
    **dict.fromkeys(('N_PARTIALS', 'partial_bank', 'spectral_shape', 'stiff_string_ratios'), 'partials'),
}

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__

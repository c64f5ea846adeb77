"""Tests of the dsp building blocks: shapes, band-limiting, stability, envelopes, effects."""

import numpy as np
import pytest

from gascar import dsp

SR = 44100


def _db(x):
    return 10.0 * np.log10(np.maximum(x, 1e-30))


def alias_ratio_db(y, f0_hz, sample_rate, guard_bins=6):
    """Energy of the non-harmonic bins relative to the fundamental's, in dB (1 Hz bins)."""
    n = len(y)
    assert n == sample_rate, "use exactly one second so bins are 1 Hz apart"
    w = np.blackman(n)
    p = np.abs(np.fft.rfft(y * w)) ** 2
    harmonic = np.zeros(len(p), dtype=bool)
    for h in np.arange(f0_hz, sample_rate / 2, f0_hz):
        k = int(round(h))
        harmonic[max(0, k - guard_bins) : k + guard_bins + 1] = True
    harmonic[:guard_bins] = True  # DC region
    k0 = int(round(f0_hz))
    fund = p[k0 - guard_bins : k0 + guard_bins + 1].sum()
    return _db(p[~harmonic].sum()) - _db(fund)


# -- oscillators ---------------------------------------------------------------------------------


def test_oscillator_shapes_and_dtype():
    y = dsp.oscillator(np.arange(4.0), np.full(4, 220.0), 1000, 22050, pulse_width=np.full(4, 0.3))
    assert y.shape == (4, 1000) and y.dtype == np.float32
    assert np.all(np.isfinite(y)) and np.abs(y).max() < 2.0  # a DC-free narrow pulse peaks above 1


@pytest.mark.parametrize("wave", [0, 1, 2])
def test_band_limited_oscillator_aliasing_below_40_db_at_5khz(wave):
    y = dsp.oscillator(np.array([wave]), np.array([5000.0]), SR, SR)[0].astype(np.float64)
    assert alias_ratio_db(y, 5000.0, SR) <= -40.0


def test_naive_saw_would_fail_the_alias_test():
    # Guards the test itself: a naive saw aliases far more than 40 dB below.
    t = np.arange(SR) * 5000.0 / SR
    naive = 2.0 * (t - np.floor(t)) - 1.0
    assert alias_ratio_db(naive, 5000.0, SR) > -40.0


def test_wavetable_saw_frame_is_band_limited_at_5khz():
    pos = np.full((1, SR), dsp.WAVETABLE_FRAMES.index("saw") / (len(dsp.WAVETABLE_FRAMES) - 1), dtype=np.float32)
    y = dsp.wavetable_osc(np.array([5000.0]), pos, SR, SR)[0].astype(np.float64)
    assert alias_ratio_db(y, 5000.0, SR) <= -40.0


def test_saw_has_harmonic_amplitudes_one_over_k():
    y = dsp.oscillator(np.array([0.0]), np.array([100.0]), SR, SR)[0]
    p = np.abs(np.fft.rfft(y * np.hanning(SR)))
    amps = np.array([p[100 * k - 3 : 100 * k + 4].max() for k in (1, 2, 3, 4)])
    assert np.allclose(amps / amps[0], [1, 1 / 2, 1 / 3, 1 / 4], rtol=0.03)


def test_pulse_width_changes_the_spectrum_and_removes_dc():
    y = dsp.oscillator(np.array([1.0, 1.0]), np.array([200.0, 200.0]), SR, SR, pulse_width=np.array([0.5, 0.25]))
    p = np.abs(np.fft.rfft(y * np.hanning(SR), axis=1))
    second = p[:, 397:404].max(axis=1) / p[:, 197:204].max(axis=1)
    assert second[0] < 0.01 < second[1]  # a square has no even harmonics; a 25 % pulse does
    assert np.abs(y.mean(axis=1)).max() < 0.01


def test_pitch_modulation_shifts_frequency():
    ns = SR
    up = np.full((1, ns), 12.0, dtype=np.float32)
    y = dsp.oscillator(np.array([3.0]), np.array([440.0]), ns, SR, pitch_st=up)[0]
    assert np.argmax(np.abs(np.fft.rfft(y))) == pytest.approx(880, abs=2)


def test_noise_is_seeded_and_uniform():
    a, b, c = dsp.white_noise(1000, seed=1), dsp.white_noise(1000, seed=1), dsp.white_noise(1000, seed=2)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert a.dtype == np.float32 and a.min() >= -1.0 and a.max() < 1.0


# -- envelopes and LFO ----------------------------------------------------------------------------


def test_adsr_attack_peak_sustain_and_release():
    sr = 1000
    env = dsp.adsr(np.array([0.1, 0.3]), np.array([0.2, 0.2]), np.array([0.5, 0.5]), np.array([0.3, 0.3]), np.array([1.0, 1.0]), 2000, sr)
    assert env.shape == (2, 2000) and env.dtype == np.float32
    assert np.argmax(env[0]) == pytest.approx(100, abs=2)
    assert np.argmax(env[1]) == pytest.approx(300, abs=2)
    assert env[0, 990] == pytest.approx(0.5, abs=0.01)  # sustain reached before note-off
    assert env[0, 1000 + 300] == pytest.approx(0.5e-3, rel=0.05)  # release T60
    assert np.all(np.diff(env[0, 1001:]) <= 0)


def test_adsr_note_off_during_attack_releases_from_current_level():
    sr = 1000
    env = dsp.adsr(np.array([1.0]), np.array([1.0]), np.array([1.0]), np.array([0.1]), np.array([0.2]), 600, sr)[0]
    assert env.max() < 0.5 and env[199] == env.max()
    assert env[350] < 1e-3 * env.max() * 10


def test_adsr_attack_is_concave_like_an_analogue_envelope():
    env = dsp.adsr(np.array([0.1]), np.array([1.0]), np.array([1.0]), np.array([1.0]), np.array([1.0]), 100, 1000)[0]
    assert env[49] > 0.5


def test_lfo_shapes_and_rate():
    y = dsp.lfo(np.array([2.0, 2.0]), np.array([0.0, 1.0]), 1000, 1000)
    assert y.shape == (2, 1000)
    assert np.abs(y).max() <= 1.0 + 1e-6
    assert y[0, 125] == pytest.approx(1.0, abs=1e-3) and y[1, 125] == pytest.approx(1.0, abs=1e-6)
    assert y[0, 0] == 0.0 and y[1, 0] == 0.0


def test_decay_env_t60():
    y = dsp.decay_env(np.array([0.5]), 1000, 1000)[0]
    assert y[0] == 1.0 and y[500] == pytest.approx(1e-3, rel=0.02)


# -- filter ------------------------------------------------------------------------------------------


def _band_power(y, sr, lo, hi):
    """Mean power per bin in [lo, hi) Hz (a density, so bands of any width compare)."""
    p = np.abs(np.fft.rfft(y)) ** 2
    f = np.fft.rfftfreq(len(y), 1 / sr)
    return p[(f >= lo) & (f < hi)].mean()


def test_svf_modes_pass_and_stop_the_right_bands():
    noise = np.tile(dsp.white_noise(SR, seed=3), (3, 1))
    y = dsp.svf(noise, np.array([0.0, 1.0, 2.0]), np.full(3, 1000.0), np.array([0.0, 0.0, 0.8]), SR)
    lo = [_band_power(r, SR, 20, 300) for r in y]
    mid = [_band_power(r, SR, 800, 1250) for r in y]
    hi = [_band_power(r, SR, 5000, 15000) for r in y]
    assert lo[0] > 100 * hi[0]  # lowpass
    assert hi[1] > 100 * lo[1]  # highpass
    assert mid[2] > 10 * lo[2] and mid[2] > 10 * hi[2]  # bandpass


@pytest.mark.parametrize("cutoff", [1.0, 20.0, 10000.0, 21000.0, 1e6])
@pytest.mark.parametrize("mode", [0, 1, 2])
def test_svf_is_stable_at_extreme_settings(cutoff, mode):
    x = np.zeros((2, 20000), dtype=np.float32)
    x[:, ::997] = 1.0
    x[1] += dsp.white_noise(20000, seed=5)
    sweep = np.tile(np.linspace(-10, 10, 20000, dtype=np.float32), (2, 1))
    for mod in (None, sweep):
        y = dsp.svf(x, np.full(2, float(mode)), np.full(2, cutoff), np.ones(2), SR, cutoff_oct=mod)
        assert np.all(np.isfinite(y)) and np.abs(y).max() < 1e3


def test_svf_resonance_peaks_at_cutoff():
    noise = np.tile(dsp.white_noise(SR, seed=4), (2, 1))
    y = dsp.svf(noise, np.zeros(2), np.full(2, 2000.0), np.array([0.0, 0.95]), SR)
    ratio = [_band_power(r, SR, 1900, 2100) / _band_power(r, SR, 200, 400) for r in y]
    assert ratio[1] > 10 * ratio[0]


def test_keytrack():
    assert dsp.keytrack(np.array([1000.0]), np.array([dsp.KEYTRACK_REF_HZ * 2]), np.array([1.0]))[0] == pytest.approx(2000.0)
    assert dsp.keytrack(np.array([1000.0]), np.array([dsp.KEYTRACK_REF_HZ * 2]), np.array([0.0]))[0] == pytest.approx(1000.0)


# -- FM, partials, wavetable --------------------------------------------------------------------------


def _fm(levels, ratios, alg_mod, carriers, feedback=0.0, ns=SR):
    n = 1
    freq = np.array([ratios]) * 440.0
    ones = np.ones((n, 4))
    return dsp.fm_operators(freq, np.array([levels]), 0.001 * ones, 10.0 * ones, ones, np.ones(n), np.array([feedback]),
                            alg_mod[None], np.array([carriers], dtype=float), np.array([10.0]), ns, SR)[0]


def test_fm_carrier_alone_is_a_sine_and_modulation_adds_sidebands():
    mod = np.zeros((4, 4))
    mod[0, 1] = 1.0
    pure = _fm([1, 0, 0, 0], [1, 2, 1, 1], mod, [1, 0, 0, 0])
    rich = _fm([1, 0.5, 0, 0], [1, 2, 1, 1], mod, [1, 0, 0, 0])
    p_pure = np.abs(np.fft.rfft(pure[2000:] * np.hanning(SR - 2000)))
    p_rich = np.abs(np.fft.rfft(rich[2000:] * np.hanning(SR - 2000)))
    scale = (SR - 2000) / SR
    k = lambda hz: int(round(hz * scale))  # noqa: E731
    assert p_pure[k(440) - 3 : k(440) + 4].max() > 1e3 * p_pure[k(1320) - 3 : k(1320) + 4].max()
    assert p_rich[k(1320) - 3 : k(1320) + 4].max() > 0.05 * p_rich[k(440) - 3 : k(440) + 4].max()


def test_fm_feedback_at_maximum_stays_bounded():
    y = _fm([1, 0, 0, 1], [1, 1, 1, 1], np.zeros((4, 4)), [0, 0, 0, 1], feedback=1.0)
    assert np.all(np.isfinite(y)) and np.abs(y).max() <= 1.0 + 1e-6


def test_partial_bank_matches_a_direct_sum_of_sines():
    sr, ns = 22050, 5000
    freq = np.array([[220.0, 660.0, 20000.0]])
    amp = np.array([[1.0, 0.5, 1.0]])  # the partial above 0.45 sr is dropped
    dec = np.array([[1.0, 0.3, 1.0]])
    y = dsp.partial_bank(freq, amp, dec, np.array([0.2]), ns, sr)[0]
    t = np.arange(ns) / sr
    ref = sum(a * np.sin(2 * np.pi * f * t) * (0.2 + 0.8 * 10 ** (-3 * t / d)) for f, a, d in zip(freq[0, :2], amp[0, :2], dec[0, :2]))
    assert np.abs(y - ref).max() < 1e-3


def test_stiff_string_ratios():
    r = dsp.stiff_string_ratios(np.array([0.0, 0.01]), 8)
    assert np.allclose(r[0], np.arange(1, 9))
    k = np.arange(1, 9)
    assert np.allclose(r[1], k * np.sqrt(1 + 0.01 * k**2) / np.sqrt(1.01))
    assert r[1, 0] == pytest.approx(1.0)


def test_spectral_shape_tilt_even_and_peaks():
    k = np.arange(1, 9, dtype=float)
    f = (100.0 * k)[None]
    flat = dsp.spectral_shape(f, np.array([100.0]), np.array([0.0]), np.array([1.0]), np.array([[500.0]]), np.array([[0.0]]), np.array([0.5]))
    assert np.allclose(flat, 1.0)
    tilt = dsp.spectral_shape(f, np.array([100.0]), np.array([-6.0]), np.array([0.0]), np.array([[500.0]]), np.array([[0.0]]), np.array([0.5]))
    assert tilt[0, 1] == 0.0 and tilt[0, 2] == pytest.approx(10 ** (-6 * np.log2(3) / 20))
    peak = dsp.spectral_shape(f, np.array([100.0]), np.array([0.0]), np.array([1.0]), np.array([[500.0]]), np.array([[20.0]]), np.array([0.3]))
    assert np.argmax(peak[0]) == 4


def test_wavetable_frames_and_mipmaps():
    tables = dsp.wavetable_frames()
    top = dsp.mipmap_harmonics()
    assert tables.shape == (dsp.WAVETABLE_LEVELS, len(dsp.WAVETABLE_FRAMES), dsp.WAVETABLE_SIZE + 1)
    assert top[0] == dsp.WAVETABLE_MAX_HARMONIC and top[-1] == 1 and np.all(np.diff(top) <= 0)
    assert np.allclose(np.abs(tables[0, :, :-1]).max(axis=1), 1.0)
    assert np.array_equal(tables[:, :, 0], tables[:, :, -1])
    spec = np.abs(np.fft.rfft(tables[5, 3, :-1]))
    assert spec[top[5] + 1 :].max() < 1e-6 * spec.max() and spec[top[5]] > 1e-3 * spec.max()


def test_wavetable_position_interpolates_between_frames():
    n = 8820
    f0 = np.full(3, 441.0)
    pos = np.repeat(np.array([[0.0], [1 / 7], [0.5 / 7]], dtype=np.float32), n, axis=1)
    y = dsp.wavetable_osc(f0, pos, n, 44100)
    assert np.allclose(y[2], 0.5 * (y[0] + y[1]), atol=1e-5)


# -- effects and output --------------------------------------------------------------------------------


def test_drive_is_bounded_odd_and_monotonic():
    x = np.linspace(-1, 1, 1001, dtype=np.float32)[None]
    y = dsp.drive(x, np.array([24.0]))[0]
    assert np.abs(y).max() <= 1.0 + 1e-6
    assert np.all(np.diff(y) >= 0) and np.allclose(y, -y[::-1], atol=1e-6)


def test_eq3_boosts_its_bands_and_flat_is_identity():
    noise = np.tile(dsp.white_noise(SR, seed=9), (4, 1))
    y = dsp.eq3(noise, np.array([0, 12.0, 0, 0]), np.array([0, 0, 12.0, 0]), np.full(4, 1000.0), np.array([0, 0, 0, 12.0]), SR)
    assert np.array_equal(y[0], noise[0])
    ref = [_band_power(noise[0], SR, *b) for b in ((20, 100), (900, 1100), (9000, 15000))]
    for row, band in ((1, 0), (2, 1), (3, 2)):
        lo, hi = ((20, 100), (900, 1100), (9000, 15000))[band]
        assert _band_power(y[row], SR, lo, hi) > 8 * ref[band]


def test_finish_fades_in_blocks_dc_and_guards_peaks():
    x = np.ones((2, 22050), dtype=np.float32)
    x[1] *= 5.0
    y = dsp.finish(x, np.array([0.0, 12.0]), 22050)
    assert y[0, 0] < 0.01
    assert abs(y[0, -1]) < 0.01  # DC removed
    assert np.abs(y[1]).max() == pytest.approx(1.0)


def test_vibrato_depth_zero_is_identity_and_depth_modulates_pitch():
    x = dsp.oscillator(np.array([3.0]), np.array([1000.0]), SR, SR)
    assert np.array_equal(dsp.vibrato(x, np.array([5.0]), np.array([0.0]), SR), x)
    y = dsp.vibrato(x, np.array([5.0]), np.array([1.0]), SR)[0]
    p = np.abs(np.fft.rfft(y * np.hanning(SR)))
    assert p[1000] < 0.5 * np.abs(np.fft.rfft(x[0] * np.hanning(SR)))[1000]
    assert np.all(np.isfinite(y))


def test_chunks_cover_the_batch():
    assert [(s.start, s.stop) for s in dsp.chunks(70, 32)] == [(0, 32), (32, 64), (64, 70)]

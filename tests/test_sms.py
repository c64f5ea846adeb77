"""Spectral modelling: synthetic notes with known partials, envelopes and noise are recovered within stated tolerances."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from gascar import analysis
from gascar.sms import SoundModel, analyse_sound
from gascar.sms.envelope import amplitude_envelope, fit_adsr
from gascar.sms.tracks import analysis_window

SR = 22050
F0 = 196.0
B = 5e-4
N_PARTIALS = 12
ATTACK, DECAY, SUSTAIN, HOLD, RELEASE = 0.03, 0.4, 0.4, 0.8, 0.3
DURATION = 1.3
NOISE_BAND = (2000.0, 4000.0)
NOISE_RMS = 0.01


def adsr_curve(t: np.ndarray) -> np.ndarray:
    """Linear attack, exponential decay towards the sustain (T60 DECAY), release (T60 RELEASE) at HOLD."""
    held = np.where(t < ATTACK, t / ATTACK, SUSTAIN + (1 - SUSTAIN) * 10 ** (-3 * np.maximum(t - ATTACK, 0) / DECAY))
    at_hold = SUSTAIN + (1 - SUSTAIN) * 10 ** (-3 * (HOLD - ATTACK) / DECAY)
    return np.where(t < HOLD, held, at_hold * 10 ** (-3 * (t - HOLD) / RELEASE))


def partial_freqs() -> np.ndarray:
    k = np.arange(1, N_PARTIALS + 1)
    return k * F0 * np.sqrt(1 + B * k * k) / np.sqrt(1 + B)


def partial_amps() -> np.ndarray:
    return 0.3 / np.arange(1, N_PARTIALS + 1)


def band_noise(n: int, seed: int = 1) -> np.ndarray:
    """White noise band-limited to NOISE_BAND, RMS NOISE_RMS."""
    w = np.fft.rfft(np.random.default_rng(seed).standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / SR)
    x = np.fft.irfft(w * ((f >= NOISE_BAND[0]) & (f < NOISE_BAND[1])), n)
    return x * NOISE_RMS / np.sqrt(np.mean(x**2))


def known_note(vibrato_cents: float = 0.0) -> np.ndarray:
    t = np.arange(int(DURATION * SR)) / SR
    env = adsr_curve(t)
    mod = 2 ** (vibrato_cents / 1200 * np.sin(2 * np.pi * 6.0 * t))
    x = sum(a * np.sin(2 * np.pi * np.cumsum(np.full(t.size, f) * mod) / SR) for f, a in zip(partial_freqs(), partial_amps()))
    return (x * env + band_noise(t.size) * env).astype(np.float32)


@pytest.fixture(scope="module")
def model() -> SoundModel:
    return analyse_sound(known_note(), SR, f0_hz=F0, hold_s=HOLD)


def test_every_partial_is_found_at_its_frequency(model):
    assert model.usable and model.pitched
    for f in partial_freqs():
        cents = 1200 * np.abs(np.log2(model.partial_hz / f))
        assert cents.min() < 3.0, f"partial at {f:.1f} Hz not found within 3 cents (nearest {cents.min():.1f})"
    # Nothing else strong: every partial found lies on a true one, or is at least 30 dB down.
    levels = model.partial_levels_db()
    for f, lv in zip(model.partial_hz, levels):
        if 1200 * np.abs(np.log2(partial_freqs() / f)).min() > 3.0:
            assert lv < -30.0, f"spurious partial at {f:.1f} Hz, {lv:.1f} dB"


def test_partial_amplitudes_and_their_decay_are_recovered(model):
    held = (model.times_s > 0.15) & (model.times_s < HOLD - 0.1)
    for f, a in zip(partial_freqs(), partial_amps()):
        j = int(np.argmin(np.abs(model.partial_hz - f)))
        got = model.partial_amp[held, j]
        want = a * adsr_curve(model.times_s[held])
        err_db = 20 * np.log10(np.median(got / want))
        assert abs(err_db) < 1.0, f"partial at {f:.0f} Hz: amplitude off by {err_db:+.2f} dB"


def test_inharmonicity_is_fitted(model):
    assert model.inharmonicity == pytest.approx(B, rel=0.2)


def test_harmonic_descriptors(model):
    h = model.harmonic_levels_db(N_PARTIALS)
    want = 20 * np.log10(1 / np.arange(1, N_PARTIALS + 1))
    assert np.max(np.abs(h - want)) < 1.0
    assert model.tilt_db_per_oct == pytest.approx(-6.0, abs=1.0)
    assert model.even_level == pytest.approx(1.0, abs=0.12)


def test_adsr_fit_recovers_the_envelope(model):
    a = model.adsr
    assert a.attack_s == pytest.approx(ATTACK, abs=0.015)
    assert a.sustain == pytest.approx(SUSTAIN, abs=0.1)
    assert DECAY / 1.5 < a.decay_s < DECAY * 1.5
    assert RELEASE / 1.5 < a.release_s < RELEASE * 1.5
    assert a.error_db < 2.0


def test_residual_noise_band_and_level(model):
    edges = model.noise_edges_hz
    centres = 0.5 * (edges[:-1] + edges[1:])
    inside = (centres > NOISE_BAND[0]) & (centres < NOISE_BAND[1])
    held = (model.times_s > 0.15) & (model.times_s < HOLD - 0.1)
    level = 10 * np.log10(np.mean(model.noise_power[held], axis=0))
    # The noise's per-bin power under the analysis window: variance spread over its share of the spectrum.
    w = analysis_window(model.noise_n_fft, "blackmanharris")
    share = (NOISE_BAND[1] - NOISE_BAND[0]) / (SR / 2)
    env = np.mean(adsr_curve(model.times_s[held]) ** 2)
    want = 10 * np.log10(NOISE_RMS**2 / share * np.sum(w**2) * env)
    assert np.all(np.abs(level[inside] - want) < 3.0), f"noise bands {level[inside]} dB, want {want:.1f}"
    assert np.all(level[centres < 1000.0] < want - 20.0)
    # Its share of the power: the noise against the partials' sum of squares over two.
    share_true = NOISE_RMS**2 / (NOISE_RMS**2 + 0.5 * np.sum(partial_amps() ** 2))
    assert model.noise_share == pytest.approx(share_true, abs=0.05)


def test_vibrato_is_measured():
    m = analyse_sound(known_note(vibrato_cents=30.0), SR, f0_hz=F0, hold_s=HOLD,
                      f0_contour_hz=F0 * 2 ** (30 / 1200 * np.sin(2 * np.pi * 6.0 * (np.arange(120) * 256 + 1024) / SR)))
    rate, depth_st = m.vibrato()
    assert rate == pytest.approx(6.0, abs=0.5)
    assert depth_st == pytest.approx(0.30, rel=0.3)
    # The partials followed the pitch: still present through the held part.
    held = (m.times_s > 0.15) & (m.times_s < HOLD - 0.1)
    assert np.mean(m.partial_amp[held][:, np.argmin(np.abs(m.partial_hz - 8 * F0))] > 0) > 0.9


def test_centroid_and_rolloff_trajectories():
    t = np.arange(int(0.8 * SR)) / SR
    sine = 0.5 * np.sin(2 * np.pi * 1000.0 * t)
    m = analyse_sound(sine.astype(np.float32), SR, f0_hz=1000.0, hold_s=0.8)
    mid = (m.times_s > 0.1) & (m.times_s < 0.7)
    assert np.median(m.centroid_hz[mid]) == pytest.approx(1000.0, rel=0.03)
    # A note whose upper partials die first: the rolloff falls, so the filter envelope opens at the start.
    x = sum(np.sin(2 * np.pi * k * 220.0 * t) / k * np.exp(-t * k * 0.8) for k in range(1, 30))
    m = analyse_sound(x.astype(np.float32), SR, f0_hz=220.0, hold_s=0.8)
    sustain_hz, env_oct, decay_s = m.rolloff_summary()
    assert env_oct > 1.0 and 0.01 < decay_s < 0.8 and sustain_hz < 2000.0


def test_noise_alone_is_residual():
    x = band_noise(int(0.6 * SR)) * 10
    m = analyse_sound(x.astype(np.float32), SR, f0_hz=None, hold_s=0.6)
    assert m.usable and not m.pitched
    assert m.noise_share > 0.8


def test_too_short_or_silent_notes_are_unusable_with_a_note():
    m = analyse_sound(np.zeros(500, np.float32), SR, f0_hz=None, hold_s=0.02)
    assert not m.usable and "shorter" in m.note
    m = analyse_sound(np.zeros(SR, np.float32), SR, f0_hz=None, hold_s=0.5)
    assert not m.usable and m.note


def test_adsr_fit_of_an_organ_like_envelope():
    env = amplitude_envelope(np.sin(2 * np.pi * 220 * np.arange(SR) / SR) * np.minimum(np.arange(SR) / 200, 1), SR, 220.0)
    a = fit_adsr(env, SR, 1.0)
    assert a.sustain > 0.9 and a.attack_s < 0.03


def test_the_model_is_cached_with_the_target(tmp_path, monkeypatch):
    monkeypatch.setenv("GASCAR_CACHE_DIR", str(tmp_path / "cache"))
    analysis.clear_memory_cache()
    path = tmp_path / "note.wav"
    sf.write(path, known_note(), SR, subtype="FLOAT")
    first = analysis.load_target(path)
    analysis.clear_memory_cache()
    again = analysis.load_target(path)  # from the disk cache
    assert first.model is not None and again.model is not None and again is not first
    for name, arr in first.model.to_arrays().items():
        np.testing.assert_array_equal(arr, again.model.to_arrays()[name], err_msg=name)
    assert again.model.adsr == first.model.adsr
    analysis.clear_memory_cache()

"""Tests of the seven synths: validity over the whole genome space, determinism, parameter semantics, presets."""

from pathlib import Path

import numpy as np
import pytest

from gascar.preset import Preset
from gascar.synths import SYNTH_ORDER, VOICE_SYNTHS, get_synth, list_synths

SR = 22050
PRESETS = Path(__file__).resolve().parent.parent / "presets"
#: The five parametric synths and the two voices built from a target's analysis (here with their default voices).
ALL = SYNTH_ORDER + VOICE_SYNTHS


def phys(synth, n=1, **values):
    """Default physical values of ``synth`` with some overridden (labels allowed for choices)."""
    d = synth.params.default_physical()
    for k, v in values.items():
        spec = synth.params[k]
        if isinstance(v, str):
            v = float(spec.choices.index(v))
        elif isinstance(v, (list, tuple)):
            v = np.array([float(spec.choices.index(x)) if isinstance(x, str) else float(x) for x in v])
        d[k] = v
    return d


def centroid_hz(y, sr=SR):
    p = np.abs(np.fft.rfft(y * np.hanning(len(y)))) ** 2
    f = np.fft.rfftfreq(len(y), 1 / sr)
    return float((p * f).sum() / max(p.sum(), 1e-30))


def rms_frames(y, hop=256):
    n = len(y) // hop
    return np.sqrt((y[: n * hop].reshape(n, hop).astype(np.float64) ** 2).mean(axis=1))


def test_all_seven_synths_are_registered():
    assert list_synths()[:5] == list(SYNTH_ORDER) and list_synths()[-2:] == list(VOICE_SYNTHS)
    for name in ALL:
        s = get_synth(name)
        assert s.description and 15 <= s.n_genes <= 80
        for spec in s.params:
            assert spec.description


# -- validity over the whole genome space -----------------------------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_ten_thousand_random_genomes_and_corners_render_valid_audio(name):
    synth = get_synth(name)
    rng = np.random.default_rng(1234)
    n_genes = synth.n_genes
    corners = np.vstack([np.zeros(n_genes), np.ones(n_genes), rng.integers(0, 2, (254, n_genes)).astype(float)])
    batches = [rng.random((1000, n_genes)) for _ in range(10)] + [corners]
    ns = 2048
    for g in batches:
        f0 = np.exp(rng.uniform(np.log(27.5), np.log(4200.0), len(g)))
        hold = rng.uniform(0.0, 2 * ns / SR, len(g))
        y = synth.render(g, f0, ns, SR, hold_s=hold)
        assert y.shape == (len(g), ns) and y.dtype == np.float32
        assert np.all(np.isfinite(y))
        assert np.abs(y).max() <= 1.0


@pytest.mark.parametrize("name", ALL)
def test_corners_render_valid_audio_at_other_sample_rates_and_lengths(name):
    synth = get_synth(name)
    g = np.vstack([np.zeros(synth.n_genes), np.ones(synth.n_genes), np.full(synth.n_genes, 0.5)])
    for sr, ns in ((8000, 1), (44100, 3000), (96000, 500)):
        y = synth.render(g, np.array([20.0, 440.0, 0.49 * sr]), ns, sr, hold_s=0.0)
        assert y.shape == (3, ns) and np.all(np.isfinite(y)) and np.abs(y).max() <= 1.0


# -- determinism ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_batch_renders_equal_single_renders_sample_for_sample(name):
    synth = get_synth(name)
    rng = np.random.default_rng(7)
    n = 40  # crosses the engine's internal chunk boundary
    g = rng.random((n, synth.n_genes))
    g[: n // 2, synth.params.switch_mask] = 1.0  # modular: voices with modules on next to voices with them off
    f0 = rng.uniform(50.0, 2000.0, n)
    hold = rng.uniform(0.0, 0.2, n)
    ns = 6000
    batch = synth.render(g, f0, ns, SR, hold_s=hold)
    for i in range(n):
        single = synth.render(g[i : i + 1], f0[i], ns, SR, hold_s=hold[i])
        assert np.array_equal(single[0], batch[i]), f"voice {i} differs between batch and single render"
    order = rng.permutation(n)
    assert np.array_equal(synth.render(g[order], f0[order], ns, SR, hold_s=hold[order]), batch[order])
    assert np.array_equal(synth.render(g, f0, ns, SR, hold_s=hold), batch)


# -- parameter semantics -----------------------------------------------------------------------------


def _render(name, n_samples=SR, f0=220.0, hold=None, **values):
    synth = get_synth(name)
    return synth.render_physical(phys(synth, **values), f0, n_samples, SR, hold_s=hold)


@pytest.mark.parametrize(
    "name, cut",
    [("subtractive", {}), ("wavetable", {"position": 0.43}), ("modular", {"filter_on": "on"})],
)
def test_higher_cutoff_raises_the_spectral_centroid(name, cut):
    y = _render(name, cutoff_hz=[300.0, 1000.0, 4000.0], filter_env_oct=0.0, **cut)
    c = [centroid_hz(r) for r in y]
    assert c[0] < c[1] < c[2]


@pytest.mark.parametrize("name, attack", [("subtractive", "attack_s"), ("fm", "op1_attack_s"), ("additive", "attack_s"),
                                          ("wavetable", "attack_s"), ("modular", "attack_s")])
def test_longer_attack_delays_the_envelope_peak(name, attack):
    # A decay after the attack makes the peak unique; the additive synth's decay is per partial.
    extra = {"decay_s": 30.0 if name == "additive" else 0.5, "sustain": 0.0}
    if name == "fm":
        extra = {"op1_decay_s": 0.5, "op1_sustain": 0.0}
    y = _render(name, **{attack: [0.005, 0.1, 0.4]}, **extra)
    peaks = [np.argmax(rms_frames(r)) * 256 / SR for r in y]
    assert peaks[0] < 0.05 and peaks[0] < peaks[1] < peaks[2]
    assert peaks[2] == pytest.approx(0.4, abs=0.08)


@pytest.mark.parametrize("name, release", [("subtractive", "release_s"), ("fm", "release_s"), ("additive", "release_s"),
                                           ("wavetable", "release_s"), ("modular", "release_s")])
def test_note_off_starts_the_release_and_longer_release_rings_longer(name, release):
    y = _render(name, hold=0.5, **{release: [0.05, 1.0]})
    before = rms_frames(y[0])[int(0.45 * SR / 256)]
    tail = [rms_frames(r)[int(0.7 * SR / 256)] for r in y]
    assert tail[0] < 1e-3 * before
    assert tail[1] > 100 * tail[0]


def test_subtractive_noise_level_flattens_the_spectrum():
    y = _render("subtractive", osc_mix=0.0, noise_level=[0.0, 1.0], cutoff_hz=18000.0, filter_env_oct=0.0)
    p = np.abs(np.fft.rfft(y, axis=1)) ** 2 + 1e-20
    flatness = np.exp(np.log(p).mean(axis=1)) / p.mean(axis=1)
    assert flatness[1] > 10 * flatness[0]


def test_subtractive_osc2_interval_adds_energy_an_octave_up():
    y = _render("subtractive", osc1_wave="sine", osc2_wave="sine", osc_mix=0.5, osc2_detune_cents=0.0,
                osc2_semitones=[0, 12], cutoff_hz=18000.0, filter_env_oct=0.0)
    p = np.abs(np.fft.rfft(y * np.hanning(SR), axis=1))
    assert p[1, 440] > 100 * p[0, 440]


def test_subtractive_pitch_envelope_starts_high_and_settles_on_the_note():
    y = _render("subtractive", osc1_wave="sine", osc_mix=0.0, pitch_env_st=24.0, pitch_env_decay_s=0.5, cutoff_hz=18000.0,
                filter_env_oct=0.0, f0=110.0)[0]
    early = np.abs(np.fft.rfft(y[:2048] * np.hanning(2048)))
    late = np.abs(np.fft.rfft(y[-4096:] * np.hanning(4096)))
    assert np.argmax(early) * SR / 2048 > 180.0
    assert np.argmax(late) * SR / 4096 == pytest.approx(110.0, abs=6.0)


def test_subtractive_tremolo_modulates_amplitude_at_the_lfo_rate():
    y = _render("subtractive", lfo_to_amp=[0.0, 1.0], lfo_rate_hz=4.0, attack_s=0.001, sustain=1.0, filter_env_oct=0.0, osc_mix=0.0)
    env = [rms_frames(r[SR // 4 :], hop=512) for r in y]
    assert np.std(env[1]) > 10 * np.std(env[0])


def test_drive_adds_harmonics():
    y = _render("subtractive", osc1_wave="sine", osc_mix=0.0, drive_db=[0.0, 30.0], cutoff_hz=18000.0, filter_env_oct=0.0)
    p = np.abs(np.fft.rfft(y * np.hanning(SR), axis=1))
    assert p[1, 660] / p[1, 220] > 100 * p[0, 660] / p[0, 220]


def test_fm_modulator_level_raises_brightness_and_algorithms_differ():
    y = _render("fm", algorithm="stack", op2_level=[0.0, 0.3, 0.8], op3_level=0.0)
    c = [centroid_hz(r) for r in y]
    assert c[0] < c[1] < c[2]
    z = _render("fm", algorithm=["stack", "parallel"], op2_level=0.5, op3_level=0.5, op4_level=0.5)
    assert not np.allclose(z[0], z[1], atol=1e-3)


def test_fm_carrier_ratio_sets_the_pitch():
    y = _render("fm", algorithm="stack", op1_ratio_coarse=[1, 2], op2_level=0.0, op3_level=0.0, op4_level=0.0)
    p = np.abs(np.fft.rfft(y * np.hanning(SR), axis=1))
    assert np.argmax(p[0]) == pytest.approx(220, abs=2) and np.argmax(p[1]) == pytest.approx(440, abs=2)


def test_additive_tilt_inharmonicity_and_even_level():
    y = _render("additive", tilt_db_per_oct=[-20.0, -6.0, 0.0])
    c = [centroid_hz(r) for r in y]
    assert c[0] < c[1] < c[2]
    z = _render("additive", inharmonicity=[0.0, 0.3], tilt_db_per_oct=0.0, f0=200.0)
    p = np.abs(np.fft.rfft(z * np.hanning(SR), axis=1))
    second = 2 * 200 * np.sqrt(1 + 0.3 * 4) / np.sqrt(1.3)
    assert p[0, 400] > 10 * p[1, 400] and p[1, int(round(second))] > 10 * p[0, int(round(second))]
    w = _render("additive", even_level=[1.0, 0.0], tilt_db_per_oct=0.0, f0=200.0)
    q = np.abs(np.fft.rfft(w * np.hanning(SR), axis=1))
    assert q[1, 400] < 0.01 * q[0, 400] and q[1, 600] / q[1, 200] == pytest.approx(q[0, 600] / q[0, 200], rel=0.2)


def test_additive_decay_tilt_makes_high_partials_die_first():
    y = _render("additive", sustain=0.0, decay_s=1.0, decay_tilt=[0.0, 1.5], tilt_db_per_oct=0.0)
    c_late = [centroid_hz(r[SR // 2 :]) for r in y]
    assert c_late[1] < 0.5 * c_late[0]


def test_wavetable_position_moves_from_sine_to_saw():
    y = _render("wavetable", position=[0.0, 3 / 7], cutoff_hz=18000.0, filter_env_oct=0.0)
    c = [centroid_hz(r) for r in y]
    assert c[0] == pytest.approx(220.0, rel=0.1) and c[1] > 2 * c[0]


def test_modular_with_every_module_off_is_silent_and_each_source_sounds_alone():
    synth = get_synth("modular")
    switches = [s.name for s in synth.params if s.is_switch]
    off = {k: "off" for k in switches}
    assert np.all(_render("modular", **off) == 0.0)
    for src in ("osc", "osc2", "fm", "wavetable", "additive", "noise"):
        y = _render("modular", **{**off, f"{src}_on": "on"})
        assert np.abs(y).max() > 0.05, src


def test_modular_filter_switch_changes_the_sound():
    y = _render("modular", filter_on=["off", "on"], cutoff_hz=300.0, filter_env_oct=0.0)
    assert centroid_hz(y[1]) < 0.5 * centroid_hz(y[0])


@pytest.mark.parametrize("name", ALL)
def test_note_longer_than_render_and_render_longer_than_note(name):
    y = _render(name, n_samples=4000, hold=10.0)
    assert y.shape == (1, 4000)
    short = {"release_s": 0.1} if "release_s" in get_synth(name).params else {"release_scale": 0.5}
    z = _render(name, n_samples=3 * SR, hold=0.1, **short)
    assert np.abs(z[0, -SR:]).max() < 1e-3


# -- presets ----------------------------------------------------------------------------------------------


def test_at_least_three_presets_per_synth():
    files = sorted(PRESETS.glob("*.json"))
    per = {name: [f for f in files if Preset.load(f).synth == name] for name in ALL}
    assert all(len(v) >= 3 for v in per.values()), {k: len(v) for k, v in per.items()}


@pytest.mark.parametrize("path", sorted(PRESETS.glob("*.json")), ids=lambda p: p.stem)
def test_presets_load_and_render_a_sound(path):
    preset = Preset.load(path)
    assert preset.name and preset.description.endswith(".")
    assert path.stem.startswith(preset.synth + "-")
    y = preset.render_audio()
    assert y.shape == (preset.render.n_samples,) and np.all(np.isfinite(y))
    assert np.abs(y).max() > 0.1
    r = rms_frames(y)
    assert r.max() > 100 * r[-1] or preset.render.hold_s is None or r.max() > 0.05


# -- structure --------------------------------------------------------------------------------------------


def test_fm_has_ten_distinct_valid_algorithms():
    from gascar.synths.fm import ALGORITHM_NAMES, CARRIER_MASKS, MOD_MATRICES

    assert len(ALGORITHM_NAMES) >= 8
    assert np.all(np.tril(MOD_MATRICES) == 0)  # operator k is only modulated by higher operators
    assert np.all(CARRIER_MASKS.sum(axis=1) >= 1) and CARRIER_MASKS[:, 0].all()
    keys = {(m.tobytes(), c.tobytes()) for m, c in zip(MOD_MATRICES, CARRIER_MASKS)}
    assert len(keys) == len(ALGORITHM_NAMES)


def test_fm_every_algorithm_renders_differently():
    synth = get_synth("fm")
    names = list(synth.params["algorithm"].choices)
    y = _render("fm", algorithm=names, op2_level=0.5, op3_level=0.5, op4_level=0.5, feedback=0.3)
    assert np.all(np.abs(y).max(axis=1) > 0.05)
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            assert not np.allclose(y[i], y[j], atol=1e-3), (names[i], names[j])


def test_modular_modules_are_switched_by_masking_genes():
    params = get_synth("modular").params
    switches = [s.name for s in params if s.is_switch]
    assert len(switches) >= 10
    grouped = [s for s in params if s.group is not None]
    assert {s.group for s in grouped} == set(switches)
    core = [s.name for s in params if s.group is None and not s.is_switch]
    assert set(core) == {"attack_s", "decay_s", "sustain", "release_s", "gain_db"}


def test_scalar_and_per_voice_f0_and_hold():
    synth = get_synth("subtractive")
    g = np.full((3, synth.n_genes), 0.5)
    a = synth.render(g, 220.0, 2000, SR, hold_s=0.05)
    b = synth.render(g, np.full(3, 220.0), 2000, SR, hold_s=np.full(3, 0.05))
    assert np.array_equal(a, b)
    c = synth.render(g, np.array([110.0, 220.0, 440.0]), 2000, SR)
    assert not np.array_equal(c[0], c[1])


@pytest.mark.parametrize("name", ALL)
def test_out_of_range_or_nan_physical_values_are_clipped_not_crashing(name):
    synth = get_synth(name)
    names = synth.params.names
    for val in (np.nan, 1e9, -1e9):
        y = synth.render_physical({k: val for k in names}, 220.0, 1000, SR)
        assert np.all(np.isfinite(y)) and np.abs(y).max() <= 1.0


# -- presets sound like their names --------------------------------------------------------------------------


def _preset_audio(stem):
    preset = Preset.load(PRESETS / f"{stem}.json")
    return preset, preset.render_audio().astype(np.float64)


def _t_to_db_below_peak(y, db, hop=256):
    """Seconds from the RMS peak until the level first falls ``db`` below it."""
    r = rms_frames(y, hop)
    k = int(np.argmax(r))
    below = np.flatnonzero(20 * np.log10(r[k:] / r[k] + 1e-12) < -db)
    return (below[0] if len(below) else len(r) - k) * hop / SR


def _peak_partials(y, f0, n=6):
    p = np.abs(np.fft.rfft(y[: 2**14] * np.hanning(2**14)))
    f = np.fft.rfftfreq(2**14, 1 / SR)
    peaks = [i for i in range(2, len(p) - 2) if p[i] == p[i - 2 : i + 3].max() and f[i] > 0.5 * f0]
    top = sorted(peaks, key=lambda i: -p[i])[:n]
    return f[top] / f0


@pytest.mark.parametrize("stem", [p.stem for p in sorted(PRESETS.glob("*-kick.json"))])
def test_kick_presets_drop_in_pitch_and_die_fast(stem):
    preset, y = _preset_audio(stem)
    f0 = preset.render.f0_hz
    zc_early = np.count_nonzero(np.diff(np.sign(y[:441]))) / 0.02 / 2
    assert zc_early > 2 * f0
    assert _t_to_db_below_peak(y, 40) < 0.6


@pytest.mark.parametrize("stem", [p.stem for p in sorted(PRESETS.glob("*-bell.json"))])
def test_bell_presets_are_inharmonic_and_ring(stem):
    preset, y = _preset_audio(stem)
    ratios = _peak_partials(y, preset.render.f0_hz)
    assert np.any(np.abs(ratios - np.round(ratios)) > 0.1)
    assert _t_to_db_below_peak(y, 20) > 0.8


@pytest.mark.parametrize("stem", [p.stem for p in sorted(PRESETS.glob("*-pad.json"))] + ["modular-strings"])
def test_pad_presets_swell_slowly(stem):
    _, y = _preset_audio(stem)
    assert np.argmax(rms_frames(y)) * 256 / SR > 0.2


@pytest.mark.parametrize("stem", [p.stem for p in sorted(PRESETS.glob("*-pluck.json"))] + ["additive-marimba", "fm-epiano", "additive-piano"])
def test_plucked_and_struck_presets_peak_at_once_and_decay(stem):
    preset, y = _preset_audio(stem)
    assert np.argmax(rms_frames(y)) * 256 / SR < 0.1
    r = rms_frames(y)
    hold_frame = int((preset.render.hold_s or 1.0) * SR / 256) - 2
    assert r[hold_frame] < 0.5 * r.max()


@pytest.mark.parametrize("stem", [p.stem for p in sorted(PRESETS.glob("*-organ.json"))])
def test_organ_presets_sustain_then_stop(stem):
    preset, y = _preset_audio(stem)
    r = rms_frames(y)
    hold = int(preset.render.hold_s * SR / 256)
    steady = r[int(0.2 * SR / 256) : hold - 2]
    assert steady.min() > 0.7 * steady.max()
    assert r[min(len(r) - 1, hold + int(0.25 * SR / 256))] < 0.01 * r.max()
    ratios = _peak_partials(y, preset.render.f0_hz)
    assert np.all(np.abs(ratios * 2 - np.round(ratios * 2)) < 0.05)  # harmonic (sub-octave allowed)


@pytest.mark.parametrize("stem", [p.stem for p in sorted(PRESETS.glob("*-bass.json"))])
def test_bass_presets_are_low_and_dark(stem):
    preset, y = _preset_audio(stem)
    assert preset.render.f0_hz < 100.0
    assert centroid_hz(y) < 400.0


def test_hihat_preset_is_bright_noise():
    _, y = _preset_audio("modular-hihat")
    p = np.abs(np.fft.rfft(y)) ** 2 + 1e-20
    assert centroid_hz(y) > 4000.0
    assert np.exp(np.log(p).mean()) / p.mean() > 0.01  # spectral flatness: noise-like


def test_fused_kernel_columns_cover_the_parameter_spaces():
    from gascar import dsp

    assert set(dsp.SUBTRACTIVE_COLUMNS) == set(get_synth("subtractive").params.names)
    assert set(dsp.WAVETABLE_COLUMNS) == set(get_synth("wavetable").params.names)

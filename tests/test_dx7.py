"""The dx7 synth (Dexed's engine through dexed-py) and DX7 .syx files: voices, banks, malformed input, the extra's absence."""

from __future__ import annotations

import pickle
import sys
import threading

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from conftest import tone

from gascar.cli import cli
from gascar.errors import PresetError, SynthError
from gascar.export import load_preset, syx, write_native, write_native_bank
from gascar.preset import Preset, RenderSettings
from gascar.synths import auto_synths, dx7, get_synth, list_synths

SR = 22050
needs_dexed = pytest.mark.skipif(not dx7.dexed_available(), reason="dexed-py (the dx7 extra) is not installed")


def random_presets(n, seed=0, **render):
    synth = get_synth("dx7")
    g = np.random.default_rng(seed).random((n, synth.n_genes))
    settings = RenderSettings(**{"f0_hz": 220.0, "duration_s": 0.5, "hold_s": 0.3, **render})
    return [Preset.from_genome("dx7", g[i], settings, match={"target": "bell.wav", "rank": i + 1}) for i in range(n)]


# -- the parameter map ----------------------------------------------------------------------------


def test_every_voice_byte_has_one_owner_and_names_follow_dexed():
    owners = [b for b, _ in dx7.VOICE_LAYOUT.values()] + list(dx7.FIXED_BYTES) + list(range(145, 155))
    assert sorted(owners) == list(range(dx7.VOICE_SIZE))
    synth = get_synth("dx7")
    assert "dx7" in list_synths() and synth.n_genes == 106
    assert {"algorithm", "feedback", "op1_output_level", "op1_coarse", "op6_fine", "op3_detune", "op2_mode",
            "op4_eg_rate1", "op5_eg_level4", "pitch_eg_level2", "lfo_wave"} <= set(synth.params.names)
    assert all(spec.description for spec in synth.params)


def test_voice_bytes_and_voice_values_are_inverse_over_random_genomes():
    synth = get_synth("dx7")
    assert len(synth.keyboard) == 36 and synth.voice_params.n_genes == 142
    g = np.random.default_rng(1).random((300, synth.voice_params.n_genes))  # keyboard parameters too
    physical = synth.voice_params.to_physical(g)
    voices = dx7.voice_bytes(physical, name="TEST")
    assert voices.shape == (300, 155) and voices.dtype == np.uint8
    for i in range(300):
        values, name, problems = dx7.voice_values(voices[i])
        assert problems == [] and name == "TEST"
        assert values == {k: float(v[i]) for k, v in physical.items()}


def test_dexed_output_stage_quantises_and_clips_as_dexed_does():
    x = np.array([0.0, 0.5, -0.5, 1e-5, -1e-5, 7.9999, 8.0, 100.0, -8.0, -8.1], dtype=np.float32)
    y = dx7.dexed_output(x)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y[:5], [0.0, 0.0625, -0.0625, 0.0, -1 / 32768])
    assert y[6] == y[7] == np.float32(32767 / 32768)
    assert y[8] == -1.0 and y[9] == 1.0  # below -8 Dexed's clip wraps to +1


def test_midi_note_is_the_nearest_equal_tempered_note():
    c4 = dx7.note_hz(60)
    f = c4 * 2.0 ** (np.array([-49.0, 0.0, 49.0, 51.0, -51.0]) / 1200)
    np.testing.assert_array_equal(dx7.midi_note(f), [60, 60, 60, 61, 59])
    assert dx7.midi_note(np.array([1.0, 30000.0])).tolist() == [0, 127]
    line = dx7.pitch_line(dx7.note_hz(51), 440.0 * 2 ** (-491 / 1200))
    assert "MIDI note 51 (D#3; D#2 on Dexed's keyboard)" in line and "+9 cents" in line


# -- rendering ----------------------------------------------------------------------------------------


@needs_dexed
def test_random_genomes_and_corners_render_valid_deterministic_audio():
    synth = get_synth("dx7")
    rng = np.random.default_rng(7)
    g = np.vstack([np.zeros(synth.n_genes), np.ones(synth.n_genes), rng.random((38, synth.n_genes))])
    f0 = np.exp(rng.uniform(np.log(27.5), np.log(4200.0), len(g)))
    a = synth.render(g, f0, 4096, SR, hold_s=0.1)
    assert a.shape == (40, 4096) and a.dtype == np.float32
    assert np.all(np.isfinite(a)) and np.abs(a).max() <= 1.0
    b = synth.render(g[::-1], f0[::-1], 4096, SR, hold_s=0.1)[::-1]
    np.testing.assert_array_equal(a, b)
    other = {}
    t = threading.Thread(target=lambda: other.setdefault("a", pickle.loads(pickle.dumps(synth)).render(g, f0, 4096, SR, hold_s=0.1)))
    t.start()
    t.join()
    np.testing.assert_array_equal(a, other["a"])  # a new engine in another thread


@needs_dexed
def test_render_equals_dexed_py_public_api_and_ignores_velocity():
    from dexed import DexedSynth, Patch

    preset = random_presets(1, seed=3)[0]
    ours = preset.render_audio()
    n = preset.render.n_samples
    public = DexedSynth(sample_rate=SR)
    public.load_patch(Patch.from_sysex(syx.preset_voice(preset) + b"\x3f"))
    y = public.render(midi_note=57, velocity=100, note_duration=0.3, render_duration=(n + 0.25) / SR)
    np.testing.assert_array_equal(ours, dx7.dexed_output(y[:n]))
    for velocity in (1, 64, 127):
        np.testing.assert_array_equal(ours, preset.with_render(velocity=velocity).render_audio())


def test_voices_without_keyboard_parameters_write_them_neutral():
    synth = get_synth("dx7")
    physical = synth.params.to_physical(np.random.default_rng(2).random((4, synth.n_genes)))
    voices = dx7.voice_bytes(physical)
    for k in range(1, 7):
        b = (6 - k) * 21
        assert np.all(voices[:, b + 8] == 39) and np.all(voices[:, b + 9 : b + 13] == 0) and np.all(voices[:, b + 15] == 0)


@needs_dexed
def test_key_velocity_and_level_scaling_reach_the_engine():
    synth = get_synth("dx7")
    physical = synth.params.default_physical()  # INIT VOICE: operator 1 alone
    plain = {k: np.full(2, v) for k, v in physical.items()}
    assert not synth.responds_to(plain)
    soft = dict(plain, op1_key_velocity=np.full(2, 7.0))
    assert synth.responds_to(soft)
    y = synth.render_physical(soft, 261.6, SR // 2, SR, velocity=np.array([30, 127]))
    rms = np.sqrt(np.mean(y.astype(np.float64) ** 2, axis=1))
    assert 20 * np.log10(rms[0] / rms[1]) < -6  # softer at velocity 30
    falling = dict(plain, op1_right_depth=np.full(2, 80.0))  # -LIN: quieter above the break point (C3, MIDI 60)
    y = synth.render_physical(falling, dx7.note_hz(np.array([60, 84])), SR // 2, SR)
    rms = np.sqrt(np.mean(y.astype(np.float64) ** 2, axis=1))
    assert 20 * np.log10(rms[1] / rms[0]) < -6
    plain_y = synth.render_physical(plain, dx7.note_hz(np.array([60, 84])), SR // 2, SR)
    np.testing.assert_array_equal(plain_y, synth.render_physical(physical, dx7.note_hz(np.array([60, 84])), SR // 2, SR))


@needs_dexed
def test_a_sine_voice_plays_the_nearest_note():
    synth = get_synth("dx7")
    physical = synth.params.default_physical()  # INIT VOICE: operator 1 alone, ratio 1
    f0 = dx7.note_hz(57) * 2 ** (30 / 1200)  # A3 + 30 cents plays A3
    y = synth.render_physical(physical, f0, SR, SR)[0]
    spectrum = np.abs(np.fft.rfft(y * np.hanning(y.size)))
    assert abs(np.argmax(spectrum) - 220.0) <= 1.0


# -- .syx files -----------------------------------------------------------------------------------


def test_voice_and_bank_files_round_trip(tmp_path):
    presets = random_presets(5, seed=2)
    voice_path = write_native(presets[0], tmp_path / "bell.preset.json")
    assert voice_path == tmp_path / "bell.syx"
    data = voice_path.read_bytes()
    assert len(data) == 163 and data[:6] == bytes.fromhex("F0 43 00 00 01 1B") and data[-1] == 0xF7
    assert (sum(data[6:161]) + data[161]) % 128 == 0
    back = load_preset(voice_path)
    assert back.params == presets[0].params and back.name == "bell"
    bank_path = write_native_bank(presets, tmp_path / "bell.preset.json")
    data = bank_path.read_bytes()
    assert bank_path.name == "bell.bank.syx" and len(data) == 4104 and data[:6] == bytes.fromhex("F0 43 00 09 20 00")
    for k, p in enumerate(presets, start=1):
        voice = load_preset(bank_path, voice=k)
        assert voice.params == p.params and voice.name == f"bell {k}"
    assert load_preset(bank_path, voice=6).params == Preset("dx7", get_synth("dx7").params.values_to_json(
        get_synth("dx7").params.default_physical())).params  # INIT VOICE fills the bank


def test_packing_agrees_with_dexed_py_where_installed(tmp_path):
    dexed = pytest.importorskip("dexed")
    presets = random_presets(3, seed=4)
    bank = write_native_bank(presets, tmp_path / "x.preset.json")
    theirs = dexed.Patch.load_bank(str(bank))
    for p, t in zip(presets, theirs):
        voice = syx.preset_voice(p)
        assert t.to_sysex()[:145] == voice[:145] and syx.pack_voice(voice)[:118] == t.to_packed()[:118]


def _corrupt(data: bytes, i: int, value: int) -> bytes:
    b = bytearray(data)
    b[i] = value
    return bytes(b)


def test_malformed_syx_files_are_one_line_errors_naming_the_file(tmp_path):
    good = syx.voice_message(syx.preset_voice(random_presets(1)[0]))
    bank = syx.bank_message([syx.preset_voice(random_presets(1)[0])])
    cases = {
        "short.syx": (good[:100], "100 bytes"),
        "empty.syx": (b"", "empty"),
        "text.syx": (b"A" * 163, "not sysex"),
        "checksum.syx": (_corrupt(good, 161, (good[161] + 1) & 0x7F), "bad checksum"),
        "end.syx": (_corrupt(good, 162, 0x00), "0xF7"),
        "header.syx": (_corrupt(good, 1, 0x41), "header"),
        "topbit.syx": (_corrupt(good, 20, 0x80), "top bit"),
        "bankcheck.syx": (_corrupt(bank, 4102, (bank[4102] + 1) & 0x7F), "bad checksum"),
        "range.syx": (syx.voice_message(_corrupt(syx.init_voice(), 0, 120)), "op6_eg_rate1 120"),
        "transpose.syx": (syx.voice_message(_corrupt(syx.init_voice(), 144, 30)), "transpose 30"),
        "sandh.syx": (syx.voice_message(_corrupt(syx.init_voice(), 142, 5)), "sample-and-hold"),
    }
    runner = CliRunner()
    for name, (data, words) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(PresetError, match=words) as err:
            load_preset(path)
        assert str(path) in str(err.value)
        result = runner.invoke(cli, ["render", str(path)])
        assert result.exit_code == 2 and f"gascar: error: {path}:" in result.output
        assert len(result.output.strip().splitlines()) == 1
    (tmp_path / "bank.syx").write_bytes(bank)
    with pytest.raises(PresetError, match="choose one with --voice"):
        load_preset(tmp_path / "bank.syx")
    with pytest.raises(PresetError, match="out of range"):
        load_preset(tmp_path / "bank.syx", voice=33)
    (tmp_path / "one.syx").write_bytes(good)
    with pytest.raises(PresetError, match="out of range"):
        load_preset(tmp_path / "one.syx", voice=2)
    with pytest.raises(PresetError, match="no such file"):
        load_preset(tmp_path / "missing.syx")


def test_only_dx7_presets_export_to_syx(tmp_path):
    fm = Preset("fm", get_synth("fm").params.values_to_json(get_synth("fm").params.default_physical()))
    path = tmp_path / "fm.preset.json"
    fm.save(path)
    assert write_native(fm, path) is None and write_native_bank([fm], path) is None
    result = CliRunner().invoke(cli, ["export", str(path), "--syx", str(tmp_path / "fm.syx")])
    assert result.exit_code == 2 and "only dx7 presets" in result.output


# -- the match writes what it scored ---------------------------------------------------------------


@needs_dexed
def test_a_tiny_dx7_match_writes_syx_voices_and_a_bank_that_render_the_scored_audio(tmp_path, monkeypatch):
    from gascar.analysis import load_target
    from gascar.matching import default_outputs, match
    from gascar.objective import Objective

    wav = tmp_path / "pluck.wav"
    sf.write(wav, tone(330.0, 0.4), SR, subtype="PCM_16")
    monkeypatch.chdir(tmp_path)
    outputs = default_outputs(wav, top=2)
    result = match(str(wav), synth="dx7", budget=160, seed=1, population=16, outputs=outputs, n_jobs=1,
                   handle_signals=False)
    names = sorted(p.name for p in result.files)
    assert {"pluck.preset.json", "pluck.syx", "pluck.2.syx", "pluck.bank.syx", "pluck.render.wav"} <= set(names)
    objective = Objective(load_target(wav), get_synth("dx7"))
    scored = objective.render(result.genome[None, :])[0] * np.float32(result.preset.render.gain)  # at the preset's level
    from_syx = load_preset(tmp_path / "pluck.syx").with_render(**vars(result.preset.render))
    np.testing.assert_array_equal(from_syx.render_audio(), scored)
    from_bank = load_preset(tmp_path / "pluck.bank.syx", voice=1).with_render(**vars(result.preset.render))
    np.testing.assert_array_equal(from_bank.render_audio(), scored)
    assert load_preset(tmp_path / "pluck.bank.syx", voice=2).params == result.others[0].params
    # the preset names the note the voice plays
    f0 = result.preset.render.f0_hz
    assert f0 == dx7.note_hz(dx7.midi_note(np.array([f0]))[0])


@needs_dexed
def test_worker_processes_create_their_own_engine_and_score_the_same():
    from gascar.analysis import target_from_audio
    from gascar.evolve.parallel import Evaluator
    from gascar.objective import Objective

    objective = Objective(target_from_audio(tone(220.0, 0.3), SR, f0_hz=220.0), get_synth("dx7"))
    g = np.random.default_rng(5).random((32, objective.n_genes))
    with Evaluator({0: objective}, n_jobs=1) as one, Evaluator({0: objective}, n_jobs=2) as two:
        np.testing.assert_array_equal(one(0, g), two(0, g))


# -- the command line ---------------------------------------------------------------------------


@needs_dexed
def test_export_and_render_commands(tmp_path):
    presets = random_presets(2, seed=6)
    path = tmp_path / "bell.preset.json"
    presets[0].save(path)
    runner = CliRunner()
    result = runner.invoke(cli, ["export", str(path), "--syx", str(tmp_path / "out.syx")])
    assert result.exit_code == 0, result.output
    assert load_preset(tmp_path / "out.syx").params == presets[0].params
    result = runner.invoke(cli, ["export", str(path), "--bank", str(tmp_path / "cart.syx")])
    assert result.exit_code == 0 and (tmp_path / "cart.syx").stat().st_size == 4104
    assert load_preset(tmp_path / "cart.syx", voice=1).params == presets[0].params
    result = runner.invoke(cli, ["export", str(path)])
    assert result.exit_code == 2 and "--syx" in result.output
    result = runner.invoke(cli, ["render", str(tmp_path / "out.syx"), "--note", "A3", "--duration", "0.5", "--hold", "0.3"])
    assert result.exit_code == 0, result.output
    y, sr = sf.read(tmp_path / "out.wav", dtype="float32")
    np.testing.assert_allclose(y, presets[0].render_audio(), atol=1 / 32768)
    write_native_bank(presets, path)
    result = runner.invoke(cli, ["render", str(tmp_path / "bell.bank.syx"), "--voice", "2", "--duration", "0.2"])
    assert result.exit_code == 0 and (tmp_path / "bell.bank.voice2.wav").exists()


# -- without the extra -------------------------------------------------------------------------------


def test_without_dexed_py_the_dx7_synth_is_a_one_line_error_naming_the_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "dexed._dexed", None)  # makes the import fail
    monkeypatch.setattr(dx7, "_ENGINES", threading.local())  # and forgets engines made by earlier tests
    assert not dx7.dexed_available()
    with pytest.raises(SynthError, match=r"pip install 'gascar\[dx7\]'"):
        get_synth("dx7").require()
    wav = tmp_path / "t.wav"
    sf.write(wav, tone(220.0, 0.3), SR)
    result = CliRunner().invoke(cli, ["match", str(wav), "--synth", "dx7", "--budget", "50", "-q"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"gascar: error: the dx7 synth needs dexed-py, Dexed's engine, which is not installed: {dx7.INSTALL_HINT}"]
    assert "dx7" not in auto_synths()
    # .syx files are read and written without the engine; rendering one names the install
    presets = random_presets(1)
    voice = write_native(presets[0], tmp_path / "v.preset.json")
    assert load_preset(voice).params == presets[0].params
    result = CliRunner().invoke(cli, ["render", str(voice)])
    assert result.exit_code == 2 and "gascar[dx7]" in result.output


# -- benchmark suites -----------------------------------------------------------------------------


def test_carriers_table_agrees_with_dexed_py():
    dexed = pytest.importorskip("dexed")
    assert {a: tuple(c + 1 for c in dexed.get_carriers(a - 1)) for a in range(1, 33)} == dx7.CARRIERS


def test_musical_prior_is_mostly_plain_ratios_and_few_operators():
    p = dx7.musical_physical(np.random.default_rng(0), 2000)
    fine = np.concatenate([p[f"op{k}_fine"] for k in range(1, 7)])
    on = np.stack([p[f"op{k}_output_level"] > 0 for k in range(1, 7)], axis=1)
    assert 0.75 < np.mean(fine == 0) < 0.85 and np.all(on[:, 0]) and 2.0 < on.sum(axis=1).mean() < 4.5
    physical = get_synth("dx7").params.to_physical(get_synth("dx7").musical_genomes(np.random.default_rng(0), 50))
    expected = dx7.musical_physical(np.random.default_rng(0), 50)
    assert {k: v.tolist() for k, v in physical.items()} == {k: v.tolist() for k, v in expected.items()}


@needs_dexed
def test_bench_draws_musical_dx7_targets_beside_uniform_ones(tmp_path):
    from gascar.bench.match import BenchConfig, make_indomain_targets, plan

    ts = make_indomain_targets(tmp_path, ["fm", "dx7"], 2, suite="musical")
    assert [t.name for t in ts] == ["dx7-m-00", "dx7-m-01"]
    assert all(t.suite == "musical" and t.synth == "dx7" and len(t.genome) == 106 for t in ts)
    assert [t.genome for t in make_indomain_targets(tmp_path, ["dx7"], 2, suite="musical")] == [t.genome for t in ts]
    config = BenchConfig(out_dir=tmp_path, suites=("indomain", "musical"), methods=("random",), budgets=(100,), seeds=1,
                         synths=("fm", "dx7"), per_synth=1)
    assert sorted((s.target.suite, s.target.name) for s in plan(config)) == [
        ("indomain", "dx7-00"), ("indomain", "fm-00"), ("musical", "dx7-m-00")]

"""SFZ export: keyboard layout, folder, loops, velocity layers, and a real SFZ player (sfizz) playing the result.

The judged distance of the sfizz check is the benchmark's log-spectral
distance (``gascar.bench.judge``, level-normalised, dB). A note played by
sfizz between two sampled keys must be within :data:`JUDGED_DB` (3 dB, the
benchmark's near-perfect threshold, about what a 5-cent detune does) of
``gascar render --note`` at that pitch, and under half the distance of the
nearest sample left at its own pitch (a sampler that did not shift it). On
the shipped presets the measured distances are 0.05-1.04 dB for sounds
without vibrato or noise (docs/bench/experiments/2026-11-30-sfz-judged-distance.md).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from gascar.bench.judge import judge
from gascar.cli import cli
from gascar.errors import ExportError
from gascar.export.sfz import MARKER, SfzOptions, export_preset_file, export_sfz, frame_db, hz_to_key, key_name, key_zones
from gascar.preset import Preset, RenderSettings

pysfizz = pytest.importorskip("pysfizz")

PRESETS = Path(__file__).resolve().parents[1] / "presets"
SR = 44100
#: The judged distance (dB) a note played by sfizz must stay within (see the module docstring).
JUDGED_DB = 3.0


def sfizz_note(sfz: Path, key: int, velocity: int, hold_s: float, duration_s: float) -> np.ndarray:
    """Left channel of one note played by sfizz, ``(n_samples,)``.

    sfizz streams a sample's body from disk in the background; its offline
    mode waits only for loads already queued, so a first note can race the
    queue and play only the preloaded head. One warm-up note (silenced at
    once after) and a short pause load every file the note needs first.
    """
    synth = pysfizz.Synth(sample_rate=SR, block_size=64)
    assert synth.load_sfz_file(str(sfz)), f"sfizz could not load {sfz}"
    synth.render_note(key, velocity, 0.1, 0.15)
    synth._synth.all_sound_off()
    time.sleep(0.1)
    return synth.render_note(key, velocity, hold_s, duration_s)[0]


def regions(sfz: Path) -> list[dict]:
    """sfizz's view of every region; ``velocities`` is the range of velocities it plays."""
    synth = pysfizz.Synth(sample_rate=SR)
    assert synth.load_sfz_file(str(sfz))
    out = []
    for i in range(synth._synth.get_num_regions()):
        r = synth._synth.get_region_data(i)
        # sfizz keeps velocities as a fraction of 127 with an exclusive upper end (hivel + 1), except at the top.
        lo, hi = round(r["lovel"] * 127), round(r["hivel"] * 127)
        r["velocities"] = range(lo, hi if hi < 127 else 128)
        out.append(r)
    return out


@pytest.mark.parametrize("step", [1, 2, 3, 4, 7, 12])
@pytest.mark.parametrize("center,low,high", [(60, 36, 84), (0, 0, 20), (127, 100, 127), (60, 0, 127), (40, 55, 70)])
def test_zones_tile_the_range_without_gaps_or_overlaps(step, center, low, high):
    zones = key_zones(center, low, high, step)
    keys = [k for z in zones for k in range(z.lokey, z.hikey + 1)]
    assert keys == list(range(low, high + 1))
    for z in zones:
        assert 0 <= z.keycenter <= 127 and (z.keycenter - center) % step == 0
        # No key is further from its sample than half a step (except where the grid leaves the MIDI range).
        if z.keycenter - step >= 0 and z.keycenter + step <= 127:
            assert max(abs(z.lokey - z.keycenter), abs(z.hikey - z.keycenter)) <= step // 2
    if low <= center <= high:
        assert center in {z.keycenter for z in zones}


def test_exported_folder_is_self_contained_and_its_regions_cover_the_range(tmp_path):
    out = tmp_path / "ep"
    res = CliRunner().invoke(cli, ["export", str(PRESETS / "fm-epiano.json"), "--sfz", str(out), "--low", "C3", "--high", "62"])
    assert res.exit_code == 0, res.output
    sfz = out / "fm-epiano.sfz"
    text = sfz.read_text()
    assert text.startswith(MARKER) and "fm-epiano.json" in text.splitlines()[1]
    regs = regions(sfz)
    assert len(regs) == 6  # keys 48-62 around the sampled keys 48, 51, ... 63 (the preset's A3 = 57 is one)
    covered = sorted(k for r in regs for k in range(r["lokey"], r["hikey"] + 1))
    assert covered == list(range(48, 63))
    for r in regs:
        path = sfz.parent / r["sample_id"]
        assert not Path(r["sample_id"]).is_absolute() and path.is_file()
        info = sf.info(str(path))
        assert (info.samplerate, info.channels, info.subtype) == (SR, 1, "PCM_24")
        assert max(abs(r["lokey"] - r["pitch_keycenter"]), abs(r["hikey"] - r["pitch_keycenter"])) <= 1
    # Moved elsewhere, the folder still plays.
    moved = tmp_path / "elsewhere"
    out.rename(moved)
    assert np.abs(sfizz_note(moved / "fm-epiano.sfz", 57, 100, 0.3, 0.5)).max() > 1e-3


def test_full_range_and_the_default_range():
    preset = Preset.load(PRESETS / "fm-epiano.json")  # A3 = key 57
    assert SfzOptions().key_range(57) == (33, 81)
    assert SfzOptions(low_key=0, high_key=127).key_range(57) == (0, 127)
    assert key_name(57) == "A3" and hz_to_key(preset.render.f0_hz) == 57


@pytest.mark.parametrize("preset", ["additive-organ", "fm-epiano", "subtractive-pad", "wavetable-bass", "modular-steel-drum"])
def test_sfizz_plays_a_note_between_sampled_keys_like_gascar_render(preset, tmp_path):
    path = PRESETS / f"{preset}.json"
    c = hz_to_key(Preset.load(path).render.f0_hz)
    inst = export_preset_file(path, tmp_path / "sfz", options=SfzOptions(low_key=c - 3, high_key=c + 3))
    assert sorted({r.zone.keycenter for r in inst.regions}) == [c - 3, c, c + 3]
    key, hold_s, duration_s = c + 1, 1.0, 1.6
    played = sfizz_note(inst.path, key, 100, hold_s, duration_s)

    def gascar_render(note: int) -> np.ndarray:
        out = tmp_path / f"{note}.wav"
        res = CliRunner().invoke(cli, ["render", str(path), "--note", key_name(note), "--duration", str(duration_s),
                                       "--hold", str(hold_s), "--sample-rate", str(SR), "--subtype", "FLOAT", "-o", str(out)])
        assert res.exit_code == 0, res.output
        return sf.read(str(out), dtype="float32")[0]

    truth = gascar_render(key)
    distance = judge(truth, played, SR)["lsd_db"]
    unshifted = judge(truth, gascar_render(c), SR)["lsd_db"]
    assert distance <= JUDGED_DB, (preset, distance)
    assert distance < 0.5 * unshifted, (preset, distance, unshifted)


def test_a_sustained_sound_loops_seamlessly_and_holds_as_long_as_the_key(tmp_path):
    inst = export_preset_file(PRESETS / "additive-organ.json", tmp_path / "organ", options=SfzOptions(low_key=60, high_key=60))
    (region,) = inst.regions
    assert region.loop is not None
    start, end = region.loop
    x = sf.read(str(inst.path.parent / region.sample), dtype="float32")[0]
    assert x.size == end + 1
    # The crossfade makes the last sample of the loop the one before its start.
    assert abs(float(x[end]) - float(x[start - 1])) < 1e-3
    held_s = x.size / SR + 3.0  # far longer than the sample: only the loop can keep it sounding
    y = sfizz_note(inst.path, 60, 100, held_s, held_s + 0.5)
    env = frame_db(y, SR)
    steady = env[int(0.5 / 0.01): int(held_s / 0.01) - 1]
    assert np.ptp(steady) < 1.5
    # No click where the loop wraps: no sample step far beyond the waveform's own largest step.
    d = np.abs(np.diff(y[int(0.5 * SR): int(held_s * SR)]))
    assert d.max() < 1.5 * np.abs(np.diff(y[int(0.2 * SR): int(0.4 * SR)])).max()
    # After the key is released the note dies away within its release.
    assert env[-5:].max() < steady.mean() - 40


def test_a_decaying_sound_is_trimmed_and_not_looped(tmp_path):
    inst = export_preset_file(PRESETS / "modular-steel-drum.json", tmp_path / "drum", options=SfzOptions(low_key=72, high_key=72))
    (region,) = inst.regions
    assert region.loop is None and region.release_t60_s is not None
    assert region.n_samples < 8 * SR
    assert "loop_mode=no_loop" in inst.path.read_text()


def test_velocity_layers_follow_responds_to_velocity(velocity_synth, tmp_path):
    preset = Preset(synth=velocity_synth, params={"level": 0.8}, render=RenderSettings(f0_hz=440.0))
    inst = export_sfz(preset, tmp_path / "vel", options=SfzOptions(low_key=66, high_key=72, velocity_layers=4, max_length_s=2.0))
    regs = regions(inst.path)
    for key in range(66, 73):
        vels = sorted(v for r in regs if r["lokey"] <= key <= r["hikey"] for v in r["velocities"])
        assert vels == list(range(1, 128)), key
    assert {r.layer.velocity for r in inst.regions} == {32, 64, 95, 127}
    # Loudness follows velocity as the synth's does (amp_velcurve between the layers), within 1 dB.
    levels = {v: np.sqrt(np.mean(sfizz_note(inst.path, 69, v, 0.5, 0.6)[int(0.1 * SR): int(0.4 * SR)] ** 2))
              for v in (20, 50, 100, 127)}
    for v in (20, 50, 100):
        assert abs(20 * np.log10(levels[v] / levels[127]) - 20 * np.log10(v / 127)) < 1.0, v


def test_a_synth_that_ignores_velocity_gets_one_layer_played_alike_at_every_velocity(tmp_path):
    inst = export_preset_file(PRESETS / "additive-organ.json", tmp_path / "o", options=SfzOptions(low_key=60, high_key=62))
    assert {(r.layer.lovel, r.layer.hivel) for r in inst.regions} == {(1, 127)}
    assert "amp_veltrack=0" in inst.path.read_text()
    soft, loud = (sfizz_note(inst.path, 60, v, 0.4, 0.5) for v in (20, 127))
    assert np.allclose(soft, loud, atol=1e-6)


def test_the_folder_is_replaced_only_when_it_holds_an_export(tmp_path):
    preset = PRESETS / "subtractive-pluck.json"
    opts = SfzOptions(low_key=64, high_key=64, max_length_s=1.0)
    out = tmp_path / "pluck"
    export_preset_file(preset, out, options=opts)
    (out / "samples" / "stale.wav").write_bytes(b"old")
    export_preset_file(preset, out, options=opts)  # an earlier export is replaced whole
    assert not (out / "samples" / "stale.wav").exists()
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(ExportError, match="holds no GASCAR SFZ export"):
        export_preset_file(preset, foreign, options=opts)
    assert (foreign / "notes.txt").read_text() == "keep me"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left behind
    res = CliRunner().invoke(cli, ["export", str(preset), "--sfz", str(foreign)])
    assert res.exit_code == 2 and res.output.count("\n") == 1 and "gascar: error:" in res.output


def test_export_command_errors_are_one_line(tmp_path):
    runner = CliRunner()
    res = runner.invoke(cli, ["export", str(tmp_path / "missing.json"), "--sfz", str(tmp_path / "x")])
    assert res.exit_code == 2 and "no such file" in res.output
    res = runner.invoke(cli, ["export", str(PRESETS / "fm-bass.json")])
    assert res.exit_code == 2 and "--sfz" in res.output
    res = runner.invoke(cli, ["export", str(PRESETS / "fm-bass.json"), "--sfz", str(tmp_path / "x"), "--low", "H9"])
    assert res.exit_code == 2 and "--low" in res.output
    res = runner.invoke(cli, ["export", str(PRESETS / "fm-bass.json"), "--sfz", str(tmp_path / "x"), "--low", "C5", "--high", "C4"])
    assert res.exit_code == 2 and "above" in res.output


def test_a_sound_that_ignores_note_off_plays_on():
    from gascar.export.sfz import Layer, SfzRegion, Zone

    zone, layer = Zone(60, 62, 61), Layer(1, 127, 100)
    assert "loop_mode=one_shot" in SfzRegion(zone, layer, "s.wav", 1000, None, None).opcodes()
    looped = SfzRegion(zone, layer, "s.wav", 1000, (10, 900), None).opcodes()
    assert "loop_mode=loop_continuous" in looped and "ampeg_release=100" in looped
    assert "ampeg_release=1.303" in SfzRegion(zone, layer, "s.wav", 1000, None, 1.0).opcodes()


def test_the_samples_carry_the_presets_output_gain_up_to_minus_1_dbfs(tmp_path):
    base = Preset.load(PRESETS / "subtractive-pluck.json")
    opts = SfzOptions(low_key=64, high_key=64, max_length_s=1.0)

    def sample(preset, name):
        inst = export_sfz(preset, tmp_path / name, options=opts)
        return sf.read(str(inst.path.parent / inst.regions[0].sample), dtype="float32")[0], inst.path.read_text()

    plain, _ = sample(base, "plain")
    quieter, text = sample(base.with_render(gain_db=-6.0), "quieter")
    assert np.allclose(quieter, plain * 10 ** (-6 / 20), atol=1e-4) and "carry the preset's output gain (-6.0 dB" in text
    quiet_voice = Preset(synth=base.synth, params={**base.params, "gain_db": -24.0}, render=base.render)  # the synth's own level
    louder, text = sample(quiet_voice.with_render(gain_db=40.0), "louder")
    assert 20 * np.log10(np.abs(louder).max()) == pytest.approx(-1.0, abs=0.05)  # the boost stops at -1 dBFS ...
    assert "raise the player's volume by 1" in text  # ... and the header says how much is left (about 17 dB)

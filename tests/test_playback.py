"""Playing notes with a preset, and ``gascar render --midi``: timing, polyphony, velocity, note-offs, tempo, every synth."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import mido
import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from gascar.cli import cli
from gascar.midi import Note
from gascar.playback import play_notes, release_tail_s
from gascar.preset import Preset, RenderSettings
from gascar.synths import get_synth, list_synths

PRESETS = Path(__file__).resolve().parents[1] / "presets"
SR = 22050
TPB = 480


def onset_s(x: np.ndarray, sr: int, db: float = 40.0, after_s: float = 0.0) -> float:
    """First time after ``after_s`` the signal comes within ``db`` of its peak."""
    i0 = round(after_s * sr)
    return (i0 + int(np.argmax(np.abs(x[i0:]) > np.abs(x).max() * 10 ** (-db / 20)))) / sr


def level_db(x: np.ndarray, sr: int, a_s: float, b_s: float) -> float:
    seg = x[round(a_s * sr): round(b_s * sr)].astype(np.float64)
    return 10 * np.log10(np.mean(seg**2) + 1e-20)


def test_notes_start_at_their_time_and_note_off_starts_the_release():
    organ = Preset.load(PRESETS / "additive-organ.json")  # 20 ms attack, 80 ms release (T60)
    y = play_notes(organ, [Note(0.5, 1.0, 60, 100)], sample_rate=SR)
    assert abs(onset_s(y, SR) - 0.5) < 0.01
    assert level_db(y, SR, 0.0, 0.49) < -100  # silence before the note
    held = level_db(y, SR, 0.8, 0.99)
    assert level_db(y, SR, 1.0, 1.02) > held - 6  # the release starts at the note-off ...
    assert level_db(y, SR, 1.10, 1.12) < held - 20  # ... and has fallen a lot 100 ms later
    assert y.size / SR == pytest.approx(1.0 + release_tail_s(organ, 261.63, 0.5, 100, SR), abs=0.01)


def test_a_chord_is_the_sum_of_its_notes():
    preset = Preset.load(PRESETS / "fm-epiano.json")
    chord = [Note(0.1, 0.6, k, 100) for k in (60, 64, 67)]
    mix = play_notes(preset, chord, sample_rate=SR)
    alone = [play_notes(preset, [n], sample_rate=SR) for n in chord]
    n = round(0.8 * SR)  # each alone measures its own release tail, so compare up to 0.2 s after the note-off
    assert min(a.size for a in alone + [mix]) > n and np.allclose(mix[:n], sum(a[:n] for a in alone), atol=1e-5)
    spectrum = np.abs(np.fft.rfft(mix[round(0.15 * SR): round(0.55 * SR)] * np.hanning(round(0.4 * SR))))
    freqs = np.fft.rfftfreq(round(0.4 * SR), 1 / SR)
    for note in chord:  # every pitch of the chord sounds
        band = (freqs > note.f0_hz * 0.98) & (freqs < note.f0_hz * 1.02)
        assert spectrum[band].max() > 0.1 * spectrum.max()


def test_overlapping_notes_of_one_key_both_sound():
    preset = Preset.load(PRESETS / "additive-organ.json")
    one = play_notes(preset, [Note(0.0, 1.0, 60, 100)], sample_rate=SR)
    two = play_notes(preset, [Note(0.0, 1.0, 60, 100), Note(0.5, 1.0, 60, 100)], sample_rate=SR)
    assert np.allclose(two[: round(0.5 * SR)], one[: round(0.5 * SR)])
    assert not np.allclose(two[round(0.5 * SR): SR], one[round(0.5 * SR): SR])


def test_velocity_reaches_synths_that_respond_to_it(velocity_synth):
    preset = Preset(synth=velocity_synth, params={"level": 0.8}, render=RenderSettings(f0_hz=440.0))
    y = play_notes(preset, [Note(0.0, 0.5, 69, 127), Note(1.0, 1.5, 69, 32)], sample_rate=SR)
    loud, soft = level_db(y, SR, 0.1, 0.4), level_db(y, SR, 1.1, 1.4)
    assert loud - soft == pytest.approx(20 * np.log10(127 / 32), abs=0.1)
    ignores = Preset.load(PRESETS / "fm-organ.json")  # the numpy synths do not respond to velocity
    a, b = (play_notes(ignores, [Note(0.0, 0.5, 60, v)], sample_rate=SR) for v in (127, 32))
    assert np.array_equal(a, b)


@pytest.mark.parametrize("name", list_synths())
def test_every_synth_plays_notes(name):
    synth = get_synth(name)
    preset = Preset(synth=name, params=synth.params.values_to_json(synth.params.default_physical()))
    y = play_notes(preset, [Note(0.0, 0.3, 57, 100), Note(0.4, 0.7, 64, 80)], sample_rate=SR, max_tail_s=1.0)
    assert np.isfinite(y).all() and level_db(y, SR, 0.05, 0.25) > -60 and level_db(y, SR, 0.45, 0.65) > -60


def write_midi(path: Path, tracks: list[list]) -> Path:
    mid = mido.MidiFile(type=1, ticks_per_beat=TPB)
    for msgs in tracks:
        mid.tracks.append(mido.MidiTrack(msgs))
    mid.save(str(path))
    return path


def note_msgs(key, start_ticks, length_ticks, vel=100):
    return [mido.Message("note_on", note=key, velocity=vel, time=start_ticks),
            mido.Message("note_off", note=key, velocity=0, time=length_ticks)]


def test_render_midi_honours_tempo_changes(tmp_path):
    # 120 bpm, then 60 bpm from beat 2: notes on beats 1, 3 and 4 start at 0, 1.5 and 2.5 s.
    meta = [mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(120), time=0),
            mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(60), time=TPB)]
    notes = note_msgs(72, 0, TPB // 4) + note_msgs(72, 2 * TPB - TPB // 4, TPB // 4) + note_msgs(72, TPB - TPB // 4, TPB // 4)
    midi = write_midi(tmp_path / "tempo.mid", [meta, notes])
    out = tmp_path / "out.wav"
    res = CliRunner().invoke(cli, ["render", str(PRESETS / "fm-organ.json"), "--midi", str(midi), "-o", str(out)])
    assert res.exit_code == 0, res.output
    y, sr = sf.read(str(out), dtype="float32")
    assert sr == 44100  # a MIDI render's default rate
    found = [onset_s(y, sr)]
    for _ in range(2):
        found.append(onset_s(y, sr, after_s=found[-1] + 0.3))
    assert found == pytest.approx([0.0, 1.5, 2.5], abs=0.01)


def test_render_midi_cli_options_output_and_errors(tmp_path):
    midi = write_midi(tmp_path / "song.mid", [note_msgs(60, 0, TPB) + note_msgs(64, 0, TPB)])
    runner = CliRunner()
    preset = tmp_path / "pluck.preset.json"
    shutil.copy(PRESETS / "subtractive-pluck.json", preset)
    res = runner.invoke(cli, ["render", str(preset), "--midi", str(midi), "--sample-rate", "22050", "--subtype", "PCM_24"])
    assert res.exit_code == 0, res.output
    out = tmp_path / "pluck.song.wav"
    assert res.output.strip() == str(out)
    info = sf.info(str(out))
    assert (info.samplerate, info.subtype) == (22050, "PCM_24")
    assert np.abs(sf.read(str(out))[0]).max() <= 10 ** (-1 / 20) + 1e-3  # a loud mix is brought under full scale
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"MThd\x00\x00\x00\x06\x00\x01")
    res = runner.invoke(cli, ["render", str(preset), "--midi", str(bad)])
    assert res.exit_code == 2 and res.output.count("\n") == 1
    assert res.output.startswith(f"gascar: error: {bad}: ")
    res = runner.invoke(cli, ["render", str(preset), str(preset), "--midi", str(midi)])
    assert res.exit_code == 2 and "one preset" in res.output
    res = runner.invoke(cli, ["render", str(preset), "--midi", str(midi), "--hold", "1"])
    assert res.exit_code == 2 and "--hold" in res.output


def test_long_files_show_a_progress_bar(tmp_path):
    msgs = []
    for i in range(64):  # 32 s at 120 bpm
        msgs += note_msgs(48 + i % 24, 0, TPB // 2) + [mido.Message("note_on", note=0, velocity=0, time=TPB // 2)]
    midi = write_midi(tmp_path / "long.mid", [msgs])
    res = CliRunner().invoke(cli, ["render", str(PRESETS / "fm-bass.json"), "--midi", str(midi), "--sample-rate", "8000",
                                   "-o", str(tmp_path / "long.wav")])
    assert res.exit_code == 0 and "long.mid" in res.stderr and "render" in res.stderr
    res = CliRunner().invoke(cli, ["render", str(PRESETS / "fm-bass.json"), "--midi", str(midi), "--sample-rate", "8000",
                                   "-q", "-o", str(tmp_path / "long.wav")])
    assert res.exit_code == 0 and res.stderr == "" and res.stdout == ""


def test_a_note_renders_at_44100_hz_when_asked(tmp_path):
    out = tmp_path / "n.wav"
    res = CliRunner().invoke(cli, ["render", str(PRESETS / "additive-bell.json"), "--sample-rate", "44100", "-o", str(out)])
    assert res.exit_code == 0
    y, sr = sf.read(str(out))
    spectrum = np.abs(np.fft.rfft(y))
    freqs = np.fft.rfftfreq(y.size, 1 / sr)
    assert sr == 44100 and spectrum[freqs > 11025].max() > 1e-3 * spectrum.max()  # content above the preset's 22,050 Hz Nyquist


def sfizz_play(sfz: Path, notes: list[Note], sr: int = 44100, block: int = 64) -> np.ndarray:
    """The notes played by sfizz from ``sfz`` (left channel), each note-on and note-off at its sample.

    sfizz streams samples from disk in the background and its offline mode
    waits only for loads already queued, so a cold note can play just the
    preloaded head (sfizz_render does so in about half its runs here). Every
    key is struck once first, silenced, and given time to load.
    """
    pysfizz = pytest.importorskip("pysfizz")
    synth = pysfizz.Synth(sample_rate=sr, block_size=block)
    assert synth.load_sfz_file(str(sfz))
    for key in {n.key for n in notes}:
        synth._synth.note_on(0, key, 100)
    synth._synth.render_block()
    synth._synth.all_sound_off()
    time.sleep(0.3)
    events = sorted([(round(n.start_s * sr), 1, n.key, n.velocity) for n in notes]
                    + [(round(n.end_s * sr), 0, n.key, 0) for n in notes])
    n_blocks = (max(e[0] for e in events) + 3 * sr) // block + 1
    out, i = [], 0
    for b in range(n_blocks):
        while i < len(events) and events[i][0] < (b + 1) * block:
            at, is_on, key, vel = events[i]
            (synth._synth.note_on if is_on else synth._synth.note_off)(at - b * block, key, vel)
            i += 1
        out.append(np.array(synth._synth.render_block()[0]))
    return np.concatenate(out)


def test_the_demo_phrase_played_by_sfizz_from_the_sfz_export_matches_gascar_render_midi(tmp_path):
    from gascar.bench.judge import judge
    from gascar.midi import read_midi

    preset, phrase = PRESETS / "fm-epiano.json", PRESETS / "phrase.mid"
    runner = CliRunner()
    assert runner.invoke(cli, ["export", str(preset), "--sfz", str(tmp_path / "sfz")]).exit_code == 0
    assert runner.invoke(cli, ["render", str(preset), "--midi", str(phrase), "-o", str(tmp_path / "gascar.wav")]).exit_code == 0
    ours = sf.read(str(tmp_path / "gascar.wav"), dtype="float32")[0]
    theirs = sfizz_play(tmp_path / "sfz" / "fm-epiano.sfz", read_midi(phrase))
    n = min(ours.size, theirs.size)
    assert judge(ours[:n], theirs[:n], 44100)["lsd_db"] < 3.0  # measured 0.75 dB


def test_the_playback_benchmarks_phrase_and_table():
    from gascar.bench.playback import PHRASE_S, format_table, phrase

    notes = phrase(seed=0)
    assert {n.channel for n in notes} == {0, 1, 2, 3}
    assert max(n.end_s for n in notes) <= PHRASE_S and max(n.start_s for n in notes) > PHRASE_S - 1.5
    for ch in range(4):  # one voice per channel: its notes never overlap
        voice = [n for n in notes if n.channel == ch]
        assert all(a.end_s <= b.start_s for a, b in zip(voice, voice[1:]))
    assert phrase(seed=0) == notes and phrase(seed=1) != notes
    row = {"name": "fm", "sfz_s": 0.61, "sfz_max_s": 0.7, "regions": 17, "midi_s": 0.16, "midi_max_s": 0.2, "notes": len(notes),
           "repeats": 5}
    assert "| fm | 0.61 [0.70] | 0.16 [0.20] |" in format_table([row])


def test_the_presets_output_gain_applies_to_the_mix():
    preset = Preset.load(PRESETS / "fm-organ.json")
    notes = [Note(0.0, 0.4, 60, 100)]
    plain = play_notes(preset, notes, sample_rate=SR)
    assert np.allclose(play_notes(preset.with_render(gain_db=-12.0), notes, sample_rate=SR), plain * 10 ** (-12 / 20), atol=1e-6)

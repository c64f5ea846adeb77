"""MIDI files become notes in seconds: timing, tempo changes, note pairing, the sustain pedal, malformed files."""

from __future__ import annotations

from pathlib import Path

import mido
import pytest

from gascar.errors import MidiError
from gascar.midi import Note, read_midi

TPB = 480


def write_midi(path: Path, tracks: list[list], *, file_type: int = 1) -> Path:
    """A MIDI file of ``tracks``, each a list of mido messages with delta times in ticks (480 per beat)."""
    mid = mido.MidiFile(type=file_type, ticks_per_beat=TPB)
    for msgs in tracks:
        mid.tracks.append(mido.MidiTrack(msgs))
    mid.save(str(path))
    return path


def on(key, vel=100, t=0, ch=0):
    return mido.Message("note_on", note=key, velocity=vel, time=t, channel=ch)


def off(key, t=0, ch=0):
    return mido.Message("note_off", note=key, velocity=0, time=t, channel=ch)


def tempo(bpm, t=0):
    return mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=t)


def test_notes_in_seconds_at_the_files_tempo(tmp_path):
    path = write_midi(tmp_path / "a.mid", [[tempo(120)], [on(60, 90, t=TPB), off(60, t=TPB), on(64, 30, t=TPB // 2), off(64, t=TPB // 4)]])
    assert read_midi(path) == [Note(0.5, 1.0, 60, 90, 0), Note(1.25, 1.375, 64, 30, 0)]
    assert read_midi(path)[0].f0_hz == pytest.approx(261.6256, abs=1e-3)


def test_tempo_changes_in_another_track_apply_to_every_track(tmp_path):
    # 120 bpm for two beats (1 s), then 60 bpm: beat 3 starts at 2 s, beat 4 at 3 s.
    meta = [tempo(120), tempo(60, t=2 * TPB)]
    notes = [on(60, t=0), off(60, t=TPB), on(62, t=TPB), off(62, t=TPB), on(64, t=0), off(64, t=TPB)]
    got = read_midi(write_midi(tmp_path / "t.mid", [meta, notes]))
    assert [(n.key, n.start_s, n.end_s) for n in got] == [(60, 0.0, 0.5), (62, 1.0, 2.0), (64, 2.0, 3.0)]


def test_a_type_0_file_and_the_default_tempo(tmp_path):
    path = write_midi(tmp_path / "z.mid", [[on(69, t=TPB), off(69, t=TPB)]], file_type=0)
    assert read_midi(path) == [Note(0.5, 1.0, 69, 100, 0)]  # no tempo given: 120 bpm


def test_pairing_velocity_zero_overlaps_and_unterminated_notes(tmp_path):
    msgs = [on(60, 80), on(60, 70, t=TPB), on(67, 0, t=0),  # velocity 0 without a note: ignored
            mido.Message("note_on", note=60, velocity=0, time=TPB),  # ends the first 60 (first in, first out)
            off(60, t=TPB), on(72, t=0), mido.MetaMessage("end_of_track", time=TPB)]
    got = read_midi(write_midi(tmp_path / "p.mid", [msgs]))
    assert got == [Note(0.0, 1.0, 60, 80, 0), Note(0.5, 1.5, 60, 70, 0), Note(1.5, 2.0, 72, 100, 0)]


def test_chords_on_several_channels(tmp_path):
    chord = [on(60, ch=0), on(64, ch=1), on(67, ch=2), off(60, t=TPB, ch=0), off(64, ch=1), off(67, ch=2)]
    got = read_midi(write_midi(tmp_path / "c.mid", [chord]))
    assert [(n.key, n.channel, n.start_s, n.end_s) for n in got] == [(60, 0, 0.0, 0.5), (64, 1, 0.0, 0.5), (67, 2, 0.0, 0.5)]


def test_the_sustain_pedal_holds_released_notes_until_it_lifts_or_the_key_returns(tmp_path):
    cc = [mido.Message("control_change", control=64, value=v, time=t) for v, t in ((127, 0), (0, 2 * TPB))]
    msgs = [cc[0], on(60), off(60, t=TPB // 2), on(64), off(64, t=TPB // 2), on(60, t=TPB // 2), off(60, t=TPB // 2), cc[1]]
    got = read_midi(write_midi(tmp_path / "ped.mid", [msgs]))
    # 60 is struck again at 0.75 s, which ends its first sounding; the pedal lifts at 2 s.
    assert got == [Note(0.0, 0.75, 60, 100, 0), Note(0.25, 2.0, 64, 100, 0), Note(0.75, 2.0, 60, 100, 0)]


@pytest.mark.parametrize("content,message", [
    (b"", "is empty"),
    (b"RIFF0000WAVEfmt garbage", "not a readable MIDI file"),
    (b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\x00\x00\x00\x20\x00\x90", "truncated"),
])
def test_malformed_files_are_midi_errors_naming_the_file(tmp_path, content, message):
    path = tmp_path / "bad.mid"
    path.write_bytes(content)
    with pytest.raises(MidiError, match=message) as info:
        read_midi(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_files_without_notes_type_2_files_and_missing_files(tmp_path):
    with pytest.raises(MidiError, match="no notes"):
        read_midi(write_midi(tmp_path / "empty.mid", [[tempo(90)]]))
    with pytest.raises(MidiError, match="type 2"):
        read_midi(write_midi(tmp_path / "t2.mid", [[on(60), off(60, t=TPB)]], file_type=2))
    with pytest.raises(MidiError, match="no such file"):
        read_midi(tmp_path / "missing.mid")


def test_a_data_byte_out_of_range_is_an_error(tmp_path):
    good = write_midi(tmp_path / "g.mid", [[on(60), off(60, t=TPB)]]).read_bytes()
    i = good.index(b"\x90\x3c")
    bad = tmp_path / "d.mid"
    bad.write_bytes(good[: i + 1] + b"\xbc" + good[i + 2:])  # note number 188: not a data byte
    with pytest.raises(MidiError, match="not a readable MIDI file"):
        read_midi(bad)


def test_the_demo_phrase(tmp_path):
    notes = read_midi(Path(__file__).resolve().parents[1] / "presets" / "phrase.mid")
    assert len(notes) == 31 and {n.channel for n in notes} == {0, 1, 2, 3}
    assert max(n.end_s for n in notes) == pytest.approx(14.02, abs=0.01)  # three tempos: 96, 80 and 66 bpm

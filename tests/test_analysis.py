"""Target analysis: pitch of every shared target, note length, options, the disk cache."""

from __future__ import annotations

import re

import librosa
import numpy as np
import pytest
import soundfile as sf

from gascar import analysis
from gascar.analysis import LOW_CONFIDENCE, load_target
from gascar.errors import AnalysisError, AudioError

SR = 22050
DRUMS = {"low_tom", "open_hat"}
#: The rock organ's GM patch sounds a 16' stop an octave under its 8' one, -9 dB: its
#: lowest periodicity really is C3, and the fitness's octave gene covers the ambiguity.
OCTAVE_AMBIGUOUS = {"rock_organ_c4"}


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GASCAR_CACHE_DIR", str(tmp_path / "cache"))
    analysis.clear_memory_cache()
    yield
    analysis.clear_memory_cache()


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    from conftest import SHARED_TARGETS

    if not SHARED_TARGETS.is_dir():
        pytest.skip(f"shared targets not found at {SHARED_TARGETS}")
    cache = tmp_path_factory.mktemp("shared-cache")
    files = sorted(p for p in SHARED_TARGETS.iterdir() if p.suffix.lower() in (".wav", ".flac"))
    return {p.name: load_target(p, cache_dir=cache) for p in files}


def _note_of(name: str) -> str | None:
    m = re.search(r"_([a-g])(\d)(?:_|$)", name)
    return f"{m.group(1).upper()}{m.group(2)}" if m else None


def test_every_shared_target_gets_the_pitch_its_name_gives(analysed):
    checked = 0
    for name, target in analysed.items():
        stem = name.rsplit(".", 1)[0]
        note = _note_of(stem)
        if stem in DRUMS or note is None:
            continue
        assert target.pitched, f"{name}: detected unpitched (confidence {target.f0_confidence:.2f})"
        cents = 1200 * np.log2(target.f0_hz / librosa.note_to_hz(note))
        if stem in OCTAVE_AMBIGUOUS:
            cents = (cents + 600) % 1200 - 600
        assert abs(cents) < 50, f"{name}: f0 {target.f0_hz:.1f} Hz is {cents:+.0f} cents from {note}"
        checked += 1
    assert checked >= 12


def test_drums_are_unpitched_or_low_confidence(analysed):
    for name, target in analysed.items():
        if name.rsplit(".", 1)[0] in DRUMS:
            assert not target.pitched or target.f0_confidence < LOW_CONFIDENCE, (name, target.f0_confidence)


def test_durations_and_holds_are_sane(analysed):
    for name, t in analysed.items():
        assert 0.05 <= t.duration_s <= 4.0, name
        assert 0.0 < t.hold_s <= t.duration_s, name
        assert t.samples.dtype == np.float32 and t.sample_rate == SR and len(t.sha256) == 64


def _held_tone(path, hold_s=0.6, total_s=1.5, f0=220.0):
    t = np.arange(int(total_s * SR)) / SR
    env = np.where(t < hold_s, 1.0, np.exp(-(t - hold_s) * 40.0))
    x = 0.5 * env * np.sin(2 * np.pi * f0 * t)
    sf.write(path, x.astype(np.float32), SR, subtype="FLOAT")
    return path


def test_hold_and_tail_of_a_held_tone(tmp_path):
    t = load_target(_held_tone(tmp_path / "held.wav"))
    assert t.pitched and abs(1200 * np.log2(t.f0_hz / 220.0)) < 20
    assert 0.55 <= t.hold_s <= 0.75
    assert t.duration_s < 1.2  # the silent tail is cut (the envelope floors at -60 dB anyway)


def test_noise_is_unpitched(tmp_path):
    x = np.random.default_rng(0).standard_normal(SR) * np.exp(-np.arange(SR) / SR * 4)
    sf.write(tmp_path / "noise.wav", (0.3 * x).astype(np.float32), SR, subtype="FLOAT")
    t = load_target(tmp_path / "noise.wav")
    assert not t.pitched and t.f0_hz is None and t.f0_source == "none"


def test_f0_and_note_override_the_detector(tmp_path):
    p = _held_tone(tmp_path / "a.wav")
    assert load_target(p, f0_hz=300.0).f0_hz == 300.0
    t = load_target(p, note="A4")
    assert t.f0_hz == pytest.approx(440.0) and t.f0_source == "user" and t.pitched and t.note == "A4"
    with pytest.raises(AnalysisError, match="either"):
        load_target(p, f0_hz=300.0, note="A4")
    with pytest.raises(AnalysisError, match="not a note"):
        load_target(p, note="H9")
    with pytest.raises(AnalysisError, match="unknown analysis options: bogus"):
        load_target(p, bogus=1)
    with pytest.raises(AnalysisError, match="f0_hz"):
        load_target(p, f0_hz=-5.0)


def test_bad_files_raise_audio_errors_naming_the_file(tmp_path):
    with pytest.raises(AudioError, match="missing.wav"):
        load_target(tmp_path / "missing.wav")
    (tmp_path / "text.wav").write_text("not audio")
    with pytest.raises(AudioError, match="text.wav"):
        load_target(tmp_path / "text.wav")


def test_disk_cache_skips_analysis_and_is_keyed_by_options(tmp_path, monkeypatch):
    p = _held_tone(tmp_path / "c.wav")
    first = load_target(p)
    files = list((tmp_path / "cache").glob("*.npz"))
    assert len(files) == 1
    analysis.clear_memory_cache()

    def boom(*a, **k):
        raise AssertionError("analysed again")

    monkeypatch.setattr(analysis, "pitch_track", boom)
    again = load_target(p)
    assert again.f0_hz == first.f0_hz and again.hold_s == first.hold_s
    assert np.array_equal(again.samples, first.samples) and again.sha256 == first.sha256
    assert load_target(p, f0_hz=200.0).f0_hz == 200.0  # another key: analysed (no pYIN needed)
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 2
    with pytest.raises(AssertionError, match="analysed again"):
        load_target(p, cache=False)


def test_cache_dir_option_wins_and_damaged_entries_are_recomputed(tmp_path):
    p = _held_tone(tmp_path / "d.wav")
    load_target(p, cache_dir=tmp_path / "mine")
    (entry,) = (tmp_path / "mine").glob("*.npz")
    assert not (tmp_path / "cache").exists()
    entry.write_bytes(b"garbage")
    analysis.clear_memory_cache()
    assert load_target(p, cache_dir=tmp_path / "mine").pitched
    assert not list((tmp_path / "mine").glob(".*part"))


def test_changed_file_is_analysed_again(tmp_path):
    p = _held_tone(tmp_path / "e.wav", f0=220.0)
    assert abs(load_target(p).f0_hz - 220.0) < 3
    _held_tone(p, f0=330.0)
    assert abs(load_target(p).f0_hz - 330.0) < 4

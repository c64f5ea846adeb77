import math
import warnings

import numpy as np
import pytest
import soundfile as sf
from conftest import tone

from gascar.audio import load_audio, write_audio
from gascar.errors import AudioError


@pytest.mark.parametrize(
    "fmt,subtype,ext",
    [
        ("WAV", "PCM_U8", "wav"),
        ("WAV", "PCM_16", "wav"),
        ("WAV", "PCM_24", "wav"),
        ("WAV", "PCM_32", "wav"),
        ("WAV", "FLOAT", "wav"),
        ("WAV", "DOUBLE", "wav"),
        ("FLAC", "PCM_16", "flac"),
        ("FLAC", "PCM_24", "flac"),
        ("OGG", "VORBIS", "ogg"),
        ("AIFF", "PCM_16", "aiff"),
    ],
)
def test_reads_every_common_format(tmp_path, fmt, subtype, ext):
    p = tmp_path / f"x.{ext}"
    x = tone(440.0, 0.4, 22050)
    sf.write(p, x, 22050, format=fmt, subtype=subtype)
    a = load_audio(p)
    assert a.samples.dtype == np.float32 and a.samples.ndim == 1
    assert a.sample_rate == 22050
    assert abs(a.n_samples - x.size) < 300  # codecs may pad or trim a little
    assert np.max(np.abs(a.samples)) > 0.3


def test_mp3_where_supported(tmp_path):
    if "MP3" not in sf.available_formats():
        pytest.skip("this libsndfile has no MP3 support")
    p = tmp_path / "x.mp3"
    sf.write(p, tone(440.0, 0.5, 22050), 22050, format="MP3")
    assert load_audio(p).n_samples > 5000


def test_paths_with_spaces_and_non_ascii(tmp_path):
    d = tmp_path / "my sounds é"
    d.mkdir()
    p = d / "Cöllo ñote 1.wav"
    sf.write(p, tone(), 22050)
    assert load_audio(p).n_samples > 0


@pytest.mark.parametrize("sr", [8000, 44100, 48000, 96000, 192000])
def test_resamples_to_analysis_rate(tmp_path, sr):
    p = tmp_path / "x.wav"
    sf.write(p, tone(440.0, 0.5, sr), sr)
    a = load_audio(p)
    assert a.sample_rate == 22050 and a.source_sample_rate == sr
    assert abs(a.n_samples - 0.5 * 22050) < 200
    # the 440 Hz fundamental survives resampling where it is peak
    spec = np.abs(np.fft.rfft(a.samples))
    assert abs(np.argmax(spec) * 22050 / a.n_samples - 440) < 5


def test_other_analysis_rate(tone_wav):
    assert load_audio(tone_wav, sample_rate=16000).sample_rate == 16000


def test_eight_channels_mixed_to_mono(tmp_path):
    p = tmp_path / "x.wav"
    x = np.stack([tone(110.0 * (k + 1)) for k in range(8)], axis=1)
    sf.write(p, x, 22050)
    a = load_audio(p)
    assert a.source_channels == 8 and a.samples.ndim == 1
    assert np.allclose(a.samples, x.mean(axis=1), atol=1e-4)


def test_leading_silence_trimmed(tmp_path):
    p = tmp_path / "x.wav"
    x = np.concatenate([np.zeros(11025, np.float32), tone()])
    sf.write(p, x, 22050, subtype="FLOAT")
    a = load_audio(p)
    assert 0.49 < a.trimmed_s <= 0.5
    assert a.n_samples < x.size
    assert load_audio(p, trim=False).n_samples == x.size


def test_long_file_is_cut_with_warning_and_read_partially(tmp_path, monkeypatch):
    p = tmp_path / "long.wav"
    sr = 22050
    with sf.SoundFile(p, "w", sr, 1, "PCM_16") as f:
        for _ in range(60):  # one minute, written in blocks
            f.write(tone(220.0, 1.0, sr))
    import gascar.audio as audio

    read = []
    original = audio._read_mono
    monkeypatch.setattr(audio, "_read_mono", lambda f, n, path: read.append(n) or original(f, n, path))
    with pytest.warns(UserWarning, match="only the first 4 s"):
        a = load_audio(p)
    assert a.truncated and a.n_samples == 4 * sr
    assert sum(read) < 20 * sr  # never asked for the whole minute


def test_click_loads(tmp_path):
    p = tmp_path / "click.wav"
    x = np.zeros(220, np.float32)
    x[10:20] = 0.9
    sf.write(p, x, 22050)
    assert load_audio(p).n_samples > 0


def test_very_quiet_file_loads(tmp_path):
    p = tmp_path / "quiet.wav"
    sf.write(p, tone(amp=10 ** (-90 / 20)), 22050, subtype="FLOAT")
    a = load_audio(p)
    assert 0 < np.max(np.abs(a.samples)) < 1e-4


def _expect_error(path, pattern):
    with pytest.raises(AudioError, match=pattern) as info:
        load_audio(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_path(tmp_path):
    _expect_error(tmp_path / "nope.wav", "no such file")


def test_directory(tmp_path):
    _expect_error(tmp_path, "is a directory")


def test_zero_byte_file(tmp_path):
    p = tmp_path / "empty.wav"
    p.touch()
    _expect_error(p, r"empty \(0 bytes\)")


def test_not_audio(tmp_path):
    p = tmp_path / "notes.wav"
    p.write_text("these are my notes, not a sound\n" * 20)
    _expect_error(p, "not a readable audio file")


def test_truncated_wav(tmp_path, tone_wav):
    data = tone_wav.read_bytes()
    p = tmp_path / "cut.wav"
    p.write_bytes(data[: len(data) // 2])
    _expect_error(p, "truncated")


def test_corrupt_flac(tmp_path):
    p = tmp_path / "x.flac"
    sf.write(p, tone(), 22050, format="FLAC")
    data = bytearray(p.read_bytes())
    rng = np.random.default_rng(0)
    data[300:900] = rng.integers(0, 256, 600, dtype=np.uint8).tobytes()
    p.write_bytes(bytes(data))
    _expect_error(p, "corrupt|truncated|not a readable")


def test_zero_frames(tmp_path):
    p = tmp_path / "none.wav"
    sf.write(p, np.zeros(0, np.float32), 22050)
    _expect_error(p, "no audio frames")


def test_nan_samples(tmp_path):
    p = tmp_path / "nan.wav"
    x = tone()
    x[100] = np.nan
    sf.write(p, x, 22050, subtype="FLOAT")
    _expect_error(p, "NaN or infinite")


def test_inf_samples(tmp_path):
    p = tmp_path / "inf.wav"
    x = tone()
    x[100] = np.inf
    sf.write(p, x, 22050, subtype="FLOAT")
    _expect_error(p, "NaN or infinite")


def test_digital_silence(tmp_path):
    p = tmp_path / "silence.wav"
    sf.write(p, np.zeros(22050, np.float32), 22050)
    _expect_error(p, "digital silence")


def test_dc_only(tmp_path):
    p = tmp_path / "dc.wav"
    sf.write(p, np.full(22050, 0.25, np.float32), 22050, subtype="FLOAT")
    _expect_error(p, "constant")


def test_write_round_trip_and_atomic(tmp_path):
    x = tone()
    for subtype in ("PCM_16", "PCM_24", "FLOAT"):
        p = write_audio(tmp_path / f"o_{subtype}.wav", x, 22050, subtype=subtype)
        y, sr = sf.read(p, dtype="float32")
        assert sr == 22050 and np.allclose(x, y, atol=1e-4)
    assert not [f for f in tmp_path.iterdir() if f.name.startswith(".")]


def test_write_never_clips_silently(tmp_path):
    x = tone() * 4
    with pytest.warns(UserWarning, match="scaled by"):
        p = write_audio(tmp_path / "loud.wav", x, 22050)
    y, _ = sf.read(p)
    assert np.max(np.abs(y)) < 1.0
    # the shape survives: scaled, not clipped
    assert np.corrcoef(x, y)[0, 1] > 0.9999


def test_write_refuses_nan(tmp_path):
    x = tone()
    x[3] = np.nan
    with pytest.raises(AudioError, match="NaN"):
        write_audio(tmp_path / "bad.wav", x, 22050)
    assert not (tmp_path / "bad.wav").exists()


def test_write_interrupted_leaves_old_file(tmp_path, monkeypatch):
    p = write_audio(tmp_path / "keep.wav", tone(), 22050)
    before = p.read_bytes()

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(sf, "write", boom)
    with pytest.raises(KeyboardInterrupt):
        write_audio(p, tone(440.0), 22050)
    assert p.read_bytes() == before
    assert [f.name for f in tmp_path.iterdir()] == ["keep.wav"]


def test_shared_targets_all_load(shared_targets):
    files = sorted(f for f in shared_targets.iterdir() if f.suffix in (".wav", ".flac"))
    assert len(files) >= 10
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for f in files:
            a = load_audio(f)
            assert a.sample_rate == 22050 and 0.4 < a.duration_s <= 4.0
            assert math.isfinite(float(np.sum(a.samples)))

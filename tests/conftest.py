"""Shared fixtures: generated audio, the shared targets folder, the stand-in objective of the matching tests."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from gascar.params import ParamSpace, ParamSpec
from gascar.synths import base

REPO = Path(__file__).resolve().parents[1]
SHARED_TARGETS = REPO.parent / "shared" / "targets"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def tone(f0_hz: float = 220.0, duration_s: float = 0.5, sample_rate: int = 22050, amp: float = 0.5) -> np.ndarray:
    """A decaying harmonic tone, shape (n_samples,), float32."""
    t = np.arange(int(duration_s * sample_rate)) / sample_rate
    x = sum(np.sin(2 * np.pi * k * f0_hz * t) / k for k in range(1, 6))
    return (amp * x / np.max(np.abs(x)) * np.exp(-3 * t)).astype(np.float32)


@pytest.fixture
def tone_wav(tmp_path: Path) -> Path:
    """A 0.5 s, 220 Hz mono 16-bit WAV in a temporary folder."""
    p = tmp_path / "tone.wav"
    sf.write(p, tone(), 22050, subtype="PCM_16")
    return p


@pytest.fixture
def shared_targets() -> Path:
    """The shared development targets (real instrument notes), or skip."""
    if not SHARED_TARGETS.is_dir():
        pytest.skip(f"shared targets not found at {SHARED_TARGETS}")
    return SHARED_TARGETS


# -- the stand-in objective ------------------------------------------------------------------------------
# Matching tests check the match machinery (halving, outputs, resume, batches), not the fitness: a small
# stand-in with the Objective protocol (log-spectrum distance of real synth renders) keeps them fast.
# tests/test_match_real.py and tests/test_match_cli.py run the real pipeline end to end.

SR = 22050
F0 = 220.0


class StandInTarget:
    """The stand-in's target: the file as written, pitched at F0, note-off at 60 %."""

    def __init__(self, path):
        path = Path(path)
        audio, sr = sf.read(str(path), dtype="float32")
        self.path = str(path)
        self.name = path.stem
        self.sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
        self.sample_rate = sr
        self.audio = audio
        self.n_samples = audio.size
        self.f0_hz = F0
        self.hold_s = 0.6 * audio.size / sr
        self.pitched = True


def _logspec(x):
    n = x.shape[-1] // 256 * 256
    frames = x[..., :n].reshape(*x.shape[:-1], -1, 256) * np.hanning(256)
    return np.log1p(10 * np.abs(np.fft.rfft(frames, axis=-1)))


class StandInObjective:
    """Log-spectrum distance of a synth's renders to the stand-in target (the Objective protocol)."""

    def __init__(self, target, synth):
        self.target = target
        self.synth = synth
        self.space = synth.params
        self.n_genes = self.space.n_genes
        self._ref = _logspec(target.audio.astype(np.float64))

    def render(self, genomes):
        t = self.target
        return self.synth.render(genomes, t.f0_hz, t.n_samples, t.sample_rate, hold_s=t.hold_s)

    def components(self, genomes):
        spec = _logspec(self.render(genomes).astype(np.float64))
        return {"spectral": np.mean(np.abs(spec - self._ref), axis=(1, 2))}

    def __call__(self, genomes):
        return self.components(genomes)["spectral"]

    def preset(self, genome, **info):
        from gascar.preset import Preset, RenderSettings

        t = self.target
        rs = RenderSettings(f0_hz=t.f0_hz, duration_s=t.n_samples / t.sample_rate, hold_s=t.hold_s, sample_rate=t.sample_rate)
        return Preset.from_genome(self.synth.name, genome, rs, match=info)


def _standin_objective(target, name, options):
    from gascar.synths import get_synth

    return StandInObjective(target, get_synth(name))


def _standin_target(path, options):
    return StandInTarget(path)


def install_standins(patch=setattr) -> None:
    """Make gascar.matching analyse targets and build objectives with the stand-ins (also in a subprocess)."""
    import gascar.matching as gm

    patch(gm, "_make_objective", _standin_objective)
    patch(gm, "_load_target", _standin_target)


@pytest.fixture()
def standin(monkeypatch):
    """Matches in this test use the stand-in objective."""
    install_standins(monkeypatch.setattr)


#: Python code that installs the stand-ins in another interpreter (a subprocess, a Dask worker).
STANDIN_CODE = f"""
import sys
sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
from conftest import install_standins
install_standins()
"""


def spawn_gascar(args, cwd) -> subprocess.Popen:
    """``gascar ARGS`` in a subprocess with the stand-in objective (for signals: SIGINT, SIGTERM)."""
    code = STANDIN_CODE + "from gascar.cli import main\nmain(sys.argv[1:])\n"
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=cwd, env=dict(os.environ, PYTHONUNBUFFERED="1"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


class VelocitySine(base.Synth):
    """A test synth whose loudness follows velocity: a sine at ``level * velocity / 127``, released in 0.35 s (T60)."""

    name = "test-velocity-sine"
    description = "Sine whose amplitude is proportional to velocity (tests only)."
    params = ParamSpace([ParamSpec("level", 0.0, 1.0, default=0.5, description="Level at velocity 127.")])
    responds_to_velocity = True

    def _render(self, p, f0_hz, n_samples, sample_rate, hold_s, velocity):
        t = np.arange(n_samples) / sample_rate
        env = np.where(t[None, :] < hold_s[:, None], 1.0, np.exp(-(t[None, :] - hold_s[:, None]) * 20.0))
        amp = (p["level"] * velocity / 127.0)[:, None]
        return (amp * env * np.sin(2 * np.pi * f0_hz[:, None] * t[None, :])).astype(np.float32)


@pytest.fixture()
def velocity_synth(monkeypatch):
    """Name of :class:`VelocitySine`, registered for this test only."""
    monkeypatch.setitem(base._REGISTRY, VelocitySine.name, VelocitySine)
    return VelocitySine.name

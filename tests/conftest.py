"""Shared fixtures: generated audio, the shared targets folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

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

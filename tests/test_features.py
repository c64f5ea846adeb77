"""Batch features: shapes, level invariance, row independence, known values."""

from __future__ import annotations

import numpy as np
import pytest

from gascar import features as F

SR = 22050


def _tones(f0s, n=SR // 2):
    t = np.arange(n) / SR
    return np.stack([np.sin(2 * np.pi * f * t) for f in f0s]).astype(np.float32)


def test_rms_normalize_levels_and_silence():
    x = _tones([220.0, 440.0]) * np.array([[0.01], [0.9]], dtype=np.float32)
    x = np.vstack([x, np.zeros((1, x.shape[1]), np.float32)])
    y = F.rms_normalize(x)
    rms = np.sqrt(np.mean(y.astype(np.float64) ** 2, axis=1))
    assert y.dtype == np.float32
    assert np.allclose(rms[:2], F.REFERENCE_RMS, rtol=1e-4) and rms[2] == 0.0


@pytest.mark.parametrize("n_samples", [100, 1024, 1025, 22050])
def test_frames_cover_every_sample(n_samples):
    x = np.arange(n_samples, dtype=np.float32)[None, :]
    fr = F.frames(x, 1024, 512)
    assert fr.shape == (1, F.n_frames(n_samples, 1024, 512), 1024)
    assert fr[0, -1].max() == n_samples - 1


def test_extract_shapes_and_dtypes():
    n = SR
    ex = F.FeatureExtractor(SR, n, f0_hz=220.0)
    feats = ex.extract(F.rms_normalize(_tones([220.0, 330.0, 440.0], n)))
    nf = F.n_frames(n, F.MAIN_FFT, F.MAIN_FFT // 2)
    for size in F.STFT_SIZES:
        assert feats[f"mag_{size}"].shape == (3, F.n_frames(n, size, F.STFT_HOPS[size]), size // 2 + 1)
    assert feats["mel"].shape == (3, nf, F.N_MELS)
    assert feats["energy"].shape == feats["centroid"].shape == (3, nf)
    assert feats["f0_hz"].shape == feats["periodicity"].shape == (3, -(-F.n_frames(n, F.F0_FFT, F.F0_FFT // 2) // F.F0_STRIDE))
    assert all(v.dtype == np.float32 for v in feats.values())


def test_f0_contour_and_centroid_of_pure_tones():
    ex = F.FeatureExtractor(SR, SR // 2, f0_hz=300.0)
    feats = ex.extract(F.rms_normalize(_tones([200.0, 300.0, 450.0])))
    f0 = np.median(feats["f0_hz"][:, 1:-1], axis=1)
    assert np.allclose(f0, [200.0, 300.0, 450.0], rtol=0.01)
    assert np.all(feats["periodicity"][:, 1:-1] > 0.9)
    centroid_hz = 20.0 * 2 ** np.median(feats["centroid"][:, 1:-1], axis=1)
    assert np.allclose(centroid_hz, [200.0, 300.0, 450.0], rtol=0.05)


def test_rows_are_independent_of_the_batch():
    x = F.rms_normalize(np.random.default_rng(0).standard_normal((5, SR // 4)).astype(np.float32))
    ex = F.FeatureExtractor(SR, x.shape[1], f0_hz=200.0)
    whole = ex.extract(x)
    one = ex.extract(x[3:4])
    for k in whole:
        assert np.allclose(whole[k][3], one[k][0], rtol=1e-5, atol=1e-6), k


def test_dct_matrix_is_orthonormal_rows():
    d = F.dct_matrix(64, 20, skip_first=False)
    assert d.shape == (64, 20)
    assert np.allclose(d.T @ d, np.eye(20), atol=1e-5)

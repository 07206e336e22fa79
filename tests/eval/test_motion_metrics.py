"""Motion metrics against hand-computed cases."""
from __future__ import annotations

import math

import numpy as np
import pytest
import roma
import torch

from lslm.errors import InvalidInputError
from lslm.eval.motion import (
    accel_error,
    codebook_usage,
    diversity,
    fid,
    frechet_distance,
    mpjpe,
    pa_mpjpe,
    perplexity,
)


def poses(batch: int = 2, frames: int = 5, joints: int = 6, seed: int = 0) -> torch.Tensor:
    return torch.randn(batch, frames, joints, 3, generator=torch.Generator().manual_seed(seed)).double()


def test_constant_offset_of_one_joint():
    gt = poses()
    pred = gt.clone()
    pred[..., 3, :] += torch.tensor([0.003, 0.004, 0.0], dtype=torch.float64)   # 5 mm on 1 of 6 joints
    assert mpjpe(pred, gt) == pytest.approx(5.0 / 6)
    # a translation of the whole body is removed by root alignment
    assert mpjpe(gt + torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64), gt) == pytest.approx(0.0, abs=1e-9)


def test_similarity_transform_has_zero_pa_mpjpe():
    gt = poses()
    R = roma.rotvec_to_rotmat(torch.tensor([[0.3, -1.2, 0.7]], dtype=torch.float64))[0]
    pred = 1.7 * gt @ R.T + torch.tensor([0.5, -0.2, 1.0], dtype=torch.float64)
    assert mpjpe(pred, gt) > 100.0
    assert pa_mpjpe(pred, gt) == pytest.approx(0.0, abs=1e-6)
    # a reflection is not a rotation: Procrustes must not undo it
    mirrored = gt * torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64)
    assert pa_mpjpe(mirrored, gt) > 1.0


def test_pa_mpjpe_matches_a_per_frame_reference():
    gt, pred = poses(1, 3, 8, seed=1)[0], poses(1, 3, 8, seed=2)[0]
    errors = []
    for p, g in zip(pred.numpy(), gt.numpy()):           # Umeyama (1991), one frame at a time
        mp, mg = p.mean(0), g.mean(0)
        cov = (g - mg).T @ (p - mp) / len(p)
        U, S, Vt = np.linalg.svd(cov)
        E = np.diag([1.0, 1.0, np.sign(np.linalg.det(U @ Vt))])
        R = U @ E @ Vt
        s = np.trace(np.diag(S) @ E) / ((p - mp) ** 2).sum(1).mean()
        aligned = s * (p - mp) @ R.T + mg
        errors.append(np.linalg.norm(aligned - g, axis=1).mean())
    assert pa_mpjpe(pred, gt) == pytest.approx(1000 * np.mean(errors), rel=1e-9)


def test_lengths_exclude_padding():
    gt = poses(2, 6)
    pred = gt.clone()
    pred[1, 4:] += 10.0                                   # garbage in padded frames of clip 1
    pred[0, :, 2] += torch.tensor([0.0, 0.006, 0.0], dtype=torch.float64)
    lengths = [6, 4]
    assert mpjpe(pred, gt, lengths) == pytest.approx(6.0 / 6 * 6 / 10)   # 6 of 10 valid frames have 1 mm
    assert pa_mpjpe(pred[1:], gt[1:], [4]) == pytest.approx(0.0, abs=1e-6)


def test_accel_error():
    gt = poses(1, 6)
    pred = gt.clone()
    t = torch.arange(6, dtype=torch.float64)
    pred[0, :, 1:, 0] += (0.001 * t**2)[:, None]          # non-root joints accelerate by 2 mm/frame²
    assert accel_error(pred, gt) == pytest.approx(2.0 * 5 / 6)
    pred_linear = gt.clone()
    pred_linear[0, :, 1:, 0] += (0.01 * t)[:, None]       # constant velocity: no acceleration error
    assert accel_error(pred_linear, gt) == pytest.approx(0.0, abs=1e-9)


def test_codebook_statistics():
    codes = torch.tensor([[0, 1, 2, 3, 0, 1, 2, 3], [0, 1, 2, 3, -1, -1, -1, -1]])
    assert codebook_usage(codes, 16) == pytest.approx(4 / 16)
    assert perplexity(codes, 16) == pytest.approx(4.0)
    assert perplexity(torch.zeros(10, dtype=torch.long), 16) == pytest.approx(1.0)
    p = np.array([0.5, 0.25, 0.25])
    assert perplexity([0, 0, 1, 2], 8) == pytest.approx(math.exp(-(p * np.log(p)).sum()))
    with pytest.raises(InvalidInputError):
        codebook_usage([3, 16], 16)


def test_fid():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(500, 4))
    assert fid(a, a) == pytest.approx(0.0, abs=1e-6)
    shift = np.array([1.0, -2.0, 0.5, 0.0])
    assert fid(a, a + shift) == pytest.approx(float(shift @ shift), abs=1e-6)
    # two Gaussians with diagonal covariances: (σ1 − σ2)² per dimension
    s1, s2 = np.diag([1.0, 4.0]), np.diag([9.0, 1.0])
    assert frechet_distance(np.zeros(2), s1, np.ones(2), s2) == pytest.approx(2 + (1 - 3) ** 2 + (2 - 1) ** 2)


def test_diversity():
    emb = np.zeros((10, 3))
    emb[5:, 0] = 2.0
    value = diversity(emb, n_pairs=10, seed=0)
    rng = np.random.default_rng(0)
    first, second = rng.choice(10, 10, replace=False), rng.choice(10, 10, replace=False)
    assert value == pytest.approx(2.0 * np.mean((first >= 5) != (second >= 5)))
    assert diversity(np.ones((20, 3)), n_pairs=5) == 0.0
    with pytest.raises(InvalidInputError, match="n_pairs"):
        diversity(emb, n_pairs=11)

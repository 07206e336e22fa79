"""Motion metrics: joint errors in millimetres, codebook statistics, FID and diversity of embeddings.

Joint inputs are positions in metres, (T, J, 3) or (B, T, J, 3) with optional `lengths` (B,) for padded
batches; every error is averaged over the valid frames (and joints) of all clips together.

- MPJPE: mean ‖pred − gt‖ after subtracting joint 0 (the root) from each frame of both.
- PA-MPJPE: MPJPE after aligning each predicted frame to the ground truth with the similarity
  transform (scale, rotation, translation) that minimises the squared error (Procrustes, via SVD).
- Acceleration error: mean ‖a_pred − a_gt‖ of root-aligned second differences x[t+2] − 2x[t+1] + x[t]
  (mm/frame²; multiply by fps² for mm/s²).
- Codebook usage: fraction of the K codes that occur; perplexity: exp(entropy) of the code histogram.
- FID: Fréchet distance between Gaussians fitted to two embedding sets; diversity: mean distance
  between `n_pairs` random pairs of embeddings (T2M protocol).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from scipy import linalg

from lslm.errors import InvalidInputError
from lslm.tokenizer.quantizer import code_perplexity


def _joints(pred: Any, gt: Any, lengths: Sequence[int] | torch.Tensor | None
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """→ pred, gt (B, T, J, 3) float64 and a frame mask (B, T)."""
    p = torch.as_tensor(np.asarray(pred) if not isinstance(pred, torch.Tensor) else pred).double()
    g = torch.as_tensor(np.asarray(gt) if not isinstance(gt, torch.Tensor) else gt).double()
    if p.shape != g.shape or p.ndim not in (3, 4) or p.shape[-1] != 3:
        raise InvalidInputError(None, "joints", "pred and gt of the same shape (T, J, 3) or (B, T, J, 3)",
                                got=f"{tuple(p.shape)} and {tuple(g.shape)}")
    if p.ndim == 3:
        p, g = p.unsqueeze(0), g.unsqueeze(0)
    B, T = p.shape[:2]
    if lengths is None:
        mask = torch.ones(B, T, dtype=torch.bool)
    else:
        n = torch.as_tensor(lengths).reshape(-1)
        if n.numel() != B:
            raise InvalidInputError(None, "lengths", f"{B} values", got=n.numel())
        mask = torch.arange(T).unsqueeze(0) < n.unsqueeze(1)                 # (B, T)
    return p, g, mask


def _mean_error_mm(p: torch.Tensor, g: torch.Tensor, mask: torch.Tensor) -> float:
    per_frame = (p - g).norm(dim=-1).mean(-1)                                # (B, T)
    return float(per_frame[mask].mean() * 1000.0)


def mpjpe(pred: Any, gt: Any, lengths: Sequence[int] | torch.Tensor | None = None) -> float:
    """Root-aligned mean per-joint position error in mm (inputs in metres)."""
    p, g, mask = _joints(pred, gt, lengths)
    return _mean_error_mm(p - p[..., :1, :], g - g[..., :1, :], mask)


def procrustes_align(pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """Similarity-align each pose pred (..., J, 3) to gt (..., J, 3); returns the aligned pred."""
    mu_p, mu_g = pred.mean(-2, keepdim=True), gt.mean(-2, keepdim=True)
    x, y = pred - mu_p, gt - mu_g
    U, S, Vh = torch.linalg.svd(x.transpose(-1, -2) @ y)                     # (..., 3, 3)
    # reflection guard: flip the last singular direction when det(U Vh) < 0
    d = torch.sign(torch.linalg.det(U @ Vh))
    S = torch.cat([S[..., :2], S[..., 2:] * d.unsqueeze(-1)], dim=-1)
    U = torch.cat([U[..., :2], U[..., 2:] * d[..., None, None]], dim=-1)
    R = U @ Vh                                                               # x @ R ≈ y / scale
    scale = S.sum(-1) / x.pow(2).sum((-1, -2)).clamp_min(1e-12)
    return scale[..., None, None] * (x @ R) + mu_g


def pa_mpjpe(pred: Any, gt: Any, lengths: Sequence[int] | torch.Tensor | None = None) -> float:
    """Mean per-joint error in mm after per-frame similarity Procrustes alignment."""
    p, g, mask = _joints(pred, gt, lengths)
    return _mean_error_mm(procrustes_align(p, g), g, mask)


def _second_difference(x: torch.Tensor) -> torch.Tensor:
    return x[:, 2:] - 2 * x[:, 1:-1] + x[:, :-2]                             # (B, T-2, J, 3)


def accel_error(pred: Any, gt: Any, lengths: Sequence[int] | torch.Tensor | None = None) -> float:
    """Mean acceleration error in mm/frame² of root-aligned joints (second differences)."""
    p, g, mask = _joints(pred, gt, lengths)
    if p.shape[1] < 3:
        raise InvalidInputError(None, "joints", "at least 3 frames", got=p.shape[1])
    p, g = p - p[..., :1, :], g - g[..., :1, :]
    return _mean_error_mm(_second_difference(p), _second_difference(g), mask[:, 2:])


def _code_counts(codes: Any, num_codes: int) -> torch.Tensor:
    c = torch.as_tensor(np.asarray(codes) if not isinstance(codes, torch.Tensor) else codes).reshape(-1).long()
    c = c[c >= 0]                                                            # −1 is padding
    if (c >= num_codes).any():
        raise InvalidInputError(None, "codes", f"values below {num_codes}", got=int(c.max()))
    return torch.bincount(c, minlength=num_codes).double()


def codebook_usage(codes: Any, num_codes: int) -> float:
    """Fraction of the num_codes codes that occur at least once (−1 padding ignored)."""
    return float((_code_counts(codes, num_codes) > 0).double().mean())


def perplexity(codes: Any, num_codes: int) -> float:
    """exp(entropy) of the code histogram: equals the number of codes used when usage is uniform."""
    return float(code_perplexity(_code_counts(codes, num_codes)))


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray,
                     eps: float = 1e-6) -> float:
    """‖μ1 − μ2‖² + tr(Σ1 + Σ2 − 2 (Σ1 Σ2)^½)."""
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    covmean = linalg.sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        # singular product: regularise both covariances a little
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    covmean = covmean.real
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))


def fid(emb_a: Any, emb_b: Any) -> float:
    """Fréchet distance between two embedding sets (N, d) and (M, d)."""
    a, b = np.asarray(emb_a, np.float64), np.asarray(emb_b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise InvalidInputError(None, "embeddings", "two arrays (N, d), (M, d) with N, M >= 2",
                                got=f"{a.shape} and {b.shape}")
    return frechet_distance(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))


def diversity(emb: Any, n_pairs: int = 300, seed: int = 0) -> float:
    """Mean Euclidean distance between n_pairs random pairs of embeddings (N, d), N >= n_pairs."""
    e = np.asarray(emb, np.float64)
    if e.ndim != 2 or len(e) < n_pairs:
        raise InvalidInputError(None, "embeddings", f"an array (N, d) with N >= n_pairs = {n_pairs}",
                                got=e.shape)
    rng = np.random.default_rng(seed)
    first = rng.choice(len(e), n_pairs, replace=False)
    second = rng.choice(len(e), n_pairs, replace=False)
    return float(np.linalg.norm(e[first] - e[second], axis=1).mean())

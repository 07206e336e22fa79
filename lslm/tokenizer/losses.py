"""VQ-VAE training loss: reconstruction + velocity + commitment.

The velocity term compares the *joint velocity* block of the feature layout
(`feature_layout(J)["velocities"]`, 52×3 values at [463:619] for 52 joints). T2M-GPT's reference
loss slices [4 : 4 + (J−1)·3], which is the local position block (T2M-GPT issue #48), so its
"velocity" loss is a second, heavier position loss; ours is what the name says.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from lslm.motion import feature_layout
from lslm.tokenizer.config import TokenizerConfig
from lslm.tokenizer.vqvae import VQVAEOutput


def _elementwise(cfg: TokenizerConfig, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    if cfg.recon_loss == "l1":
        return F.l1_loss(pred, target, reduction="none")
    return F.smooth_l1_loss(pred, target, reduction="none")


def _masked_mean(values: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """values (B, T, d) averaged over the frames where mask (B, T) is True and over d."""
    if mask is None:
        return values.mean()
    frames = values.mean(-1)                                               # (B, T)
    return frames[mask].sum() / mask.sum().clamp_min(1)


FIRST_HAND_JOINT = 22  # joints 22–51 of the 52-joint skeleton are the fingers (Skeleton.smplx52)


def feature_weights(cfg: TokenizerConfig) -> torch.Tensor | None:
    """(D,) weight of each feature in the reconstruction loss, mean 1: the hand joints' positions, rotations
    and velocities weigh `hand_weight` times the rest. None when hand_weight is 1 (or there are no hands)."""
    if cfg.hand_weight == 1.0 or cfg.num_joints <= FIRST_HAND_JOINT:
        return None
    layout, j = feature_layout(cfg.num_joints), torch.arange(FIRST_HAND_JOINT, cfg.num_joints)
    w = torch.ones(cfg.feature_dim)
    hand = torch.cat([layout["positions"].start + 3 * (j - 1)[:, None] + torch.arange(3),
                      layout["rotations"].start + 6 * (j - 1)[:, None] + torch.arange(6),
                      layout["velocities"].start + 3 * j[:, None] + torch.arange(3)], 1).reshape(-1)
    w[hand] = cfg.hand_weight
    return w / w.mean()


def vqvae_loss(x: torch.Tensor, out: VQVAEOutput, cfg: TokenizerConfig,
               mask: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Losses of one batch. x (B, T, D) normalised targets; mask (B, T) bool marks real frames.

    Returns scalars "total", "recon", "velocity", "commit" with
    total = recon + velocity_weight · velocity + commit_weight · commit; each feature's error is weighted
    by `feature_weights` (the hands by `hand_weight`).
    """
    velocities = feature_layout(cfg.num_joints)["velocities"]
    error = _elementwise(cfg, out.recon, x)                                # (B, T, D)
    weights = feature_weights(cfg)
    if weights is not None:
        error = error * weights.to(error.device, error.dtype)
    recon = _masked_mean(error, mask)
    velocity = _masked_mean(error[..., velocities], mask)
    commit = out.commit_loss
    total = recon + cfg.velocity_weight * velocity + cfg.commit_weight * commit
    return {"total": total, "recon": recon, "velocity": velocity, "commit": commit}

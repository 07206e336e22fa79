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


def vqvae_loss(x: torch.Tensor, out: VQVAEOutput, cfg: TokenizerConfig,
               mask: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Losses of one batch. x (B, T, D) normalised targets; mask (B, T) bool marks real frames.

    Returns scalars "total", "recon", "velocity", "commit" with
    total = recon + velocity_weight · velocity + commit_weight · commit.
    """
    velocities = feature_layout(cfg.num_joints)["velocities"]
    error = _elementwise(cfg, out.recon, x)                                # (B, T, D)
    recon = _masked_mean(error, mask)
    velocity = _masked_mean(error[..., velocities], mask)
    commit = out.commit_loss
    total = recon + cfg.velocity_weight * velocity + cfg.commit_weight * commit
    return {"total": total, "recon": recon, "velocity": velocity, "commit": commit}

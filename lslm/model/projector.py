"""The motion projector: codebook vectors (code_dim) → LLM input embeddings (hidden size)."""
from __future__ import annotations

import torch
from torch import nn
from transformers.activations import ACT2FN


class MotionProjector(nn.Module):
    """Linear(code_dim → H) → activation → Linear(H → H), the 2-layer MLP φ of the LSLM paper (§3.2).

    target_norm: when given, every output vector is rescaled to this L2 norm (the LLM's word-embedding
    scale, `LSLMConfig.projector_norm`); a buffer saved with the weights, so a loaded model keeps the scale
    it was trained with even after its LLM's embeddings moved."""

    def __init__(self, code_dim: int, hidden_size: int, act: str = "gelu", target_norm: float | None = None):
        super().__init__()
        self.linear_1 = nn.Linear(code_dim, hidden_size)
        self.act = ACT2FN[act]
        self.linear_2 = nn.Linear(hidden_size, hidden_size)
        if target_norm is not None:
            self.register_buffer("target_norm", torch.tensor(float(target_norm)))
        else:
            self.target_norm = None

    def forward(self, code_vectors: torch.Tensor) -> torch.Tensor:
        """(…, code_dim) → (…, H) LLM input embeddings."""
        out = self.linear_2(self.act(self.linear_1(code_vectors)))
        if self.target_norm is None:
            return out
        return out * (self.target_norm / out.norm(dim=-1, keepdim=True).clamp_min(1e-6))

"""The motion projector: codebook vectors (code_dim) → LLM input embeddings (hidden size)."""
from __future__ import annotations

import torch
from torch import nn
from transformers.activations import ACT2FN


class MotionProjector(nn.Module):
    """Linear(code_dim → H) → activation → Linear(H → H), the 2-layer MLP φ of the LSLM paper (§3.2)."""

    def __init__(self, code_dim: int, hidden_size: int, act: str = "gelu"):
        super().__init__()
        self.linear_1 = nn.Linear(code_dim, hidden_size)
        self.act = ACT2FN[act]
        self.linear_2 = nn.Linear(hidden_size, hidden_size)

    def forward(self, code_vectors: torch.Tensor) -> torch.Tensor:
        """(…, code_dim) → (…, H) LLM input embeddings."""
        return self.linear_2(self.act(self.linear_1(code_vectors)))

"""Vector quantizers: nearest codebook entry (paper eq. 1) with a straight-through gradient.

`EMAQuantizer` (the motion-field default, T2M-GPT's "ema_reset"): the codebook is initialised from the
first training batch and follows exponential moving averages of the encoder outputs assigned to
each code; codes whose average cluster size falls below `dead_code_threshold` are reset to encoder
outputs of the current batch. Cluster sizes, embedding sums, the step count and the initialised flag
are registered buffers: they are saved with the weights, so a resumed run continues bit-exactly.
Random choices (initialisation, resets) come from a generator seeded with (seed, step), never from the
global RNG. Under torch.distributed the statistics are all-reduced and the random picks draw from the
encoder outputs of all ranks, gathered in rank order (each rank holds its contiguous slice of the global
batch): every rank keeps the same codebook, the one a single process computes on the global batch.

`VQQuantizer`: a learned codebook trained with the paper's eq. 2,
‖sg[z] − c‖² + β‖z − sg[c]‖² (codebook loss + β commitment loss).

Why not vector-quantize-pytorch: its learnable-codebook mode applies one weight to ‖quantize − z‖²
(codebook and commitment terms tied, i.e. β = 1), and its resets draw from the global RNG;
tests/tokenizer/test_vqvae.py::test_vector_quantize_pytorch_ties_beta shows the first point.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from lslm.tokenizer.config import TokenizerConfig


@dataclass
class QuantizerOutput:
    quantized: torch.Tensor   # (B, L, C) codebook vectors, straight-through gradient to z
    codes: torch.Tensor       # (B, L) long
    loss: torch.Tensor        # scalar
    perplexity: torch.Tensor  # scalar


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def _gather_rows(x: torch.Tensor) -> torch.Tensor:
    """Concatenate every rank's rows x (N_rank, C), in rank order (x itself outside torch.distributed)."""
    if not _distributed():
        return x
    sizes = [x.new_zeros((), dtype=torch.long) for _ in range(dist.get_world_size())]
    dist.all_gather(sizes, torch.tensor(x.shape[0], device=x.device))
    padded = x.new_zeros(int(max(sizes)), x.shape[1])  # all_gather needs equal shapes
    padded[: x.shape[0]] = x
    parts = [torch.empty_like(padded) for _ in sizes]
    dist.all_gather(parts, padded)
    return torch.cat([part[: int(n)] for part, n in zip(parts, sizes)])


def masked_mse(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Mean squared error over the vectors (…, C) where mask (…) is True."""
    if mask is None:
        return F.mse_loss(a, b)
    per_vector = (a - b).pow(2).mean(-1)
    return per_vector[mask].sum() / mask.sum().clamp_min(1)


def code_perplexity(counts: torch.Tensor) -> torch.Tensor:
    """exp(entropy) of a code histogram (K,)."""
    p = counts / counts.sum().clamp_min(1)
    return torch.exp(-(p * torch.log(p.clamp_min(1e-12))).sum())


class Quantizer(nn.Module):
    """Shared lookup: `codebook` (K, C), nearest codes, dequantisation."""

    codebook: torch.Tensor

    def __init__(self, cfg: TokenizerConfig):
        super().__init__()
        self.num_codes = cfg.codebook_size
        self.code_dim = cfg.code_dim

    @torch.no_grad()
    def nearest(self, z: torch.Tensor) -> torch.Tensor:
        """z (..., C) → codes (...) long: argmin_k ‖z − c_k‖² (eq. 1), computed in float32."""
        flat = z.reshape(-1, self.code_dim).float()
        codebook = self.codebook.detach().float()
        # ‖z‖² is the same for every k, so argmin over ‖c_k‖² − 2 z·c_k
        scores = torch.addmm(codebook.pow(2).sum(1), flat, codebook.t(), alpha=-2.0)  # (N, K)
        return scores.argmin(1).view(z.shape[:-1])

    def dequantize(self, codes: torch.Tensor) -> torch.Tensor:
        """codes (...) long → vectors (..., C)."""
        return F.embedding(codes, self.codebook)


class EMAQuantizer(Quantizer):
    def __init__(self, cfg: TokenizerConfig):
        super().__init__(cfg)
        self.decay = cfg.ema_decay
        self.threshold = cfg.dead_code_threshold
        self.seed = cfg.seed
        K, C = cfg.codebook_size, cfg.code_dim
        self.register_buffer("codebook", torch.zeros(K, C))
        self.register_buffer("cluster_size", torch.zeros(K))
        self.register_buffer("embed_sum", torch.zeros(K, C))
        self.register_buffer("initialised", torch.tensor(False))
        self.register_buffer("steps", torch.tensor(0, dtype=torch.long))

    def _generator(self) -> torch.Generator:
        return torch.Generator().manual_seed(self.seed * 1_000_003 + int(self.steps))

    def _pick(self, flat: torch.Tensor, n: int) -> torch.Tensor:
        """n rows of the global batch's vectors (this rank's: flat (N, C)), the same on every rank; repeated
        with small noise when there are fewer than n."""
        pool = _gather_rows(flat)
        g = self._generator()
        if pool.shape[0] >= n:
            return pool[torch.randperm(pool.shape[0], generator=g)[:n].to(pool.device)]
        rows = pool.repeat(-(-n // pool.shape[0]), 1)[:n]
        return rows + torch.randn(rows.shape, generator=g).to(rows) * (0.01 / self.code_dim ** 0.5)

    @torch.no_grad()
    def _initialise(self, flat: torch.Tensor) -> None:
        self.codebook.copy_(self._pick(flat, self.num_codes))
        self.embed_sum.copy_(self.codebook)
        self.cluster_size.fill_(1.0)
        self.initialised.fill_(True)

    @torch.no_grad()
    def _update(self, flat: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        """EMA step on the vectors flat (N, C) assigned to codes (N,); returns the global counts (K,)."""
        counts = torch.bincount(codes, minlength=self.num_codes).to(flat)
        sums = torch.zeros_like(self.embed_sum).index_add_(0, codes, flat)
        if _distributed():
            dist.all_reduce(counts)
            dist.all_reduce(sums)
        self.cluster_size.mul_(self.decay).add_(counts, alpha=1 - self.decay)
        self.embed_sum.mul_(self.decay).add_(sums, alpha=1 - self.decay)
        live = self.cluster_size >= self.threshold
        centres = self.embed_sum / self.cluster_size.clamp_min(1e-12).unsqueeze(1)
        self.codebook.copy_(torch.where(live.unsqueeze(1), centres, self.codebook))
        dead = (~live).nonzero().squeeze(1)
        if dead.numel():
            fresh = self._pick(flat, dead.numel())
            self.codebook[dead] = fresh
            self.cluster_size[dead] = self.threshold
            self.embed_sum[dead] = fresh * self.threshold
        self.steps += 1
        return counts

    def forward(self, z: torch.Tensor, mask: torch.Tensor | None = None) -> QuantizerOutput:
        """z (B, L, C); mask (B, L) bool marks real (not padded) positions."""
        flat = z.detach().reshape(-1, self.code_dim).float()               # (B·L, C)
        valid = flat if mask is None else flat[mask.reshape(-1)]
        if self.training and not bool(self.initialised):
            self._initialise(valid)
        codes = self.nearest(z)                                            # (B, L)
        quantized = self.dequantize(codes).to(z.dtype)
        valid_codes = codes.reshape(-1) if mask is None else codes.reshape(-1)[mask.reshape(-1)]
        if self.training:
            counts = self._update(valid, valid_codes)
        else:
            counts = torch.bincount(valid_codes, minlength=self.num_codes).float()
        loss = masked_mse(z, quantized.detach(), mask)
        return QuantizerOutput(quantized=z + (quantized - z).detach(), codes=codes, loss=loss,
                               perplexity=code_perplexity(counts))


class VQQuantizer(Quantizer):
    def __init__(self, cfg: TokenizerConfig):
        super().__init__(cfg)
        self.beta = cfg.beta
        K = cfg.codebook_size
        generator = torch.Generator().manual_seed(cfg.seed)
        self.codebook = nn.Parameter(torch.empty(K, cfg.code_dim).uniform_(-1 / K, 1 / K, generator=generator))

    def forward(self, z: torch.Tensor, mask: torch.Tensor | None = None) -> QuantizerOutput:
        """z (B, L, C); mask (B, L) bool marks real positions. loss = eq. 2's last two terms."""
        codes = self.nearest(z)
        quantized = self.dequantize(codes).to(z.dtype)                      # gradient reaches the codebook
        loss = masked_mse(quantized, z.detach(), mask) + self.beta * masked_mse(z, quantized.detach(), mask)
        valid_codes = codes.reshape(-1) if mask is None else codes[mask]
        counts = torch.bincount(valid_codes, minlength=self.num_codes).float()
        return QuantizerOutput(quantized=z + (quantized - z).detach(), codes=codes, loss=loss,
                               perplexity=code_perplexity(counts))

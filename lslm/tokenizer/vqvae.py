"""The motion VQ-VAE: a 1-D convolutional encoder, a quantizer and a mirrored decoder (T2M-GPT layout).

Encoder: conv3 → act → down_t × [strided conv4 (÷stride_t) → residual stack] → conv3 to code_dim.
Decoder: conv3 → act → down_t × [residual stack → nearest upsampling (×stride_t) → conv3]
         → conv3 → act → conv3 to feature_dim.
Residual stacks hold `depth` pre-activation blocks (act → dilated conv3 → act → conv1, plus the
input) with dilations growth**(depth-1), …, growth, 1 (9, 3, 1 for the defaults) in both halves.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from lslm.tokenizer.config import TokenizerConfig
from lslm.tokenizer.quantizer import EMAQuantizer, VQQuantizer

ACTIVATIONS = {"relu": nn.ReLU, "silu": nn.SiLU, "gelu": nn.GELU}


def activation(name: str, inplace: bool = False) -> nn.Module:
    """In place where the input is a convolution output nobody else reads (saves a copy per layer)."""
    return nn.GELU() if name == "gelu" else ACTIVATIONS[name](inplace=inplace)


@dataclass
class VQVAEOutput:
    """What `VQVAE.forward` returns."""

    recon: torch.Tensor        # (B, T, D) reconstructed (normalised) features
    codes: torch.Tensor        # (B, T // downsample) long
    commit_loss: torch.Tensor  # scalar: the quantizer's loss term (see `TokenizerConfig.quantizer`)
    perplexity: torch.Tensor   # scalar: exp(entropy) of this batch's code histogram


class ResidualBlock(nn.Module):
    def __init__(self, width: int, dilation: int, name: str):
        super().__init__()
        self.act1 = activation(name)                                # its input is the residual: keep it
        self.conv1 = nn.Conv1d(width, width, kernel_size=3, padding=dilation, dilation=dilation)
        self.act2 = activation(name, inplace=True)
        self.conv2 = nn.Conv1d(width, width, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, W, T) → (B, W, T): x plus the block's residual."""
        return x + self.conv2(self.act2(self.conv1(self.act1(x))))


class ResidualStack(nn.Sequential):
    def __init__(self, width: int, depth: int, growth: int, name: str):
        dilations = [growth ** i for i in reversed(range(depth))]  # e.g. 9, 3, 1
        super().__init__(*(ResidualBlock(width, d, name) for d in dilations))


def _zero_past(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """x (B, C, T) with steps t >= lengths[b] set to zero."""
    past = torch.arange(x.shape[-1], device=x.device) >= lengths.unsqueeze(1)    # (B, T)
    if torch.is_grad_enabled() and x.requires_grad:
        return x.masked_fill(past.unsqueeze(1), 0.0)
    return x.masked_fill_(past.unsqueeze(1), 0.0)                                # inference: no copy


class MaskedSequential(nn.Sequential):
    """1-D layers that can run on a padded batch exactly as if each clip ran alone.

    With `lengths` (B,) (valid steps per clip at the input's resolution), every layer's output is
    zeroed past each clip's end, scaled with the layer's change of resolution; the next convolution
    then sees zeros there, which is the zero padding it would see on the clip alone. Residual stacks
    are entered so that each block's output is masked too. Lengths must scale exactly (multiples of
    the downsampling factor).
    """

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """(B, C, T) through the layers, frames past `lengths` (B,) zeroed after each (class docstring)."""
        if lengths is None or bool((lengths == x.shape[-1]).all()):
            return super().forward(x)
        layers = [b for layer in self for b in (layer if isinstance(layer, ResidualStack) else [layer])]
        steps_in = x.shape[-1]
        x = _zero_past(x, lengths)
        for layer in layers:
            x = layer(x)
            x = _zero_past(x, lengths * x.shape[-1] // steps_in)
        return x


class Encoder(MaskedSequential):
    def __init__(self, cfg: TokenizerConfig):
        layers: list[nn.Module] = [nn.Conv1d(cfg.feature_dim, cfg.width, 3, padding=1),
                                   activation(cfg.activation, inplace=True)]
        for _ in range(cfg.down_t):
            layers += [nn.Conv1d(cfg.width, cfg.width, 2 * cfg.stride_t, stride=cfg.stride_t,
                                 padding=cfg.stride_t // 2),
                       ResidualStack(cfg.width, cfg.depth, cfg.dilation_growth_rate, cfg.activation)]
        layers.append(nn.Conv1d(cfg.width, cfg.code_dim, 3, padding=1))
        super().__init__(*layers)


class Decoder(MaskedSequential):
    def __init__(self, cfg: TokenizerConfig):
        layers: list[nn.Module] = [nn.Conv1d(cfg.code_dim, cfg.width, 3, padding=1),
                                   activation(cfg.activation, inplace=True)]
        for _ in range(cfg.down_t):
            layers += [ResidualStack(cfg.width, cfg.depth, cfg.dilation_growth_rate, cfg.activation),
                       nn.Upsample(scale_factor=cfg.stride_t, mode="nearest"),
                       nn.Conv1d(cfg.width, cfg.width, 3, padding=1)]
        layers += [nn.Conv1d(cfg.width, cfg.width, 3, padding=1), activation(cfg.activation, inplace=True),
                   nn.Conv1d(cfg.width, cfg.feature_dim, 3, padding=1)]
        super().__init__(*layers)


class VQVAE(nn.Module):
    """Normalised features (B, T, D) ⇄ codes (B, T // downsample). T must be a multiple of downsample."""

    def __init__(self, cfg: TokenizerConfig):
        super().__init__()
        self.config = cfg
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)
        quantizer_cls = EMAQuantizer if cfg.quantizer == "ema" else VQQuantizer
        self.quantizer = quantizer_cls(cfg)

    @property
    def downsample(self) -> int:
        """Frames per code."""
        return self.config.downsample

    def _check(self, x: torch.Tensor) -> None:
        if x.ndim != 3 or x.shape[2] != self.config.feature_dim or x.shape[1] % self.downsample:
            raise ValueError(f"VQVAE expects (B, T, {self.config.feature_dim}) with T a multiple of "
                             f"{self.downsample}, got {tuple(x.shape)}")

    def encode_latents(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """(B, T, D) → continuous encoder outputs (B, T // downsample, code_dim).

        lengths (B,) frames per clip, multiples of downsample: encode a padded batch exactly as each
        clip alone (outputs past a clip's end are zero).
        """
        self._check(x)
        return self.encoder(x.transpose(1, 2), lengths).transpose(1, 2)

    def forward(self, x: torch.Tensor, code_mask: torch.Tensor | None = None) -> VQVAEOutput:
        """x (B, T, D); code_mask (B, T // downsample) bool keeps padded codes out of codebook updates."""
        z = self.encode_latents(x)                                  # (B, L, C)
        q = self.quantizer(z, mask=code_mask)
        recon = self.decoder(q.quantized.transpose(1, 2)).transpose(1, 2)  # (B, T, D)
        return VQVAEOutput(recon=recon, codes=q.codes, commit_loss=q.loss, perplexity=q.perplexity)

    @torch.no_grad()
    def encode(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """(B, T, D) normalised features → (B, T // downsample) long codes.

        lengths (B,) frames per clip (multiples of downsample): codes past a clip's end are −1.
        """
        codes = self.quantizer.nearest(self.encode_latents(x, lengths))
        if lengths is not None:
            code_lengths = lengths.to(codes.device) // self.downsample
            codes[torch.arange(codes.shape[1], device=codes.device) >= code_lengths.unsqueeze(1)] = -1
        return codes

    @torch.no_grad()
    def decode(self, codes: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """(B, L) long codes → (B, L · downsample, D) normalised features.

        lengths (B,) codes per clip: decode a padded batch exactly as each clip alone; codes past a
        clip's end are ignored and its rows past lengths · downsample are zero.
        """
        if lengths is not None:
            codes = codes.clamp_min(0)                              # padding: any valid index, masked below
        vectors = self.quantizer.dequantize(codes)                  # (B, L, C)
        return self.decoder(vectors.transpose(1, 2), lengths).transpose(1, 2)

"""TokenizerConfig: every hyperparameter of the motion VQ-VAE, saved as config.json next to the weights."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from lslm.checks import strict_from_dict
from lslm.errors import ConfigError

QUANTIZERS = ("ema", "vq")
RECON_LOSSES = ("l1_smooth", "l1")
ACTIVATIONS = ("relu", "silu", "gelu")


@dataclass
class TokenizerConfig:
    """Hyperparameters of the VQ-VAE (defaults: the paper's model, docs/tokenizer.md).

    feature_dim: size of one frame's feature vector (623 for 52 joints).
    num_joints: joints behind the features; it locates the velocity block for the velocity loss.
    width / code_dim / codebook_size: channels of the convolutions, of a code vector, number of codes.
    down_t, stride_t: downsampling stages and their stride; T frames give T // stride_t**down_t codes.
    depth, dilation_growth_rate: residual blocks per stage, dilations growth**(depth-1) … 1.
    quantizer: "ema" (EMA codebook, dead-code reset, initialised from the first batch) or
        "vq" (learned codebook with the paper's eq. 2: codebook loss + beta · commitment loss).
    beta: commitment weight inside eq. 2 ("vq" only).
    ema_decay, dead_code_threshold: EMA decay; codes whose EMA cluster size falls below the threshold
        are reset to encoder outputs of the current batch ("ema" only).
    recon_loss, velocity_weight, commit_weight: total = recon + velocity_weight·velocity
        + commit_weight·commit.
    hand_weight: the finger joints' features (joints 22–51) weigh this much more than the rest in the
        reconstruction and velocity terms (weights rescaled to mean 1); 1 = every feature alike.
    seed: seeds the codebook initialisation and dead-code resets (with the step count), so training
        resumes bit-exactly without touching the global RNG.
    """

    feature_dim: int = 623
    num_joints: int = 52
    width: int = 512
    code_dim: int = 512
    codebook_size: int = 1024
    down_t: int = 2
    stride_t: int = 2
    depth: int = 3
    dilation_growth_rate: int = 3
    activation: str = "relu"
    quantizer: str = "ema"
    beta: float = 0.25
    ema_decay: float = 0.99
    dead_code_threshold: float = 1.0
    recon_loss: str = "l1_smooth"
    velocity_weight: float = 0.5
    commit_weight: float = 0.02
    hand_weight: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name, allowed in (("quantizer", QUANTIZERS), ("recon_loss", RECON_LOSSES),
                              ("activation", ACTIVATIONS)):
            if getattr(self, name) not in allowed:
                raise ConfigError(f"TokenizerConfig.{name}: expected one of {allowed}, got {getattr(self, name)!r}")
        for name in ("feature_dim", "num_joints", "width", "code_dim", "codebook_size", "down_t",
                     "stride_t", "depth", "dilation_growth_rate"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"TokenizerConfig.{name}: expected a positive integer, got {value!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise ConfigError(f"TokenizerConfig.seed: expected an integer, got {self.seed!r}")
        for name in ("beta", "ema_decay", "dead_code_threshold", "velocity_weight", "commit_weight"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
                raise ConfigError(f"TokenizerConfig.{name}: expected a finite number >= 0, got {value!r}")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ConfigError(f"TokenizerConfig.ema_decay: expected 0 <= decay < 1, got {self.ema_decay!r}")
        if self.feature_dim != 12 * self.num_joints - 1:
            raise ConfigError(f"TokenizerConfig.feature_dim: expected 12 * num_joints - 1 = {12 * self.num_joints - 1} "
                              f"for {self.num_joints} joints, got {self.feature_dim}")

    @property
    def downsample(self) -> int:
        """Frames per code."""
        return self.stride_t ** self.down_t

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict (what `from_dict` reads back)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TokenizerConfig:
        """Build from a plain dict (e.g. config.json or an OmegaConf node); unknown keys are errors."""
        return strict_from_dict(cls, data, "TokenizerConfig")

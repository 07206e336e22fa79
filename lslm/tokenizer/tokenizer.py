"""`Tokenizer`: the public motion tokenizer (raw 623-dim features or joints ⇄ codes).

It bundles the VQ-VAE with what is needed to use it on raw motion: the normalisation statistics,
the target skeleton the features were retargeted to, the frame rate and the facing-direction
compatibility flag. On disk a tokenizer is a folder with two files and no pickle:

    config.json        {"format": "lslm-tokenizer", "format_version": 1, "tokenizer": {TokenizerConfig},
                        "fps": 30.0, "compat": true, "skeleton": {names, parents, chains, lr_pairs},
                        "normalizer": {non-tensor Normalizer state}}
    model.safetensors  "model.*" VQ-VAE weights and quantizer buffers, "normalizer.*" mean/std,
                       "skeleton.offsets" (J, 3)
"""
from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import save_file

from lslm.checks import check_bool, check_fps, check_numeric
from lslm.errors import CheckpointMismatchError, ConfigError, InvalidInputError
from lslm.model_folder import check_finite, load_safetensors, read_model_config
from lslm.atomic import write_dir_atomic
from lslm.data.convert import ConvertOptions
from lslm.motion import Normalizer, Skeleton, features_to_joints, joints_to_features
from lslm.tokenizer.config import TokenizerConfig
from lslm.tokenizer.vqvae import VQVAE

FORMAT = "lslm-tokenizer"
FORMAT_VERSION = 1
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"

LengthsLike = Sequence[int] | torch.Tensor | np.ndarray | None


def _as_tensor(values: Any, field: str, dtype: torch.dtype) -> torch.Tensor:
    """A tensor of `dtype` from an array or tensor of real numbers (integers for a long `dtype`): bool,
    complex, string and ragged inputs are refused, floats are never truncated to codes or lengths."""
    values = check_numeric(values, None, field, integer=dtype == torch.long)
    return values.to(dtype) if isinstance(values, torch.Tensor) else torch.as_tensor(values, dtype=dtype)


class Tokenizer:
    """Motion tokenizer: `encode` raw features (or joints) to codes, `decode` codes to raw features."""

    def __init__(self, model: VQVAE, normalizer: Normalizer, target_skeleton: Skeleton, fps: float,
                 compat: bool = True):
        self.model = model.eval()
        self.normalizer = normalizer
        self.target_skeleton = target_skeleton
        self.fps = check_fps(fps)
        self.compat = check_bool(compat, None, "compat")

    # ---- properties -------------------------------------------------------------------------
    @property
    def config(self) -> TokenizerConfig:
        """The VQ-VAE's architecture and codebook size (config.json's "tokenizer" entry)."""
        return self.model.config

    @property
    def num_codes(self) -> int:
        """K, the codebook size: codes are integers in [0, K)."""
        return self.config.codebook_size

    codebook_size = num_codes

    @property
    def code_dim(self) -> int:
        """The dimension of one codebook vector."""
        return self.config.code_dim

    @property
    def downsample(self) -> int:
        """Frames per code (4 for the paper's model)."""
        return self.config.downsample

    @property
    def device(self) -> torch.device:
        """Where the model's weights are."""
        return next(self.model.parameters()).device

    @property
    def codebook(self) -> torch.Tensor:
        """(K, code_dim) the vectors codes stand for (what the LLM projector receives)."""
        return self.model.quantizer.codebook.detach()

    def convert_options(self, **overrides: Any) -> ConvertOptions:
        """`lslm.data.convert.ConvertOptions` on this tokenizer's frame rate, compat flag and target skeleton
        (what its training data was prepared with), plus `overrides` (translation policy, SMPL-X model, ...):
        how a raw motion file must be converted before `encode`."""
        offsets = tuple(map(tuple, np.asarray(self.target_skeleton.offsets, dtype=np.float64).tolist()))
        return ConvertOptions(fps=self.fps, compat=self.compat, target_offsets=offsets, **overrides)

    def to(self, device: str | torch.device) -> Tokenizer:
        """Move the model to `device` (in place); returns self."""
        self.model.to(device)
        return self

    # ---- encode -----------------------------------------------------------------------------
    def _check_features(self, feats: Any) -> tuple[torch.Tensor, bool]:
        x = _as_tensor(feats, "features", torch.float32)
        D = self.config.feature_dim
        if x.ndim not in (2, 3) or x.shape[-1] != D:
            raise InvalidInputError(None, "features", f"shape (T, {D}) or (B, T, {D})", got=tuple(x.shape))
        if not torch.isfinite(x).all():
            raise InvalidInputError(None, "features", "finite values", got="NaN or inf")
        unbatched = x.ndim == 2
        return (x.unsqueeze(0) if unbatched else x), unbatched

    def _check_lengths(self, lengths: LengthsLike, batch: int, frames: int) -> torch.Tensor:
        if lengths is None:
            out = torch.full((batch,), frames, dtype=torch.long)
        else:
            out = _as_tensor(lengths, "lengths", torch.long).reshape(-1)
            if out.numel() != batch or (out > frames).any() or (out < 0).any():
                raise InvalidInputError(None, "lengths", f"{batch} values in [0, {frames}]",
                                        got=out.tolist())
        if (out < self.downsample).any():
            raise InvalidInputError(None, "features", f"clips of at least {self.downsample} frames "
                                    "(one code)", got=f"lengths {out.tolist()}")
        return out

    @torch.inference_mode()
    def encode(self, feats: Any, lengths: LengthsLike = None) -> torch.Tensor:
        """Raw features (B, T, D) or (T, D) → codes (B, T // 4) or (T // 4,) long.

        Clip i uses its first lengths[i] frames (all T when lengths is None) and gets
        lengths[i] // 4 codes; trailing frames that do not fill a code are dropped and later
        positions are −1. The batch runs as one, masked so that every clip gives exactly the codes
        of encoding it alone (see `MaskedSequential`).
        """
        x, frame_lengths, unbatched = self._prepare(feats, lengths)
        codes = self.model.encode(x, lengths=frame_lengths)
        return codes[0] if unbatched else codes

    @torch.inference_mode()
    def encode_latents(self, feats: Any, lengths: LengthsLike = None) -> torch.Tensor:
        """Raw features (B, T, D) or (T, D) → the encoder's continuous output before quantization,
        (B, T // 4, code_dim) or (T // 4, code_dim); rows past a clip's lengths[i] // 4 codes are zero.
        `encode` is the index of the nearest codebook vector to each row."""
        x, frame_lengths, unbatched = self._prepare(feats, lengths)
        latents = self.model.encode_latents(x, lengths=frame_lengths)
        return latents[0] if unbatched else latents

    def _prepare(self, feats: Any, lengths: LengthsLike) -> tuple[torch.Tensor, torch.Tensor, bool]:
        """Normalised features cut to whole codes (B, T', D), frames per clip in whole codes, unbatched."""
        x, unbatched = self._check_features(feats)
        B, T, _ = x.shape
        code_lengths = self._check_lengths(lengths, B, T) // self.downsample
        x = self.normalizer.normalize(x.to(self.device))[:, : T // self.downsample * self.downsample]
        return x, (code_lengths * self.downsample).to(self.device), unbatched

    def encode_joints(self, joints: Any, fps: float | None = None, lengths: LengthsLike = None) -> torch.Tensor:
        """Joint positions (T, J, 3) or (B, T, J, 3) in metres, y up → codes.

        Features are made with this tokenizer's target skeleton, frame rate and compat flag
        (T frames → T − 1 feature rows); fps must equal the tokenizer's (resample first otherwise).
        """
        fps = self.fps if fps is None else check_fps(fps)
        if abs(fps - self.fps) > 1e-6:
            raise InvalidInputError(None, "fps", f"{self.fps} (the tokenizer's frame rate; resample first)",
                                    got=fps)
        j = _as_tensor(joints, "joints", torch.float32)
        J = self.target_skeleton.num_joints
        if j.ndim not in (3, 4) or tuple(j.shape[-2:]) != (J, 3):
            raise InvalidInputError(None, "joints", f"shape (T, {J}, 3) or (B, T, {J}, 3)", got=tuple(j.shape))
        if j.ndim == 3:  # one clip: a batch of one, so that its `lengths` apply too
            codes = self.encode_joints(j[None], fps, None if lengths is None else
                                       _as_tensor(lengths, "lengths", torch.long).reshape(-1))
            return codes[0]
        frame_lengths = None if lengths is None else _as_tensor(lengths, "lengths", torch.long)
        feats = joints_to_features(j, target=self.target_skeleton, fps=fps, compat=self.compat,
                                   lengths=frame_lengths)                   # (B, T - 1, D)
        return self.encode(feats, lengths=None if frame_lengths is None else frame_lengths - 1)

    # ---- decode -----------------------------------------------------------------------------
    def _check_codes(self, codes: Any) -> tuple[torch.Tensor, torch.Tensor, bool]:
        c = _as_tensor(codes, "codes", torch.long)
        if c.ndim not in (1, 2) or c.shape[-1] == 0:
            raise InvalidInputError(None, "codes", "shape (L,) or (B, L) with L >= 1", got=tuple(c.shape))
        unbatched = c.ndim == 1
        c = c.unsqueeze(0) if unbatched else c
        if ((c < -1) | (c >= self.num_codes)).any():
            raise InvalidInputError(None, "codes", f"values in [0, {self.num_codes}) or -1 for padding",
                                    got=f"range [{int(c.min())}, {int(c.max())}]")
        valid = c >= 0
        lengths = valid.cumprod(1).sum(1)                       # codes before the first −1
        if (valid.sum(1) != lengths).any():
            raise InvalidInputError(None, "codes", "-1 only as trailing padding", got="a code after -1")
        if (lengths == 0).any():
            raise InvalidInputError(None, "codes", "at least one code per clip", got="a clip of only -1")
        return c, lengths, unbatched

    @torch.inference_mode()
    def decode(self, codes: Any, return_lengths: bool = False
               ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Codes (B, L) or (L,) with −1 padding → raw features (B, 4L, D) or (4L, D).

        Each clip decodes its codes up to its first −1 exactly as if alone; rows past
        4 × (its number of codes) are zero. With return_lengths=True the frame counts
        (B,) (or a 0-d tensor) come back as a second value.
        """
        c, code_lengths, unbatched = self._check_codes(codes)
        L = c.shape[1]
        frame_lengths = code_lengths * self.downsample
        out = self.normalizer.denormalize(self.model.decode(c.to(self.device), code_lengths.to(self.device)))
        past_end = torch.arange(L * self.downsample, device=self.device) >= frame_lengths.to(self.device)[:, None]
        out[past_end] = 0.0
        if unbatched:
            out, frame_lengths = out[0], frame_lengths[0]
        return (out, frame_lengths) if return_lengths else out

    def features_to_joints(self, feats: Any, lengths: LengthsLike = None) -> torch.Tensor:
        """Raw features (T, D) or (B, T, D) → joint positions (T, J, 3) or (B, T, J, 3) in metres."""
        return features_to_joints(_as_tensor(feats, "features", torch.float32), lengths=lengths)

    # ---- persistence ------------------------------------------------------------------------
    def save_pretrained(self, directory: str | os.PathLike) -> Path:
        """Write config.json + model.safetensors into `directory` atomically (temp dir, then rename)."""
        tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in self.model.state_dict().items()}
        plain: dict[str, Any] = {}
        for key, value in self.normalizer.state_dict().items():
            if isinstance(value, (torch.Tensor, np.ndarray)):
                tensors[f"normalizer.{key}"] = torch.as_tensor(value).detach().cpu().contiguous()
            else:
                plain[key] = value
        skeleton = self.target_skeleton
        if skeleton.offsets is not None:
            tensors["skeleton.offsets"] = torch.as_tensor(np.array(skeleton.offsets)).contiguous()
        config = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "tokenizer": self.config.to_dict(),
            "fps": self.fps, "compat": self.compat, "normalizer": plain, "skeleton": skeleton.to_dict(),
        }

        def write(tmp: Path) -> None:
            (tmp / CONFIG_NAME).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
            save_file(tensors, str(tmp / WEIGHTS_NAME), metadata={"format": FORMAT})

        return write_dir_atomic(directory, write)

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike, device: str | torch.device = "cpu") -> Tokenizer:
        """Load a folder written by `save_pretrained` (no pickle is ever read). Everything in it is checked
        here, so that a bad folder fails now, naming its file and field, not later inside a computation:
        config.json's keys and types, the skeleton (a tree of known joints matching num_joints, finite
        non-zero bones), the weights (the config's shapes, finite), the statistics (feature_dim)."""
        config, config_path, weights_path = read_model_config(directory, CONFIG_NAME, WEIGHTS_NAME, FORMAT,
                                                              FORMAT_VERSION)
        for key in ("tokenizer", "skeleton", "fps", "compat"):
            if key not in config:
                raise InvalidInputError(config_path, key, "present", got="missing")
        if not isinstance(config["tokenizer"], dict):
            raise InvalidInputError(config_path, "tokenizer", "an object of TokenizerConfig fields",
                                    got=type(config["tokenizer"]).__name__)
        try:
            tok_config = TokenizerConfig.from_dict(config["tokenizer"])
        except ConfigError as err:
            raise ConfigError(str(err), path=config_path) from err
        fps = check_fps(config["fps"], config_path, "fps")
        compat = check_bool(config["compat"], config_path, "compat")
        Skeleton.from_dict(config["skeleton"], None, config_path)  # the tree, before the weights are read
        tensors = load_safetensors(weights_path)
        check_finite(tensors, weights_path)
        skeleton = Skeleton.from_dict(config["skeleton"], tensors.get("skeleton.offsets"), config_path,
                                      offsets_path=weights_path)
        if skeleton.offsets is None:
            raise InvalidInputError(weights_path, "skeleton.offsets", "the target skeleton's bone offsets",
                                    got="missing")
        if skeleton.num_joints != tok_config.num_joints or tok_config.feature_dim != 12 * skeleton.num_joints - 1:
            raise CheckpointMismatchError(f"skeleton has {skeleton.num_joints} joints; tokenizer.num_joints is "
                                          f"{tok_config.num_joints} and feature_dim {tok_config.feature_dim} "
                                          "(features of J joints have 12·J − 1 dimensions)", path=config_path)
        model = VQVAE(tok_config)
        weights = {k.removeprefix("model."): v for k, v in tensors.items() if k.startswith("model.")}
        try:
            model.load_state_dict(weights, strict=True)
        except RuntimeError as err:
            raise CheckpointMismatchError(f"weights do not match config.json: {err}", path=weights_path) from err
        plain = config.get("normalizer", {})
        if not isinstance(plain, dict):
            raise InvalidInputError(config_path, "normalizer", "an object", got=type(plain).__name__)
        stats = {k.removeprefix("normalizer."): v for k, v in tensors.items() if k.startswith("normalizer.")}
        normalizer = Normalizer.from_state_dict({**plain, **stats}, weights_path)
        if normalizer.mean.shape[0] != tok_config.feature_dim:
            raise CheckpointMismatchError(f"normalizer statistics have {normalizer.mean.shape[0]} dimensions, "
                                          f"the model's features {tok_config.feature_dim}", path=weights_path)
        return cls(model, normalizer, skeleton, fps=fps, compat=compat).to(device)

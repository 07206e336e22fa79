"""Feature normalisation statistics, HumanML3D practice.

Mean per dimension; std per dimension averaged within each feature group (root angular velocity, root
linear velocity, root height, positions, rotations, velocities, contacts), so all dimensions of a group
share one scale, then raised to `floor` so near-constant groups (a seated signer's root, feet that
never move) do not explode. Fit on the training split only; the stats travel with the tokenizer
(`state_dict`, or a safetensors file), never as loose .npy files.
"""
from __future__ import annotations

import os

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from lslm.checks import check_numeric
from lslm.errors import InvalidInputError
from lslm.motion.features import feature_layout, num_joints_from_dim

DEFAULT_FLOOR = 1e-3


def normalization_groups(num_joints: int) -> list[slice]:
    """Groups of dimensions that share one std: the root block split into its three parts."""
    layout = feature_layout(num_joints)
    return [slice(0, 1), slice(1, 3), slice(3, 4), layout["positions"], layout["rotations"],
            layout["velocities"], layout["contacts"]]


def _as_float64(x, field: str, path=None) -> torch.Tensor:
    x = check_numeric(x, path, field)  # real numbers only: bool, complex, strings are refused, not cast
    if isinstance(x, torch.Tensor):
        return x.detach().to("cpu", torch.float64)
    return torch.from_numpy(x.astype(np.float64))


class Normalizer:
    """`normalize(x) = (x − mean) / std` over the last dimension; `mean`, `std` (D,) float32 tensors."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor):
        self.mean, self.std = self._checked(mean, std, None)

    @staticmethod
    def _checked(mean, std, path) -> tuple[torch.Tensor, torch.Tensor]:
        mean, std = _as_float64(mean, "mean", path), _as_float64(std, "std", path)
        for field, value in (("mean", mean), ("std", std)):
            if value.dim() != 1 or (value.shape[0] + 1) % 12 or value.shape[0] < 23:
                raise InvalidInputError(path, field, "shape (D,) with D = 12·J − 1", got=tuple(value.shape))
            if not torch.isfinite(value).all():
                raise InvalidInputError(path, field, "finite values", got="NaN/inf")
        if mean.shape != std.shape:
            raise InvalidInputError(path, "std", f"shape {tuple(mean.shape)} like mean", got=tuple(std.shape))
        if not (std > 0).all():
            raise InvalidInputError(path, "std", "positive values", got=std.min().item())
        return mean.float(), std.float()

    @classmethod
    def fit(cls, features: np.ndarray | torch.Tensor,
            lengths: np.ndarray | torch.Tensor | list[int] | None = None, num_joints: int = 52,
            floor: float = DEFAULT_FLOOR) -> Normalizer:
        """Statistics of features (N, D), or (B, T, D) with `lengths` (B,) valid rows per clip."""
        x = _as_float64(features, "features")
        dim = 12 * num_joints - 1
        if x.dim() not in (2, 3) or x.shape[-1] != dim:
            raise InvalidInputError(None, "features", f"shape (N, {dim}) or (B, T, {dim}) for {num_joints} joints",
                                    got=tuple(x.shape))
        if not floor > 0:
            raise InvalidInputError(None, "floor", "a positive number", got=floor)
        if lengths is not None:
            if x.dim() != 3:
                raise InvalidInputError(None, "lengths", "None for features (N, D)", got=lengths)
            lengths = torch.as_tensor(check_numeric(lengths, None, "lengths", integer=True))
            if lengths.shape != x.shape[:1] or \
                    (lengths.numel() and (lengths.min() < 0 or lengths.max() > x.shape[1])):
                raise InvalidInputError(None, "lengths", f"integers in [0, {x.shape[1]}] of shape ({x.shape[0]},)",
                                        got=lengths.tolist())
            x = x[torch.arange(x.shape[1])[None] < lengths.cpu()[:, None]]  # (valid rows, D)
        x = x.reshape(-1, dim)
        if x.shape[0] == 0:
            raise InvalidInputError(None, "features", "at least one valid row", got=0)
        if not torch.isfinite(x).all():
            raise InvalidInputError(None, "features", "finite values", got="NaN/inf")
        mean = x.mean(0)
        per_dim = x.std(0, correction=0)
        std = torch.empty_like(per_dim)
        for group in normalization_groups(num_joints):
            std[group] = per_dim[group].mean()
        return cls(mean, std.clamp(min=floor))

    def _apply(self, x, fn):
        if isinstance(x, torch.Tensor):
            if x.shape[-1:] != self.mean.shape:
                raise InvalidInputError(None, "features", f"last dimension {self.mean.shape[0]}", got=tuple(x.shape))
            dtype = x.dtype if x.is_floating_point() else torch.float32
            return fn(x.to(dtype), self.mean.to(x.device, dtype), self.std.to(x.device, dtype))
        array = np.asarray(x)
        if array.shape[-1:] != tuple(self.mean.shape):
            raise InvalidInputError(None, "features", f"last dimension {self.mean.shape[0]}", got=array.shape)
        dtype = array.dtype if array.dtype.kind == "f" else np.float32
        return fn(array.astype(dtype, copy=False), self.mean.numpy().astype(dtype), self.std.numpy().astype(dtype))

    def normalize(self, x: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
        """(…, D) → (x − mean) / std, same array type."""
        return self._apply(x, lambda v, m, s: (v - m) / s)

    def denormalize(self, x: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
        """(…, D) → x · std + mean, same array type."""
        return self._apply(x, lambda v, m, s: v * s + m)

    @property
    def num_joints(self) -> int:
        """J of the features these statistics are for (D = 12J − 1)."""
        return num_joints_from_dim(self.mean.shape[0], "mean")

    def state_dict(self) -> dict[str, torch.Tensor]:
        """{"mean", "std"}: copies of the (D,) float64 statistics."""
        return {"mean": self.mean.clone(), "std": self.std.clone()}

    @classmethod
    def from_state_dict(cls, state: dict, path: str | os.PathLike | None = None) -> Normalizer:
        """A Normalizer from `state_dict`'s output, checked (InvalidInputError naming `path` and the key)."""
        for key in ("mean", "std"):
            if key not in state:
                raise InvalidInputError(path, key, "a tensor (D,) in the normalizer state")
        normalizer = cls.__new__(cls)
        normalizer.mean, normalizer.std = cls._checked(state["mean"], state["std"], path)
        return normalizer

    def save(self, path: str | os.PathLike) -> None:
        """Write mean and std to a .safetensors file."""
        save_file(self.state_dict(), str(path), metadata={"format": "lslm.Normalizer"})

    @classmethod
    def load(cls, path: str | os.PathLike) -> Normalizer:
        """Read the statistics `save` wrote: FileNotFoundError when missing, InvalidInputError when malformed."""
        try:
            state = load_file(str(path))
        except (SafetensorError, OSError, ValueError) as e:
            if isinstance(e, FileNotFoundError):
                raise
            raise InvalidInputError(path, "file", "a safetensors file with 'mean' and 'std'", got=repr(e)) from e
        return cls.from_state_dict(state, path)

    def __repr__(self) -> str:
        return f"Normalizer(D={self.mean.shape[0]})"

"""Saved model folders (a JSON config next to a safetensors file): read checked and never unpickled,
written whole or not at all."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from lslm.checks import read_json
from lslm.errors import InvalidInputError


def read_model_folder(directory: str | os.PathLike, config_name: str, weights_name: str, fmt: str,
                      version: int) -> tuple[dict[str, Any], dict[str, torch.Tensor], Path, Path]:
    """(config, tensors, config path, weights path) of a folder whose config declares `"format": fmt` and
    `"format_version": version`. A missing file, bad JSON, another format or unreadable weights raise
    InvalidInputError naming the file."""
    config, config_path, weights_path = read_model_config(directory, config_name, weights_name, fmt, version)
    return config, load_safetensors(weights_path), config_path, weights_path


def read_model_config(directory: str | os.PathLike, config_name: str, weights_name: str, fmt: str,
                      version: int) -> tuple[dict[str, Any], Path, Path]:
    """(config, config path, weights path) as `read_model_folder`, without reading the weights yet (so that
    a bad config is reported before they are)."""
    directory = Path(directory)
    config_path, weights_path = directory / config_name, directory / weights_name
    for path in (config_path, weights_path):
        if not path.is_file():
            raise InvalidInputError(path, "file", f"a {fmt} folder with {config_name} and {weights_name}",
                                    got="missing")
    config = read_json(config_path, f"the {config_name} of a {fmt} folder")
    if config.get("format") != fmt or config.get("format_version") != version:
        got = f"{config.get('format')!r} version {config.get('format_version')!r}"
        raise InvalidInputError(config_path, "format", f"{fmt} version {version}", got=got[:80])
    return config, config_path, weights_path


def load_safetensors(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """The tensors of a .safetensors file (CPU); a missing, empty, truncated or foreign file (a pickle, a
    header that lies about its sizes) raises InvalidInputError naming it."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(path, "file", "a safetensors file", got="missing")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        raise InvalidInputError(path, "file", "a complete safetensors file", got=f"{type(err).__name__}: {err}") from err


def check_finite(tensors: dict[str, torch.Tensor], path: str | os.PathLike) -> None:
    """Raise InvalidInputError naming `path` and the tensor when a floating-point tensor holds NaN or inf."""
    for name, tensor in tensors.items():
        if not tensor.is_floating_point():
            continue
        # numpy for the common dtypes: no thread pool to wake for each of many small tensors
        finite = np.isfinite(tensor.numpy()).all() if tensor.dtype in (torch.float32, torch.float64, torch.float16) \
            else bool(torch.isfinite(tensor).all())
        if not finite:
            raise InvalidInputError(path, name, "finite values", got="NaN/inf")

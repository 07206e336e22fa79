"""Saved model folders (a JSON config next to a safetensors file): read checked and never unpickled,
written whole or not at all."""
from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from lslm.errors import InvalidInputError


def read_model_folder(directory: str | os.PathLike, config_name: str, weights_name: str, fmt: str,
                      version: int) -> tuple[dict[str, Any], dict[str, torch.Tensor], Path, Path]:
    """(config, tensors, config path, weights path) of a folder whose config declares `"format": fmt` and
    `"format_version": version`. A missing file, bad JSON, another format or unreadable weights raise
    InvalidInputError naming the file."""
    directory = Path(directory)
    config_path, weights_path = directory / config_name, directory / weights_name
    for path in (config_path, weights_path):
        if not path.is_file():
            raise InvalidInputError(path, "file", f"a {fmt} folder with {config_name} and {weights_name}",
                                    got="missing")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InvalidInputError(config_path, "json", "valid UTF-8 JSON", got=str(err)) from err
    if not isinstance(config, dict) or config.get("format") != fmt or config.get("format_version") != version:
        got = f"{config.get('format')} version {config.get('format_version')}" if isinstance(config, dict) else config
        raise InvalidInputError(config_path, "format", f"{fmt} version {version}", got=got)
    try:
        tensors = load_file(str(weights_path))
    except SafetensorError as err:
        raise InvalidInputError(weights_path, "file", "a safetensors file", got=str(err)) from err
    return config, tensors, config_path, weights_path


def write_dir_atomic(target: str | Path, write: Callable[[Path], None]) -> Path:
    """Call `write(tmp_dir)`, then move `tmp_dir` to `target` in one rename, so a `target` that exists is
    complete; a `write` that raises leaves nothing behind. An old `target` is first renamed to
    `.old-<name>` and removed after; a process killed between the two renames leaves it there. The folder
    gets the umask's permissions, like any `mkdir`."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".tmp-{target.name}"
    shutil.rmtree(tmp, ignore_errors=True)  # left over by a run killed while saving
    tmp.mkdir()
    try:
        write(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if target.exists():  # rename cannot replace a non-empty directory: move the old one aside first
        old = target.parent / f".old-{target.name}"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old)
    else:
        os.replace(tmp, target)
    return target

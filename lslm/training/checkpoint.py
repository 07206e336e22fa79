"""Run directories and checkpoints: atomic directory writes, `step_N/` discovery, keep-last-N, training state.

A checkpoint is a directory: whatever the recipe writes for inference (a `Tokenizer.save_pretrained` or
`LSLM.save_pretrained` layout) plus `training_state/` with what only resuming needs (optimizer, scheduler,
step, data position, RNG states). Directories are written under a temporary name and renamed into place,
so a `step_N/` that exists is complete: a run killed while saving leaves only a `.tmp-*` folder behind.
"""
from __future__ import annotations

import pickle
import random
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lslm.errors import InvalidInputError
from lslm.model_folder import write_dir_atomic

TRAINING_STATE_DIR = "training_state"
STATE_FILE = "state.pt"
_STEP_DIR = re.compile(r"^step_(\d+)$")


class CheckpointManager:
    """The `step_N/`, `best/` and `final/` checkpoints of one run directory."""

    def __init__(self, output_dir: str | Path, keep_last: int = 3):
        self.output_dir = Path(output_dir)
        self.keep_last = keep_last

    def step_dirs(self) -> list[tuple[int, Path]]:
        """Complete `step_N/` checkpoints, oldest first."""
        if not self.output_dir.is_dir():
            return []
        found = []
        for path in self.output_dir.iterdir():
            match = _STEP_DIR.match(path.name)
            if match and (path / TRAINING_STATE_DIR / STATE_FILE).is_file():
                found.append((int(match.group(1)), path))
        return sorted(found)

    def latest(self) -> Path | None:
        """The newest complete `step_N/`, or None."""
        steps = self.step_dirs()
        return steps[-1][1] if steps else None

    def save(self, name: str, write: Callable[[Path], None]) -> Path:
        """Write checkpoint `name` (e.g. `step_100`, `best`) atomically; prune old `step_N/` beyond keep_last."""
        path = write_dir_atomic(self.output_dir / name, write)
        if self.keep_last > 0:
            for _, old in self.step_dirs()[:-self.keep_last]:
                shutil.rmtree(old)
        return path

    def resolve_resume(self, resume: str | None) -> Path | None:
        """`--resume` → checkpoint directory: None/"" start fresh, "auto" the latest (None if there is none)."""
        if not resume:
            return None
        if resume == "auto":
            return self.latest()
        path = Path(resume)
        if not (path / TRAINING_STATE_DIR / STATE_FILE).is_file():
            raise InvalidInputError(path, TRAINING_STATE_DIR, f"a checkpoint directory with {TRAINING_STATE_DIR}/"
                                    f"{STATE_FILE} (a complete step_N/ of a run)")
        return path


def save_training_state(checkpoint_dir: str | Path, state: dict[str, Any]) -> None:
    """torch.save `state` (optimizer, scheduler, step, RNG, data position, ...) into `training_state/`."""
    directory = Path(checkpoint_dir) / TRAINING_STATE_DIR
    directory.mkdir(parents=True, exist_ok=True)
    torch.save(state, directory / STATE_FILE)


def load_training_state(checkpoint_dir: str | Path) -> dict[str, Any]:
    """Load `training_state/state.pt` with `weights_only=True` (tensors and plain containers only)."""
    path = Path(checkpoint_dir) / TRAINING_STATE_DIR / STATE_FILE
    if not path.is_file():
        raise InvalidInputError(path, STATE_FILE, "the training state of a checkpoint (file missing)")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, KeyError, ValueError) as err:  # foreign, truncated
        raise InvalidInputError(path, STATE_FILE, "a training state saved by lslm", got=repr(err)) from None


def seed_all(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global RNGs (the start of every training run)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def rng_state() -> dict[str, Any]:
    """Python, NumPy and torch (CPU and CUDA) RNG states, as tensors and plain containers."""
    numpy_state = np.random.get_state(legacy=False)
    state = {
        "python": random.getstate(),
        "numpy": {**numpy_state, "state": {"key": torch.from_numpy(numpy_state["state"]["key"].astype(np.int64)),
                                           "pos": numpy_state["state"]["pos"]}},
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what `rng_state` captured."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    numpy_state = dict(state["numpy"])
    numpy_state["state"] = {"key": numpy_state["state"]["key"].numpy().astype(np.uint32),
                            "pos": numpy_state["state"]["pos"]}
    np.random.set_state(numpy_state)
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])

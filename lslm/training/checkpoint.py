"""Run directories and checkpoints: atomic directory writes, `step_N/` discovery, keep-last-N, training state.

A checkpoint is a directory: whatever the recipe writes for inference (a `Tokenizer.save_pretrained` or
`LSLM.save_pretrained` layout) plus `training_state/` with what only resuming needs: a `TrainingState`
(step, data position, phase, RNG states, the losses not logged yet, optimizer and schedule). Directories are written under a temporary name and renamed into place,
so a `step_N/` that exists is complete: a run killed while saving leaves only a `.tmp-*` folder behind.
"""
from __future__ import annotations

import pickle
import random
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lslm.errors import InvalidInputError
from lslm.atomic import write_dir_atomic

TRAINING_STATE_DIR = "training_state"
STATE_FILE = "state.pt"
_STEP_DIR = re.compile(r"^step_(\d+)$")


@dataclass
class TrainingState:
    """What a `step_N/` keeps to resume a run exactly where it stopped, in one shape for every recipe.

    step: optimiser steps done; position: training samples consumed (the data position; 0 where the step
    alone fixes it); phase: the scheme's phase (staged LSLM runs, else 0); rng: `rng_state()` of every
    process, by rank; unlogged / unlogged_steps: the train losses summed since the last logged row and the
    steps they cover (the LSLM recipe keeps [loss sum, micro-batches] and no step count), so a resumed run
    logs the rows an unbroken one does; optimizer: the optimiser and
    schedule (or plain engine) state, None where DeepSpeed keeps its own; extra: what only one recipe checks
    on resume (its scheme, best score, clip count).
    """

    step: int
    rng: list[dict[str, Any]]
    position: int = 0
    phase: int = 0
    unlogged: list[float] = field(default_factory=list)
    unlogged_steps: int = 0
    optimizer: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The plain dict `torch.save` writes (tensors and containers only; no copy of the tensors)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Any, path: str | Path | None = None) -> TrainingState:
        """The state of a `to_dict()`; a missing or unknown key is an InvalidInputError naming `path`."""
        if not isinstance(data, dict):
            raise InvalidInputError(path, STATE_FILE, "a dict of training state fields", got=type(data).__name__)
        known = {f.name for f in fields(cls)}
        unknown, missing = sorted(set(data) - known), [k for k in ("step", "rng") if k not in data]
        if unknown or missing:
            raise InvalidInputError(path, STATE_FILE, f"the fields {sorted(known)} (step and rng required)",
                                    got=f"unknown {unknown}, missing {missing}")
        return cls(**data)


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


def save_training_state(checkpoint_dir: str | Path, state: TrainingState) -> None:
    """torch.save `state` into `training_state/state.pt`."""
    directory = Path(checkpoint_dir) / TRAINING_STATE_DIR
    directory.mkdir(parents=True, exist_ok=True)
    torch.save(state.to_dict(), directory / STATE_FILE)


def load_training_state(checkpoint_dir: str | Path) -> TrainingState:
    """Load `training_state/state.pt` with `weights_only=True` (tensors and plain containers only)."""
    path = Path(checkpoint_dir) / TRAINING_STATE_DIR / STATE_FILE
    if not path.is_file():
        raise InvalidInputError(path, STATE_FILE, "the training state of a checkpoint (file missing)")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, KeyError, ValueError) as err:  # foreign, truncated
        raise InvalidInputError(path, STATE_FILE, "a training state saved by lslm", got=repr(err)) from None
    return TrainingState.from_dict(data, path)


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

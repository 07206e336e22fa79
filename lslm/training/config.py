"""Typed run configurations: a dataclass schema, a YAML file and `key=value` overrides, merged strictly.

Every recipe describes its configuration as nested dataclasses (the schema). A YAML file fills it, dotted
command-line overrides (`train.max_steps=100 model.codebook_size=512`) change it, and the result is the
schema's dataclass again, so the recipe reads typed attributes. Unknown keys and wrong types are
`ConfigError`s that name the key and where it came from; nothing is silently ignored.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from lslm.assets import config_path
from lslm.errors import ConfigError

T = TypeVar("T")


@dataclass
class OptimConfig:
    """AdamW with linear warm-up and step decay at milestones (T2M-GPT's schedule)."""

    lr: float = 2e-4
    betas: tuple[float, float] = (0.9, 0.99)
    weight_decay: float = 0.0
    warmup_steps: int = 1000
    milestones: list[int] = field(default_factory=list)  # steps where the lr is multiplied by gamma
    gamma: float = 0.05
    grad_clip: float = 0.0  # max gradient norm; 0 turns clipping off


@dataclass
class TrainConfig:
    """The training loop: length, batch, logging, checkpoints. Shared by every recipe."""

    max_steps: int = 1000
    batch_size: int = 32  # global batch: each of the W processes gets batch_size / W samples
    seed: int = 0
    log_every: int = 10  # train metrics to metrics.jsonl every N steps
    val_every: int = 500  # validation (and `best/`) every N steps; 0 = only at the end
    save_every: int = 500  # `step_N/` checkpoint every N steps; the last step is always saved
    keep_last: int = 3  # how many `step_N/` checkpoints to keep (0 keeps all)
    tensorboard: bool = False
    progress: bool = True  # tqdm bar on rank 0
    device: str = "auto"  # auto: the local CUDA device under torchrun when there is one, else CPU

    def __post_init__(self) -> None:
        for key in ("max_steps", "batch_size", "log_every", "save_every"):
            if getattr(self, key) < 1:
                raise ConfigError(f"train.{key} must be at least 1, got {getattr(self, key)}")


def load_config(schema: type[T], path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()) -> T:
    """Merge `schema` defaults ← YAML file ← dotted `key=value` overrides; return a `schema` instance.

    Raises `ConfigError` for unknown keys, wrong types and mandatory values (`???`) left unset.
    """
    cfg = OmegaConf.structured(schema)
    if path is not None:
        path = config_path(path)
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found")
        cfg = _merge(cfg, OmegaConf.load(path), str(path))
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"command line: override {item!r} is not of the form key=value")
        cfg = _merge(cfg, OmegaConf.from_dotlist([item]), f"command line ({item})")
    missing = sorted(OmegaConf.missing_keys(cfg))
    if missing:
        raise ConfigError(f"{path or 'config'}: mandatory value(s) not set: {', '.join(missing)} "
                          f"(pass them as key=value)")
    try:
        return OmegaConf.to_object(cfg)
    except OmegaConfBaseException as err:
        raise ConfigError(f"{path or 'config'}: {str(err).splitlines()[0]}") from None


def save_config(cfg: Any, path: str | Path) -> None:
    """Write the resolved configuration as YAML (the run directory's `config.yaml`)."""
    Path(path).write_text(OmegaConf.to_yaml(OmegaConf.structured(cfg)), encoding="utf-8")


def _merge(base, update, source: str):
    try:
        return OmegaConf.merge(base, update)
    except OmegaConfBaseException as err:
        key = getattr(err, "full_key", None) or "?"
        reason = str(err).splitlines()[0]  # OmegaConf appends full_key/object_type lines
        raise ConfigError(f"{source}: key '{key}': {reason}") from None

"""Fill a DeepSpeed JSON (configs/deepspeed/zero2.json, zero3.json) from the lslm run configuration.

The JSON files hold what is DeepSpeed's own business (ZeRO stage, bucket sizes, communication overlap);
the batch sizes, the precision and gradient clipping come from the lslm config, so one YAML decides the
batch whatever the number of processes:

    train_batch_size = train_micro_batch_size_per_gpu × gradient_accumulation_steps × world size

Keys may be "auto" (or absent) in the JSON; an explicit value that disagrees with the lslm config, an
"auto" this module does not know how to fill, or an "optimizer"/"scheduler" section (the recipe passes its
own torch optimizer and schedule) is a ConfigError.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from lslm.assets import config_path
from lslm.errors import ConfigError

PRECISIONS = ("bf16", "fp16", "fp32")


def load_deepspeed_json(path: str | Path) -> dict[str, Any]:
    """Read a DeepSpeed JSON file (`configs/deepspeed/…` from any directory, as `config_path`); a missing or
    malformed file is a ConfigError naming it."""
    path = config_path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ConfigError(f"{path}: not a readable DeepSpeed JSON config ({err})") from None


def fill_deepspeed_config(template: dict[str, Any] | str | Path, *, micro_batch_size: int,
                          gradient_accumulation_steps: int, world_size: int, precision: str,
                          grad_clip: float = 0.0, source: str | None = None) -> dict[str, Any]:
    """A complete DeepSpeed config: the template with batch, precision and clipping filled in.

    precision: "bf16", "fp16" or "fp32" (no mixed precision section enabled).
    Raises ConfigError when the template contradicts these values or still holds an "auto".
    """
    if not isinstance(template, dict):
        source = source or str(template)
        template = load_deepspeed_json(template)
    source = source or "deepspeed config"
    if precision not in PRECISIONS:
        raise ConfigError(f"{source}: precision must be one of {PRECISIONS}, got {precision!r}")
    for section in ("optimizer", "scheduler"):
        if section in template:
            raise ConfigError(f"{source}: remove the '{section}' section; the lslm recipe passes its own torch "
                              "optimizer and learning-rate schedule (optim.* in the YAML)")
    cfg = copy.deepcopy(template)
    wanted = {
        "train_micro_batch_size_per_gpu": micro_batch_size,
        "gradient_accumulation_steps": gradient_accumulation_steps,
        "train_batch_size": micro_batch_size * gradient_accumulation_steps * world_size,
        "gradient_clipping": float(grad_clip),
    }
    for key, value in wanted.items():
        _set(cfg, key, value, source)
    for name in ("bf16", "fp16"):
        section = cfg.setdefault(name, {})
        _set(section, "enabled", precision == name, f"{source}: {name}")
    cfg.setdefault("zero_optimization", {}).setdefault("stage", 0)
    # A torch optimizer passed to deepspeed.initialize is allowed with ZeRO (DeepSpeed's own fused ones need CUDA).
    cfg.setdefault("zero_allow_untested_optimizer", True)
    left = _autos(cfg)
    if left:
        raise ConfigError(f"{source}: 'auto' left unresolved at {', '.join(left)}; give a value in the JSON")
    return cfg


def _set(cfg: dict[str, Any], key: str, value: Any, source: str) -> None:
    current = cfg.get(key, "auto")
    if current != "auto" and current != value:
        raise ConfigError(f"{source}: {key}={current!r} contradicts the lslm config ({value!r}); set it to "
                          "\"auto\" or remove it, the YAML decides")
    cfg[key] = value


def _autos(node: Any, prefix: str = "") -> list[str]:
    """Dotted paths of every "auto" value left in a nested config."""
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _autos(v, f"{prefix}{k}.")]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _autos(v, f"{prefix}{i}.")]
    return [prefix.rstrip(".")] if node == "auto" else []

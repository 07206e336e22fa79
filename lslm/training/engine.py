"""The training engine of the LSLM recipes: DeepSpeed (ZeRO-2/3, a JSON under configs/deepspeed/) or plain
PyTorch for one process, behind the same three calls: `engine(**batch)`, `engine.backward(loss)`,
`engine.step()`; and the batch geometry (global batch → per-process micro-batches and accumulation).
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from types import ModuleType
from typing import Any

import torch

from lslm.errors import ConfigError
from lslm.training.deepspeed_config import fill_deepspeed_config
from lslm.training.distributed import DistInfo, local_batch_size


def batch_geometry(train: Any, world_size: int) -> tuple[int, int]:
    """(micro-batch size, gradient accumulation steps) such that micro × accumulation × world = batch, for a
    train config with `batch_size` (global) and `micro_batch_size` (0: no accumulation)."""
    local = local_batch_size(train.batch_size, world_size)
    micro = train.micro_batch_size or local
    if local % micro:
        raise ConfigError(f"train.batch_size={train.batch_size} over {world_size} process(es) gives {local} per "
                          f"process, not a multiple of train.micro_batch_size={micro}")
    return micro, local // micro


def micro_batches(pairs: list, info: DistInfo, micro: int) -> list[list]:
    """This process's contiguous slice of a global batch, cut into micro-batches of `micro`."""
    local = len(pairs) // info.world_size
    mine = pairs[info.rank * local:(info.rank + 1) * local]
    return [mine[i:i + micro] for i in range(0, local, micro)]


def resolve_precision(precision: str, device: torch.device) -> str:
    """auto → bf16 on a CUDA device that supports it, else fp32."""
    if precision == "auto":
        return "bf16" if device.type == "cuda" and torch.cuda.is_bf16_supported() else "fp32"
    if precision not in ("bf16", "fp32"):
        raise ConfigError(f"train.precision: expected auto, bf16 or fp32, got {precision!r}")
    return precision


class PlainEngine:
    """The three calls of a DeepSpeed engine the loop uses, for one process in plain PyTorch."""

    def __init__(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any, accumulation: int, grad_clip: float, precision: str,
                 device: torch.device):
        self.module, self.optimizer, self.lr_scheduler = model, optimizer, scheduler
        self.accumulation, self.grad_clip = accumulation, grad_clip
        self.autocast = torch.autocast(device.type, dtype=torch.bfloat16) if precision == "bf16" \
            else contextlib.nullcontext()
        self.micro_steps = 0

    def __call__(self, **batch: Any) -> Any:
        with self.autocast:
            return self.module(**batch)

    def backward(self, loss: torch.Tensor) -> None:
        """Accumulate the gradient of one micro-batch."""
        (loss / self.accumulation).backward()  # the accumulated gradient is the mean over micro-batches

    def step(self) -> None:
        """After every `accumulation` micro-batches: clip, optimiser and schedule step, zero the gradients."""
        self.micro_steps += 1
        if self.micro_steps % self.accumulation:
            return
        if self.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_([p for g in self.optimizer.param_groups for p in g["params"]],
                                           self.grad_clip)
        self.optimizer.step()
        self.lr_scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)

    def state_dict(self) -> dict:
        """The optimiser and schedule state (what a checkpoint keeps)."""
        return {"optimizer": self.optimizer.state_dict(), "scheduler": self.lr_scheduler.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        """Restore `state_dict()`."""
        self.optimizer.load_state_dict(state["optimizer"])
        self.lr_scheduler.load_state_dict(state["scheduler"])


def build_engine(model: torch.nn.Module, groups: list[dict], factor: Callable[[int], float], *, betas: tuple,
                 weight_decay: float, grad_clip: float, micro: int, accumulation: int, precision: str,
                 info: DistInfo, deepspeed_json: str | None) -> Any:
    """AdamW over the parameter `groups`, the LambdaLR schedule `factor`, and the DeepSpeed engine (a
    `deepspeed_json` under configs/deepspeed/, filled by `fill_deepspeed_config`) or `PlainEngine` around
    `model` (one process)."""
    optimizer = torch.optim.AdamW(groups, lr=groups[0]["lr"], betas=tuple(betas), weight_decay=weight_decay)
    if deepspeed_json is None:
        if info.world_size > 1:
            raise ConfigError("train.deepspeed=null runs one process; give configs/deepspeed/zero2.json or "
                              "zero3.json to train on several")
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor, last_epoch=-1)
        return PlainEngine(model, optimizer, scheduler, accumulation, grad_clip, precision, info.device)
    deepspeed = import_deepspeed(info)
    ds_config = fill_deepspeed_config(deepspeed_json, micro_batch_size=micro, gradient_accumulation_steps=accumulation,
                                      world_size=info.world_size, precision=precision, grad_clip=grad_clip)
    engine, *_ = deepspeed.initialize(model=model, optimizer=optimizer, config=ds_config,
                                      lr_scheduler=lambda opt: torch.optim.lr_scheduler.LambdaLR(opt, factor))
    return engine


def import_deepspeed(info: DistInfo) -> ModuleType:
    """deepspeed, with its CPU accelerator when this process trains on the CPU."""
    if info.device.type == "cpu":
        os.environ.setdefault("DS_ACCELERATOR", "cpu")
    try:
        import deepspeed
    except ImportError as err:
        raise ConfigError(f"train.deepspeed is set but deepspeed cannot be imported ({err}); pip install "
                          "deepspeed, or set train.deepspeed=null for a one-process run") from None
    return deepspeed


def is_deepspeed(engine: Any) -> bool:
    """Whether `engine` is a DeepSpeed engine (not a `PlainEngine`)."""
    return not isinstance(engine, PlainEngine)


def group_lrs(engine: Any) -> dict[str, float]:
    """Current learning rate of each parameter group, by group name."""
    return {f"lr_{g['name']}": g["lr"] for g in engine.optimizer.param_groups if "name" in g}


def gathered(engine: Any, model: torch.nn.Module) -> contextlib.AbstractContextManager:
    """Context in which every process holds the full parameters (ZeRO-3 partitions them); collective."""
    if is_deepspeed(engine) and engine.zero_optimization_stage() == 3:
        import deepspeed

        return deepspeed.zero.GatheredParameters(list(model.parameters()), modifier_rank=None)
    return contextlib.nullcontext()

"""One process or many under `torchrun`: process group, device, batch sharding, small collectives.

Every helper also works without `torch.distributed` (a plain `python tools/…` run is world size 1), so
recipes call them unconditionally. The backend is NCCL on GPUs and gloo on CPU.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from lslm.devices import resolve_device
from lslm.errors import ConfigError


@dataclass(frozen=True)
class DistInfo:
    """Where this process stands: its rank among `world_size` processes and its device."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        """True on rank 0, the process that writes files and logs."""
        return self.rank == 0


def init_distributed(device: str = "auto") -> DistInfo:
    """Join the process group torchrun describes in the environment (RANK, WORLD_SIZE, LOCAL_RANK, ...).

    device: "auto" picks `cuda:LOCAL_RANK` when CUDA is available, else CPU; "cpu"/"cuda" force one.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    target = resolve_device(device, local_rank)
    use_cuda = target.type == "cuda"
    if use_cuda:
        torch.cuda.set_device(target)
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo",
                                device_id=target if use_cuda else None)
    return DistInfo(rank=rank, world_size=world_size, local_rank=local_rank, device=target)


@contextmanager
def process_group(device: str = "auto") -> Iterator[DistInfo]:
    """`init_distributed(device)` for the body of a run, `destroy_distributed()` after it, even on error."""
    info = init_distributed(device)
    try:
        yield info
    finally:
        destroy_distributed()


def destroy_distributed() -> None:
    """Leave the process group (if any) so the process can exit cleanly."""
    if dist.is_initialized():
        dist.destroy_process_group()


def local_batch_size(global_batch_size: int, info: DistInfo | int) -> int:
    """Per-process batch: the global batch split evenly over the processes (`info`, or their number), so the
    mean over the global batch is unchanged; a ConfigError when it does not divide."""
    world_size = info if isinstance(info, int) else info.world_size
    if global_batch_size % world_size:
        raise ConfigError(f"train.batch_size={global_batch_size} is not divisible by the number of processes "
                          f"({world_size})")
    return global_batch_size // world_size


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """Sum `tensor` over processes in place (no-op for one process); returns it."""
    if dist.is_initialized():
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def all_gather_object(obj: Any) -> list[Any]:
    """Every process's `obj`, in rank order (`[obj]` for one process)."""
    if not dist.is_initialized():
        return [obj]
    gathered: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, obj)
    return gathered


def broadcast_object(obj: Any, src: int = 0) -> Any:
    """Rank `src`'s `obj` on every process."""
    if not dist.is_initialized():
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=src)
    return box[0]


def barrier() -> None:
    """Wait for every process (no-op for one process)."""
    if dist.is_initialized():
        dist.barrier()


class ShardedBatches:
    """Batch sampler: this process's slice of every global batch of stream positions, from `position` on,
    endlessly (global batch g is positions [g·B, (g+1)·B); process r of W takes the r-th B/W of it)."""

    def __init__(self, global_batch: int, info: DistInfo, position: int = 0):
        self.global_batch = global_batch
        self.local = local_batch_size(global_batch, info)
        self.offset = info.rank * self.local
        self.position = position

    def __iter__(self) -> Iterator[list[int]]:
        position = self.position
        while True:
            first = position + self.offset
            yield list(range(first, first + self.local))
            position += self.global_batch


__all__ = ["DistInfo", "ShardedBatches", "all_gather_object", "all_reduce_sum", "barrier", "broadcast_object",
           "destroy_distributed", "init_distributed", "local_batch_size", "process_group"]

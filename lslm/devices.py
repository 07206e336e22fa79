"""The device a job runs on, chosen one way everywhere (training, translation, encoding, production, the app)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from lslm.errors import ConfigError

if TYPE_CHECKING:
    import torch


def resolve_device(device: str | None = "auto", local_rank: int | None = None) -> torch.device:
    """None or "auto": CUDA when available, else CPU; "cpu", "cuda" or "cuda:N" force one (a ConfigError
    when CUDA is asked for and missing). With `local_rank` (a torchrun process) CUDA is `cuda:local_rank`."""
    import torch

    device = device or "auto"
    use_cuda = torch.cuda.is_available() if device == "auto" else device.startswith("cuda")
    if use_cuda and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r}: CUDA is not available on this machine")
    if not use_cuda:
        return torch.device("cpu")
    if local_rank is not None:
        return torch.device("cuda", local_rank)
    return torch.device("cuda" if device == "auto" else device)

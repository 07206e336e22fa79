"""The learning-rate schedule every recipe trains with: linear warm-up, then constant, cosine or step decay.

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor(warmup_steps=100, schedule="cosine",
                                                                       max_steps=2000))
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from lslm.errors import ConfigError

SCHEDULES = ("constant", "cosine", "step")


def lr_factor(warmup_steps: int, schedule: str = "constant", max_steps: int = 0, milestones: Sequence[int] = (),
              gamma: float = 1.0) -> Callable[[int], float]:
    """Multiplier of the base lr at a step: linear warm-up over `warmup_steps` (none when 0), then
    constant, cosine to 0 at `max_steps`, or × `gamma` at each of `milestones` passed (step decay)."""
    if schedule not in SCHEDULES:
        raise ConfigError(f"optim.schedule: expected one of {', '.join(SCHEDULES)}, got {schedule!r}")
    if schedule == "cosine" and max_steps < 1:
        raise ConfigError(f"a cosine schedule needs max_steps >= 1, got {max_steps}")
    milestones = tuple(milestones)

    def factor(step: int) -> float:
        warm = min(1.0, (step + 1) / warmup_steps) if warmup_steps > 0 else 1.0
        if schedule == "cosine":
            warm *= 0.5 * (1 + math.cos(math.pi * min(step, max_steps) / max_steps))
        elif schedule == "step":
            warm *= gamma ** sum(step >= m for m in milestones)
        return warm
    return factor

"""The options of the video front-end, torch-free so that a recipe's configuration can name them
(lslm.video.retargeting uses them)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetargetOptions:
    """How landmarks become joints (defaults: docs/video.md, measured on simulated landmarks)."""

    max_gap: int = 8  # frames: longer gaps in a track are held instead of interpolated
    smooth: bool = True  # One-Euro filter on the bone directions
    min_cutoff: float = 3.0  # Hz
    beta: float = 3.0  # cutoff rises by beta Hz per unit of direction speed (1/s)
    d_cutoff: float = 1.0  # Hz
    min_visibility: float = 0.5  # body points below this are not `valid` (they are still used)
    use_world: bool = True  # body directions from the metric world landmarks when the source has them

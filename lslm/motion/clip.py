"""`MotionClip`: one clip as an input adapter reads it (SMPL-X parameters or joints, frame rate, provenance)."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from lslm.checks import check_fps
from lslm.motion.resample import resample_linear, resample_params


@dataclass
class MotionClip:
    """One clip as read from disk: SMPL-X parameters or joints, plus frame rate and provenance."""

    path: str
    fps: float
    params: dict[str, np.ndarray] | None = None  # smplx kwarg names; per-frame arrays (T, ...)
    joints: np.ndarray | None = None  # (T, 52, 3)
    rest_offsets: np.ndarray | None = None  # (52, 3): rest skeleton for FK when no SMPL-X model is given
    y_down: bool = False  # camera frame: translation policy (lslm.data.convert), joints rotated 180° about X after FK
    meta: dict = field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        """T, the clip's frames."""
        return len(self.joints) if self.joints is not None else len(self.params["global_orient"])

    def resampled(self, fps: float) -> MotionClip:
        """The same clip at `fps` (rotations slerped, positions linear); see lslm.motion.resample."""
        fps = check_fps(fps, self.path, "fps")
        if fps == self.fps:
            return self
        if self.joints is not None:
            return replace(self, fps=fps, joints=resample_linear(self.joints, self.fps, fps))
        return replace(self, fps=fps, params=resample_params(self.params, self.fps, fps))

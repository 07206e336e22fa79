"""Video front-end (docs/video.md): sign video or `.pose` landmarks → lslm's 52 joints.

    from lslm.video import estimate_video, read_pose, retarget
    landmarks = estimate_video("clip.mp4")          # MediaPipe Holistic on CPU (the `video` extra)
    landmarks = read_pose("clip.pose")              # pose-format files (PHOENIX, AUTSL, DGS corpora)
    result = retarget(landmarks)                    # joints (T, 52, 3), valid (T, 52), report
    write_pose(result.joints, "clip.pose", fps=30)  # or write_pose(landmarks, ...)

`import lslm.video` is light: MediaPipe, OpenCV, pose-format and the video reader are imported by the
functions that need them, which name the missing `video` extra (`pip install "lslm[video]"`).
"""
from __future__ import annotations

from lslm.video.landmarks import BODY_POINTS, HAND_POINTS, Landmarks
from lslm.video.retarget import RetargetOptions, Retargeted, retarget
from lslm.video.simulate import Camera, joints_to_landmarks, simulate_landmarks
from lslm.video.smoothing import fill_gaps, one_euro

__all__ = [
    "BODY_POINTS",
    "Camera",
    "HAND_POINTS",
    "Landmarks",
    "RetargetOptions",
    "Retargeted",
    "estimate_video",
    "fill_gaps",
    "joints_to_landmarks",
    "one_euro",
    "read_pose",
    "read_video",
    "retarget",
    "simulate_landmarks",
    "write_pose",
]

_LAZY = {"estimate_video": "lslm.video.holistic", "read_video": "lslm.video.reader",
         "read_pose": "lslm.video.pose_file", "write_pose": "lslm.video.pose_file"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'lslm.video' has no attribute {name!r}")

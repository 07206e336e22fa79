"""Video front-end (docs/video.md): sign video or `.pose` landmarks → lslm's 52 joints.

    from lslm.video import estimate_video, read_pose, retarget, write_pose
    landmarks = estimate_video("clip.mp4")          # MediaPipe Holistic on CPU (the `video` extra)
    landmarks = read_pose("clip.pose")              # pose-format files (PHOENIX, AUTSL, DGS corpora)
    result = retarget(landmarks)                    # joints (T, 52, 3), valid (T, 52), report
    write_pose(result.joints, "joints.pose", fps=30)  # or write_pose(landmarks, "clip.pose")

`import lslm.video` is light (each name loads its module on first use, so worker processes start fast);
MediaPipe, pose-format and the video reader are imported by the functions that need them, which name
the missing `video` extra (`pip install "lslm[video]"`).
"""
from __future__ import annotations

from lslm.lazy import lazy_exports

__all__ = [
    "BODY_POINTS",
    "Camera",
    "FrontEnd",
    "HAND_POINTS",
    "Landmarks",
    "RetargetOptions",
    "Retargeted",
    "VideoInfo",
    "estimate_frames",
    "estimate_video",
    "fill_gaps",
    "iter_frames",
    "joints_to_landmarks",
    "landmarks_of",
    "load_pose",
    "load_video",
    "one_euro",
    "read_pose",
    "read_video",
    "retarget",
    "simulate_landmarks",
    "video_info",
    "write_pose",
]

_MODULES = {
    "frontend": ("FrontEnd", "landmarks_of", "load_pose", "load_video"),
    "holistic": ("estimate_frames", "estimate_video"),
    "landmarks": ("BODY_POINTS", "HAND_POINTS", "Landmarks"),
    "pose_file": ("read_pose", "write_pose"),
    "reader": ("VideoInfo", "iter_frames", "read_video", "video_info"),
    "retargeting": ("RetargetOptions", "Retargeted", "retarget"),
    "simulate": ("Camera", "joints_to_landmarks", "simulate_landmarks"),
    "smoothing": ("fill_gaps", "one_euro"),
}
_EXPORTS = {name: f"lslm.video.{module}" for module, names in _MODULES.items() for name in names}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

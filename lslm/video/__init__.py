"""Video front-end (docs/video.md): sign video or `.pose` landmarks → lslm's 52 joints.

    from lslm.video import estimate_video, read_pose, retarget, write_pose
    landmarks = estimate_video("clip.mp4")          # MediaPipe Holistic on CPU (the `video` extra)
    landmarks = read_pose("clip.pose")              # pose-format files (PHOENIX, AUTSL, DGS corpora)
    result = retarget(landmarks)                    # joints (T, 52, 3), valid (T, 52), report
    write_pose(result.joints, "joints.pose", fps=30)  # or write_pose(landmarks, "clip.pose")

`import lslm.video` is light: MediaPipe, pose-format and the video reader are imported by the functions
that need them, which name the missing `video` extra (`pip install "lslm[video]"`).
"""
from __future__ import annotations

from lslm.video.frontend import FrontEnd, landmarks_of, load_pose, load_video
from lslm.video.holistic import estimate_frames, estimate_video
from lslm.video.landmarks import BODY_POINTS, HAND_POINTS, Landmarks
from lslm.video.pose_file import read_pose, write_pose
from lslm.video.reader import VideoInfo, iter_frames, read_video, video_info
from lslm.video.retarget import RetargetOptions, Retargeted, retarget
from lslm.video.simulate import Camera, joints_to_landmarks, simulate_landmarks
from lslm.video.smoothing import fill_gaps, one_euro

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

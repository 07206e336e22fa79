"""One video or `.pose` file → a `MotionClip` of joints: the front-end every tool shares.

`load_video` (MediaPipe Holistic) and `load_pose` (pose-format) return what the input adapters of
`lslm.data.adapters` return, so a clip estimated here goes through the same preprocessing, features
and codes as any other dataset: `tools/estimate.py` writes them as a raw dataset, `tools/translate.py`
translates them directly, `prepare_dataset.py --format pose|video` reads folders of them.
The joints are on lslm's rest skeleton (or `skeleton`), y up, facing +z; `meta` carries the per-joint
`valid` mask (T, 52) and the retargeting report.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from lslm.motion.clip import MotionClip
from lslm.errors import InvalidInputError
from lslm.motion import Skeleton
from lslm.video.landmarks import Landmarks
from lslm.video.reader import VIDEO_SUFFIXES
from lslm.video.retargeting import RetargetOptions, Retargeted, retarget

POSE_SUFFIXES = (".pose",)


@dataclass(frozen=True)
class FrontEnd:
    """How videos and `.pose` files become joints (the `mediapipe` and `pose` backends)."""

    retarget: RetargetOptions = RetargetOptions()
    model_complexity: int = 1
    face: bool = False
    workers: int = 1  # processes per video (contiguous runs of frames)


def landmarks_of(path: str | os.PathLike, front: FrontEnd = FrontEnd()) -> Landmarks:
    """Holistic landmarks of a video (MediaPipe) or a `.pose` file (read)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in POSE_SUFFIXES:
        from lslm.video.pose_file import read_pose
        return read_pose(path)
    if suffix in VIDEO_SUFFIXES:
        from lslm.video.holistic import estimate_video
        return estimate_video(path, model_complexity=front.model_complexity, face=front.face, workers=front.workers)
    raise InvalidInputError(path, "suffix", f"a video ({', '.join(VIDEO_SUFFIXES)}) or a .pose file", got=suffix)


def clip_from_landmarks(landmarks: Landmarks, fps: float | None = None, skeleton: Skeleton | None = None,
                        options: RetargetOptions = RetargetOptions()) -> tuple[MotionClip, Retargeted]:
    """Retargeted joints as a MotionClip (meta: valid, report); `fps` overrides the source's rate."""
    if fps is not None:
        if not fps > 0:
            raise InvalidInputError(landmarks.path, "fps", "a positive frame rate", got=fps)
        landmarks.fps = float(fps)
    result = retarget(landmarks, skeleton, options)
    clip = MotionClip(str(landmarks.path), result.fps, joints=result.joints.astype("float64"),
                      meta={"source": landmarks.meta.get("backend", "landmarks"), "valid": result.valid,
                            "report": result.report})
    return clip, result


def load_landmark_file(path: str | os.PathLike, fps: float | None = None, front: FrontEnd = FrontEnd(),
                       skeleton: Skeleton | None = None) -> MotionClip:
    """A video or `.pose` file → MotionClip of joints (T, 52, 3), y up (adapter signature)."""
    return clip_from_landmarks(landmarks_of(path, front), fps, skeleton, front.retarget)[0]


def load_pose(path: str | os.PathLike, fps: float | None = None) -> MotionClip:
    """The `pose` adapter: a MediaPipe Holistic `.pose` file → joints."""
    return load_landmark_file(path, fps)


def load_video(path: str | os.PathLike, fps: float | None = None) -> MotionClip:
    """The `video` adapter: a sign video → MediaPipe Holistic on CPU → joints."""
    return load_landmark_file(path, fps)

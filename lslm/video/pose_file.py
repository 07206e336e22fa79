"""The `pose` backend: `.pose` files (pose-format) ⇄ `Landmarks`.

Reads MediaPipe Holistic files as pose-format writes them: v0.1 (often reduced by `reduce_holistic`:
8 body points, contour face, hands) and v0.2 with `POSE_WORLD_LANDMARKS`. pose-format stores image
points as (x·width, y·height, z) and the world points the same way, so on reading z is multiplied by
the width (image points, to pixels like x) and the world points are divided back (to metres).
OpenPose files (2-D, no depth, another skeleton) are refused with a clear message.

`write_pose` writes Holistic landmarks, or lslm joints (T, 52, 3) seen by a camera in front of the signer
(`lslm.video.simulate`), as a v0.2-style holistic file without the face, so pose-format's viewer and
tools (`visualize_pose`, `pose_to_video`, ...) read what lslm estimates or produces.
"""
from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from lslm.atomic import atomic_write_bytes
from lslm.errors import InvalidInputError, MissingExtraError
from lslm.video.simulate import joints_to_landmarks
from lslm.video.landmarks import BODY_POINTS, HAND_POINTS, NUM_BODY, NUM_HAND, Landmarks

BODY_COMPONENT, WORLD_COMPONENT = "POSE_LANDMARKS", "POSE_WORLD_LANDMARKS"
HAND_COMPONENTS = {"left": "LEFT_HAND_LANDMARKS", "right": "RIGHT_HAND_LANDMARKS"}
# MediaPipe's connections (solutions.pose_connections / hands_connections), for pose-format's viewer.
BODY_LIMBS = ((0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10), (11, 12), (11, 13),
              (13, 15), (15, 17), (15, 19), (15, 21), (17, 19), (12, 14), (14, 16), (16, 18), (16, 20),
              (16, 22), (18, 20), (11, 23), (12, 24), (23, 24), (23, 25), (24, 26), (25, 27), (26, 28),
              (27, 29), (28, 30), (29, 31), (30, 32), (27, 31), (28, 32))
HAND_LIMBS = ((0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (5, 9), (9, 10), (10, 11),
              (11, 12), (9, 13), (13, 14), (14, 15), (15, 16), (13, 17), (0, 17), (17, 18), (18, 19), (19, 20))


def _pose_format():
    try:
        import pose_format
        from pose_format.numpy import NumPyPoseBody
    except ImportError as e:
        raise MissingExtraError("pose-format", "video", "Reading and writing .pose files") from e
    return pose_format, NumPyPoseBody


def _component_points(header, body_data, body_conf, name: str, names: tuple[str, ...]):
    """(T, len(names), D) data and (T, len(names)) confidence of a component's named points; points
    the component lacks have confidence 0. None when the file has no such component."""
    components = {c.name: c for c in header.components}
    if name not in components:
        return None
    offset = 0
    for c in header.components:
        if c.name == name:
            break
        offset += len(c.points)
    index = {p: i for i, p in enumerate(components[name].points)}
    t = body_data.shape[0]
    data, conf = np.zeros((t, len(names), 3)), np.zeros((t, len(names)))
    for k, point in enumerate(names):
        if point in index:
            data[:, k] = body_data[:, offset + index[point], :3]
            conf[:, k] = body_conf[:, offset + index[point]]
    return data, conf


def read_pose(path: str | os.PathLike, person: int = 0) -> Landmarks:
    """Landmarks of one person of a MediaPipe Holistic `.pose` file (see the module docstring)."""
    pose_format, _ = _pose_format()
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(path, "file", "an existing .pose file", got="no such file")
    try:
        pose = pose_format.Pose.read(path.read_bytes())
    except Exception as e:  # noqa: BLE001 — pose-format raises assorted errors on bad bytes
        raise InvalidInputError(path, "file", "a readable .pose file", got=f"{type(e).__name__}: {e}") from e
    header = pose.header
    names = [c.name for c in header.components]
    if BODY_COMPONENT not in names:
        kind = "OpenPose (2-D, no depth)" if any("keypoints" in n or n.startswith("BODY") for n in names) else names
        raise InvalidInputError(path, "components", "MediaPipe Holistic landmarks (POSE_LANDMARKS, hands); "
                                "lslm needs their depth and topology", got=kind)
    body_component = next(c for c in header.components if c.name == BODY_COMPONENT)
    if "Z" not in body_component.format:
        raise InvalidInputError(path, f"{BODY_COMPONENT}.format", "points with X, Y and Z", got=body_component.format)
    data = np.ma.getdata(pose.body.data).astype(np.float64)  # (T, people, points, dims)
    conf = np.asarray(pose.body.confidence, dtype=np.float64)  # (T, people, points)
    mask = np.ma.getmaskarray(pose.body.data)
    if data.ndim != 4 or data.shape[0] == 0 or data.shape[-1] < 3:
        raise InvalidInputError(path, "body.data", "(frames ≥ 1, people, points, XYZ)", got=data.shape)
    if not 0 <= person < data.shape[1]:
        raise InvalidInputError(path, "person", f"0 ≤ person < {data.shape[1]}", got=person)
    data, conf = data[:, person], np.where(mask[:, person].any(-1), 0.0, conf[:, person])
    conf = np.where(np.isfinite(data).all(-1), conf, 0.0)
    data = np.where(np.isfinite(data), data, 0.0)
    width, height = int(header.dimensions.width), int(header.dimensions.height)
    if width <= 0 or height <= 0:
        raise InvalidInputError(path, "dimensions", "a positive width and height", got=(width, height))
    to_pixels = np.array([1.0, 1.0, width])  # pose-format keeps MediaPipe's normalised z
    body, body_conf = _component_points(header, data, conf, BODY_COMPONENT, BODY_POINTS)
    hands = {}
    for side, name in HAND_COMPONENTS.items():
        found = _component_points(header, data, conf, name, HAND_POINTS)
        hands[side] = found if found is not None else (np.zeros((len(data), NUM_HAND, 3)), np.zeros((len(data), NUM_HAND)))
    world = _component_points(header, data, conf, WORLD_COMPONENT, BODY_POINTS)
    body_world = None if world is None or not (world[1] > 0).any() else world[0] / [width, height, 1.0]
    fps = float(pose.body.fps)
    return Landmarks(fps, width, height, body * to_pixels, np.clip(body_conf, 0, 1),
                     hands["left"][0] * to_pixels, (hands["left"][1] > 0).astype(float),
                     hands["right"][0] * to_pixels, (hands["right"][1] > 0).astype(float),
                     body_world, str(path),
                     meta={"backend": "pose", "version": round(float(header.version), 3), "components": names,
                           "people": int(pose.body.data.shape[1])})


def _header(width: int, height: int):
    from pose_format.pose_header import PoseHeader, PoseHeaderComponent, PoseHeaderDimensions

    def component(name, points, limbs, color):
        return PoseHeaderComponent(name=name, points=list(points), limbs=list(limbs), colors=[color],
                                   point_format="XYZC")

    components = [component(BODY_COMPONENT, BODY_POINTS, BODY_LIMBS, (255, 0, 0)),
                  component(HAND_COMPONENTS["left"], HAND_POINTS, HAND_LIMBS, (0, 128, 255)),
                  component(HAND_COMPONENTS["right"], HAND_POINTS, HAND_LIMBS, (255, 128, 0)),
                  component(WORLD_COMPONENT, BODY_POINTS, BODY_LIMBS, (255, 0, 0))]
    return PoseHeader(version=0.2, dimensions=PoseHeaderDimensions(width=width, height=height, depth=0),
                      components=components)


def write_pose(source: Landmarks | np.ndarray, path: str | os.PathLike, fps: float | None = None) -> Path:
    """Write Holistic landmarks, or lslm joints (T, 52, 3) (y up, facing +z), as a `.pose` file.

    Joints are seen by `Camera.framing` (a pinhole camera in front of the signer, 720 × 720); `fps` is
    required for joints and overrides the landmarks' rate. Written atomically; returns the path.
    """
    pose_format, NumPyPoseBody = _pose_format()

    path = Path(path)
    if isinstance(source, Landmarks):
        landmarks = source
    else:
        if fps is None:
            raise InvalidInputError(path, "fps", "a frame rate for joints", got=None)
        landmarks = joints_to_landmarks(np.asarray(source, dtype=np.float64), fps, path=str(path))
    fps = float(fps or landmarks.fps)
    w, h = landmarks.width, landmarks.height
    to_file = np.array([1.0, 1.0, 1.0 / w])  # back to pose-format's (x·W, y·H, z)
    world = landmarks.body_world if landmarks.body_world is not None else np.zeros((landmarks.num_frames, NUM_BODY, 3))
    world_conf = landmarks.body_conf if landmarks.body_world is not None else np.zeros_like(landmarks.body_conf)
    data = np.concatenate([landmarks.body * to_file, landmarks.left_hand * to_file, landmarks.right_hand * to_file,
                           world * [w, h, 1.0]], axis=1)  # (T, 33 + 21 + 21 + 33, 3)
    conf = np.concatenate([landmarks.body_conf, landmarks.left_conf, landmarks.right_conf, world_conf], axis=1)
    body = NumPyPoseBody(fps=fps, data=data[:, None].astype(np.float32), confidence=conf[:, None].astype(np.float32))
    buffer = io.BytesIO()
    pose_format.Pose(_header(w, h), body).write(buffer)
    atomic_write_bytes(path, buffer.getvalue())
    return path

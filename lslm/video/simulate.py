"""lslm joints seen through a pinhole camera as MediaPipe Holistic would report them.

`joints_to_landmarks` reduces 52-joint motion (y up, facing +z) to MediaPipe's topology (body 33,
hands 21): body and hand joints map to their landmarks, the face points come from a small head model,
the finger tips extend the last finger bone, and the camera gives image landmarks (pixels, with
MediaPipe's relative depth), world landmarks (metres, hip-centred, camera axes) and visibility.
`simulate_landmarks` adds what a real estimator adds: noise, and hands lost for runs of frames.
It is how retargeting is measured against true joints, and how `write_pose` writes joints.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lslm.errors import InvalidInputError
from lslm.motion.skeleton import FINGERS  # SMPL-X order of the 5 finger chains
from lslm.video.landmarks import BODY, FINGER_POINTS, FLIP, NUM_BODY, NUM_HAND, Landmarks

TIP_EXTENSION = 0.8  # finger tip = joint 3 + this × (joint 3 − joint 2)

# Face points in the head's frame (metres; left, up, forward) from the head joint: a generic adult head.
HEAD_MODEL = {
    "NOSE": (0.0, 0.03, 0.11), "LEFT_EYE_INNER": (0.015, 0.06, 0.095), "LEFT_EYE": (0.032, 0.062, 0.09),
    "LEFT_EYE_OUTER": (0.048, 0.062, 0.08), "RIGHT_EYE_INNER": (-0.015, 0.06, 0.095),
    "RIGHT_EYE": (-0.032, 0.062, 0.09), "RIGHT_EYE_OUTER": (-0.048, 0.062, 0.08),
    "LEFT_EAR": (0.075, 0.04, 0.0), "RIGHT_EAR": (-0.075, 0.04, 0.0),
    "MOUTH_LEFT": (0.025, -0.01, 0.095), "MOUTH_RIGHT": (-0.025, -0.01, 0.095),
}
# Body landmarks at lslm joints (the hand points of the body model at the knuckles / thumb tip).
BODY_JOINTS = {
    "LEFT_SHOULDER": 16, "RIGHT_SHOULDER": 17, "LEFT_ELBOW": 18, "RIGHT_ELBOW": 19, "LEFT_WRIST": 20,
    "RIGHT_WRIST": 21, "LEFT_HIP": 1, "RIGHT_HIP": 2, "LEFT_KNEE": 4, "RIGHT_KNEE": 5, "LEFT_ANKLE": 7,
    "RIGHT_ANKLE": 8, "LEFT_PINKY": 28, "RIGHT_PINKY": 43, "LEFT_INDEX": 22, "RIGHT_INDEX": 37,
    "LEFT_THUMB": 36, "RIGHT_THUMB": 51,
}
FOOT_MODEL = {"HEEL": (0.0, -0.06, -0.06), "FOOT_INDEX": (0.0, -0.01, 0.06)}  # from ankle / foot joint


@dataclass(frozen=True)
class Camera:
    """A pinhole camera looking along −z (at a signer facing +z): image x is the signer's left."""

    width: int = 720
    height: int = 720
    focal: float = 1000.0  # pixels
    position: tuple[float, float, float] = (0.0, 1.35, 2.6)  # metres, lslm axes

    @classmethod
    def framing(cls, joints: np.ndarray, width: int = 720, height: int = 720, focal: float = 1000.0,
                fill: float = 0.85) -> Camera:
        """A camera in front of the clip's mean chest that fits the head-to-hip span in `fill` of the height."""
        chest = joints[:, [0, 15]].mean(axis=(0, 1))  # between pelvis and head
        span = np.ptp(joints[:, [0, 15, 20, 21], 1]) + 0.25
        distance = focal * span / (fill * height)
        return cls(width, height, focal, (float(chest[0]), float(chest[1]), float(chest[2] + distance)))

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        """lslm world points (..., 3) → camera coordinates (x right, y down, z = depth)."""
        return (points - np.asarray(self.position)) * FLIP

    def project(self, cam: np.ndarray) -> np.ndarray:
        """Camera coordinates (..., 3) → pixels (u, v) (..., 2)."""
        depth = np.maximum(cam[..., 2:], 1e-6)
        return cam[..., :2] * self.focal / depth + np.array([self.width / 2, self.height / 2])


def _head_frame(joints: np.ndarray) -> np.ndarray:
    """(T, 3, 3) columns left, up, forward of the head: up along neck → head, left along the shoulders."""
    up = joints[:, 15] - joints[:, 12]
    up /= np.linalg.norm(up, axis=-1, keepdims=True)
    left = joints[:, 16] - joints[:, 17]
    left -= np.sum(left * up, -1, keepdims=True) * up
    left /= np.linalg.norm(left, axis=-1, keepdims=True)
    return np.stack([left, up, np.cross(left, up)], axis=-1)


def holistic_points(joints: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """52 joints (T, 52, 3) → 3-D points of MediaPipe's body (T, 33, 3), left hand and right hand
    (T, 21, 3 each), in lslm world axes."""
    joints = np.asarray(joints, dtype=np.float64)
    t = len(joints)
    body = np.zeros((t, NUM_BODY, 3))
    for name, j in BODY_JOINTS.items():
        body[:, BODY[name]] = joints[:, j]
    head = _head_frame(joints)
    for name, offset in HEAD_MODEL.items():
        body[:, BODY[name]] = joints[:, 15] + head @ np.asarray(offset)
    for side, ankle, foot in (("LEFT", 7, 10), ("RIGHT", 8, 11)):
        body[:, BODY[f"{side}_HEEL"]] = joints[:, ankle] + FOOT_MODEL["HEEL"]
        body[:, BODY[f"{side}_FOOT_INDEX"]] = joints[:, foot] + FOOT_MODEL["FOOT_INDEX"]
    hands = []
    for wrist, first in ((20, 22), (21, 37)):
        hand = np.zeros((t, NUM_HAND, 3))
        hand[:, 0] = joints[:, wrist]
        for f, finger in enumerate(FINGERS):
            j1, j2, j3 = first + 3 * f, first + 3 * f + 1, first + 3 * f + 2
            a, b, c, tip = FINGER_POINTS[finger]
            hand[:, a], hand[:, b], hand[:, c] = joints[:, j1], joints[:, j2], joints[:, j3]
            hand[:, tip] = joints[:, j3] + TIP_EXTENSION * (joints[:, j3] - joints[:, j2])
        hands.append(hand)
    return body, hands[0], hands[1]


def head_rest_direction(rest_positions: np.ndarray) -> np.ndarray:
    """Unit direction (3,) from the shoulders' midpoint to the ears' midpoint on a rest pose (52, 3):
    where the retargeting's head rotation starts from (its torso frame is the identity in rest)."""
    body, _, _ = holistic_points(rest_positions[None])
    ears = (body[0, BODY["LEFT_EAR"]] + body[0, BODY["RIGHT_EAR"]]) / 2
    shoulders = (body[0, BODY["LEFT_SHOULDER"]] + body[0, BODY["RIGHT_SHOULDER"]]) / 2
    v = ears - shoulders
    return v / np.linalg.norm(v)


def joints_to_landmarks(joints: np.ndarray, fps: float, camera: Camera | None = None,
                        path: str | None = None) -> Landmarks:
    """What a perfect Holistic would see of `joints` (T, 52, 3) through `camera` (default: `Camera.framing`).

    Image points in pixels with MediaPipe's relative depth (hips, resp. the wrist, at 0, in pixels at
    the reference depth); world points hip-centred in camera axes; visibility 1 inside the image, 0.2
    outside; both hands found in every frame.
    """
    joints = np.asarray(joints, dtype=np.float64)
    if joints.ndim != 3 or joints.shape[1:] != (52, 3) or not np.isfinite(joints).all():
        raise InvalidInputError(path, "joints", "finite joints of shape (T, 52, 3)", got=joints.shape)
    camera = camera or Camera.framing(joints)
    body, left, right = holistic_points(joints)
    body_cam, left_cam, right_cam = (camera.to_camera(p) for p in (body, left, right))
    hips = (body_cam[:, BODY["LEFT_HIP"]] + body_cam[:, BODY["RIGHT_HIP"]]) / 2  # (T, 3)

    def image(cam, origin_depth):
        uv = camera.project(cam)
        z = camera.focal * (cam[..., 2] - origin_depth[:, None]) / origin_depth[:, None]
        return np.concatenate([uv, z[..., None]], axis=-1)

    body_px = image(body_cam, hips[:, 2])
    inside = ((body_px[..., 0] >= 0) & (body_px[..., 0] < camera.width) & (body_px[..., 1] >= 0)
              & (body_px[..., 1] < camera.height))
    t = len(joints)
    ones = np.ones((t, NUM_HAND))
    return Landmarks(fps, camera.width, camera.height, body_px, np.where(inside, 1.0, 0.2),
                     image(left_cam, left_cam[:, 0, 2]), ones.copy(), image(right_cam, right_cam[:, 0, 2]),
                     ones.copy(), body_world=body_cam - hips[:, None], path=path)


def _dropouts(rng: np.random.Generator, t: int, fraction: float, max_run: int) -> np.ndarray:
    """(T,) bool, True in runs of 1..max_run frames covering about `fraction` of the frames."""
    lost = np.zeros(t, dtype=bool)
    if fraction <= 0:
        return lost
    mean_run = (1 + max_run) / 2
    for _ in range(rng.poisson(fraction * t / mean_run)):
        start, run = rng.integers(0, t), rng.integers(1, max_run + 1)
        lost[start:start + run] = True
    return lost


def simulate_landmarks(joints: np.ndarray, fps: float, rng: np.random.Generator | int = 0,
                       camera: Camera | None = None, pixel_noise: float = 1.5, world_noise: float = 0.01,
                       hand_dropout: float = 0.1, max_dropout: int = 20) -> Landmarks:
    """`joints_to_landmarks` plus estimator noise: Gaussian noise of `pixel_noise` px on the image points
    (x, y, and 3× on the relative depth), `world_noise` m on the world points, and each hand lost in
    runs of 1..`max_dropout` frames covering about `hand_dropout` of the frames."""
    rng = np.random.default_rng(rng)
    lm = joints_to_landmarks(joints, fps, camera)
    t = lm.num_frames
    scale = np.array([pixel_noise, pixel_noise, 3 * pixel_noise])
    lm.body = lm.body + rng.normal(size=lm.body.shape) * scale
    lm.body_world = lm.body_world + rng.normal(size=lm.body_world.shape) * world_noise
    for side in ("left", "right"):
        hand = getattr(lm, f"{side}_hand") + rng.normal(size=(t, NUM_HAND, 3)) * scale
        lost = _dropouts(rng, t, hand_dropout, max_dropout)
        setattr(lm, f"{side}_hand", np.where(lost[:, None, None], 0.0, hand))
        setattr(lm, f"{side}_conf", np.where(lost[:, None], 0.0, np.ones((t, NUM_HAND))))
    return lm

"""The clips `lslm.recipes.render` draws: joints of a joints/features `.npy` or a raw lslm `.npz`, and the
image landmarks of a `.pose` file to draw over video frames.

    joints, fps = load_joints("clip.npz")          # (T, 52, 3) metres, the fps stored with it (or None)
"""
from __future__ import annotations

import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from lslm.errors import InvalidInputError

PARAM_FIELDS = ("global_orient", "body_pose", "left_hand_pose", "right_hand_pose", "transl")
FEATURE_DIMS = (623, 263)


def load_joints(path: str | Path) -> tuple[np.ndarray, float | None]:
    """Joints (T, J, 3) of a joints/features `.npy` or a raw lslm `.npz`, and the fps stored with it."""
    from lslm.motion import default_rest_skeleton, features_to_joints, smplx_to_joints

    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(path, "path", "an existing .npy or .npz file", got="no such file")
    try:
        data = np.load(path, allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile) as err:
        raise InvalidInputError(path, "file", "a readable .npy/.npz (no pickles)", got=repr(err)) from err
    if isinstance(data, np.ndarray):
        if data.ndim == 3 and data.shape[1:] in ((52, 3), (22, 3)):
            return data.astype(np.float32), None
        if data.ndim == 2 and data.shape[1] in FEATURE_DIMS:
            if not np.isfinite(data).all():
                raise InvalidInputError(path, "features", "finite values", got="NaN or inf")
            return np.asarray(features_to_joints(data.astype(np.float32))), None
        raise InvalidInputError(path, "array", "joints (T, 52|22, 3) or features (T, 623|263)", got=data.shape)
    with data:
        if "joints" in data:
            return np.asarray(data["joints"], dtype=np.float32), _fps(data, path)
        missing = [k for k in ("body_pose",) if k not in data]
        if missing:
            raise InvalidInputError(path, missing[0], "present (raw lslm clip: SMPL-X-style parameters)")
        params = {k: np.asarray(data[k], dtype=np.float32) for k in PARAM_FIELDS if k in data}
        rest = default_rest_skeleton()
        if "rest_offsets" in data:
            offsets = np.asarray(data["rest_offsets"], dtype=np.float64)
            if offsets.shape != (52, 3):
                raise InvalidInputError(path, "rest_offsets", "shape (52, 3)", got=offsets.shape)
            rest = replace(rest, offsets=offsets)
        try:
            joints = smplx_to_joints(params, rest_skeleton=rest)
        except InvalidInputError as err:
            raise InvalidInputError(path, err.field, err.expected, err.got) from err
        return joints, _fps(data, path)


def _fps(data, path: Path) -> float | None:
    if "fps" not in data:
        return None
    fps = float(np.asarray(data["fps"]))
    if not fps > 0:
        raise InvalidInputError(path, "fps", "a positive scalar", got=fps)
    return fps


def landmark_overlay(path: str | Path) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Body and hand image landmarks of a `.pose` file as (points (T, 75, 2) pixels, NaN where missing; limbs)."""
    from lslm.video.pose_file import BODY_LIMBS, HAND_LIMBS, read_pose

    lm = read_pose(path)
    parts = [(lm.body, lm.body_conf), (lm.left_hand, lm.left_conf), (lm.right_hand, lm.right_conf)]
    points = np.concatenate([np.where(conf[..., None] > 0, xyz[..., :2], np.nan) for xyz, conf in parts], axis=1)
    body = [(a, b) for a, b in BODY_LIMBS if 11 <= a <= 24 and 11 <= b <= 24]  # arms and torso
    return points, [*body, *[(a + 33, b + 33) for a, b in HAND_LIMBS], *[(a + 54, b + 54) for a, b in HAND_LIMBS]]

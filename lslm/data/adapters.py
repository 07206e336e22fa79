"""Input adapters: read one clip of a published format, validate it, return a `MotionClip`.

Every format ends up either as SMPL-X parameters (per-frame arrays under the smplx keyword names) or
as joints (T, 52, 3), with a frame rate and whether the data is in a camera frame (y down).
Bad input raises `InvalidInputError` (or `UnsafePickleError`) naming the file and the field.
"""
from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from lslm.data.resample import resample_linear, resample_params
from lslm.data.safe_pickle import safe_load
from lslm.errors import InvalidInputError

NUM_JOINTS = 52
# Sizes of the SMPL-X parameters we read (axis-angle, 45-dim hands: use_pca=False).
PARAM_SIZES = {"global_orient": 3, "body_pose": 63, "left_hand_pose": 45, "right_hand_pose": 45,
               "jaw_pose": 3, "transl": 3}
REQUIRED_PARAMS = ("global_orient", "body_pose", "left_hand_pose", "right_hand_pose", "transl")


@dataclass
class MotionClip:
    """One clip as read from disk: SMPL-X parameters or joints, plus frame rate and provenance."""

    path: str
    fps: float
    params: dict[str, np.ndarray] | None = None  # smplx kwarg names; per-frame arrays (T, ...)
    joints: np.ndarray | None = None  # (T, 52, 3)
    rest_offsets: np.ndarray | None = None  # (52, 3): rest skeleton for FK when no SMPL-X model is given
    y_down: bool = False  # camera frame: joints are rotated 180° about X after FK
    meta: dict = field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        return len(self.joints) if self.joints is not None else len(self.params["global_orient"])

    def resampled(self, fps: float) -> MotionClip:
        """The same clip at `fps` (rotations slerped, positions linear); see lslm.data.resample."""
        if fps == self.fps:
            return self
        if self.joints is not None:
            return replace(self, fps=fps, joints=resample_linear(self.joints, self.fps, fps))
        return replace(self, fps=fps, params=resample_params(self.params, self.fps, fps))


# ---- validation helpers ----------------------------------------------------------------------------

def _to_numpy(value):
    if type(value).__module__.startswith("torch"):  # torch.Tensor, without importing torch
        return value.detach().cpu().numpy()
    return np.asarray(value)


def check_array(path, name: str, value, shape: tuple[int | None, ...]) -> np.ndarray:
    """Validate a float array: `shape` with None for any size; finite values. Returns float64."""
    try:
        array = _to_numpy(value)
    except (TypeError, ValueError) as e:
        raise InvalidInputError(path, name, "a numeric array", got=type(value).__name__) from e
    if array.dtype.kind != "f":
        raise InvalidInputError(path, name, "a floating-point array", got=f"dtype {array.dtype}")
    want = "(" + ", ".join("T" if s is None else str(s) for s in shape) + ")"
    if array.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, array.shape)):
        raise InvalidInputError(path, name, f"shape {want}", got=tuple(array.shape))
    if not np.isfinite(array).all():
        raise InvalidInputError(path, name, "finite values", got="NaN or inf")
    return array.astype(np.float64)


def check_frames(path, name: str, num_frames: int) -> None:
    if num_frames < 2:
        raise InvalidInputError(path, name, "at least 2 frames", got=num_frames)


def _get(path, data: dict, key: str):
    if not isinstance(data, dict) or key not in data:
        raise InvalidInputError(path, key, "present", got="missing")
    return data[key]


def _exists(path) -> None:
    if not Path(path).is_file():
        raise InvalidInputError(path, "file", "an existing file", got="no such file")


def load_npy(path) -> np.ndarray:
    """np.load without pickles; unreadable or truncated files raise InvalidInputError."""
    _exists(path)
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, EOFError, OSError) as e:
        raise InvalidInputError(path, "file", "a complete .npy array", got=f"{type(e).__name__}: {e}") from e


def load_npz(path) -> dict[str, np.ndarray]:
    """All arrays of an .npz (read eagerly, so truncation shows here), no pickles."""
    _exists(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}
    except (ValueError, EOFError, OSError, zipfile.BadZipFile, KeyError) as e:
        raise InvalidInputError(path, "file", "a complete .npz archive", got=f"{type(e).__name__}: {e}") from e


# ---- formats -------------------------------------------------------------------------------------

def load_signavatars(path, fps: float = 24.0) -> MotionClip:
    """SignAvatars per-clip `.pkl`: key `smplx` (N, 182), numpy or torch; camera frame (y down).

    Layout: root 0:3, body 3:66, lhand 66:111, rhand 111:156, jaw 156:159, betas 159:169,
    expression 169:179, cam_trans 179:182. Betas are averaged over the clip (one body per clip).
    """
    smplx = check_array(path, "smplx", _get(path, safe_load(path), "smplx"), (None, 182))
    check_frames(path, "smplx", len(smplx))
    params = {"global_orient": smplx[:, 0:3], "body_pose": smplx[:, 3:66],
              "left_hand_pose": smplx[:, 66:111], "right_hand_pose": smplx[:, 111:156],
              "jaw_pose": smplx[:, 156:159], "betas": smplx[:, 159:169].mean(0),
              "expression": smplx[:, 169:179], "transl": smplx[:, 179:182]}
    return MotionClip(str(path), fps, params=params, y_down=True, meta={"source": "signavatars"})


def _frame_number(path: Path) -> int:
    digits = re.findall(r"\d+", path.stem)
    if not digits:
        raise InvalidInputError(path, "file name", "a frame number in the name", got=path.name)
    return int(digits[-1])


def load_smplerx(folder, fps: float = 24.0) -> MotionClip:
    """SMPLer-X output: one `.npz` per frame in `folder`, ordered by the frame number in the name.

    Per frame: global_orient (3), body_pose (21, 3), left/right_hand_pose (15, 3), transl (3),
    optional jaw_pose (3), betas (10), expression (10) (any leading 1-sized axes are accepted).
    Camera frame (y down). Betas are averaged over the clip.
    """
    folder = Path(folder)
    files = sorted(folder.glob("*.npz"), key=_frame_number)
    numbers = [_frame_number(f) for f in files]
    if len(set(numbers)) != len(numbers):
        raise InvalidInputError(folder, "frame files", "one file per frame number", got="duplicate numbers")
    check_frames(folder, "frame files", len(files))
    frames: dict[str, list[np.ndarray]] = {}
    optional = {"betas": 10, "expression": 10}
    for f in files:
        data = load_npz(f)
        for key, size in {**PARAM_SIZES, **optional}.items():
            if key not in data:
                if key in REQUIRED_PARAMS:
                    raise InvalidInputError(f, key, "present", got="missing")
                continue
            # (1, 21, 3), (21, 3), (63,) … → (size,)
            value = check_array(f, key, np.reshape(data[key], -1), (size,))
            frames.setdefault(key, []).append(value)
    params = {key: np.stack(values) for key, values in frames.items()}
    if any(len(v) != len(files) for v in params.values()):
        raise InvalidInputError(folder, "frame files", "the same keys in every frame")
    if "betas" in params:
        params["betas"] = params["betas"].mean(0)
    return MotionClip(str(folder), fps, params=params, y_down=True, meta={"source": "smplerx"})


def load_motionx(path, fps: float = 30.0) -> MotionClip:
    """Motion-X `smplx_322` `.npy` (T, 322), y up.

    Layout (Motion-X README): root_orient 0:3, pose_body 3:66, pose_hand 66:156 (left then right),
    pose_jaw 156:159, face_expr 159:209, face_shape 209:309, trans 309:312, betas 312:322.
    The 50 FLAME expression and 100 face-shape coefficients only move the face, which the 52 joints
    leave out, so they are not passed on. Betas are averaged over the clip.
    """
    motion = check_array(path, "smplx_322", load_npy(path), (None, 322))
    check_frames(path, "smplx_322", len(motion))
    params = {"global_orient": motion[:, 0:3], "body_pose": motion[:, 3:66],
              "left_hand_pose": motion[:, 66:111], "right_hand_pose": motion[:, 111:156],
              "jaw_pose": motion[:, 156:159], "transl": motion[:, 309:312],
              "betas": motion[:, 312:322].mean(0)}
    return MotionClip(str(path), fps, params=params, meta={"source": "motionx"})


def load_joints(path, fps: float = 30.0) -> MotionClip:
    """Plain joint positions `.npy` (T, 52, 3), y up, in the lslm joint order (22-joint arrays are refused)."""
    joints = check_array(path, "joints", load_npy(path), (None, NUM_JOINTS, 3))
    check_frames(path, "joints", len(joints))
    return MotionClip(str(path), fps, joints=joints, meta={"source": "joints"})


def load_lslm(path, fps: float | None = None) -> MotionClip:
    """lslm raw `.npz` (what the synthetic corpus writes), y up.

    Keys: global_orient (T, 3), body_pose (T, 63), left/right_hand_pose (T, 45), transl (T, 3),
    optional jaw_pose (T, 3), betas (10,), expression (T, E), fps (scalar), rest_offsets (52, 3);
    or joints (T, 52, 3) instead of the parameters. `fps` in the file wins over the argument.
    """
    data = load_npz(path)
    if "fps" in data:
        value = data["fps"]
        if value.ndim != 0 or value.dtype.kind not in "fiu" or not np.isfinite(value) or value <= 0:
            raise InvalidInputError(path, "fps", "a positive scalar", got=value)
        fps = float(value)
    if fps is None:
        raise InvalidInputError(path, "fps", "present in the file or the manifest", got="missing")
    rest = check_array(path, "rest_offsets", data["rest_offsets"], (NUM_JOINTS, 3)) \
        if "rest_offsets" in data else None
    if "joints" in data:
        joints = check_array(path, "joints", data["joints"], (None, NUM_JOINTS, 3))
        check_frames(path, "joints", len(joints))
        return MotionClip(str(path), fps, joints=joints, rest_offsets=rest, meta={"source": "lslm"})
    params = {}
    for key, size in PARAM_SIZES.items():
        if key in data or key in REQUIRED_PARAMS:
            params[key] = check_array(path, key, _get(path, data, key), (None, size))
    num_frames = len(params["global_orient"])
    check_frames(path, "global_orient", num_frames)
    for key, value in params.items():
        if len(value) != num_frames:
            raise InvalidInputError(path, key, f"{num_frames} frames like global_orient", got=len(value))
    if "betas" in data:
        params["betas"] = check_array(path, "betas", data["betas"], (None,))
    if "expression" in data:
        params["expression"] = check_array(path, "expression", data["expression"], (num_frames, None))
    return MotionClip(str(path), fps, params=params, rest_offsets=rest, meta={"source": "lslm"})


# ---- discovery -----------------------------------------------------------------------------------

def _files(suffix: str) -> Callable[[Path], list[tuple[str, Path]]]:
    def discover(root: Path) -> list[tuple[str, Path]]:
        return [(p.stem, p) for p in sorted(Path(root).rglob(f"*{suffix}"))]
    return discover


def _smplerx_folders(root: Path) -> list[tuple[str, Path]]:
    folders = sorted({p.parent for p in Path(root).rglob("*.npz")})
    return [(folder.name, folder) for folder in folders]


@dataclass(frozen=True)
class Adapter:
    """How to find clips of one format in a folder (id, path) and read one."""

    load: Callable[..., MotionClip]
    discover: Callable[[Path], list[tuple[str, Path]]] | None
    default_fps: float | None


ADAPTERS: dict[str, Adapter] = {
    "signavatars": Adapter(load_signavatars, _files(".pkl"), 24.0),
    "smplerx": Adapter(load_smplerx, _smplerx_folders, 24.0),
    "motionx": Adapter(load_motionx, _files(".npy"), 30.0),
    "joints": Adapter(load_joints, _files(".npy"), 30.0),
    "lslm": Adapter(load_lslm, None, None),  # clips come from the folder's manifest.jsonl
}

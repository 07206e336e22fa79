"""Input adapters: read one clip of a published format, validate it, return a `MotionClip`.

Every format ends up either as SMPL-X parameters (per-frame arrays under the smplx keyword names) or
as joints (T, 52, 3), with a frame rate and whether the data is in a camera frame (y down).
Bad input raises `InvalidInputError` (or `UnsafePickleError`) naming the file and the field.
"""
from __future__ import annotations

import math
import os
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from lslm.checks import check_fps
from lslm.data.resample import resample_linear, resample_params
from lslm.data.safe_pickle import safe_load
from lslm.errors import InvalidInputError

NUM_JOINTS = 52
# Sizes of the SMPL-X parameters we read (axis-angle, 45-dim hands: use_pca=False).
PARAM_SIZES = {"global_orient": 3, "body_pose": 63, "left_hand_pose": 45, "right_hand_pose": 45,
               "jaw_pose": 3, "transl": 3}
REQUIRED_PARAMS = ("global_orient", "body_pose", "left_hand_pose", "right_hand_pose", "transl")
DEFLATE_MAX_RATIO = 1032  # deflate cannot expand data by more than about 1032:1


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
        return len(self.joints) if self.joints is not None else len(self.params["global_orient"])

    def resampled(self, fps: float) -> MotionClip:
        """The same clip at `fps` (rotations slerped, positions linear); see lslm.data.resample."""
        fps = check_fps(fps, self.path, "fps")
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


def _npy_header(f, path, member: str | None = None) -> tuple[tuple[int, ...], np.dtype, int]:
    """(shape, dtype, data bytes) from the header of an .npy stream, read without reading the data."""
    where = "file" if member is None else member
    try:
        version = np.lib.format.read_magic(f)
        if version not in ((1, 0), (2, 0)):
            raise ValueError(f"unsupported .npy version {version}")
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read(f)
    except Exception as e:  # noqa: BLE001 — numpy parses the header with ast/tokenize: any failure is a bad header
        raise InvalidInputError(path, where, "an .npy array header", got=f"{type(e).__name__}: {str(e)[:120]}") from e
    if dtype.hasobject:
        raise InvalidInputError(path, where, "a numeric array (no Python objects)", got=f"dtype {dtype}")
    return shape, dtype, math.prod(shape) * dtype.itemsize


def load_npy(path) -> np.ndarray:
    """np.load without pickles; unreadable or truncated files raise InvalidInputError. The header's shape is
    checked against the file's size before the array is allocated."""
    _exists(path)
    try:
        with open(path, "rb") as f:
            shape, dtype, nbytes = _npy_header(f, path)
            data_bytes = os.fstat(f.fileno()).st_size - f.tell()
            if nbytes != data_bytes:
                raise InvalidInputError(path, "file", f"{nbytes} data bytes for shape {shape} {dtype}",
                                        got=f"{data_bytes} bytes")
            f.seek(0)
            return np.load(f, allow_pickle=False)
    except InvalidInputError:
        raise
    except (ValueError, EOFError, OSError) as e:
        raise InvalidInputError(path, "file", "a complete .npy array", got=f"{type(e).__name__}: {e}") from e


def load_npz(path) -> dict[str, np.ndarray]:
    """All arrays of an .npz (read eagerly, so truncation shows here), no pickles. Every member must be an
    .npy whose header agrees with the member's size, and no member may claim more than deflate could
    have compressed into it, before anything is allocated."""
    _exists(path)
    try:
        with zipfile.ZipFile(path) as archive:
            out = {}
            for info in archive.infolist():
                name = info.filename
                if not name.endswith(".npy"):
                    raise InvalidInputError(path, name, "an .npy member (an .npz holds only arrays)", got=name)
                if info.compress_type == zipfile.ZIP_STORED:
                    limit = info.compress_size
                elif info.compress_type == zipfile.ZIP_DEFLATED:
                    limit = info.compress_size * DEFLATE_MAX_RATIO + 1024
                else:
                    raise InvalidInputError(path, name, "a stored or deflated member", got=f"method {info.compress_type}")
                if info.file_size > limit:
                    raise InvalidInputError(path, name, f"at most {limit} bytes from {info.compress_size} "
                                            "compressed", got=f"{info.file_size} bytes")
                with archive.open(info) as f:
                    shape, dtype, nbytes = _npy_header(f, path, name)
                    if f.tell() + nbytes != info.file_size:
                        raise InvalidInputError(path, name, f"{nbytes} data bytes for shape {shape} {dtype}",
                                                got=f"{info.file_size - f.tell()} bytes")
                with archive.open(info) as f:
                    out[name.removesuffix(".npy")] = np.lib.format.read_array(f, allow_pickle=False)
            return out
    except InvalidInputError:
        raise
    except (ValueError, EOFError, OSError, zipfile.BadZipFile, KeyError, zlib.error, NotImplementedError) as e:
        raise InvalidInputError(path, "file", "a complete .npz archive", got=f"{type(e).__name__}: {e}") from e


# ---- formats -------------------------------------------------------------------------------------

# SignAvatars tables (their README): `smplx` is the smoothed fit (for motion generation), `unsmooth_smplx`
# the per-frame fit (for pose estimation; no jaw or expression). Column ranges of each SMPL-X parameter.
SIGNAVATARS_LAYOUTS: dict[str, tuple[int, dict[str, tuple[int, int]]]] = {
    "smplx": (182, {"global_orient": (0, 3), "body_pose": (3, 66), "left_hand_pose": (66, 111),
                    "right_hand_pose": (111, 156), "jaw_pose": (156, 159), "betas": (159, 169),
                    "expression": (169, 179), "transl": (179, 182)}),
    "unsmooth_smplx": (169, {"global_orient": (0, 3), "body_pose": (3, 66), "left_hand_pose": (66, 111),
                             "right_hand_pose": (111, 156), "betas": (156, 166), "transl": (166, 169)}),
}
SIGNAVATARS_HAND_FLAGS = {"left_hand_pose": "left_valid", "right_hand_pose": "right_valid"}
INVALID_HANDS = ("interpolate", "keep")  # what to do with hand poses of frames flagged invalid


def _frame_flags(path, name: str, value, num_frames: int) -> np.ndarray:
    """A per-frame 0/1 flag array (T,) or (T, 1) (bool, integer or float; numpy or torch) → bool (T,)."""
    try:
        flags = _to_numpy(value)
    except (TypeError, ValueError) as e:
        raise InvalidInputError(path, name, "a per-frame flag array", got=type(value).__name__) from e
    if flags.dtype.kind not in "biuf" or flags.reshape(len(flags), -1).shape != (num_frames, 1):
        raise InvalidInputError(path, name, f"{num_frames} flags of 0/1 (one per frame)",
                                got=f"{flags.dtype} {tuple(flags.shape)}")
    flags = flags.reshape(num_frames)
    if not np.isin(flags, (0, 1)).all():
        raise InvalidInputError(path, name, "flags of 0/1", got=np.unique(flags)[:5].tolist())
    return flags.astype(bool)


def _frame_index(path, value, num_frames: int) -> np.ndarray:
    """`total_valid_index` (T,): the video frame of every row, strictly increasing integers."""
    index = _to_numpy(value).reshape(-1)
    if index.dtype.kind not in "iuf" or len(index) != num_frames or not np.all(index == np.round(index)):
        raise InvalidInputError(path, "total_valid_index", f"{num_frames} integer frame numbers",
                                got=f"{index.dtype} {tuple(index.shape)}")
    index = index.astype(np.int64)
    if num_frames > 1 and np.any(np.diff(index) <= 0):
        raise InvalidInputError(path, "total_valid_index", "strictly increasing frame numbers",
                                got="repeated or decreasing numbers")
    return index


def load_signavatars(path, fps: float = 24.0, params: str = "smplx",
                     invalid_hands: str = "interpolate") -> MotionClip:
    """SignAvatars per-clip `.pkl` as published: `params` is the table read, `smplx` (N, 182, the
    smoothed fit; default, what SignAvatars recommends for motion work) or `unsmooth_smplx` (N, 169);
    numpy arrays or torch tensors (saved on a GPU or not). Camera frame (y down).

    `left_valid` / `right_valid` (N,) flag the frames whose hand was detected: with
    `invalid_hands="interpolate"` the other frames' hand poses are slerped from the nearest valid frames
    (held before the first / after the last); a hand never valid keeps its fitted poses. Rows are the
    video frames listed in `total_valid_index` when present: frames missing between them are filled by
    interpolation. What was repaired is counted in `clip.meta["repairs"]`. Betas are averaged over the
    clip (one body per clip). The other keys (2d, pred2d, focal, princpt, bb2img_trans, height, width)
    describe the image and are not read.
    """
    from lslm.data.resample import ROTATION_KEYS, fill_invalid

    fps = check_fps(fps, path, "fps")

    if params not in SIGNAVATARS_LAYOUTS:
        raise InvalidInputError(path, "params", f"one of {sorted(SIGNAVATARS_LAYOUTS)}", got=params)
    if invalid_hands not in INVALID_HANDS:
        raise InvalidInputError(path, "invalid_hands", f"one of {INVALID_HANDS}", got=invalid_hands)
    data = safe_load(path)
    width, layout = SIGNAVATARS_LAYOUTS[params]
    table = check_array(path, params, _get(path, data, params), (None, width))
    check_frames(path, params, len(table))
    num_frames = len(table)
    clip_params = {key: table[:, a:b] for key, (a, b) in layout.items()}
    clip_params["betas"] = clip_params["betas"].mean(0)
    repairs = {"hand_frames_interpolated": 0, "hands_never_valid": 0, "frames_filled": 0}

    for key, flag in SIGNAVATARS_HAND_FLAGS.items():
        if flag not in data or invalid_hands == "keep":
            continue
        valid = _frame_flags(path, flag, data[flag], num_frames)
        if not valid.any():
            repairs["hands_never_valid"] += 1
        elif not valid.all():
            clip_params[key] = fill_invalid(clip_params[key], valid, rotation=True)
            repairs["hand_frames_interpolated"] += int((~valid).sum())

    if "total_valid_index" in data:  # rows → video frames; gaps (frames without a fit) interpolated
        index = _frame_index(path, data["total_valid_index"], num_frames)
        present = np.zeros(index[-1] - index[0] + 1, dtype=bool)
        present[index - index[0]] = True
        if not present.all():
            for key, value in clip_params.items():
                if value.ndim == 2:
                    spread = np.zeros((len(present), value.shape[1]))
                    spread[present] = value
                    clip_params[key] = fill_invalid(spread, present, rotation=key in ROTATION_KEYS)
            repairs["frames_filled"] = int((~present).sum())
    return MotionClip(str(path), fps, params=clip_params, y_down=True,
                      meta={"source": "signavatars", "params": params, "repairs": repairs})


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
    fps = check_fps(fps, folder, "fps")
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
    fps = check_fps(fps, path, "fps")
    motion = check_array(path, "smplx_322", load_npy(path), (None, 322))
    check_frames(path, "smplx_322", len(motion))
    params = {"global_orient": motion[:, 0:3], "body_pose": motion[:, 3:66],
              "left_hand_pose": motion[:, 66:111], "right_hand_pose": motion[:, 111:156],
              "jaw_pose": motion[:, 156:159], "transl": motion[:, 309:312],
              "betas": motion[:, 312:322].mean(0)}
    return MotionClip(str(path), fps, params=params, meta={"source": "motionx"})


def load_joints(path, fps: float = 30.0) -> MotionClip:
    """Plain joint positions `.npy` (T, 52, 3), y up, in the lslm joint order (22-joint arrays are refused)."""
    fps = check_fps(fps, path, "fps")
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
        fps = check_fps(value.item() if value.ndim == 0 and value.dtype.kind in "fiu" else value, path, "fps")
    if fps is None:
        raise InvalidInputError(path, "fps", "present in the file or the manifest", got="missing")
    fps = check_fps(fps, path, "fps")
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


# ---- discovery and detection -----------------------------------------------------------------------

def _files(suffix: str) -> Callable[[Path], list[tuple[str, Path]]]:
    def discover(root: Path) -> list[tuple[str, Path]]:
        return [(p.stem, p) for p in sorted(Path(root).rglob(f"*{suffix}"))]
    return discover


def _smplerx_folders(root: Path) -> list[tuple[str, Path]]:
    folders = sorted({p.parent for p in Path(root).rglob("*.npz")})
    return [(folder.name, folder) for folder in folders]


def npy_shape(path) -> tuple[int, ...] | None:
    """The array shape in a `.npy` header (no data read); None when `path` is not a readable .npy."""
    try:
        with open(path, "rb") as f:
            return tuple(_npy_header(f, path)[0])
    except (OSError, InvalidInputError):
        return None


def _suffix(suffix: str) -> Callable[[Path], bool]:
    return lambda path: path.is_file() and path.suffix == suffix


def _npy_of(*shape: int | None) -> Callable[[Path], bool]:
    """A .npy whose shape is `shape` (None: any size)."""
    def detect(path: Path) -> bool:
        found = npy_shape(path) if _suffix(".npy")(path) else None
        return found is not None and len(found) == len(shape) and all(
            s is None or s == f for s, f in zip(shape, found))
    return detect


def _npz_folder(path: Path) -> bool:
    """A folder of per-frame .npz files, directly or in its smplx/ (SMPLer-X's results layout)."""
    return path.is_dir() and (any(path.glob("*.npz")) or any(path.glob("smplx/*.npz")))


@dataclass(frozen=True)
class Adapter:
    """One input format: how to read one clip, find the clips in a folder (id, path) and recognise
    a single input (file or folder) of this format.

    `options(convert_options)` gives the keyword arguments of `load` taken from the run's
    `lslm.data.convert.ConvertOptions` (format-specific settings such as SignAvatars' table).
    """

    load: Callable[..., MotionClip]
    discover: Callable[[Path], list[tuple[str, Path]]] | None
    default_fps: float | None
    detect: Callable[[Path], bool] | None = None
    options: Callable[[object], dict] = lambda options: {}


# Detection tries the formats in this order; the first whose `detect` accepts the path wins.
ADAPTERS: dict[str, Adapter] = {
    "signavatars": Adapter(load_signavatars, _files(".pkl"), 24.0, _suffix(".pkl"),
                           options=lambda o: {"params": o.signavatars_params, "invalid_hands": o.invalid_hands}),
    "smplerx": Adapter(load_smplerx, _smplerx_folders, 24.0, _npz_folder),
    "motionx": Adapter(load_motionx, _files(".npy"), 30.0, _npy_of(None, 322)),
    "joints": Adapter(load_joints, _files(".npy"), 30.0, _npy_of(None, NUM_JOINTS, 3)),
    "lslm": Adapter(load_lslm, None, None, _suffix(".npz")),  # a folder's clips come from its manifest.jsonl
}

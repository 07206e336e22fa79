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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lslm.checks import check_fps
from lslm.motion.clip import MotionClip
from lslm.motion.resample import ROTATION_KEYS, fill_invalid, mask_runs
from lslm.data.safe_pickle import safe_load
from lslm.errors import InvalidInputError

NUM_JOINTS = 52
# Sizes of the SMPL-X parameters we read (axis-angle, 45-dim hands: use_pca=False).
PARAM_SIZES = {"global_orient": 3, "body_pose": 63, "left_hand_pose": 45, "right_hand_pose": 45,
               "jaw_pose": 3, "transl": 3}
REQUIRED_PARAMS = ("global_orient", "body_pose", "left_hand_pose", "right_hand_pose", "transl")
DEFLATE_MAX_RATIO = 1032  # deflate cannot expand data by more than about 1032:1


# ---- validation helpers ----------------------------------------------------------------------------

def _to_numpy(value):
    if type(value).__module__.startswith("torch"):  # torch.Tensor, without importing torch
        return value.detach().cpu().numpy()
    return np.asarray(value)


def check_array(path: str | os.PathLike | None, name: str, value: Any,
                shape: tuple[int | None, ...]) -> np.ndarray:
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


def check_frames(path: str | os.PathLike | None, name: str, num_frames: int) -> None:
    """An InvalidInputError naming `path` and `name` unless the clip has at least 2 frames."""
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


def load_npy(path: str | os.PathLike) -> np.ndarray:
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


def load_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
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


def load_signavatars(path: str | os.PathLike, fps: float = 24.0, params: str = "smplx",
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
    from lslm.motion.resample import ROTATION_KEYS, fill_invalid

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


SMPLERX_MAX_GAP = 8  # frames without a detection: up to this many interpolated (slerp), longer held


def _frame_person(path: Path) -> tuple[int, int]:
    """(frame, person) of a per-frame file: SMPLer-X names them `{frame:05}_{person}`; a name with one
    number (or any other) is read as the frame of person 0 by its last number."""
    match = re.fullmatch(r"(\d+)_(\d+)", path.stem)
    if match:
        return int(match.group(1)), int(match.group(2))
    digits = re.findall(r"\d+", path.stem)
    if not digits:
        raise InvalidInputError(path, "file name", "a frame number in the name ({frame:05}_{person}.npz)",
                                got=path.name)
    return int(digits[-1]), 0


def _smplerx_meta(path: Path) -> dict | None:
    """meta/{frame}_{person}.json next to smplx/ (focal, princpt, bbox), or None when absent."""
    import json

    meta = path.parent.parent / "meta" / f"{path.stem}.json"
    if path.parent.name != "smplx" or not meta.is_file():
        return None
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
        return {"focal": check_array(meta, "focal", np.asarray(data["focal"], dtype=np.float64), (2,)),
                "princpt": check_array(meta, "princpt", np.asarray(data["princpt"], dtype=np.float64), (2,)),
                "bbox": check_array(meta, "bbox", np.asarray(data["bbox"], dtype=np.float64), (4,))}
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise InvalidInputError(meta, "meta", "JSON with focal (2), princpt (2) and bbox (x, y, w, h)",
                                got=f"{type(e).__name__}: {e}") from e


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def _follow_person(frames: dict[int, dict[int, Path]], metas: dict[Path, dict | None]) -> dict[int, Path]:
    """One file per frame: the largest box first, then in each frame the box that overlaps the previous
    choice most (the largest when none overlaps); person 0 where there are no boxes."""
    chosen, previous = {}, None
    for frame in sorted(frames):
        people = frames[frame]
        boxes = {p: metas[f]["bbox"] for p, f in people.items() if metas[f] is not None}
        if len(boxes) != len(people):
            person = min(people)
        else:
            largest = max(boxes, key=lambda p: boxes[p][2] * boxes[p][3])
            person = largest
            if previous is not None:
                overlap = {p: _iou(box, previous) for p, box in boxes.items()}
                best = max(overlap, key=overlap.get)
                person = best if overlap[best] > 0 else largest
            previous = boxes[person]
        chosen[frame] = people[person]
    return chosen


def _consistent_transl(transl: np.ndarray, metas: list[dict | None]) -> np.ndarray | None:
    """SMPLer-X's `transl` belongs to a virtual camera per crop (focal f, principal point c, both in image
    pixels, that follow the box). Re-expressed for one camera of the clip (focal F = the median f,
    principal point C = the median c) the projection is unchanged:
    Z' = Z·F/f, X' = X + (c_x − C_x)·Z/f_x, Y' = Y + (c_y − C_y)·Z/f_y. None when a frame has no meta."""
    if any(m is None for m in metas):
        return None
    focal = np.stack([m["focal"] for m in metas])  # (T, 2)
    princpt = np.stack([m["princpt"] for m in metas])
    big_f, big_c = np.median(focal, axis=0), np.median(princpt, axis=0)
    z = transl[:, 2]
    out = np.empty_like(transl)
    out[:, :2] = transl[:, :2] + (princpt - big_c) * (z / focal.T).T
    out[:, 2] = z * big_f.mean() / focal.mean(-1)
    return out


def load_smplerx(folder: str | os.PathLike, fps: float = 24.0, num_frames: int | None = None,
                 max_gap: int = SMPLERX_MAX_GAP) -> MotionClip:
    """SMPLer-X (or lslm's SMPLest-X driver) output of one video, camera frame (y down).

    `folder` is the video's results folder (`smplx/{frame:05}_{person}.npz`, `meta/{frame:05}_{person}.json`)
    or a folder of per-frame `.npz` files. Per file: global_orient (3), body_pose (21, 3), left/right_hand_pose
    (15, 3), transl (3), optional jaw_pose (3), betas (10), expression (10) (leading 1-sized axes accepted).

    - Frames are numbered from 1 (the image numbers SMPLer-X read); the clip runs from frame 1 to the last
      file, or to `num_frames` (the video's count) when given. Frames without a file (nobody detected)
      are filled, gaps of at most `max_gap` frames by slerp, longer ones held, and listed in
      meta["gaps"]; meta["detected"] (T,) says which frames were estimated. No frame is dropped.
    - Several people in a frame: one is followed through the clip (the largest box, then box overlap).
    - `transl` is re-expressed in one camera for the clip from meta/*.json; without meta it is dropped
      (zeros), as meta["transl"] says. Betas are averaged over the detected frames.
    """
    folder = Path(folder)
    fps = check_fps(fps, folder, "fps")
    if (folder / "smplx").is_dir():
        folder = folder / "smplx"
    files = sorted(folder.glob("*.npz"))
    if not files:
        raise InvalidInputError(folder, "frame files", "SMPLer-X per-frame .npz files ({frame:05}_{person}.npz)",
                                got="none")
    by_frame: dict[int, dict[int, Path]] = {}
    for f in files:
        frame, person = _frame_person(f)
        if person in by_frame.setdefault(frame, {}):
            raise InvalidInputError(f, "file name", "one file per frame and person",
                                    got=f"frame {frame} person {person} twice")
        by_frame[frame][person] = f
    metas = {f: _smplerx_meta(f) for f in files}
    chosen = _follow_person(by_frame, metas)
    first = min(1, min(chosen))
    last = max(max(chosen), first + num_frames - 1) if num_frames else max(chosen)
    t = last - first + 1
    check_frames(folder, "frames", t)

    frames: dict[str, list[np.ndarray]] = {}
    optional = {"betas": 10, "expression": 10}
    for frame in sorted(chosen):
        f = chosen[frame]
        data = load_npz(f)
        for key, size in {**PARAM_SIZES, **optional}.items():
            if key not in data:
                if key in REQUIRED_PARAMS:
                    raise InvalidInputError(f, key, "present", got="missing")
                continue
            # (1, 21, 3), (21, 3), (63,) … → (size,)
            value = check_array(f, key, np.reshape(data[key], -1), (size,))
            frames.setdefault(key, []).append(value)
    if any(len(v) != len(chosen) for v in frames.values()):
        raise InvalidInputError(folder, "frame files", "the same keys in every frame")
    detected = np.zeros(t, dtype=bool)
    detected[[frame - first for frame in sorted(chosen)]] = True
    consistent = _consistent_transl(np.stack(frames["transl"]), [metas[chosen[k]] for k in sorted(chosen)])
    params = {}
    for key, values in frames.items():
        if key == "betas":
            params[key] = np.mean(values, axis=0)
            continue
        value = np.stack(values) if key != "transl" or consistent is None else consistent
        full = np.zeros((t, value.shape[1]))
        full[detected] = value
        params[key] = fill_invalid(full, detected, rotation=key in ROTATION_KEYS, max_gap=max_gap)
    if consistent is None:
        params["transl"] = np.zeros((t, 3))
    gaps = [{"start": int(s), "frames": int(n)} for s, n in mask_runs(~detected)]
    return MotionClip(str(folder.parent if folder.name == "smplx" else folder), fps, params=params, y_down=True,
                      meta={"source": "smplerx", "detected": detected, "gaps": gaps, "first_frame": first,
                            "people": int(max(len(p) for p in by_frame.values())),
                            "transl": "one camera for the clip (meta/*.json)" if consistent is not None
                            else "dropped (no meta/*.json)"})


def load_motionx(path: str | os.PathLike, fps: float = 30.0) -> MotionClip:
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


def load_joints(path: str | os.PathLike, fps: float = 30.0) -> MotionClip:
    """Plain joint positions `.npy` (T, 52, 3), y up, in the lslm joint order (22-joint arrays are refused)."""
    fps = check_fps(fps, path, "fps")
    joints = check_array(path, "joints", load_npy(path), (None, NUM_JOINTS, 3))
    check_frames(path, "joints", len(joints))
    return MotionClip(str(path), fps, joints=joints, meta={"source": "joints"})


def load_lslm(path: str | os.PathLike, fps: float | None = None) -> MotionClip:
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


def load_pose_file(path: str | os.PathLike, fps: float | None = None) -> MotionClip:
    """A MediaPipe Holistic `.pose` file → joints retargeted by lslm.video (the `video` extra), y up."""
    from lslm.video.frontend import load_pose
    return load_pose(path, fps)


def load_video_file(path: str | os.PathLike, fps: float | None = None) -> MotionClip:
    """A sign video → MediaPipe Holistic on CPU → joints, by lslm.video (the `video` extra), y up."""
    from lslm.video.frontend import load_video
    return load_video(path, fps)


# ---- discovery and detection -----------------------------------------------------------------------

def _files(suffix: str) -> Callable[[Path], list[tuple[str, Path]]]:
    def discover(root: Path) -> list[tuple[str, Path]]:
        return [(p.stem, p) for p in sorted(Path(root).rglob(f"*{suffix}"))]
    return discover


def _is_video(path: Path) -> bool:
    from lslm.video.reader import VIDEO_SUFFIXES
    return path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES


def _videos(root: Path) -> list[tuple[str, Path]]:
    return [(p.stem, p) for p in sorted(Path(root).rglob("*")) if _is_video(p)]


def _smplerx_folders(root: Path) -> list[tuple[str, Path]]:
    """One clip per folder of per-frame .npz files; SMPLer-X's `<video>/smplx/` is clip `<video>`."""
    folders = sorted({p.parent for p in Path(root).rglob("*.npz")})
    return [(f.parent.name, f.parent) if f.name == "smplx" else (f.name, f) for f in folders]


def npy_shape(path: str | os.PathLike) -> tuple[int, ...] | None:
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
    "pose": Adapter(load_pose_file, _files(".pose"), None, _suffix(".pose")),  # None: each file's own frame rate
    "video": Adapter(load_video_file, _videos, None, _is_video),
}

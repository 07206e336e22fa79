"""SMPL-X parameters → the 52 skeleton joints, without building the mesh.

SMPL-X joints do not depend on the pose blend shapes, so

    rest joints  = J_regressor · (v_template + shapedirs · [betas, expression])
    posed joints = forward kinematics of the rest joints with the per-joint rotations (+ transl).

Both J_regressor products are taken once per model file, which makes the betas → rest-joint step a
(52·3 × n_shape) matrix product, and the whole call a few small batched matmuls per kinematic level.
Joints 22–24 (jaw, eyes) are leaves that are not part of the 52, so `jaw_pose`/`leye_pose`/`reye_pose`
never move them and are only validated.

Without a model file, a rest `Skeleton` (ours by default, `assets/rest_skeleton_smplx52.json`) gives the
rest joints; betas and expression are then ignored and there is no hand mean.
"""
from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from zipfile import BadZipFile

import numpy as np
import torch

from lslm.assets import asset_path
from lslm.errors import InvalidInputError
from lslm.motion.skeleton import Skeleton

__all__ = ["default_rest_skeleton", "forward_kinematics", "load_joint_model", "rest_positions", "smplx_to_joints"]

REST_SKELETON_PATH = asset_path("rest_skeleton_smplx52.json")
SMPLX_TO_52 = (*range(22), *range(25, 55))  # SMPL-X joint index of each of our 52 joints
POSE_FIELDS = {  # field → joints it rotates; the 52 joints take global_orient, body, left, right hand
    "global_orient": 1, "body_pose": 21, "jaw_pose": 1, "leye_pose": 1, "reye_pose": 1,
    "left_hand_pose": 15, "right_hand_pose": 15,
}
FIELDS = (*POSE_FIELDS, "betas", "expression", "transl")
MODEL_KEYS = ("v_template", "shapedirs", "J_regressor", "kintree_table", "hands_meanl", "hands_meanr")


def rest_positions(offsets: np.ndarray) -> np.ndarray:
    """Joint positions (52, 3) of the rest pose (all rotations identity)."""
    parents = Skeleton.smplx52().parents
    pos = np.zeros_like(offsets)
    for j in range(1, len(parents)):
        pos[j] = pos[parents[j]] + offsets[j]
    return pos


@functools.lru_cache(maxsize=1)
def default_rest_skeleton() -> Skeleton:
    """Our own adult rest skeleton: `Skeleton.smplx52()` with offsets (52, 3) in metres, y-up, facing +Z,
    left at +X, T-pose, pelvis at the origin (from `assets/rest_skeleton_smplx52.json`)."""
    path = REST_SKELETON_PATH
    try:
        joints = json.loads(path.read_text(encoding="utf-8"))["joints"]
    except (OSError, ValueError, KeyError) as err:
        raise InvalidInputError(path, "joints", "a JSON object {name: [x, y, z]}", got=repr(err)) from err
    skeleton = Skeleton.smplx52()
    if list(joints) != list(skeleton.names):
        raise InvalidInputError(path, "joints", "the 52 SMPL-X joint names in order", got=list(joints))
    skeleton = skeleton.with_offsets_from(np.array([joints[n] for n in skeleton.names], dtype=np.float64))
    skeleton.offsets.setflags(write=False)  # shared by every caller of this cached function
    return skeleton


@dataclass(frozen=True)
class _JointModel:
    """What a SMPL-X model file contributes to the 52 joints, in float64."""

    j_template: np.ndarray  # (52, 3)      J_regressor · v_template
    j_shapedirs: np.ndarray  # (52, 3, S)  J_regressor · shapedirs
    max_betas: int
    expr_start: int
    max_expression: int
    hand_mean: np.ndarray  # (30, 3)       left then right hand, axis-angle


def _model_file(model_path: str | os.PathLike, gender: str) -> Path:
    path = Path(model_path)
    if path.is_dir():
        path = path / f"SMPLX_{str(gender).upper()}.npz"
    if not path.is_file():
        raise InvalidInputError(path, "model_path", "an SMPL-X .npz file or a folder with SMPLX_{GENDER}.npz",
                                got="no such file")
    return path


def _read_model_arrays(path: Path) -> dict[str, np.ndarray]:
    """The MODEL_KEYS arrays of an .npz, float64 (pickled entries such as the official files' part2num
    are never read)."""
    try:
        npz = np.load(path, allow_pickle=False)
    except (OSError, BadZipFile, ValueError) as err:
        raise InvalidInputError(path, "model_path", "a readable .npz file", got=repr(err)) from err
    with npz:
        missing = [k for k in MODEL_KEYS if k not in npz.files]
        if missing:
            raise InvalidInputError(path, missing[0], "a key of an SMPL-X model file",
                                    got=f"keys {sorted(npz.files)}")
        arrays = {}
        for key in MODEL_KEYS:
            try:
                arrays[key] = np.asarray(npz[key], dtype=np.float64)
            except (OSError, BadZipFile, ValueError, TypeError) as err:
                raise InvalidInputError(path, key, "a numeric array", got=repr(err)) from err
    return arrays


@functools.lru_cache(maxsize=8)
def _load_joint_model(path: Path, mtime_ns: int, size: int) -> _JointModel:
    """Read and check the arrays the joints need (mtime/size are in the cache key so that a rewritten
    file is read again)."""
    arrays = _read_model_arrays(path)
    v_template, shapedirs, regressor = arrays["v_template"], arrays["shapedirs"], arrays["J_regressor"]
    if v_template.ndim != 2 or v_template.shape[1] != 3:
        raise InvalidInputError(path, "v_template", "shape (V, 3)", got=v_template.shape)
    num_verts = v_template.shape[0]
    if shapedirs.ndim != 3 or shapedirs.shape[:2] != (num_verts, 3):
        raise InvalidInputError(path, "shapedirs", f"shape ({num_verts}, 3, S)", got=shapedirs.shape)
    expected = {"J_regressor": (55, num_verts), "kintree_table": (2, 55), "hands_meanl": (45,),
                "hands_meanr": (45,)}
    for key, shape in expected.items():
        if arrays[key].shape != shape:
            raise InvalidInputError(path, key, f"shape {shape}", got=arrays[key].shape)
    for key, array in arrays.items():
        if not np.isfinite(array).all():
            raise InvalidInputError(path, key, "finite values", got="NaN/inf")
    parents55 = arrays["kintree_table"][0].astype(np.int64)
    ours = Skeleton.smplx52().parents
    if any(parents55[SMPLX_TO_52[j]] != SMPLX_TO_52[ours[j]] for j in range(1, 52)):
        raise InvalidInputError(path, "kintree_table", "the SMPL-X kinematic tree", got=parents55.tolist())

    # smplx's layout: 300 betas + 100 expressions (v1.1), or 10 + 10 (v1.0 files)
    num_dirs = shapedirs.shape[-1]
    expr_start, max_betas = (300, 300) if num_dirs >= 400 else (10, min(num_dirs, 10))
    regressor = regressor[list(SMPLX_TO_52)]  # (52, V)
    used = np.flatnonzero(regressor.any(axis=0))  # the real regressor reads only a few hundred vertices
    regressor = regressor[:, used]
    return _JointModel(
        j_template=regressor @ v_template[used],
        j_shapedirs=(regressor @ shapedirs[used].reshape(len(used), -1)).reshape(52, 3, num_dirs),
        max_betas=max_betas, expr_start=expr_start, max_expression=max(0, min(num_dirs - expr_start, 100)),
        hand_mean=np.concatenate([arrays["hands_meanl"], arrays["hands_meanr"]]).reshape(30, 3),
    )


def load_joint_model(model_path: str | os.PathLike, gender: str = "neutral") -> _JointModel:
    """The (cached) joint arrays of an SMPL-X .npz model file or of `model_path/SMPLX_{GENDER}.npz`."""
    path = _model_file(model_path, gender).resolve()
    stat = path.stat()
    return _load_joint_model(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4)
def _levels(parents: tuple[int, ...]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Joints grouped by depth below the root: [(joint indices, their parents)] for depth 1, 2, ..."""
    depth = [0] * len(parents)
    for j in range(1, len(parents)):
        depth[j] = depth[parents[j]] + 1
    groups = []
    for d in range(1, max(depth) + 1):
        joints = [j for j in range(len(parents)) if depth[j] == d]
        groups.append((torch.tensor(joints), torch.tensor([parents[j] for j in joints])))
    return groups


def forward_kinematics(rotmats: torch.Tensor, offsets: torch.Tensor, parents: tuple[int, ...]) -> torch.Tensor:
    """Batched FK. rotmats (N, J, 3, 3) local rotations; offsets (N or 1, J, 3) bone vectors child − parent,
    offsets[:, 0] the root position. Returns joint positions (N, J, 3)."""
    n, num_joints = rotmats.shape[:2]
    global_rot = torch.empty_like(rotmats)
    positions = rotmats.new_empty(n, num_joints, 3)
    global_rot[:, 0] = rotmats[:, 0]
    positions[:, 0] = offsets[:, 0]
    for joints, parent in _levels(tuple(parents)):
        parent_rot = global_rot[:, parent]  # (N, j, 3, 3)
        global_rot[:, joints] = parent_rot @ rotmats[:, joints]
        positions[:, joints] = positions[:, parent] + (parent_rot @ offsets[:, joints, :, None])[..., 0]
    return positions


def _as_tensor(field: str, value, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        if value.is_complex() or value.dtype == torch.bool:
            raise InvalidInputError(None, field, "a real-valued array", got=value.dtype)
        tensor = value.to(device=device, dtype=dtype)
    else:
        try:
            array = np.asarray(value)
        except (ValueError, TypeError) as err:
            raise InvalidInputError(None, field, "a numeric array", got=repr(err)) from err
        if array.dtype.kind not in "fiu":
            raise InvalidInputError(None, field, "a numeric array", got=f"dtype {array.dtype}")
        tensor = torch.as_tensor(array, dtype=dtype, device=device)
    if not torch.isfinite(tensor).all():
        raise InvalidInputError(None, field, "finite values", got="NaN/inf")
    return tensor


def _split_field(field: str, tensor: torch.Tensor) -> tuple[torch.Tensor, tuple[int, ...]]:
    """Bring a field to (..., k, 3) for poses or (..., n) for shape/transl; return it and its leading shape."""
    shape = tuple(tensor.shape)
    if field in POSE_FIELDS:
        k = POSE_FIELDS[field]
        if shape[-1:] == (3 * k,):
            return tensor.reshape(*shape[:-1], k, 3), shape[:-1]
        if k > 1 and shape[-2:] == (k, 3):
            return tensor, shape[:-2]
        expected = f"shape (..., {3 * k}) or (..., {k}, 3)" if k > 1 else "shape (..., 3)"
        raise InvalidInputError(None, field, expected, got=shape)
    if field == "transl" and shape[-1:] != (3,):
        raise InvalidInputError(None, field, "shape (..., 3)", got=shape)
    if len(shape) == 0:
        raise InvalidInputError(None, field, "shape (..., n)", got=shape)
    return tensor, shape[:-1]


def smplx_to_joints(params: dict, model_path: str | os.PathLike | None = None, flat_hand_mean: bool = False,
                    rest_skeleton: Skeleton | None = None,
                    gender: str = "neutral") -> np.ndarray | torch.Tensor:
    """SMPL-X parameters → the 52 joints (..., 52, 3) in `Skeleton.smplx52()` order (SMPL-X 0–21, 25–54).

    params: smplx's keyword names, axis-angle, hands as 45 values (use_pca=False): global_orient (..., 3),
        body_pose (..., 63 | 21, 3), left/right_hand_pose (..., 45 | 15, 3), jaw_pose / leye_pose /
        reye_pose (..., 3), betas (..., B), expression (..., E), transl (..., 3). Absent fields are zeros;
        leading shapes broadcast. numpy in → float32 numpy out; torch in → torch out (its dtype/device).
    model_path: an SMPL-X .npz (SMPLX_NEUTRAL.npz, ...) or a folder holding SMPLX_{GENDER}.npz. With it,
        betas/expression shape the rest joints and, unless `flat_hand_mean`, the model's hand mean is
        added to the hand poses (smplx's default). Without it, `rest_skeleton` (default
        `default_rest_skeleton()`) gives the rest joints; betas/expression are ignored, no hand mean.
    `transl` is added once, to every joint. Unknown fields, bad shapes or a model file that cannot be
    read raise InvalidInputError.
    """
    import roma  # here, not at module level: importing roma imports torch._dynamo (seconds)

    if not isinstance(params, dict):
        raise InvalidInputError(None, "params", "a dict of SMPL-X parameters", got=type(params).__name__)
    unknown = sorted(set(params) - set(FIELDS))
    if unknown:
        raise InvalidInputError(None, unknown[0], f"one of the SMPL-X fields {FIELDS}")
    given = {k: v for k, v in params.items() if v is not None}
    tensors_in = [v for v in given.values() if isinstance(v, torch.Tensor)]
    if tensors_in:
        floats = [t.dtype for t in tensors_in if t.is_floating_point()]
        dtype = functools.reduce(torch.promote_types, floats) if floats else torch.get_default_dtype()
        device = tensors_in[0].device
    else:
        dtype, device = torch.float32, torch.device("cpu")

    fields, leading = {}, {}
    for field, value in given.items():
        fields[field], leading[field] = _split_field(field, _as_tensor(field, value, dtype, device))
    try:
        batch = tuple(torch.broadcast_shapes(*leading.values())) if leading else ()
    except RuntimeError as err:
        raise InvalidInputError(None, "params", "fields whose leading (batch) shapes broadcast",
                                got={k: tuple(v) for k, v in leading.items()}) from err
    n = int(np.prod(batch, dtype=np.int64))

    # local rotations of the 52 joints: root, body, left hand, right hand
    rotvecs = torch.cat([fields.get(f, torch.zeros(POSE_FIELDS[f], 3, dtype=dtype, device=device))
                         .expand(*batch, POSE_FIELDS[f], 3)
                         for f in ("global_orient", "body_pose", "left_hand_pose", "right_hand_pose")],
                        dim=-2).reshape(n, 52, 3)

    parents = Skeleton.smplx52().parents
    if model_path is not None:
        model = load_joint_model(model_path, gender)
        if not flat_hand_mean:
            hand_mean = torch.as_tensor(model.hand_mean, dtype=dtype, device=device)
            rotvecs = torch.cat([rotvecs[:, :22], rotvecs[:, 22:] + hand_mean], dim=1)
        rest = _rest_joints(model, fields, batch, dtype, device)  # (N or 1, 52, 3)
        offsets = torch.cat([rest[:, :1], rest[:, 1:] - rest[:, list(parents[1:])]], dim=1)
    else:
        skeleton = default_rest_skeleton() if rest_skeleton is None else rest_skeleton
        if skeleton.parents != parents or skeleton.offsets is None or np.shape(skeleton.offsets) != (52, 3):
            raise InvalidInputError(None, "rest_skeleton", "a Skeleton.smplx52() with offsets (52, 3)")
        if np.asarray(skeleton.offsets).dtype.kind not in "fiu" or not np.isfinite(skeleton.offsets).all():
            raise InvalidInputError(None, "rest_skeleton.offsets", "finite numbers", got="NaN/inf or not numbers")
        offsets = torch.tensor(skeleton.offsets, dtype=dtype, device=device)[None]

    joints = forward_kinematics(roma.rotvec_to_rotmat(rotvecs), offsets, parents)  # (N, 52, 3)
    joints = joints.reshape(*batch, 52, 3)
    if "transl" in fields:
        joints = joints + fields["transl"][..., None, :]
    if tensors_in:
        return joints
    return joints.numpy().astype(np.float32, copy=False)


def _rest_joints(model: _JointModel, fields: dict, batch: tuple[int, ...], dtype: torch.dtype,
                 device: torch.device) -> torch.Tensor:
    """J_regressor · (v_template + shapedirs · [betas, expression]) as (N, 52, 3), or (1, 52, 3) when the
    shape is shared by the whole batch."""
    rest = torch.as_tensor(model.j_template, dtype=dtype, device=device)  # (52, 3)
    shared = True
    for field, start, limit in (("betas", 0, model.max_betas),
                                ("expression", model.expr_start, model.max_expression)):
        if field not in fields:
            continue
        coeffs = fields[field]  # (..., B)
        if coeffs.shape[-1] > limit:
            raise InvalidInputError(None, field, f"at most {limit} coefficients for this model",
                                    got=coeffs.shape[-1])
        dirs = torch.as_tensor(model.j_shapedirs[..., start:start + coeffs.shape[-1]], dtype=dtype,
                               device=device)  # (52, 3, B)
        rest = rest + torch.einsum("jcb,...b->...jc", dirs, coeffs)
        shared = shared and coeffs.dim() == 1
    if shared:
        return rest[None]
    return rest.expand(*batch, 52, 3).reshape(-1, 52, 3)


"""Joint positions ⇄ motion features: HumanML3D's representation for any joint set.

T frames of J joints give T−1 rows of D = 12J − 1 features (623 for the 52 SMPL-X joints, 263 for the
22 body joints of HumanML3D):

    [0]                   root angular velocity about Y (arcsin of the quaternion's y: half-angle units)
    [1:3]                 root linear velocity x, z in the root (facing) frame
    [3]                   root height
    positions  (J−1)·3    joints relative to the root, in the root frame
    rotations  (J−1)·6    6D rotations (first two rotation-matrix columns) from position IK
    velocities J·3        joint velocities in the root frame
    contacts   4          left (ankle, foot), right (ankle, foot): squared per-frame displacement below
                          0.002 m² at 20 fps, scaled by (20 / fps)² for other frame rates

Before the features, `preprocess_joints` retargets the motion to the target skeleton's bone lengths
(root trajectory scaled by the ratio of leg lengths, every bone keeps its direction and takes the
target's length: what HumanML3D's `uniform_skeleton` IK → FK does), puts the lowest joint at y = 0,
moves the root to the XZ origin at frame 0 and turns the body to face +Z at frame 0.

The root frame follows the facing direction (hips and shoulders), smoothed with a Gaussian of σ = 20
frames as in the reference code; frame 0 is pinned to the identity. The rotation of the first bone of
every kinematic chain is measured relative to this root frame, the others relative to their parent
bone, each from the rest direction in `Skeleton.ik_directions`.

Compatibility (`compat`):
  * `compat=True` (default) reproduces the features published by HumanML3D and Motion-X bit for bit
    (up to float rounding): their IK swaps the two hip indices when it computes the per-frame facing
    direction (HumanML3D issues #55/#107/#119), so the hip and shoulder vectors partly cancel; and the
    root angular velocity is arcsin(sin(Δ/2)), which takes the wrong way round when the facing crosses
    ±180° relative to frame 0 (the recovered trajectory then turns back).
  * `compat=False` uses the right hips for the facing and the shortest signed turn for the angular
    velocity. The two preprocessing steps are identical in both modes (the reference uses the right hips
    there).
`features_to_joints` reads only the root block and the position block, so it inverts both modes.

Batches: joints (B, T, J, 3) padded, with `lengths` (B,) frames per clip; every result row past a
clip's end is zero, and each clip is computed exactly as it would be alone.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from lslm.checks import check_bool, check_fps, check_numeric
from lslm.errors import InvalidInputError
from lslm.motion.skeleton import Skeleton

Array = np.ndarray | torch.Tensor  # functions return the array type they are given
Lengths = np.ndarray | torch.Tensor | list[int] | None  # (B,) valid frames per clip of a padded batch

FACING_SIGMA = 20.0  # frames: Gaussian smoothing of the per-frame facing direction (reference value)
CONTACT_THRESHOLD = 0.002  # m², squared foot displacement per frame at CONTACT_FPS
CONTACT_FPS = 20.0


def feature_layout(num_joints: int) -> dict[str, slice]:
    """Slices of the feature vector for `num_joints` joints (D = 12·num_joints − 1)."""
    j = num_joints
    pos_end = 4 + 3 * (j - 1)
    rot_end = pos_end + 6 * (j - 1)
    vel_end = rot_end + 3 * j
    return {"root": slice(0, 4), "positions": slice(4, pos_end), "rotations": slice(pos_end, rot_end),
            "velocities": slice(rot_end, vel_end), "contacts": slice(vel_end, vel_end + 4)}


def num_joints_from_dim(dim: int, field: str = "features") -> int:
    """J such that dim = 12J − 1 (623 → 52, 263 → 22)."""
    if dim < 23 or (dim + 1) % 12:
        raise InvalidInputError(None, field, "last dimension 12·J − 1 (623 for 52 joints, 263 for 22)",
                                got=dim)
    return (dim + 1) // 12


# ---------------------------------------------------------------------------------------------------
# Skeleton topology, precomputed once per joint set


@dataclass(frozen=True)
class _Topology:
    parents: torch.Tensor  # (J−1,) parent of joints 1..J−1
    ancestors: torch.Tensor  # (J−1, J) 1 where bone k (joint k+1 − its parent) lies on the root → j path
    directions: torch.Tensor  # (3, J−1) rest directions of bones 1..J−1, component-first
    reference: torch.Tensor  # (J−1,) bone whose rotation is each bone's reference frame; J−1: the root frame
    face: tuple[int, int, int, int]  # right hip, left hip, right shoulder, left shoulder
    feet: list[int]  # left ankle, left foot, right ankle, right foot
    leg_bones: list[int]  # bones (joint − 1) of the right knee and ankle


@functools.lru_cache(maxsize=8)
def _topology(skeleton: Skeleton) -> _Topology:
    parents = skeleton.parents
    num_joints = len(parents)
    chain_openers = {chain[1] for chain in skeleton.chains}
    ancestors = torch.zeros(num_joints, num_joints - 1)
    for j in range(1, num_joints):  # kinematic links, parents before children
        ancestors[j] = ancestors[parents[j]]
        ancestors[j, j - 1] = 1.0
    # The first bone of a chain (or a bone on the root) turns relative to the root frame, the others
    # relative to their parent bone.
    reference = [num_joints - 1 if j in chain_openers or parents[j] == 0 else parents[j] - 1
                 for j in range(1, num_joints)]
    (l_ankle, l_foot), (r_ankle, r_foot) = skeleton.foot_joints
    return _Topology(
        parents=torch.tensor(parents[1:]), ancestors=ancestors.T.contiguous(),
        directions=torch.from_numpy(skeleton.ik_directions[1:]).float().T.contiguous(),
        reference=torch.tensor(reference), face=skeleton.face_joints, feet=[l_ankle, l_foot, r_ankle, r_foot],
        leg_bones=[j - 1 for j in skeleton.leg_joints])


# ---------------------------------------------------------------------------------------------------
# Input checks and conversions


def _to_tensor(x, field: str) -> tuple[torch.Tensor, bool]:
    """(float32 tensor, was_numpy) of a real-valued array or tensor (bool, complex, strings are refused)."""
    x = check_numeric(x, None, field)
    if isinstance(x, torch.Tensor):
        return x.detach().to(torch.float32), False
    return torch.from_numpy(x.astype(np.float32, copy=False)), True


def _check_lengths(lengths, batch: int, max_len: int, min_len: int, unit: str) -> torch.Tensor | None:
    if lengths is None:
        return None
    lengths = check_numeric(lengths, None, "lengths", integer=True)
    lengths = lengths if isinstance(lengths, torch.Tensor) else torch.from_numpy(lengths)
    if lengths.shape != (batch,):
        raise InvalidInputError(None, "lengths", f"integers of shape ({batch},)",
                                got=f"{lengths.dtype} {tuple(lengths.shape)}")
    if batch and (lengths.min() < min_len or lengths.max() > max_len):
        raise InvalidInputError(None, "lengths", f"values in [{min_len}, {max_len}] ({unit} per clip)",
                                got=lengths.tolist())
    return lengths.long().cpu()


def _repeat_last_valid(x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
    """Replace padding rows (dim 1) by each clip's last valid row: per-clip results stay exact."""
    if lengths is None or bool((lengths == x.shape[1]).all()):
        return x
    index = torch.arange(x.shape[1])[None].minimum(lengths[:, None] - 1)  # (B, T)
    return torch.take_along_dim(x, index.to(x.device).view(index.shape + (1,) * (x.dim() - 2)), dim=1)


def _zero_padding(x: torch.Tensor, rows: torch.Tensor | None) -> torch.Tensor:
    if rows is not None:
        x[(torch.arange(x.shape[1])[None] >= rows[:, None]).to(x.device)] = 0.0
    return x


def _check_finite(x: torch.Tensor, field: str, expected: str = "finite values") -> None:
    # A sum is finite when every element is, and costs a fraction of an element-wise isfinite on CPU
    # (benchmarks/bench_checks.py); the element-wise test only confirms a non-finite sum
    # (NaN/inf, or finite values large enough to overflow it) and locates the culprit.
    if bool(torch.isfinite(x.sum())):
        return
    if not torch.isfinite(x).all():
        where = (~torch.isfinite(x)).nonzero()[0].tolist()
        raise InvalidInputError(None, field, expected, got=f"NaN/inf at index {where}")


def _prepare_joints(joints, target: Skeleton, lengths, min_frames: int):
    """Validate; return (B, T, J, 3) float32 with padding filled, lengths, and an output converter."""
    x, was_numpy = _to_tensor(joints, "joints")
    if not isinstance(target, Skeleton):
        raise InvalidInputError(None, "target", "a Skeleton with offsets", got=type(target).__name__)
    j = target.num_joints
    if x.dim() not in (3, 4) or x.shape[-2:] != (j, 3):
        raise InvalidInputError(None, "joints", f"shape (T, {j}, 3) or (B, T, {j}, 3) like the target "
                                "skeleton", got=tuple(x.shape))
    if target.offsets is None:
        raise InvalidInputError(None, "target", "a Skeleton with offsets (Skeleton.with_offsets_from(pose))")
    offsets = np.asarray(target.offsets)
    if offsets.shape != (j, 3) or offsets.dtype.kind not in "fiu" or not np.isfinite(offsets).all():
        raise InvalidInputError(None, "target.offsets", f"finite bone offsets ({j}, 3)",
                                got=f"{offsets.dtype} {offsets.shape}")
    batched = x.dim() == 4
    if not batched and lengths is not None:
        raise InvalidInputError(None, "lengths", "None for a single clip (T, J, 3)", got=lengths)
    x = x if batched else x[None]
    if x.shape[1] < min_frames:
        raise InvalidInputError(None, "joints", f"at least {min_frames} frames", got=x.shape[1])
    lengths = _check_lengths(lengths, x.shape[0], x.shape[1], min_frames, "frames")
    x = _repeat_last_valid(x, lengths)
    _check_finite(x, "joints")

    def convert(y: torch.Tensor):
        y = y if batched else y[0]
        return y.numpy() if was_numpy else y.to(joints.device)

    return x, lengths, convert


# ---------------------------------------------------------------------------------------------------
# Geometry helpers


# Component-first layout: a batch of 3-vectors is one (3, …) tensor (x, y, z planes, each contiguous) and a
# batch of quaternions one (4, …) tensor (x, y, z, w). The small-vector algebra below is written out per
# component on these planes: on CPU that is several times faster than batched 3×3 matmuls,
# torch.linalg.cross or roma's quaternion product on (…, 3) tensors, whose stride-3 components defeat
# vectorisation (benchmarks/bench_features.py).
def _turn(v: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """v (3, …) rotated about +Y by theta (broadcastable to v[0]): v @ [[c, 0, −s], [0, 1, 0], [s, 0, c]]."""
    c, s = torch.cos(theta).to(v.dtype), torch.sin(theta).to(v.dtype)
    x, y, z = v
    return torch.stack([x * c + z * s, y, z * c - x * s])


def _norm(v: torch.Tensor) -> torch.Tensor:
    """Euclidean norm of v (k, …) over its components → (…) (a plain sum of planes: torch's reductions over a
    leading dimension are slow on CPU)."""
    return torch.sqrt(sum(c * c for c in v))


def _quat_between(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Shortest-arc unit quaternions (4, …) turning unit vectors u (3, …) onto unit vectors v (broadcast)."""
    (u0, u1, u2), (v0, v1, v2) = u, v
    q = torch.stack([u1 * v2 - u2 * v1, u2 * v0 - u0 * v2, u0 * v1 - u1 * v0, 1.0 + u0 * v0 + u1 * v1 + u2 * v2])
    return q / _norm(q)


def _conj_product(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """conj(a) · b for quaternions (4, …) (Hamilton product): the rotation b relative to a."""
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return torch.stack([aw * bx - ax * bw - ay * bz + az * by,
                        aw * by + ax * bz - ay * bw - az * bx,
                        aw * bz - ax * by + ay * bx - az * bw,
                        aw * bw + ax * bx + ay * by + az * bz])


def _rotation_6d(q: torch.Tensor) -> torch.Tensor:
    """Unit quaternions (4, …) → the first two columns of their rotation matrices (6, …), column by column."""
    x, y, z, w = q
    return torch.stack([1 - 2 * (y * y + z * z), 2 * (x * y + z * w), 2 * (x * z - y * w),
                        2 * (x * y - z * w), 1 - 2 * (x * x + z * z), 2 * (y * z + x * w)])


def _write(block: torch.Tensor, planes: torch.Tensor) -> None:
    """Interleave planes (k, B, N, n) into a feature block (B, N, n·k) (one strided copy)."""
    block.unflatten(-1, (planes.shape[-1], planes.shape[0])).copy_(planes.permute(1, 2, 3, 0))


def _facing_angle(p: torch.Tensor, face: tuple[int, int, int, int], sigma: float = 0.0) -> torch.Tensor:
    """Joints (3, B, T, J) → (B, T) yaw that turns the facing direction (Y × across of hips + shoulders,
    optionally smoothed over T) onto +Z."""
    r_hip, l_hip, r_sdr, l_sdr = face
    across = p[..., r_hip] - p[..., l_hip] + p[..., r_sdr] - p[..., l_sdr]  # (3, B, T)
    across = across / _norm(across)
    forward = torch.stack([across[2], -across[0]], dim=-1)  # (B, T, 2): x, z of Y × across
    if sigma:
        forward = _gaussian_smooth(forward, sigma)
    return torch.atan2(-forward[..., 0], forward[..., 1])


def _gaussian_smooth(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Smooth (B, T, C) along T like scipy.ndimage.gaussian_filter1d(mode='nearest', truncate=4)."""
    radius = int(4.0 * sigma + 0.5)
    taps = torch.arange(-radius, radius + 1, dtype=torch.float64)
    kernel = torch.exp(-0.5 * (taps / sigma) ** 2)
    kernel = (kernel / kernel.sum()).to(x)
    b, t, c = x.shape
    y = x.permute(0, 2, 1).reshape(b * c, 1, t)  # (B·C, 1, T)
    y = F.conv1d(F.pad(y, (radius, radius), mode="replicate"), kernel.view(1, 1, -1))
    return y.view(b, c, t).permute(0, 2, 1)


def _unit_bones(p: torch.Tensor, topo: _Topology) -> tuple[torch.Tensor, torch.Tensor]:
    """Joints (3, …, J) → unit bone directions (3, …, J−1) and lengths (…, J−1)."""
    bones = p[..., 1:] - p[..., topo.parents]
    lengths = _norm(bones)
    return bones / lengths, lengths


# ---------------------------------------------------------------------------------------------------
# Preprocessing


def _preprocess(p: torch.Tensor, target: Skeleton, topo: _Topology) -> tuple[torch.Tensor, torch.Tensor]:
    """Joints (3, B, T, J) → (joints retargeted, on the floor, root at the XZ origin, facing +Z at frame 0;
    their unit bone directions (3, B, T, J−1)).

    The directions are the input's, turned like the joints: differences of the output positions would
    lose float32 digits on short finger bones far from the origin (the IK's quaternions amplify that).
    """
    # Retarget: every bone keeps its direction and takes the target's length; the root trajectory is
    # scaled by the ratio of leg lengths measured at frame 0.
    target_lengths = torch.from_numpy(np.linalg.norm(target.offsets[1:], axis=-1)).to(p)  # (J−1,)
    directions, lengths = _unit_bones(p, topo)  # (3, B, T, J−1), (B, T, J−1)
    if not (lengths > 0).all():
        clip, frame, bone = (lengths <= 0).nonzero()[0].tolist()
        raise InvalidInputError(None, "joints", "every joint apart from its parent (non-zero bones)",
                                got=f"joint {bone + 1} on its parent in clip {clip}, frame {frame}")
    scale = target_lengths[topo.leg_bones].sum() / lengths[:, 0, topo.leg_bones].sum(-1)  # (B,)
    # forward kinematics as one matrix product: joint = root + Σ bones on its path
    out = (directions * target_lengths) @ topo.ancestors.to(p)  # (3, B, T, J)
    out += p[..., :1] * scale[:, None, None]

    # Floor, root XZ at the origin at frame 0, facing +Z at frame 0: out ← (out − shift) @ yaw
    shift = out[:, :, :1, :1].clone()  # (3, B, 1, 1)
    shift[1] = out[1].amin(dim=(1, 2))[:, None, None]
    yaw = _facing_angle(out[:, :, :1], topo.face)[:, :, None]  # (B, 1, 1)
    return _turn(out - shift, yaw), _turn(directions, yaw)


def preprocess_joints(joints: Array, target: Skeleton, lengths: Lengths = None) -> Array:
    """Retarget joints (…, T, J, 3) to `target`'s bone lengths, floor, centre and face +Z (see module doc).

    Same type and shape as `joints`, float32; rows past `lengths` (frames per clip) are zero. Bad shapes,
    lengths or non-finite values raise InvalidInputError.
    """
    p, lengths, convert = _prepare_joints(joints, target, lengths, min_frames=1)
    out, _ = _preprocess(p.permute(3, 0, 1, 2).contiguous(), target, _topology(target))
    out = out.permute(1, 2, 3, 0)  # (B, T, J, 3)
    return convert(_zero_padding(out.contiguous(), lengths))


# ---------------------------------------------------------------------------------------------------
# Features


def _features(p: torch.Tensor, directions: torch.Tensor, topo: _Topology, fps: float, compat: bool) -> torch.Tensor:
    """Preprocessed joints (3, B, T, J) and their unit bone directions (3, B, T, J−1) → features
    (B, T−1, 12J − 1)."""
    _, b, t, j = p.shape
    layout = feature_layout(j)
    out = p.new_empty(b, t - 1, 12 * j - 1)

    # Root frame: smoothed facing per frame, frame 0 pinned; the reference swaps the hips (compat).
    r_hip, l_hip, r_sdr, l_sdr = topo.face
    face = (l_hip, r_hip, r_sdr, l_sdr) if compat else topo.face
    theta = _facing_angle(p, face, sigma=FACING_SIGMA).double()  # (B, T)
    theta[:, 0] = 0.0
    half_turn = (theta[:, 1:] - theta[:, :-1]) / 2
    if compat:
        out[..., 0] = torch.asin(torch.sin(half_turn))
    else:
        out[..., 0] = torch.remainder(half_turn + math.pi / 2, math.pi) - math.pi / 2
    turn = theta[:, :, None]  # (B, T, 1): broadcasts over joints

    # Root velocity in the root frame of the next frame, root height.
    root_step = _turn(p[..., 1:, 0] - p[..., :-1, 0], theta[:, 1:])  # (3, B, T−1)
    out[..., 1] = root_step[0]
    out[..., 2] = root_step[2]
    out[..., 3] = p[1, :, :-1, 0]

    # Positions relative to the root (XZ), in the root frame.
    local = _turn(p[:, :, :-1], turn[:, :-1])  # (3, B, T−1, J)
    local[::2] -= local[::2, :, :, :1].clone()
    _write(out[..., layout["positions"]], local[..., 1:])

    # Joint velocities in the root frame of the current frame.
    _write(out[..., layout["velocities"]], _turn(p[:, :, 1:] - p[:, :, :-1], turn[:, :-1]))

    # Position IK: each bone's rotation from its rest direction, relative to its reference frame
    # (the root frame for the first bone of a chain, else the parent bone).
    bone_q = _quat_between(topo.directions.to(p)[:, None, None], directions[:, :, :-1])  # (4, B, T−1, J−1)
    half = (theta[:, :-1] / 2).to(p.dtype)
    zero = torch.zeros_like(half)
    root_q = torch.stack([zero, torch.sin(half), zero, torch.cos(half)])  # (4, B, T−1)
    reference = torch.cat([bone_q, root_q[..., None]], dim=-1)[..., topo.reference.to(p.device)]
    _write(out[..., layout["rotations"]], _rotation_6d(_conj_product(reference, bone_q)))

    # Foot contacts: small squared displacement per frame, threshold scaled with the frame rate.
    feet = p[..., topo.feet]  # (3, B, T, 4)
    threshold = CONTACT_THRESHOLD * (CONTACT_FPS / fps) ** 2
    out[..., layout["contacts"]] = (((feet[:, :, 1:] - feet[:, :, :-1]) ** 2).sum(0) < threshold).to(p.dtype)
    return out


def joints_to_features(joints: Array, target: Skeleton, fps: float = 30.0, compat: bool = True,
                       lengths: Lengths = None) -> Array:
    """Joints (T, J, 3) or (B, T, J, 3), metres, y up → features (…, T−1, 12J − 1) float32, same array type.

    `target` carries the bone lengths to retarget to (`Skeleton.…().with_offsets_from(pose)`); `fps`
    scales the foot-contact threshold; `compat` see the module doc; `lengths` (B,) frames per clip of a
    padded batch (rows from length − 1 on are zero). Fewer than 2 frames, joints that do not match
    `target`, bad lengths or non-finite values raise InvalidInputError.
    """
    fps = check_fps(fps)
    compat = check_bool(compat, None, "compat")
    p, lengths, convert = _prepare_joints(joints, target, lengths, min_frames=2)
    topo = _topology(target)
    p = p.permute(3, 0, 1, 2).contiguous()  # (3, B, T, J): component-first
    feats = _features(*_preprocess(p, target, topo), topo, fps, compat)
    _check_finite(feats, "joints", "coordinates in metres whose features are finite")
    return convert(_zero_padding(feats, None if lengths is None else lengths - 1))


def features_to_joints(features: Array, lengths: Lengths = None) -> Array:
    """Features (…, N, 12J − 1) → joints (…, N, J, 3) float32 metres, same array type (HumanML3D's
    recover_from_ric): integrates the root turn and velocity, then places the position block.

    `lengths` (B,) valid feature rows per clip of a padded batch; rows past them are zero. A width that is
    not 12J − 1, bad lengths or non-finite values raise InvalidInputError.
    """
    x, was_numpy = _to_tensor(features, "features")
    if x.dim() not in (2, 3):
        raise InvalidInputError(None, "features", "shape (N, D) or (B, N, D)", got=tuple(x.shape))
    j = num_joints_from_dim(x.shape[-1])
    batched = x.dim() == 3
    if not batched and lengths is not None:
        raise InvalidInputError(None, "lengths", "None for a single clip (N, D)", got=lengths)
    x = x if batched else x[None]
    if x.shape[1] < 1:
        raise InvalidInputError(None, "features", "at least one row", got=tuple(x.shape))
    lengths = _check_lengths(lengths, x.shape[0], x.shape[1], 1, "feature rows")
    x = _repeat_last_valid(x, lengths)
    _check_finite(x, "features")

    # Root: yaw from the summed half-angle turns, XZ from the summed velocities, height as stored.
    x = x.double()
    theta = 2 * F.pad(torch.cumsum(x[:, :-1, 0], dim=1), (1, 0))  # (B, N)
    step = torch.zeros((3,) + x.shape[:2], dtype=x.dtype, device=x.device)  # (3, B, N)
    step[::2, :, 1:] = x[:, :-1, 1:3].permute(2, 0, 1)
    root = torch.cumsum(_turn(step, -theta), dim=2)  # (3, B, N)
    root[1] = x[..., 3]

    # Joints: the position block back from the root frame, plus the root's XZ.
    local = x[..., feature_layout(j)["positions"]].unflatten(-1, (j - 1, 3)).permute(3, 0, 1, 2)  # (3, B, N, J−1)
    joints = _turn(local, -theta[..., None])
    joints[::2] += root[::2, ..., None]
    out = torch.cat([root[..., None], joints], dim=-1).permute(1, 2, 3, 0)  # (B, N, J, 3)
    out = _zero_padding(out.float().contiguous(), lengths)
    _check_finite(out, "features", "values whose joints are finite (a root velocity or position too large)")
    out = out if batched else out[0]
    return out.numpy() if was_numpy else out.to(features.device)

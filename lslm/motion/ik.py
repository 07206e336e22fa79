"""Inverse kinematics: 52 joint positions → SMPL-X rotations that pose a body model through them.

    params = joints_to_smplx(joints, rest_joints)            # joints (T, 52, 3), rest_joints (52, 3)
    smplx_to_joints(params, model_path=..., flat_hand_mean=True) ≈ joints (exactly, for the model's bones)

Analytic and per frame, parents before children, on the global rotation G_j of every joint:

- a joint with two or more children (pelvis, spine3, both wrists) gets the rotation that best turns its
  rest bones to the observed ones (Kabsch on the bone vectors, `roma.rigid_vectors_registration`): its
  rotation is fully determined;
- a joint with one child (spine, neck, collars, shoulders, elbows, hips, knees, ankles, finger segments)
  gets the smallest rotation (a swing) that turns its bone, as carried by the parent, onto the observed
  one: the twist about the bone cannot be seen in positions and is taken as zero, except where the next
  joint's rotation is determined (elbow → wrist, spine2 → spine3): there the child's twist about the bone
  moves up to the joint, so a forearm turns along its length rather than at the wrist;
- a leaf of the 52 (head, feet, the last segment of each finger) moves no joint, so its rotation is not
  in the positions at all: the head and feet keep their parent's orientation (local identity); the last
  finger segment repeats the middle segment's bend, as fingers curl (an assumption, not a measurement).

Bone lengths come from the rest joints (the body model's shape), not from the motion: the result puts
every bone in the observed direction, so the joints match exactly when the motion has the model's bone
lengths and are off by the length differences otherwise. Also not recoverable from the 52 joints: the
jaw, the eyes and the face expression (zero), and the body shape itself (betas: given by the caller).
Rotations are axis-angle in SMPL-X's layout with `flat_hand_mean=True` (the hand poses are the hands' own
rotations, no mean hand added): pass flat_hand_mean=True to smplx / `smplx_to_joints` with them.
"""
from __future__ import annotations

import functools
import os

import numpy as np
import torch

from lslm.errors import InvalidInputError
from lslm.motion.skeleton import Skeleton

__all__ = ["joints_to_smplx", "model_rest_joints"]

TWIST_UP = ("left_elbow", "right_elbow", "spine2")  # joints that take their child's twist about the bone
EPS = 1e-9


def model_rest_joints(model_path: str | os.PathLike, betas: np.ndarray | list[float] | None = None,
                      gender: str = "neutral") -> np.ndarray:
    """The 52 rest joints (52, 3) of an SMPL-X model file for `betas` (default zeros), float64."""
    from lslm.motion.kinematics import load_joint_model

    model = load_joint_model(model_path, gender)
    rest = model.j_template.copy()
    if betas is not None:
        b = np.asarray(betas, dtype=np.float64).reshape(-1)
        if len(b) > model.max_betas:
            raise InvalidInputError(model_path, "betas", f"at most {model.max_betas} coefficients", got=len(b))
        rest = rest + model.j_shapedirs[..., : len(b)] @ b
    return rest


@functools.lru_cache(maxsize=1)
def _tree() -> tuple[tuple[int, ...], tuple[tuple[int, ...], ...]]:
    """(parents, children of each joint) of `Skeleton.smplx52()`; parents come before children."""
    parents = Skeleton.smplx52().parents
    assert all(p < j for j, p in enumerate(parents) if j), "the IK walks joints in index order"
    children = tuple(tuple(c for c in range(len(parents)) if parents[c] == j) for j in range(len(parents)))
    return parents, children


def _swing(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """The smallest rotations (N, 3, 3) turning unit vectors u (N, 3) onto v (N, 3); opposite vectors
    turn by π about an axis perpendicular to u."""
    import roma  # imported where used: importing roma imports torch._dynamo (seconds)

    axis = torch.linalg.cross(u, v)
    sin, cos = axis.norm(dim=-1), (u * v).sum(-1)
    perpendicular = torch.linalg.cross(u, torch.tensor([1.0, 0.0, 0.0], dtype=u.dtype).expand_as(u))
    fallback = torch.linalg.cross(u, torch.tensor([0.0, 1.0, 0.0], dtype=u.dtype).expand_as(u))
    perpendicular = torch.where(perpendicular.norm(dim=-1, keepdim=True) > 1e-6, perpendicular, fallback)
    axis = torch.where((sin > 1e-12)[:, None], axis, perpendicular)
    angle = torch.atan2(sin, cos)
    return roma.rotvec_to_rotmat(axis / axis.norm(dim=-1, keepdim=True).clamp_min(EPS) * angle[:, None])


def _twist(rotation: torch.Tensor, axis: torch.Tensor) -> torch.Tensor:
    """The twist part (N, 3, 3) of rotations (N, 3, 3) about a unit axis (3,) (swing-twist decomposition)."""
    import roma

    q = roma.rotmat_to_unitquat(rotation)  # (N, 4) x, y, z, w
    along = (q[:, :3] @ axis)[:, None] * axis  # vector part projected on the axis
    twist = torch.cat([along, q[:, 3:]], dim=1)
    norm = twist.norm(dim=-1, keepdim=True)
    identity = torch.tensor([0.0, 0.0, 0.0, 1.0], dtype=q.dtype).expand_as(twist)
    twist = torch.where(norm > 1e-9, twist / norm.clamp_min(EPS), identity)
    return roma.unitquat_to_rotmat(twist)


def joints_to_smplx(joints: np.typing.ArrayLike, rest_joints: np.typing.ArrayLike) -> dict[str, np.ndarray]:
    """SMPL-X parameters that pose a body with rest joints `rest_joints` (52, 3) through `joints`
    (T, 52, 3) (metres, y up, `Skeleton.smplx52()` order): {"global_orient" (T, 3), "body_pose" (T, 63),
    "left_hand_pose" (T, 45), "right_hand_pose" (T, 45), "transl" (T, 3)} float32 axis-angle, hands
    without the mean hand (flat_hand_mean=True). What cannot be recovered: the module docstring."""
    import roma

    p = np.asarray(joints, dtype=np.float64)
    rest = np.asarray(rest_joints, dtype=np.float64)
    if p.ndim != 3 or p.shape[1:] != (52, 3) or len(p) < 1:
        raise InvalidInputError(None, "joints", "an array (T, 52, 3) with T >= 1", got=p.shape)
    if rest.shape != (52, 3):
        raise InvalidInputError(None, "rest_joints", "an array (52, 3)", got=rest.shape)
    if not (np.isfinite(p).all() and np.isfinite(rest).all()):
        raise InvalidInputError(None, "joints", "finite values", got="NaN or inf")
    parents, children = _tree()
    names = Skeleton.smplx52().names
    P, R = torch.from_numpy(p), torch.from_numpy(rest)
    T = len(P)
    rest_bone = R - R[list((0, *parents[1:]))]  # (52, 3) rest offset of each joint from its parent (row 0 unused)
    rest_unit = rest_bone / rest_bone.norm(dim=-1, keepdim=True).clamp_min(EPS)
    G = torch.empty(T, 52, 3, 3, dtype=torch.float64)  # global rotations
    local = torch.empty_like(G)
    for j in range(52):
        parent_rot = G[:, parents[j]] if j else torch.eye(3, dtype=torch.float64).expand(T, 3, 3)
        kids = children[j]
        if len(kids) >= 2:
            observed = P[:, list(kids)] - P[:, j:j + 1]  # (T, K, 3)
            if (observed.norm(dim=-1) < EPS).any():
                raise InvalidInputError(None, "joints", "every joint apart from its parent", got=f"joint {kids}")
            G[:, j] = roma.rigid_vectors_registration(rest_bone[list(kids)].expand(T, -1, -1), observed)
        elif len(kids) == 1:
            observed = P[:, kids[0]] - P[:, j]
            length = observed.norm(dim=-1, keepdim=True)
            if (length < EPS).any():
                raise InvalidInputError(None, "joints", "every joint apart from its parent", got=f"joint {kids[0]}")
            carried = parent_rot @ rest_unit[kids[0]]  # (T, 3) the bone if this joint did not turn
            G[:, j] = _swing(carried, observed / length) @ parent_rot
        else:  # a leaf of the 52: its rotation moves no joint
            G[:, j] = parent_rot
        local[:, j] = parent_rot.transpose(-1, -2) @ G[:, j]
    for name in TWIST_UP:  # the determined child's twist about the bone moves up to this joint
        j = names.index(name)
        (c,) = children[j]
        twist = _twist(local[:, c], rest_unit[c])
        G[:, j] = G[:, j] @ twist
        local[:, j] = local[:, j] @ twist
        local[:, c] = twist.transpose(-1, -2) @ local[:, c]
    for j in range(22, 52):  # last finger segments bend like the middle ones
        if not children[j]:
            local[:, j] = local[:, parents[j]]
    rotvec = roma.rotmat_to_rotvec(local).float().numpy()  # (T, 52, 3)
    return {"global_orient": rotvec[:, 0], "body_pose": rotvec[:, 1:22].reshape(T, 63),
            "left_hand_pose": rotvec[:, 22:37].reshape(T, 45), "right_hand_pose": rotvec[:, 37:52].reshape(T, 45),
            "transl": (p[:, 0] - rest[0]).astype(np.float32)}

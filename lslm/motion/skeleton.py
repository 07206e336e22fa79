"""Joint sets: names, parents, kinematic chains, left/right pairs.

`Skeleton.smplx52()` is SMPL-X joints 0–21 (body) + 25–54 (hands); `Skeleton.body22()` is the
HumanML3D/SMPL body. A skeleton may carry bone offsets (J, 3): the target bone lengths features are
retargeted to, or the rest pose that drives forward kinematics.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

import numpy as np

BODY_NAMES = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar",
    "right_collar", "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist",
)
BODY_PARENTS = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19)
BODY_CHAINS = ((0, 2, 5, 8, 11), (0, 1, 4, 7, 10), (0, 3, 6, 9, 12, 15), (9, 14, 17, 19, 21),
               (9, 13, 16, 18, 20))
BODY_LR = ((1, 2), (4, 5), (7, 8), (10, 11), (13, 14), (16, 17), (18, 19), (20, 21))
FINGERS = ("index", "middle", "pinky", "ring", "thumb")  # SMPL-X order

# Rest direction of each bone (joint − parent) in a T-pose facing +Z, y up: the reference frame the
# position IK of the feature representation measures rotations from (HumanML3D's `t2m_raw_offsets`
# convention). Finger bones point along the arm: +x on the left hand, −x on the right.
BODY_IK_DIRECTIONS = (
    (0, 0, 0), (1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, -1, 0), (0, 1, 0), (0, -1, 0),
    (0, -1, 0), (0, 1, 0), (0, 0, 1), (0, 0, 1), (0, 1, 0), (1, 0, 0), (-1, 0, 0), (0, 0, 1),
    (0, -1, 0), (0, -1, 0), (0, -1, 0), (0, -1, 0), (0, -1, 0), (0, -1, 0),
)


def _hand(side: str, wrist: int, first: int) -> tuple[list[str], list[int], list[tuple[int, ...]]]:
    names, parents, chains = [], [], []
    for f, finger in enumerate(FINGERS):
        base = first + 3 * f
        names += [f"{side}_{finger}{k}" for k in (1, 2, 3)]
        parents += [wrist, base, base + 1]
        chains.append((wrist, base, base + 1, base + 2))
    return names, parents, chains


@dataclass(frozen=True)
class Skeleton:
    """A joint set. `offsets` (J, 3) float64, when present, are bone vectors child − parent."""

    names: tuple[str, ...]
    parents: tuple[int, ...]
    chains: tuple[tuple[int, ...], ...]
    lr_pairs: tuple[tuple[int, int], ...]
    offsets: np.ndarray | None = field(default=None, compare=False, repr=False)

    @property
    def num_joints(self) -> int:
        """J, the number of joints."""
        return len(self.names)

    @property
    def ik_directions(self) -> np.ndarray:
        """(J, 3) float64 unit rest directions of the bones (root row zero), see BODY_IK_DIRECTIONS."""
        body = dict(zip(BODY_NAMES, BODY_IK_DIRECTIONS))
        hand = {"left": (1, 0, 0), "right": (-1, 0, 0)}
        return np.array([body.get(n) or hand[n.split("_")[0]] for n in self.names], dtype=np.float64)

    @property
    def face_joints(self) -> tuple[int, int, int, int]:
        """Joints that define the facing direction: right hip, left hip, right shoulder, left shoulder."""
        return tuple(self.names.index(n) for n in ("right_hip", "left_hip", "right_shoulder",
                                                   "left_shoulder"))

    @property
    def foot_joints(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """Foot-contact joints: (left ankle, left foot), (right ankle, right foot)."""
        return ((self.names.index("left_ankle"), self.names.index("left_foot")),
                (self.names.index("right_ankle"), self.names.index("right_foot")))

    @property
    def leg_joints(self) -> tuple[int, int]:
        """Joints whose bones (to their parents) measure leg length for retargeting: right knee, ankle."""
        return self.names.index("right_knee"), self.names.index("right_ankle")

    @classmethod
    def body22(cls) -> Skeleton:
        """The 22 body joints of SMPL (HumanML3D's skeleton), without offsets."""
        return cls(BODY_NAMES, BODY_PARENTS, BODY_CHAINS, BODY_LR)

    @classmethod
    def smplx52(cls) -> Skeleton:
        """lslm's 52 joints: the 22 body joints, then 15 left and 15 right hand joints, without offsets."""
        ln, lp, lc = _hand("left", 20, 22)
        rn, rp, rc = _hand("right", 21, 37)
        lr = BODY_LR + tuple((i, i + 15) for i in range(22, 37))
        return cls(BODY_NAMES + tuple(ln + rn), BODY_PARENTS + tuple(lp + rp),
                   BODY_CHAINS + tuple(lc + rc), lr)

    def to_dict(self) -> dict:
        """names, parents, chains, lr_pairs as JSON lists (the offsets travel as a tensor)."""
        return {"names": list(self.names), "parents": list(self.parents), "chains": [list(c) for c in self.chains],
                "lr_pairs": [list(p) for p in self.lr_pairs]}

    @classmethod
    def from_dict(cls, data: dict, offsets: np.typing.ArrayLike | None = None,
                  path: str | os.PathLike | None = None, field: str = "skeleton",
                  offsets_path: str | os.PathLike | None = None) -> Skeleton:
        """The skeleton `to_dict` wrote, checked: unique names lslm knows (the body joints, left_/right_
        hand joints), parents before children (a tree rooted at joint 0), chains and pairs of valid
        joints, and `offsets` (J, 3) finite with non-zero bones. Errors name `path` (`offsets_path` for
        the offsets, when they come from another file) and the field."""
        from lslm.errors import InvalidInputError

        def bad(key, expected, got=None):
            return InvalidInputError(path, f"{field}.{key}", expected, got=got)

        if not isinstance(data, dict):
            raise InvalidInputError(path, field, "an object with names, parents, chains, lr_pairs",
                                    got=type(data).__name__)
        for key in ("names", "parents", "chains", "lr_pairs"):
            if not isinstance(data.get(key), list):
                raise bad(key, "a list", got=repr(data.get(key))[:80])
        names, parents = data["names"], data["parents"]
        required = {"left_hip", "right_hip", "left_shoulder", "right_shoulder", "left_ankle", "right_ankle",
                    "left_foot", "right_foot", "right_knee"}
        if not all(isinstance(n, str) and (n in BODY_NAMES or n.split("_")[0] in ("left", "right")) for n in names) \
                or len(set(names)) != len(names) or not required <= set(names):
            raise bad("names", "unique joint names (the body joints, left_/right_ hand joints) including "
                      f"{sorted(required)}", got=repr(names)[:80])
        num = len(names)

        def index(v) -> bool:
            return isinstance(v, int) and not isinstance(v, bool) and 0 <= v < num

        if len(parents) != num or parents[:1] != [-1] or not all(index(p) and p < j for j, p in
                                                                  enumerate(parents) if j):
            raise bad("parents", f"{num} parents: -1 for joint 0, then each joint's parent before it (a tree)",
                      got=repr(parents)[:80])
        for key, size in (("chains", None), ("lr_pairs", 2)):
            for item in data[key]:
                if not isinstance(item, list) or not all(index(v) for v in item) or \
                        (len(item) != size if size else len(item) < 2):
                    raise bad(key, "lists of joint indices" + (" (pairs)" if size else " (2 or more)"),
                              got=repr(item)[:80])
        if offsets is not None:
            offsets = np.asarray(offsets, dtype=np.float64)
            where = path if offsets_path is None else offsets_path
            if offsets.shape != (num, 3) or not np.isfinite(offsets).all():
                raise InvalidInputError(where, f"{field}.offsets", f"finite offsets ({num}, 3)", got=offsets.shape)
            if not (np.linalg.norm(offsets[1:], axis=-1) > 0).all():
                raise InvalidInputError(where, f"{field}.offsets", "non-zero bones (every joint apart from its parent)",
                                        got="a zero bone")
        return cls(tuple(names), tuple(parents), tuple(tuple(c) for c in data["chains"]),
                   tuple(tuple(p) for p in data["lr_pairs"]), offsets=offsets)

    def with_offsets_from(self, pose: np.typing.ArrayLike) -> Skeleton:
        """Measure bone vectors on one pose (J, 3): joint − parent (root offset zero)."""
        pose = np.asarray(pose, dtype=np.float64)
        if pose.shape != (self.num_joints, 3):
            from lslm.errors import InvalidInputError
            raise InvalidInputError(None, "pose", f"shape ({self.num_joints}, 3)", got=pose.shape)
        parents = np.asarray(self.parents)
        offsets = np.zeros_like(pose)
        offsets[1:] = pose[1:] - pose[parents[1:]]
        return replace(self, offsets=offsets)


# Joints that fix the facing direction in both joint sets, as (left hip, right hip, left shoulder, right shoulder).
FACE_JOINTS = (1, 2, 16, 17)


def face_front(joints: np.typing.ArrayLike) -> np.ndarray:
    """Rotate about Y so that frame 0 faces +Z, put the root of frame 0 at the XZ origin and the lowest
    joint on y = 0. joints (T, J, 3) of `Skeleton.smplx52()` or `body22()` → (T, J, 3) float64."""
    joints = np.asarray(joints, dtype=np.float64)
    l_hip, r_hip, l_sh, r_sh = FACE_JOINTS
    across = joints[0, l_hip] - joints[0, r_hip] + joints[0, l_sh] - joints[0, r_sh]
    forward = np.cross(across, [0.0, 1.0, 0.0])
    angle = np.arctan2(forward[0], forward[2])  # heading of the body; turn it back to 0
    c, s = np.cos(angle), np.sin(angle)
    rot_y = np.array([[c, 0.0, -s], [0.0, 1.0, 0.0], [s, 0.0, c]])  # rotation by −angle about Y
    out = (joints - joints[0, 0] * np.array([1.0, 0.0, 1.0])) @ rot_y.T
    out[..., 1] -= out[..., 1].min()
    return out

"""Holistic landmarks → lslm's 52 joints (T, 52, 3) on a target skeleton, y up, facing +z, left at +x.

Only bone *directions* are taken from the landmarks; every bone gets the target skeleton's length, so
the result has the target's bone lengths exactly (the features retarget by directions too).

- Axes: MediaPipe's camera axes (x right, y down, z away from the camera) are turned 180° about x, so a
  signer facing the camera faces +z with the signer's left at +x.
- Body: the arms (shoulder → elbow → wrist) follow the landmarks. The joints MediaPipe lacks are placed
  from the skeleton: the torso's rotation (shoulder line and hip → shoulder axis) carries spine3, neck,
  collars and shoulders, spine1/spine2 take 1/3 and 2/3 of it, the head follows the ears.
- Legs: signers are rarely filmed to the feet, so hips and legs keep the skeleton's rest pose in one
  frame for the whole clip (upright, turned like the clip's median shoulder and hip lines).
- Hands: each hand is attached at its body wrist with its bones scaled to the skeleton's hand; which
  hand is which is decided by the distance to the body's wrists in the image, not by the source's label.
- Gaps: body frames and hand frames that are missing are filled, short gaps (≤ `max_gap`) by
  interpolation, longer ones held, a hand never seen in rest pose along the forearm; every gap is in
  the report and `valid` (T, 52) is False wherever a joint was not observed. No frame is dropped.
- Smoothing: a One-Euro filter on the bone directions (docs/video.md has its effect on jitter).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from lslm.motion.kinematics import rest_positions
from lslm.errors import InvalidInputError
from lslm.motion.skeleton import FINGERS  # SMPL-X order of the 5 finger chains
from lslm.motion import Skeleton, default_rest_skeleton
from lslm.video.landmarks import BODY, FINGER_POINTS, FLIP, Landmarks
from lslm.video.options import RetargetOptions
from lslm.video.simulate import head_rest_direction
from lslm.video.smoothing import HELD, INTERPOLATED, MISSING, fill_gaps, one_euro

# lslm joint indices (Skeleton.smplx52 order).
PELVIS, L_HIP, R_HIP, SPINE1, SPINE2, SPINE3, NECK, HEAD = 0, 1, 2, 3, 6, 9, 12, 15
L_COLLAR, R_COLLAR, L_SHOULDER, R_SHOULDER = 13, 14, 16, 17
L_ELBOW, R_ELBOW, L_WRIST, R_WRIST = 18, 19, 20, 21
LEGS = (1, 2, 4, 5, 7, 8, 10, 11)
HAND_FIRST = {"left": 22, "right": 37}
# Hand landmarks at the head and tail of lslm's 15 finger bones (wrist → 1, 1 → 2, 2 → 3 per finger).
HAND_HEADS = np.array([p for f in FINGERS for p in FINGER_POINTS[f][:3]])
HAND_TAILS = np.array([p for f in FINGERS for p in (0, *FINGER_POINTS[f][:2])])


@dataclass
class Retargeted:
    """Joints (T, 52, 3) float32 on the target skeleton, `valid` (T, 52) bool, fps and a report."""

    joints: np.ndarray
    valid: np.ndarray
    fps: float
    report: dict = field(default_factory=dict)


# ---- small vectorised geometry ------------------------------------------------------------------------
# Rotations are kept as frames: three (T, 3) columns (left, up, forward), so turning a rest offset is three
# scaled adds, and every array stays contiguous per joint (docs/benchmarks.md: against a per-frame loop).

Frame = tuple[np.ndarray, np.ndarray, np.ndarray]


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("...i,...i->...", a, b)


def _unit(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors along the last axis and whether each was non-zero."""
    n = np.sqrt(_dot(v, v))[..., None]
    return v / np.maximum(n, 1e-12), n[..., 0] > 1e-9


def _frame(left: np.ndarray, up: np.ndarray) -> Frame:
    """The frame with this up (normalised) and left (orthogonalised to it); forward = left × up."""
    up, _ = _unit(up)
    left, _ = _unit(left - _dot(left, up)[..., None] * up)
    return left, up, np.cross(left, up)


def _turn(frame: Frame, v: np.ndarray) -> np.ndarray:
    """A rest-pose vector v (3,) in the frame: v_x · left + v_y · up + v_z · forward."""
    return v[0] * frame[0] + v[1] * frame[1] + v[2] * frame[2]


def _between(a: Frame, b: Frame, f: float) -> Frame:
    """The frame a share f of the way from a to b (its left and up interpolated, then orthonormalised)."""
    return _frame((1 - f) * a[0] + f * b[0], (1 - f) * a[1] + f * b[1])


def _turn_min(a: np.ndarray, b: np.ndarray, v: np.ndarray) -> np.ndarray:
    """v turned by the smallest rotation taking unit vector a to unit vector b (Rodrigues):
    v + w × v + w × (w × v) / (1 + a·b) with w = a × b."""
    w = np.cross(a, b)
    wv = np.cross(w, v)
    return v + wv + np.cross(w, wv) / np.maximum(1 + _dot(a, b), 1e-9)[..., None]


# ---- sides --------------------------------------------------------------------------------------------

def assign_hands(landmarks: Landmarks) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(left hand (T, 21, 3), left found (T,), right hand, right found, swapped (T,)): each detected hand
    goes to the body wrist it is nearer to in the image (both hands: the cheaper of the two pairings)."""
    lm = landmarks
    found_l, found_r = lm.hands_found
    wrist_l, wrist_r = lm.body[:, BODY["LEFT_WRIST"], :2], lm.body[:, BODY["RIGHT_WRIST"], :2]
    has_wrists = (lm.body_conf[:, [BODY["LEFT_WRIST"], BODY["RIGHT_WRIST"]]] > 0).all(-1)
    hand_l, hand_r = lm.left_hand[:, 0, :2], lm.right_hand[:, 0, :2]

    def dist(a, b):
        return np.linalg.norm(a - b, axis=-1)

    keep = np.where(found_l, dist(hand_l, wrist_l), 0) + np.where(found_r, dist(hand_r, wrist_r), 0)
    swap = np.where(found_l, dist(hand_l, wrist_r), 0) + np.where(found_r, dist(hand_r, wrist_l), 0)
    swapped = has_wrists & (swap < keep)
    s = swapped[:, None, None]
    left = np.where(s, lm.right_hand, lm.left_hand)
    right = np.where(s, lm.left_hand, lm.right_hand)
    return left, np.where(swapped, found_r, found_l), right, np.where(swapped, found_l, found_r), swapped


# ---- the retargeting ----------------------------------------------------------------------------------

def _hand_directions(hand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hand landmarks (T, 21, 3) in lslm axes → bone directions (T, 15, 3) in lslm's finger order
    (wrist → 1, 1 → 2, 2 → 3 per finger) and whether every bone was non-degenerate (T,)."""
    d, ok = _unit(hand[:, HAND_HEADS] - hand[:, HAND_TAILS])
    return d, ok.all(-1)


def _rest_hand_directions(skeleton: Skeleton, side: str, forearm: np.ndarray) -> np.ndarray:
    """The skeleton's rest hand bones (n, 15, 3), turned with the forearm (n, 3) from its rest direction."""
    first, wrist = HAND_FIRST[side], L_WRIST if side == "left" else R_WRIST
    rest, _ = _unit(skeleton.offsets[first:first + 15])
    rest_forearm, _ = _unit(skeleton.offsets[wrist])
    return _turn_min(rest_forearm, forearm[:, None], rest)


def retarget(landmarks: Landmarks, skeleton: Skeleton | None = None,
             options: RetargetOptions = RetargetOptions()) -> Retargeted:
    """Landmarks of one signer → `Retargeted` joints on `skeleton` (default: lslm's rest skeleton)."""
    skeleton = default_rest_skeleton() if skeleton is None else skeleton
    if skeleton.offsets is None or skeleton.num_joints != 52:
        raise InvalidInputError(None, "skeleton", "a 52-joint Skeleton with offsets", got=skeleton.num_joints)
    lm, opts = landmarks, options
    t = lm.num_frames
    if t == 0:
        raise InvalidInputError(lm.path, "frames", "at least 1 frame", got=0)
    body_found = lm.body_found
    if not body_found.any():
        raise InvalidInputError(lm.path, "body", "a body found in at least one frame", got="none")
    offsets = np.asarray(skeleton.offsets, dtype=np.float64)
    rest_dirs, _ = _unit(offsets)
    lengths = np.linalg.norm(offsets, axis=-1)  # (52,), root 0

    # Body points in lslm axes (metres or pixels: only directions are used); body gaps filled.
    world = opts.use_world and lm.body_world is not None
    body = (lm.body_world if world else lm.body) * FLIP  # (T, 33, 3)
    body, body_status, body_gaps = fill_gaps(body, body_found, opts.max_gap)

    def point(name):
        return np.ascontiguousarray(body[:, BODY[name]])

    hip_l, hip_r, sh_l, sh_r = point("LEFT_HIP"), point("RIGHT_HIP"), point("LEFT_SHOULDER"), point("RIGHT_SHOULDER")
    torso = _frame(sh_l - sh_r, (sh_l + sh_r - hip_l - hip_r) / 2)  # (T, 3) × 3
    # One upright frame for the legs: the median of the shoulder and hip lines, made horizontal.
    line = np.median(((sh_l - sh_r) + (hip_l - hip_r))[body_found], axis=0) * [1.0, 0.0, 1.0]
    pelvis = _frame(line if np.linalg.norm(line) > 1e-9 else np.array([1.0, 0, 0]), np.array([0, 1.0, 0]))
    pelvis = tuple(np.broadcast_to(axis, (t, 3)) for axis in pelvis)
    spine1, spine2 = _between(pelvis, torso, 1 / 3), _between(pelvis, torso, 2 / 3)

    d = np.empty((52, t, 3))  # unit direction of each joint from its parent, joint-major (row 0 unused)
    for j in (*LEGS, SPINE1):
        d[j] = _turn(pelvis, rest_dirs[j])
    d[SPINE2] = _turn(spine1, rest_dirs[SPINE2])
    d[SPINE3] = _turn(spine2, rest_dirs[SPINE3])
    for j in (NECK, L_COLLAR, R_COLLAR, L_SHOULDER, R_SHOULDER):
        d[j] = _turn(torso, rest_dirs[j])
    # The head: the torso's rest head bone, tilted by the turn from where the ears would be to where they are.
    ears = lm.body_conf[:, [BODY["LEFT_EAR"], BODY["RIGHT_EAR"]]].min(-1) > 0  # (T,) the source has ears
    ears_now, ears_ok = _unit((point("LEFT_EAR") + point("RIGHT_EAR") - sh_l - sh_r) / 2)
    ears_rest = _turn(torso, head_rest_direction(rest_positions(offsets)))  # (T, 3)
    head = _turn(torso, rest_dirs[HEAD])
    d[HEAD] = np.where((ears & ears_ok)[:, None], _turn_min(ears_rest, ears_now, head), head)
    for side, (sh, el, wr) in {"left": (sh_l, point("LEFT_ELBOW"), point("LEFT_WRIST")),
                               "right": (sh_r, point("RIGHT_ELBOW"), point("RIGHT_WRIST"))}.items():
        elbow, wrist = (L_ELBOW, L_WRIST) if side == "left" else (R_ELBOW, R_WRIST)
        upper, ok_upper = _unit(el - sh)
        fore, ok_fore = _unit(wr - el)
        d[elbow] = np.where(ok_upper[:, None], upper, _turn(torso, rest_dirs[elbow]))
        d[wrist] = np.where(ok_fore[:, None], fore, d[elbow])

    # Hands: sides from the body wrists, bone directions, gaps filled.
    left, found_l, right, found_r, swapped = assign_hands(lm)
    hand_report, hand_valid = {}, {}
    for side, pts, found in (("left", left, found_l), ("right", right, found_r)):
        first, wrist = HAND_FIRST[side], L_WRIST if side == "left" else R_WRIST
        dirs, ok = _hand_directions(pts * FLIP)  # (T, 15, 3)
        seen = found & ok
        if seen.any():
            dirs, status, gaps = fill_gaps(dirs, seen, opts.max_gap, unit=True)
        else:
            status, gaps = np.full(t, MISSING, np.int8), [{"start": 0, "frames": t, "filled": "rest"}]
        never = status == MISSING
        if never.any():
            dirs[never] = _rest_hand_directions(skeleton, side, d[wrist][never])
        d[first:first + 15] = dirs.transpose(1, 0, 2)
        hand_valid[side] = seen
        hand_report[f"{side}_hand"] = _track_report(status, gaps)

    if opts.smooth and t > 1:  # (T, 51, 3) for the filter, along time
        smooth = one_euro(d[1:].transpose(1, 0, 2), lm.fps, opts.min_cutoff, opts.beta, opts.d_cutoff)
        d[1:] = _unit(smooth)[0].transpose(1, 0, 2)

    # Forward kinematics along the bones with the target's lengths; feet on the floor (y = 0).
    joints = np.zeros((52, t, 3))
    parents = skeleton.parents
    for j in range(1, 52):
        joints[j] = joints[parents[j]] + lengths[j] * d[j]
    joints[..., 1] -= joints[list(LEGS), :, 1].min()
    joints = joints.transpose(1, 0, 2)  # (T, 52, 3)

    valid = _valid_mask(lm, body_status, hand_valid, opts.min_visibility)
    report = {"frames": t, "fps": float(lm.fps), "body_source": "world" if world else "image",
              "found": {"body": float(body_found.mean()), "left_hand": float(found_l.mean()),
                        "right_hand": float(found_r.mean())},
              "hands_swapped_frames": int(swapped.sum()), "body": _track_report(body_status, body_gaps),
              **hand_report, "valid_fraction": float(valid.mean()), "options": asdict(opts)}
    return Retargeted(joints.astype(np.float32), valid, float(lm.fps), report)


def _track_report(status: np.ndarray, gaps: list[dict]) -> dict:
    return {"interpolated_frames": int((status == INTERPOLATED).sum()), "held_frames": int((status == HELD).sum()),
            "missing_frames": int((status == MISSING).sum()), "gaps": gaps}


def _valid_mask(lm: Landmarks, body_status: np.ndarray, hands: dict[str, np.ndarray], min_vis: float) -> np.ndarray:
    """(T, 52) bool: joints observed in the frame (legs never: they are held in the rest pose)."""
    seen = (body_status == 0)[:, None] & (lm.body_conf >= min_vis)  # (T, 33)

    def both(*names):
        return np.all([seen[:, BODY[n]] for n in names], axis=0)

    valid = np.zeros((lm.num_frames, 52), dtype=bool)
    valid[:, PELVIS] = body_status == 0
    valid[:, [SPINE1, SPINE2, SPINE3, NECK, L_COLLAR, R_COLLAR, L_SHOULDER, R_SHOULDER]] = \
        both("LEFT_SHOULDER", "RIGHT_SHOULDER")[:, None]
    valid[:, HEAD] = both("LEFT_EAR", "RIGHT_EAR")
    valid[:, L_ELBOW], valid[:, R_ELBOW] = both("LEFT_SHOULDER", "LEFT_ELBOW"), both("RIGHT_SHOULDER", "RIGHT_ELBOW")
    valid[:, L_WRIST], valid[:, R_WRIST] = both("LEFT_ELBOW", "LEFT_WRIST"), both("RIGHT_ELBOW", "RIGHT_WRIST")
    for side, first in HAND_FIRST.items():
        valid[:, first:first + 15] = hands[side][:, None]
    return valid

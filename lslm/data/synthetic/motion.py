"""Signs → 30 fps SMPL-X-style motion on a signer's rest skeleton.

A clip is planned as per-frame *hand channels* (wrist target, forearm twist, wrist flexion, finger
flexion) for each hand: rest, a min-jerk transition into each sign, the sign's movement on top of its
location and orientation, transitions between signs, rest again. The channels are smoothed a little
(coarticulation), jittered with slow noise, and turned into joint rotations: two-bone analytic IK puts
shoulder and elbow so that the wrist reaches its target (elbow hanging down and out), the forearm twist
and flexion give the wrist rotation, and the handshape gives the finger rotations. The torso sways a
little. Everything is vectorised over frames.

Axes: y up, the body faces +Z, the signer's left is +X; the dominant hand is the right one (−X).
Locations and movement paths are written with x pointing to the *dominant* side.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import roma
import torch
from scipy.ndimage import gaussian_filter1d

from lslm.data.synthetic.lexicon import HANDSHAPES, LOCATIONS, ORIENTATIONS, Sign
from lslm.motion import Skeleton
from lslm.motion.kinematics import rest_positions

FPS = 30
# Joint indices (lslm.motion.skeleton's SMPL-X 52-joint order).
PELVIS, SPINE1, SPINE2, SPINE3, NECK, HEAD = 0, 3, 6, 9, 12, 15
SHOULDER, ELBOW, WRIST = {"left": 16, "right": 17}, {"left": 18, "right": 19}, {"left": 20, "right": 21}
HAND_FIRST = {"left": 22, "right": 37}
LANDMARKS = {"pelvis": PELVIS, "spine1": SPINE1, "spine2": SPINE2, "spine3": SPINE3, "neck": NECK, "head": HEAD}
SIDE_X = {"left": 1.0, "right": -1.0}  # world x of "toward this hand's side"
# Per hand, the channels: wrist target xyz (3), forearm twist (1), wrist flexion (1), finger flexion
# (15, degrees, SMPL-X hand order), finger spread (1), thumb abduction (1).
POS, TWIST, FLEX, FINGERS, SPREAD, THUMB_OUT = slice(0, 3), 3, 4, slice(5, 20), 20, 21
NUM_CHANNELS = 22


@dataclass(frozen=True)
class Signer:
    """One synthetic signer: a rest skeleton and a personal style."""

    name: str
    offsets: np.ndarray  # (52, 3) the rest skeleton's bone vectors, metres
    speed: float  # > 1 signs faster
    amplitude: float  # scale of movement paths
    noise: float  # metres of slow wrist jitter
    sway: float  # radians of torso sway
    idle_hand: str  # where the non-dominant hand waits in one-handed signs: "down" or "waist"


def sample_signer(rng: np.random.Generator, name: str, rest: Skeleton) -> Signer:
    """Scale the rest skeleton (overall ±8 %, each limb ±3 % more, hands ±8 % on their own) and draw a style."""
    scale = np.full(52, rng.uniform(0.92, 1.08))
    parts = {"legs": [1, 2, 4, 5, 7, 8, 10, 11], "torso": [3, 6, 9, 12, 13, 14, 15],
             "arms": [16, 17, 18, 19, 20, 21], "hands": list(range(22, 52))}
    for part, joints in parts.items():
        scale[joints] *= rng.uniform(0.92, 1.08) if part == "hands" else rng.uniform(0.97, 1.03)
    return Signer(name, rest.offsets * scale[:, None], speed=float(rng.uniform(0.85, 1.2)),
                  amplitude=float(rng.uniform(0.8, 1.2)), noise=float(rng.uniform(0.004, 0.012)),
                  sway=float(rng.uniform(0.01, 0.03)), idle_hand=str(rng.choice(["down", "waist"])))


def _min_jerk(s: np.ndarray) -> np.ndarray:
    return s ** 3 * (10 - 15 * s + 6 * s ** 2)


# ---- one sign's channels -------------------------------------------------------------------------

def movement_channels(movement: str, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Path (n, 3) in metres (x toward the dominant side, y up, z forward), twist (n,) and flexion (n,)
    changes in radians, finger flexion change (n, 15) in degrees, over the phase s (n,) in [0, 1]."""
    n = len(s)
    path, twist, flex, fingers = np.zeros((n, 3)), np.zeros(n), np.zeros(n), np.zeros((n, 15))
    m = _min_jerk(s)
    wave = np.sin(2 * np.pi * s)
    if movement == "hold":
        path[:, 2] = 0.015 * np.sin(np.pi * s)
    elif movement == "forward":
        path[:, 2] = 0.13 * m - 0.06
    elif movement == "back":
        path[:, 1], path[:, 2] = 0.03 * m, 0.05 - 0.14 * m
    elif movement == "down":
        path[:, 1] = 0.06 - 0.12 * m
    elif movement == "up":
        path[:, 1] = 0.12 * m - 0.06
    elif movement == "sideways":
        path[:, 0] = 0.14 * m - 0.06
    elif movement == "arc":
        path[:, 0], path[:, 1] = -0.08 * np.cos(np.pi * m), 0.06 * np.sin(np.pi * m)
    elif movement in ("circle", "circle_flat"):
        path[:, 0] = 0.05 * np.sin(2 * np.pi * m)
        path[:, 1 if movement == "circle" else 2] = 0.05 * np.cos(2 * np.pi * m)
    elif movement == "tap":
        path[:, 2] = -0.035 * np.abs(np.sin(2 * np.pi * s))
    elif movement == "twist":
        twist[:] = 0.7 * wave
    elif movement == "wiggle":
        phase = np.arange(15) // 3 * 1.3  # each finger a little later
        fingers[:] = 25.0 * np.sin(2 * np.pi * 2 * s[:, None] - phase[None]) + 15.0
        fingers[:, 12:] = 0.0  # not the thumb
    elif movement == "nod":
        flex[:] = 0.45 * np.sin(2 * np.pi * 1.5 * s)
    elif movement == "shake":
        path[:, 0] = 0.03 * np.sin(2 * np.pi * 2 * s)
    elif movement == "zigzag":
        path[:, 0], path[:, 1] = 0.04 * np.sin(2 * np.pi * 1.5 * s), 0.05 - 0.1 * s
    elif movement in ("close", "open"):
        w = m if movement == "close" else 1 - m
        fingers[:, :12] = (np.array([70.0, 80.0, 40.0] * 4) * w[:, None])
    else:
        raise ValueError(f"unknown movement {movement!r}")
    return path, twist, flex, fingers


def _handshape_channels(name: str) -> np.ndarray:
    shape = HANDSHAPES[name]
    return np.concatenate([np.ravel(shape["flexion"]), [shape["spread"], shape["thumb_out"]]])


def _location(landmarks: dict[str, np.ndarray], location: str, side: str) -> np.ndarray:
    """World position of a location for the hand on `side` (mirrored for the non-dominant hand)."""
    name, (x, y, z) = LOCATIONS[location]
    if name == "dominant_shoulder":
        name = f"{side}_shoulder"
    elif name == "other_shoulder":
        name = "left_shoulder" if side == "right" else "right_shoulder"
    return landmarks[name] + np.array([SIDE_X[side] * x, y, z])


def _hand_frames(landmarks, side: str, location: str | np.ndarray, orientation: str, shape: np.ndarray,
                 s: np.ndarray, movement: str, amplitude: float, mirror: float = 1.0) -> np.ndarray:
    """Channels (n, 22) of one hand performing one movement at one location."""
    path, twist, flex, fingers = movement_channels(movement, s)
    out = np.zeros((len(s), NUM_CHANNELS))
    base = _location(landmarks, location, side) if isinstance(location, str) else location
    # Dominant-frame x → this hand's side; `mirror` −1 reverses the path (alternating hands).
    out[:, POS] = base + amplitude * mirror * path * np.array([SIDE_X[side], 1.0, 1.0])
    twist0, flex0 = np.deg2rad(ORIENTATIONS[orientation])
    out[:, TWIST] = twist0 + amplitude * mirror * twist
    out[:, FLEX] = flex0 + amplitude * flex
    out[:, 5:] = shape
    out[:, FINGERS] += fingers
    return out


def rest_channels(landmarks: dict[str, np.ndarray], side: str, idle: str = "down") -> np.ndarray:
    """Channels (22,) of a hand at rest: hanging at the side, or waiting in front of the waist."""
    shape = np.concatenate([np.tile([15.0, 20.0, 10.0], 4), [10.0, 10.0, 5.0], [3.0, 10.0]])
    if idle == "waist":
        pos = landmarks["spine1"] + np.array([SIDE_X[side] * 0.1, -0.08, 0.22])
        return np.concatenate([pos, [0.3, 0.0], shape])
    shoulder = landmarks[f"{side}_shoulder"]
    reach = landmarks["arm_length"] * 0.96
    direction = np.array([SIDE_X[side] * 0.12, -1.0, 0.08])
    pos = shoulder + reach * direction / np.linalg.norm(direction)
    return np.concatenate([pos, [0.6, 0.0], shape])


def sign_channels(sign: Sign, landmarks: dict[str, np.ndarray], n: int, amplitude: float,
                  idle: str) -> np.ndarray:
    """Channels (n, 2, 22) of both hands (0 right = dominant, 1 left) performing one sign."""
    s = np.linspace(0.0, 1.0, n)
    shape = _handshape_channels(sign.handshape)
    right = _hand_frames(landmarks, "right", sign.location, sign.orientation, shape, s, sign.movement, amplitude)
    if sign.hands in ("symmetric", "alternating"):
        left = _hand_frames(landmarks, "left", sign.location, sign.orientation, shape, s, sign.movement,
                            amplitude, mirror=1.0 if sign.hands == "symmetric" else -1.0)
    elif sign.hands == "base":
        # The base hand holds still near the midline; the dominant hand acts just above it.
        base_pos = _location(landmarks, sign.location, "left") * np.array([0.0, 1.0, 1.0])
        base_pos[0] += 0.03
        left = _hand_frames(landmarks, "left", base_pos, "palm_down", _handshape_channels(sign.base_handshape),
                            s, "hold", 0.3)
        anchor = base_pos + np.array([-0.03, 0.08, 0.0])
        right = _hand_frames(landmarks, "right", anchor, sign.orientation, shape, s, sign.movement, amplitude)
    else:
        left = np.repeat(rest_channels(landmarks, "left", idle)[None], n, axis=0)
    return np.stack([right, left], axis=1)


def clip_channels(signs: list[Sign], signer: Signer, landmarks: dict[str, np.ndarray],
                  rng: np.random.Generator) -> np.ndarray:
    """Channels (T, 2, 22) of a whole clip: rest, signs joined by min-jerk transitions, rest."""
    def frames(seconds: float) -> int:
        return max(2, round(seconds * FPS / signer.speed))

    rest = np.stack([rest_channels(landmarks, "right"), rest_channels(landmarks, "left", signer.idle_hand)])
    segments = [np.repeat(rest[None], frames(rng.uniform(0.25, 0.45)), axis=0)]
    for sign in signs:
        amplitude = signer.amplitude * rng.uniform(0.9, 1.1)
        seconds = sign.duration * rng.uniform(0.9, 1.1)
        segments.append(sign_channels(sign, landmarks, frames(seconds), amplitude, signer.idle_hand))
    segments.append(np.repeat(rest[None], frames(rng.uniform(0.25, 0.45)), axis=0))
    joined = [segments[0]]
    for i, segment in enumerate(segments[1:], start=1):
        edge = i == 1 or i == len(segments) - 1  # into the first sign / back to rest: slower
        n = frames(rng.uniform(0.5, 0.6) if edge else rng.uniform(0.15, 0.25))
        w = _min_jerk(np.linspace(0, 1, n + 2)[1:-1])[:, None, None]
        a, b = joined[-1][-1], segment[0]
        joined += [a + (b - a) * w, segment]
    channels = np.concatenate(joined)  # (T, 2, 22)
    # Coarticulation: a short Gaussian blur rounds the corners where movements meet.
    channels = gaussian_filter1d(channels, sigma=1.5, axis=0, mode="nearest")
    channels[:, :, POS] += signer.noise * _slow_noise(rng, (len(channels), 2, 3))
    channels[:, :, [TWIST, FLEX]] += 0.05 * _slow_noise(rng, (len(channels), 2, 2))
    return channels


def _slow_noise(rng: np.random.Generator, shape: tuple[int, ...], sigma: float = 6.0) -> np.ndarray:
    """Smooth noise with unit standard deviation, correlated over ~sigma frames."""
    noise = gaussian_filter1d(rng.standard_normal(shape), sigma=sigma, axis=0, mode="wrap")
    return noise / (noise.std() + 1e-9)


# ---- channels → joint rotations ------------------------------------------------------------------

def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _frame(direction: np.ndarray, normal: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) with columns direction, normal ⟂ direction, their cross product."""
    d = _unit(direction)
    n = _unit(normal - (normal * d).sum(-1, keepdims=True) * d)
    return np.stack([d, n, np.cross(d, n)], axis=-1)


def _axis_angle(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotation matrices (T, 3, 3) about a fixed unit axis (3,) by angles (T,)."""
    rotvec = torch.from_numpy(angle[:, None] * axis[None])
    return roma.rotvec_to_rotmat(rotvec).numpy()


def arm_rotations(offsets: np.ndarray, pos: np.ndarray, side: str, target: np.ndarray) -> tuple[np.ndarray, ...]:
    """Two-bone IK: local rotations (T, 3, 3) of shoulder and elbow that bring the wrist to `target` (T, 3),
    the elbow hanging down, back and out. The collar is at rest, so shoulder local = global."""
    sh, el, wr = SHOULDER[side], ELBOW[side], WRIST[side]
    a, b = np.linalg.norm(offsets[el]), np.linalg.norm(offsets[wr])
    to_target = target - pos[sh]
    dist = np.clip(np.linalg.norm(to_target, axis=-1, keepdims=True), abs(a - b) + 1e-3, 0.999 * (a + b))
    u = _unit(to_target)
    pole = np.array([SIDE_X[side] * 0.3, -1.0, -0.25])
    v = _unit(pole - (u @ pole)[:, None] * u)
    cos_a = (a * a + dist ** 2 - b * b) / (2 * a * dist)
    elbow = pos[sh] + a * (cos_a * u + np.sqrt(1 - cos_a ** 2) * v)
    wrist = pos[sh] + dist * u
    # Bend plane normal: for a palm-down T-pose arm, elbow flexion turns the forearm about this axis.
    normal = _unit(np.cross(v, u))
    rest_normal = np.cross(_unit(offsets[el]), [0.0, 0.0, 1.0])
    upper = _frame(elbow - pos[sh], normal) @ _frame(offsets[el], rest_normal).T  # global = local
    fore = _frame(wrist - elbow, normal) @ _frame(offsets[wr], rest_normal).T
    return upper, np.swapaxes(upper, -1, -2) @ fore


def hand_rotvecs(offsets: np.ndarray, side: str, channels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Wrist (T, 3) and finger (T, 15, 3) local axis-angle rotations from twist, flexion and handshape."""
    first = HAND_FIRST[side]
    palm = np.array([0.0, -1.0, 0.0])  # rest palm normal (T-pose, palms down)
    thumb_side = np.array([0.0, 0.0, 1.0])
    forearm = _unit(offsets[WRIST[side]])
    hand_dir = _unit(offsets[first + 3])  # wrist → middle1
    wrist = (_axis_angle(forearm, channels[:, TWIST])
             @ _axis_angle(_unit(np.cross(hand_dir, palm)), channels[:, FLEX]))
    flexion = np.deg2rad(channels[:, FINGERS]).reshape(-1, 5, 3)  # (T, finger, joint)
    spread = np.deg2rad(channels[:, SPREAD])[:, None] * np.array([1.0, 0.0, -1.4, -0.7])  # index middle pinky ring
    rotvecs = np.zeros((len(channels), 15, 3))
    for f in range(5):
        bone = _unit(offsets[first + 3 * f + 1])  # joint 1 → joint 2
        if f < 4:
            curl_axis = _unit(np.cross(bone, palm))
            rotvecs[:, 3 * f:3 * f + 3] = flexion[:, f, :, None] * curl_axis
            spread_vec = spread[:, f, None] * _unit(np.cross(bone, thumb_side))
            rotvecs[:, 3 * f] = roma.rotvec_composition(
                [torch.from_numpy(spread_vec), torch.from_numpy(rotvecs[:, 3 * f])]).numpy()
        else:  # the thumb curls across the palm toward the little finger and abducts away from it
            across = _unit(np.cross(bone, _unit(palm - thumb_side)))
            rotvecs[:, 12:15] = flexion[:, 4, :, None] * across
            out = np.deg2rad(channels[:, THUMB_OUT])[:, None] * _unit(np.cross(bone, thumb_side))
            rotvecs[:, 12] = roma.rotvec_composition(
                [torch.from_numpy(out), torch.from_numpy(rotvecs[:, 12])]).numpy()
    return _rotvec(wrist), rotvecs


def _rotvec(rotmat: np.ndarray) -> np.ndarray:
    return roma.rotmat_to_rotvec(torch.from_numpy(np.ascontiguousarray(rotmat))).numpy()


def landmarks_of(offsets: np.ndarray) -> dict[str, np.ndarray]:
    """Body landmarks (metres, rest pose) of a signer's bone offsets (52, 3): named joints, both shoulders,
    the arm's length and all rest positions (52, 3), which the hands' channels are placed by."""
    pos = rest_positions(offsets)
    marks = {name: pos[j] for name, j in LANDMARKS.items()}
    marks["left_shoulder"], marks["right_shoulder"] = pos[SHOULDER["left"]], pos[SHOULDER["right"]]
    marks["arm_length"] = np.linalg.norm(offsets[ELBOW["right"]]) + np.linalg.norm(offsets[WRIST["right"]])
    marks["positions"] = pos
    return marks


def synthesize(signs: list[Sign], signer: Signer, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """SMPL-X-style parameters of one clip: global_orient (T, 3), body_pose (T, 63), left/right_hand_pose
    (T, 45), transl (T, 3), float32."""
    marks = landmarks_of(signer.offsets)
    pos = marks["positions"]
    channels = clip_channels(signs, signer, marks, rng)  # (T, 2, 22)
    t = len(channels)
    body = np.zeros((t, 22, 3))  # joint 0 unused here: global_orient is separate
    hands = {}
    for h, side in enumerate(("right", "left")):
        upper, fore = arm_rotations(signer.offsets, pos, side, channels[:, h, POS])
        body[:, SHOULDER[side]], body[:, ELBOW[side]] = _rotvec(upper), _rotvec(fore)
        body[:, WRIST[side]], hands[side] = hand_rotvecs(signer.offsets, side, channels[:, h])
    # Idle sway: the spine bends and turns by a few degrees, the head nods; the arms ride along.
    for joint, gain in ((SPINE1, 0.5), (SPINE2, 0.3), (SPINE3, 0.3), (NECK, 0.4), (HEAD, 0.6)):
        body[:, joint] = signer.sway * gain * _slow_noise(rng, (t, 3), sigma=12.0)
    yaw = rng.uniform(-0.35, 0.35)  # facing jitter, radians
    global_orient = np.tile([0.0, yaw, 0.0], (t, 1))
    floor = -pos[[10, 11], 1].min()  # feet on the floor (y = 0)
    transl = np.array([rng.uniform(-0.3, 0.3), floor, rng.uniform(-0.3, 0.3)]) + np.zeros((t, 3))
    transl[:, [0, 2]] += 0.01 * _slow_noise(rng, (t, 2), sigma=15.0)
    return {"global_orient": global_orient.astype(np.float32),
            "body_pose": body[:, 1:].reshape(t, 63).astype(np.float32),
            "left_hand_pose": hands["left"].reshape(t, 45).astype(np.float32),
            "right_hand_pose": hands["right"].reshape(t, 45).astype(np.float32),
            "transl": transl.astype(np.float32)}


def signer_skeleton(rest: Skeleton, signer: Signer) -> Skeleton:
    """`rest` with the signer's own bone offsets (the body the synthetic clip is posed on)."""
    return replace(rest, offsets=signer.offsets)

"""Resample motion to another frame rate.

Output frame k sits at source time k · fps_in / fps_out (in source frames), k = 0 … n−1 with
n = round((T − 1) · fps_out / fps_in) + 1, so the first frame is kept and the clip keeps its
duration to within half an output frame (the last time is clipped to T − 1).
Rotations (axis-angle) are interpolated with slerp (the geodesic on SO(3), via roma), positions,
translations and other per-frame values linearly. `fill_invalid` interpolates the same way across frames
flagged invalid (SignAvatars' undetected hands, frames missing from a fit).
"""
from __future__ import annotations

import numpy as np

from lslm.checks import check_fps

# SMPL-X parameters that are per-joint axis-angle rotations; everything else per-frame is linear.
ROTATION_KEYS = ("global_orient", "body_pose", "left_hand_pose", "right_hand_pose", "jaw_pose",
                 "leye_pose", "reye_pose")


def resample_times(num_frames: int, fps_in: float, fps_out: float) -> np.ndarray:
    """Source-frame times (n,) of the output frames."""
    fps_in, fps_out = _rates(fps_in, fps_out)
    n = round((num_frames - 1) * fps_out / fps_in) + 1
    return np.minimum(np.arange(n) * (fps_in / fps_out), num_frames - 1)


def _rates(fps_in, fps_out) -> tuple[float, float]:
    return check_fps(fps_in, None, "fps_in"), check_fps(fps_out, None, "fps_out")


def _bracket(times: np.ndarray, num_frames: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lo = np.minimum(np.floor(times).astype(np.int64), num_frames - 2)
    return lo, lo + 1, times - lo


def resample_linear(x: np.ndarray, fps_in: float, fps_out: float) -> np.ndarray:
    """Linear interpolation along axis 0: (T, ...) → (n, ...)."""
    x = np.asarray(x)
    fps_in, fps_out = _rates(fps_in, fps_out)
    if fps_in == fps_out:
        return x
    lo, hi, w = _bracket(resample_times(len(x), fps_in, fps_out), len(x))
    w = w.reshape((-1,) + (1,) * (x.ndim - 1))
    return (1 - w) * x[lo] + w * x[hi]


def slerp_rotvec(r0: np.ndarray, r1: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Slerp from axis-angle r0 to r1 (both (n, ..., 3)) at weights w (n,): R_0 · exp(w · log(R_0ᵀ R_1)),
    the shortest arc."""
    import roma
    import torch

    a = torch.as_tensor(r0, dtype=torch.float64)
    b = torch.as_tensor(r1, dtype=torch.float64)
    relative = roma.rotvec_composition([-a, b])  # log(R_0ᵀ R_1), angle ≤ π
    w = torch.as_tensor(w, dtype=torch.float64).reshape((-1,) + (1,) * (a.ndim - 1))
    return roma.rotvec_composition([a, w * relative]).numpy()


def resample_rotvec(rotvec: np.ndarray, fps_in: float, fps_out: float) -> np.ndarray:
    """Slerp of axis-angle rotations along axis 0: (T, ..., 3) → (n, ..., 3) (see `slerp_rotvec`)."""
    rotvec = np.asarray(rotvec)
    fps_in, fps_out = _rates(fps_in, fps_out)
    if fps_in == fps_out:
        return rotvec
    lo, hi, w = _bracket(resample_times(len(rotvec), fps_in, fps_out), len(rotvec))
    return slerp_rotvec(rotvec[lo], rotvec[hi], w).astype(rotvec.dtype, copy=False)


def _gaps(valid: np.ndarray, max_gap: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(invalid frames, the valid frame before and after each (equal at the ends: held), whether each
    is interpolated: between two valid frames and in a gap of at most `max_gap` frames (None: any))."""
    valid = np.asarray(valid, dtype=bool)
    good, bad = np.flatnonzero(valid), np.flatnonzero(~valid)
    k = np.searchsorted(good, bad)
    lo, hi = good[np.maximum(k - 1, 0)], good[np.minimum(k, len(good) - 1)]
    inside = hi > lo
    if max_gap is not None:
        inside &= hi - lo - 1 <= max_gap
    return bad, lo, hi, inside


def fill_invalid(values: np.ndarray, valid: np.ndarray, rotation: bool = False,
                 max_gap: int | None = None) -> np.ndarray:
    """Replace the frames where `valid` (T,) is False: between two valid frames by interpolation
    (slerp of (T, K·3) axis-angle values when `rotation`, else linear), before the first / after the
    last valid frame — and, with `max_gap`, in gaps longer than that — by the nearest earlier valid
    frame's value (the first valid frame's at the start). `values` (T, ...) must have a valid frame."""
    values = np.asarray(values)
    bad, lo, hi, inside = _gaps(valid, max_gap)
    if len(bad) == 0:
        return values
    out = values.copy()
    out[bad] = values[lo]
    bad, lo, hi = bad[inside], lo[inside], hi[inside]
    w = (bad - lo) / (hi - lo)
    if rotation:
        per_joint = values.reshape(len(values), -1, 3)  # (T, K·3) → (T, K, 3)
        out[bad] = slerp_rotvec(per_joint[lo], per_joint[hi], w).reshape((len(bad),) + values.shape[1:])
    else:
        w = w.reshape((-1,) + (1,) * (values.ndim - 1))
        out[bad] = (1 - w) * values[lo] + w * values[hi]
    return out


def gap_status(valid: np.ndarray, max_gap: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(interpolated (T,), held (T,)): what `fill_invalid` does to each invalid frame."""
    valid = np.asarray(valid, dtype=bool)
    interpolated, held = np.zeros_like(valid), np.zeros_like(valid)
    if valid.any():
        bad, _, _, inside = _gaps(valid, max_gap)
        interpolated[bad[inside]], held[bad[~inside]] = True, True
    return interpolated, held


def mask_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, length) of each run of True in a 1-D bool array."""
    edges = np.diff(np.concatenate([[0], np.asarray(mask, dtype=np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [(int(a), int(b - a)) for a, b in zip(starts, ends)]


def resample_params(params: dict[str, np.ndarray], fps_in: float, fps_out: float) -> dict[str, np.ndarray]:
    """Resample a per-frame SMPL-X parameter dict; per-clip arrays (e.g. betas (10,)) pass through."""
    num_frames = len(params["global_orient"])
    fps_in, fps_out = _rates(fps_in, fps_out)
    out = {}
    for key, value in params.items():
        if value.ndim < 2 or len(value) != num_frames:
            out[key] = value
        elif key in ROTATION_KEYS:
            # (T, 3K) → (T, K, 3) so each joint is slerped on its own
            per_joint = resample_rotvec(value.reshape(num_frames, -1, 3), fps_in, fps_out)
            out[key] = per_joint.reshape(len(per_joint), -1)
        else:
            out[key] = resample_linear(value, fps_in, fps_out)
    return out

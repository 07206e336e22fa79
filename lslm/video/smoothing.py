"""Temporal smoothing and gap filling of per-frame vectors (T, K, 3), vectorised over K.

`one_euro` is the One-Euro filter (Casiez, Roussel and Vogel, CHI 2012): a first-order low-pass whose
cutoff rises with the signal's speed, so slow motion is smoothed hard (less jitter) and fast motion is
followed closely (little lag). `fill_gaps` fills frames where a track is missing: short gaps are
interpolated, long ones held from the nearest observed frame, and it says which it did.
"""
from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from lslm.motion.resample import fill_invalid, gap_status, mask_runs

# Gap-fill status per frame.
OBSERVED, INTERPOLATED, HELD, MISSING = 0, 1, 2, 3


def _alpha(cutoff, fps: float):
    """Smoothing factor of a first-order low-pass at `cutoff` Hz sampled at `fps`."""
    tau = 1.0 / (2 * np.pi * cutoff)
    return 1.0 / (1.0 + tau * fps)


def one_euro(x: np.ndarray, fps: float, min_cutoff: float = 1.0, beta: float = 0.5,
             d_cutoff: float = 1.0) -> np.ndarray:
    """One-Euro filter along axis 0 of `x` (T, K, D); each of the K vectors has one speed (norm over D).

    cutoff_t = min_cutoff + beta · |dx/dt|_t (Hz), with the speed low-passed at `d_cutoff` Hz. The
    speed is taken on the raw signal (a linear filter, computed for the whole clip at once), so the
    only loop over frames is the low-pass itself.
    """
    x = np.asarray(x, dtype=np.float64)
    if len(x) < 2:
        return x.copy()
    # Speed: raw derivative (T, K, D), low-passed by a fixed first-order filter along time.
    dx = np.empty_like(x)
    dx[0] = 0.0
    np.subtract(x[1:], x[:-1], out=dx[1:])
    dx *= fps
    a_d = _alpha(d_cutoff, fps)
    dx = lfilter([a_d], [1.0, a_d - 1.0], dx, axis=0)  # y_t = a·x_t + (1 − a)·y_{t−1}
    speed = np.sqrt(np.einsum("...i,...i->...", dx, dx))[..., None]
    return lowpass(x, _alpha(min_cutoff + beta * speed, fps))  # (T, K, 1) per-frame factors


def lowpass(x: np.ndarray, alpha: np.ndarray, block: int = 64) -> np.ndarray:
    """y_0 = x_0, y_t = y_{t−1} + alpha_t · (x_t − y_{t−1}) along axis 0, `alpha` broadcastable to x.

    Computed in blocks of `block` frames, each in closed form: with g_t = 1 − alpha_t and P_t the product
    of g over the block up to t, y_t = P_t · (y_start + Σ_k alpha_k x_k / P_k). alpha is capped at 0.999
    (a cutoff of 159 × fps: no smoothing at all), so P ≥ 1e-192 over a block, far from float64's
    underflow, and the only Python loop is over blocks.
    """
    x = np.asarray(x, dtype=np.float64)
    alpha = np.broadcast_to(np.minimum(alpha, 0.999), x.shape)
    out = np.empty_like(x)
    out[0] = state = x[0]
    for start in range(1, len(x), block):
        stop = min(start + block, len(x))
        a = alpha[start:stop]
        p = np.cumprod(1.0 - a, axis=0)
        out[start:stop] = p * (state + np.cumsum(a * x[start:stop] / p, axis=0))
        state = out[stop - 1]
    return out


def fill_gaps(x: np.ndarray, observed: np.ndarray, max_gap: int, unit: bool = False
              ) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """Fill the frames of `x` (T, ...) where `observed` (T,) is False (`lslm.motion.resample.fill_invalid`:
    gaps of at most `max_gap` frames interpolated, renormalised when `unit` (x holds unit vectors);
    longer ones and those at the ends held). Returns (x, per-frame status OBSERVED / INTERPOLATED /
    HELD / MISSING (never observed: left as it is), gaps [{"start", "frames", "filled"}])."""
    observed = np.asarray(observed, dtype=bool)
    x = np.array(x, dtype=np.float64)
    interp, held = gap_status(observed, max_gap)
    if observed.any():
        x = fill_invalid(x, observed, max_gap=max_gap)
    if unit and interp.any():
        x[interp] /= np.maximum(np.linalg.norm(x[interp], axis=-1, keepdims=True), 1e-12)
    status = np.where(observed, OBSERVED, np.where(interp, INTERPOLATED, np.where(held, HELD, MISSING)))
    if not observed.any():
        return x, status.astype(np.int8), [{"start": 0, "frames": len(x), "filled": "missing"}] if len(x) else []
    gaps = [{"start": s, "frames": n, "filled": "interpolated" if interp[s] else "held"} for s, n in mask_runs(~observed)]
    return x, status.astype(np.int8), gaps

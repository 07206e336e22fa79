"""What the input checks cost on the hot paths, each against the naive form of the same check, same run.

    python benchmarks/bench_checks.py [--clips 64] [--frames 200] [--repeats 7]

* finiteness of a feature batch (B, T − 1, 623): lslm's sum test (`_check_finite`) vs the element-wise
  `torch.isfinite(x).all()`, and both against `joints_to_features` on the same batch;
* reading a raw clip `.npz`: `load_npz` (every member's header checked against its zip sizes first) vs a
  plain `np.load` of the same file.
Prints best-of-N times and ratios.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch
from bench_fk import best_time

from lslm.data.adapters import load_npz
from lslm.motion import default_rest_skeleton, joints_to_features, smplx_to_joints
from lslm.motion.features import _check_finite


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=64)
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, args.frames)[:, None]
    params = {"body_pose": 0.3 * np.sin(3 * t + rng.uniform(0, 3, 63)), "transl": 0.1 * t * np.ones((1, 3))}
    clip = smplx_to_joints(params)  # (T, 52, 3)
    joints = torch.as_tensor(np.stack([clip] * args.clips))  # (B, T, 52, 3)
    target = default_rest_skeleton()
    feats = joints_to_features(joints, target)  # (B, T - 1, 623)

    convert = best_time(lambda: joints_to_features(joints, target), args.repeats)
    ours = best_time(lambda: _check_finite(feats, "features"), args.repeats)
    naive = best_time(lambda: bool(torch.isfinite(feats).all()), args.repeats)
    print(f"finiteness of {tuple(feats.shape)} float32: sum test {ours * 1e3:.1f} ms, isfinite().all() "
          f"{naive * 1e3:.1f} ms ({naive / ours:.1f}x); joints_to_features {convert * 1e3:.0f} ms "
          f"(the output check is {100 * ours / convert:.1f} % of it)")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.npz"
        np.savez_compressed(path, **{k: np.asarray(v) for k, v in params.items()}, joints=clip,
                            fps=np.array(30.0))
        checked = best_time(lambda: load_npz(path), args.repeats * 5)

        def plain():
            with np.load(path, allow_pickle=False) as npz:
                return {k: npz[k] for k in npz.files}
        unchecked = best_time(plain, args.repeats * 5)
    print(f"raw clip .npz ({args.frames} frames): load_npz {checked * 1e3:.2f} ms, np.load {unchecked * 1e3:.2f} ms "
          f"({checked / unchecked:.2f}x)")


if __name__ == "__main__":
    main()

"""Joints → features throughput: lslm (batched) against the reference code as its authors wrote it.

    python benchmarks/bench_features.py                                  # ours alone
    python benchmarks/bench_features.py --reference /tmp/Motion-X        # + Motion-X (22 and 52 joints)
    python benchmarks/bench_features.py --reference /tmp/HumanML3D --joints 22

`--reference` (or $LSLM_MOTIONX_DIR / $LSLM_HUMANML3D_DIR) is a checkout of Motion-X
(tomato_represenation/motion_representation.py) or HumanML3D (motion_representation.ipynb, 22 joints
only). Their `process_file` runs clip by clip on the same joints in the same run; the ratio and the
largest feature difference are printed. Motion: random smooth SMPL-X poses on our rest skeleton.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

from lslm.motion import Skeleton, joints_to_features
from lslm.motion.kinematics import smplx_to_joints


def load_reference(checkout: str | os.PathLike, num_joints: int):
    """`features(joints (T, J, 3), target_pose (J, 3), fps) -> (T−1, D)` from a reference checkout."""
    checkout = Path(checkout)
    motionx = checkout / "tomato_represenation" / "motion_representation.py"
    notebook = checkout / "motion_representation.ipynb"
    code_dir = motionx.parent if motionx.exists() else checkout
    if not motionx.exists() and not notebook.exists():
        raise FileNotFoundError(f"{checkout}: neither a Motion-X nor a HumanML3D checkout")
    if num_joints != 22 and not motionx.exists():
        raise ValueError("HumanML3D's code has rest directions for the 22 body joints only: use Motion-X")
    for name in [m for m in sys.modules if m == "paramUtil" or m.split(".")[0] == "common"]:
        del sys.modules[name]  # both checkouts ship a top-level `common` package
    sys.path.insert(0, str(code_dir))
    had_alias = hasattr(np, "float")
    np.float = float  # their quaternion.py predates numpy 1.24, which removed this alias
    try:
        if motionx.exists():
            spec = importlib.util.spec_from_file_location("lslm_reference_representation", motionx)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            ns = module.__dict__
        else:  # the notebook cells that import and define the functions
            ns = {"__name__": "lslm_reference_representation"}
            cells = json.loads(notebook.read_text())["cells"]
            for cell in cells:
                source = "".join(cell["source"])
                if cell["cell_type"] == "code" and ("def " in source or source.startswith("from os.path")):
                    exec(compile(source, str(notebook), "exec"), ns)  # noqa: S102 (the reference, run as written)
        param_util = importlib.import_module("paramUtil")
    finally:
        sys.path.remove(str(code_dir))
        if not had_alias:
            del np.float

    if num_joints == 52:
        raw_offsets, chains = param_util.t2m_raw_offsets, param_util.t2m_body_hand_kinematic_chain
    else:
        raw_offsets, chains = param_util.t2m_raw_offsets[:22], param_util.t2m_kinematic_chain
    ns.update(l_idx1=5, l_idx2=8, fid_r=[8, 11], fid_l=[7, 10], face_joint_indx=[2, 1, 17, 16],
              n_raw_offsets=torch.from_numpy(raw_offsets), kinematic_chain=chains)

    def features(joints: np.ndarray, target_pose: np.ndarray, fps: float) -> np.ndarray:
        skeleton = ns["Skeleton"](ns["n_raw_offsets"], chains, "cpu")
        ns["tgt_offsets"] = skeleton.get_offsets_joints(torch.from_numpy(target_pose))
        return ns["process_file"](joints.copy(), 0.002 * (20.0 / fps) ** 2)[0]

    return features


def random_motion(clips: int, frames: int, seed: int = 0) -> np.ndarray:
    """(clips, frames, 52, 3) joints of random smooth poses and a wandering, turning root."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, frames)[None, :, None]  # (1, T, 1)

    def smooth(dim: int, scale: float) -> np.ndarray:  # (clips, T, dim): a few random sinusoids
        freq = rng.uniform(0.3, 2.0, (clips, 1, dim, 3))
        phase = rng.uniform(0, 2 * np.pi, (clips, 1, dim, 3))
        amp = rng.normal(0, scale, (clips, 1, dim, 3))
        return (amp * np.sin(2 * np.pi * freq * t[..., None] + phase)).sum(-1)

    params = {"global_orient": smooth(3, 0.3), "body_pose": smooth(63, 0.15),
              "left_hand_pose": smooth(45, 0.2), "right_hand_pose": smooth(45, 0.2),
              "transl": smooth(3, 0.5) + np.array([0.0, 1.0, 0.0])}
    return smplx_to_joints(params)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", default=os.environ.get("LSLM_MOTIONX_DIR")
                        or os.environ.get("LSLM_HUMANML3D_DIR"), help="Motion-X or HumanML3D checkout")
    parser.add_argument("--clips", type=int, default=64)
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--joints", type=int, choices=(22, 52), default=52)
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of ours (best is kept)")
    parser.add_argument("--reference-clips", type=int, default=16, help="clips the reference runs on")
    args = parser.parse_args(argv)

    joints = random_motion(args.clips, args.frames)[:, :, : args.joints]  # (B, T, J, 3)
    rest = smplx_to_joints({"global_orient": np.zeros(3)})  # (52, 3) our rest pose
    skeleton = Skeleton.smplx52() if args.joints == 52 else Skeleton.body22()
    target_pose = rest[: args.joints].astype(np.float64)
    target = skeleton.with_offsets_from(target_pose)
    lengths = np.full(args.clips, args.frames)
    frames = args.clips * args.frames

    joints_to_features(joints[:2], target, fps=args.fps, lengths=lengths[:2])  # warm-up
    best = float("inf")
    for _ in range(args.repeat):
        start = time.perf_counter()
        ours = joints_to_features(joints, target, fps=args.fps, lengths=lengths)
        best = min(best, time.perf_counter() - start)
    rows = [("lslm joints_to_features (batched)", frames, best)]

    note = "reference: skipped (give --reference or $LSLM_MOTIONX_DIR / $LSLM_HUMANML3D_DIR)"
    if args.reference:
        reference = load_reference(args.reference, args.joints)
        n = min(args.reference_clips, args.clips)
        start = time.perf_counter()
        ref = [reference(joints[i].astype(np.float64), target_pose, args.fps) for i in range(n)]
        elapsed = time.perf_counter() - start
        rows.append((f"reference process_file (per clip, {n} clips)", n * args.frames, elapsed))
        diff = max(np.abs(ours[i, : len(r)] - r).max() for i, r in enumerate(ref))
        ratio = (frames / best) / (n * args.frames / elapsed)
        note = f"speed-up: {ratio:.1f}x   max |ours − reference| over the features: {diff:.2e}"

    print(f"joints → features, {args.clips} clips × {args.frames} frames × {args.joints} joints, "
          f"{torch.get_num_threads()} torch threads, load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores")
    print(f"{'implementation':<46}{'frames':>9}{'seconds':>10}{'frames/s':>12}")
    for name, n_frames, seconds in rows:
        print(f"{name:<46}{n_frames:>9}{seconds:>10.3f}{n_frames / seconds:>12,.0f}")
    print(note)


if __name__ == "__main__":
    main()

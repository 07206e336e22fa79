"""Joints-only SMPL-X forward kinematics (lslm) vs the full smplx.SMPLX forward, same batch, same run.

    python benchmarks/bench_fk.py [--frames 1024] [--repeats 5]

Both run on a full-size random SMPL-X model file (10,475 vertices, 300 betas + 100 expressions, built by
`lslm.motion.random_smplx.write_smplx_model`), CPU, default torch threads. Prints frames/s of both, the
speed-up and the largest joint difference.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import roma  # noqa: F401  (smplx_to_joints imports it on its first call: kept out of the model-load time)
import smplx
import torch

from lslm.motion import smplx_to_joints
from lslm.motion.kinematics import SMPLX_TO_52
from lslm.motion.random_smplx import random_params, write_smplx_model
from timing import best_time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        model_file = write_smplx_model(Path(tmp) / "SMPLX_NEUTRAL.npz")
        params = {k: torch.from_numpy(v) for k, v in random_params((args.frames,)).items()}

        start = time.perf_counter()
        ours = smplx_to_joints(params, model_path=model_file)  # first call reads and caches the model
        ours_load = time.perf_counter() - start
        start = time.perf_counter()
        body = smplx.SMPLX(model_path=str(model_file), use_pca=False, flat_hand_mean=False, num_betas=10,
                           num_expression_coeffs=10, batch_size=args.frames)
        smplx_load = time.perf_counter() - start

        with torch.no_grad():
            reference = body(**params).joints[:, list(SMPLX_TO_52)]
            ours_s = best_time(lambda: smplx_to_joints(params, model_path=model_file), args.repeats)
            smplx_s = best_time(lambda: body(**params), args.repeats)
        numpy_params = {k: v.numpy() for k, v in params.items()}
        numpy_s = best_time(lambda: smplx_to_joints(numpy_params, model_path=model_file), args.repeats)

    diff = (ours - reference).abs().max().item()
    print(f"frames={args.frames} repeats={args.repeats} (best) threads={torch.get_num_threads()}")
    print(f"model load:     lslm {ours_load:.2f} s (once per file), smplx.SMPLX {smplx_load:.2f} s")
    print(f"lslm (torch):   {args.frames / ours_s:12.0f} frames/s")
    print(f"lslm (numpy):   {args.frames / numpy_s:12.0f} frames/s")
    print(f"smplx.SMPLX:    {args.frames / smplx_s:12.0f} frames/s")
    print(f"speed-up:       {smplx_s / ours_s:12.1f}x")
    print(f"max |lslm - smplx| = {diff:.2e} m")
    if diff > 1e-5:
        raise SystemExit(f"joints differ from smplx by {diff:.2e} m")


if __name__ == "__main__":
    main()

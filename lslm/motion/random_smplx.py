"""A random SMPL-X model file with the structure of the official SMPLX_NEUTRAL.npz: what smplx and lslm's
kinematics read, with random values. The real model is licensed and never shipped; tests and benchmarks
(benchmarks/bench_fk.py) build this one where they need a model file.

    path = write_smplx_model(Path(tmp) / "SMPLX_NEUTRAL.npz")
    joints = smplx_to_joints(random_params((64,)), model_path=path)   # (64, 52, 3)
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from lslm.motion import Skeleton
from lslm.motion.kinematics import SMPLX_TO_52

NUM_VERTS = 10475  # smplx picks extra joints from fixed vertex ids (up to 9929), so keep the real count


def smplx_parents55() -> np.ndarray:
    """The SMPL-X kinematic tree: our 52 joints' parents, plus jaw and eyes (22–24) under the head."""
    parents = np.zeros(55, dtype=np.int64)
    for j, p in enumerate(Skeleton.smplx52().parents):
        parents[SMPLX_TO_52[j]] = SMPLX_TO_52[p] if p >= 0 else 0
    parents[[22, 23, 24]] = 15
    return parents


def write_smplx_model(path: Path, num_dirs: int = 400, seed: int = 0, num_verts: int = NUM_VERTS) -> Path:
    """A random SMPL-X model file with the structure of SMPLX_NEUTRAL.npz (v1.1: 300 betas + 100
    expressions; num_dirs=20 gives the v1.0 layout of 10 + 10)."""
    rng = np.random.default_rng(seed)
    num_faces = 2 * num_verts
    regressor = rng.random((55, num_verts)) * (rng.random((55, num_verts)) < 0.01)
    regressor[:, 0] += 1e-3  # no empty row
    kintree = np.stack([smplx_parents55(), np.arange(55)])
    kintree[0, 0] = 2**32 - 1  # as in the official files
    weights = rng.random((num_verts, 55))
    np.savez(
        path,
        v_template=rng.uniform(-0.8, 0.8, (num_verts, 3)),
        shapedirs=rng.normal(0, 0.01, (num_verts, 3, num_dirs)).astype(np.float32),
        posedirs=rng.normal(0, 0.001, (num_verts, 3, 486)).astype(np.float32),
        J_regressor=regressor / regressor.sum(1, keepdims=True),
        kintree_table=kintree,
        weights=weights / weights.sum(1, keepdims=True),
        f=rng.integers(0, num_verts, (num_faces, 3)),
        hands_componentsl=rng.normal(size=(45, 45)), hands_componentsr=rng.normal(size=(45, 45)),
        hands_meanl=rng.normal(0, 0.3, 45), hands_meanr=rng.normal(0, 0.3, 45),
        lmk_faces_idx=rng.integers(0, num_faces, 51), lmk_bary_coords=rng.dirichlet(np.ones(3), 51),
        part2num=np.array({"global": 0}, dtype=object),  # a pickled entry, as in the official files
    )
    return path


def random_params(batch: tuple[int, ...], seed: int = 1, num_betas: int = 10, num_expr: int = 10) -> dict:
    """Random SMPL-X parameters of every field with leading shape `batch` (float32, axis-angle)."""
    rng = np.random.default_rng(seed)
    sizes = {"global_orient": 3, "body_pose": 63, "left_hand_pose": 45, "right_hand_pose": 45, "jaw_pose": 3,
             "leye_pose": 3, "reye_pose": 3, "betas": num_betas, "expression": num_expr, "transl": 3}
    return {k: rng.normal(0, 0.6 if k.endswith("pose") or k == "global_orient" else 1.0,
                          (*batch, n)).astype(np.float32) for k, n in sizes.items()}

"""SMPL-X parameters → 52 joints, against the smplx library on model files built here."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

from lslm.errors import InvalidInputError
from lslm.motion import Skeleton, default_rest_skeleton, smplx_to_joints
from lslm.motion.kinematics import SMPLX_TO_52
from shared_data import PEER_DATA

smplx = pytest.importorskip("smplx")
from lslm.motion.random_smplx import random_params, write_smplx_model  # noqa: E402


def smplx_joints(model_file: Path, params: dict, flat_hand_mean: bool) -> np.ndarray:
    """smplx.SMPLX(...).joints[:, [0..21, 25..54]] for a flat batch of numpy params."""
    n = params["body_pose"].shape[0]
    model = smplx.SMPLX(model_path=str(model_file), use_pca=False, flat_hand_mean=flat_hand_mean,
                        num_betas=10, num_expression_coeffs=10, batch_size=n)
    with torch.no_grad():
        out = model(**{k: torch.as_tensor(v) for k, v in params.items()})
    return out.joints[:, list(SMPLX_TO_52)].numpy()


@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> Path:
    return write_smplx_model(tmp_path_factory.mktemp("smplx") / "SMPLX_NEUTRAL.npz")


@pytest.mark.parametrize("flat_hand_mean", [False, True])
def test_matches_smplx(model_file, flat_hand_mean):
    params = random_params((5,))
    ours = smplx_to_joints(params, model_path=model_file, flat_hand_mean=flat_hand_mean)
    assert ours.shape == (5, 52, 3) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, smplx_joints(model_file, params, flat_hand_mean), atol=1e-5, rtol=0)


def test_hand_mean_is_added_by_default(model_file):
    params = random_params((2,))
    curled = smplx_to_joints(params, model_path=model_file)
    flat = smplx_to_joints(params, model_path=model_file, flat_hand_mean=True)
    np.testing.assert_allclose(curled[:, :22], flat[:, :22], atol=1e-6)  # the body does not move
    assert np.abs(curled[:, 22:] - flat[:, 22:]).max() > 1e-3


def test_leading_shape_and_shared_betas(model_file):
    params = random_params((2, 3))
    params["betas"] = params["betas"][0, 0]  # (10,), one body for every frame
    params["expression"] = params["expression"][:, :, :4]  # fewer coefficients than the model's 10
    ours = smplx_to_joints(params, model_path=model_file)
    assert ours.shape == (2, 3, 52, 3)
    flat = {k: v.reshape(6, -1) for k, v in params.items() if k not in ("betas", "expression")}
    flat["betas"] = np.broadcast_to(params["betas"], (6, 10)).copy()
    flat["expression"] = np.pad(params["expression"].reshape(6, 4), ((0, 0), (0, 6)))
    np.testing.assert_allclose(ours.reshape(6, 52, 3), smplx_joints(model_file, flat, False), atol=1e-5)


def test_v10_layout_10_betas_10_expressions(tmp_path):
    model_file = write_smplx_model(tmp_path / "v10.npz", num_dirs=20, seed=3)
    params = random_params((3,), seed=4)
    np.testing.assert_allclose(smplx_to_joints(params, model_path=model_file),
                               smplx_joints(model_file, params, False), atol=1e-5, rtol=0)


def test_model_folder_and_gender(model_file):
    params = random_params((2,))
    np.testing.assert_array_equal(smplx_to_joints(params, model_path=model_file.parent),
                                  smplx_to_joints(params, model_path=model_file))
    with pytest.raises(InvalidInputError, match="SMPLX_FEMALE.npz"):
        smplx_to_joints(params, model_path=model_file.parent, gender="female")


def test_rewritten_model_file_is_read_again(tmp_path):
    path = write_smplx_model(tmp_path / "m.npz", num_dirs=20, seed=5)
    params = random_params((2,), seed=6)
    first = smplx_to_joints(params, model_path=path)
    stat = path.stat()
    write_smplx_model(path, num_dirs=20, seed=7)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    second = smplx_to_joints(params, model_path=path)
    assert np.abs(first - second).max() > 1e-3
    np.testing.assert_allclose(second, smplx_joints(path, params, False), atol=1e-5, rtol=0)


def test_numpy_and_torch_inputs(model_file):
    params = random_params((4,))
    from_numpy = smplx_to_joints(params, model_path=model_file)
    from_torch = smplx_to_joints({k: torch.from_numpy(v) for k, v in params.items()}, model_path=model_file)
    assert isinstance(from_torch, torch.Tensor) and from_torch.dtype == torch.float32
    np.testing.assert_allclose(from_torch.numpy(), from_numpy, atol=1e-6)
    double = smplx_to_joints({k: torch.from_numpy(v).double() for k, v in params.items()},
                             model_path=model_file)
    assert double.dtype == torch.float64
    np.testing.assert_allclose(double.numpy(), from_numpy, atol=1e-5)


# --- without a model: our rest skeleton ----------------------------------------------------------------

def rest_positions(skeleton: Skeleton) -> np.ndarray:
    positions = np.zeros((52, 3))
    for j, p in enumerate(skeleton.parents):
        positions[j] = skeleton.offsets[j] + (positions[p] if p >= 0 else 0)
    return positions


def test_zero_pose_is_the_rest_skeleton_and_betas_are_ignored():
    rest = rest_positions(default_rest_skeleton())
    joints = smplx_to_joints({"betas": np.ones(10), "transl": np.array([0.0, 1.0, 0.0])})
    np.testing.assert_allclose(joints, rest + [0, 1, 0], atol=1e-6)


def test_elbow_90_degrees_moves_the_wrist_as_hand_computed():
    skeleton = default_rest_skeleton()
    rest = rest_positions(skeleton)
    body_pose = np.zeros((21, 3))
    body_pose[18 - 1] = [0, np.pi / 2, 0]  # left elbow (joint 18), +90° about y: (x, y, z) → (z, y, −x)
    joints = smplx_to_joints({"body_pose": body_pose})
    dx, dy, dz = skeleton.offsets[20]  # elbow → wrist in the rest pose
    np.testing.assert_allclose(joints[20], rest[18] + [dz, dy, -dx], atol=1e-6)
    np.testing.assert_allclose(joints[:20], rest[:20], atol=1e-6)  # nothing above the elbow moves
    left_hand = [j for j, n in enumerate(skeleton.names) if n.startswith("left_") and j >= 22]
    rotated = rest[18] + (rest[left_hand] - rest[18]) @ np.array([[0, 0, 1], [0, 1, 0], [-1, 0, 0]]).T
    np.testing.assert_allclose(joints[left_hand], rotated, atol=1e-6)


def test_custom_rest_skeleton_scales_the_body():
    skeleton = default_rest_skeleton()
    tall = Skeleton.smplx52().with_offsets_from(rest_positions(skeleton) * 1.1)
    params = random_params((3,))
    np.testing.assert_allclose(smplx_to_joints(params, rest_skeleton=tall) - params["transl"][:, None],
                               1.1 * (smplx_to_joints(params) - params["transl"][:, None]), atol=1e-5)


def test_rest_skeleton_asset_is_a_plausible_adult():
    skeleton = default_rest_skeleton()
    rest = rest_positions(skeleton)
    across = (rest[2] - rest[1]) + (rest[17] - rest[16])  # right − left hips and shoulders
    forward = np.cross([0, 1, 0], across)
    np.testing.assert_allclose(forward / np.linalg.norm(forward), [0, 0, 1], atol=0.05)  # faces +Z
    assert set(np.argsort(rest[:, 1])[:2]) == {10, 11}  # the feet are lowest
    assert 1.5 < rest[15, 1] - rest[10, 1] + 0.15 < 2.0  # head joint + ~15 cm of skull: adult height
    for left, right in skeleton.lr_pairs:
        assert rest[left, 0] > 0 > rest[right, 0]  # left side at +X
        np.testing.assert_allclose(rest[left], rest[right] * [-1, 1, 1], atol=1e-9)
    bones = np.linalg.norm(skeleton.offsets[1:], axis=1)
    assert bones.min() > 0.015 and bones.max() < 0.45


def test_real_amass_sequence_on_the_rest_skeleton():
    path = PEER_DATA / "amass" / "amass_sample.npz"
    if not path.exists():
        pytest.skip("peer data absent")
    clip = np.load(path)
    poses = clip["poses"]  # SMPL-H (T, 156): the same 22 body + 2×15 hand joints as SMPL-X's 52
    joints = smplx_to_joints({"global_orient": poses[:, :3], "body_pose": poses[:, 3:66],
                              "left_hand_pose": poses[:, 66:111], "right_hand_pose": poses[:, 111:156],
                              "transl": clip["trans"]})
    skeleton = default_rest_skeleton()
    parents = list(skeleton.parents[1:])
    bones = np.linalg.norm(joints[:, 1:] - joints[:, parents], axis=-1)  # rigid: rest bone lengths
    np.testing.assert_allclose(bones, np.broadcast_to(np.linalg.norm(skeleton.offsets[1:], axis=1),
                                                      bones.shape), atol=1e-5)
    np.testing.assert_allclose(joints[:, 0], clip["trans"], atol=1e-6)  # pelvis at transl, added once
    up = joints[..., 2]  # AMASS is z-up: the global orientation stands the y-up body upright
    assert (up[:, 15] > up[:, 0] + 0.5).all()
    assert np.isin(up.argmin(axis=1), [10, 11]).all()  # the feet are lowest

# --- bad input -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("params, field", [
    ({"body_pose": np.zeros((4, 62))}, "body_pose"),
    ({"left_hand_pose": np.zeros((4, 14, 3))}, "left_hand_pose"),
    ({"global_orient": np.array([0.0, np.nan, 0.0])}, "global_orient"),
    ({"transl": np.array([[0.0, np.inf, 0.0]])}, "transl"),
    ({"jaw_pose": np.array(["a", "b", "c"])}, "jaw_pose"),
    ({"poses": np.zeros((4, 165))}, "poses"),
    ({"global_orient": np.zeros((4, 3)), "body_pose": np.zeros((5, 63))}, "params"),
])
def test_bad_params_name_the_field(params, field):
    with pytest.raises(InvalidInputError, match=f"'{field}'"):
        smplx_to_joints(params)


def test_too_many_betas_for_the_model(model_file):
    with pytest.raises(InvalidInputError, match="'expression'"):
        smplx_to_joints({"expression": np.zeros(101)}, model_path=model_file)


def test_bad_rest_skeleton():
    with pytest.raises(InvalidInputError, match="'rest_skeleton'"):
        smplx_to_joints({}, rest_skeleton=Skeleton.smplx52())  # no offsets


def test_bad_model_files_name_file_and_field(tmp_path):
    with pytest.raises(InvalidInputError, match="missing.npz.*'model_path'"):
        smplx_to_joints({}, model_path=tmp_path / "missing.npz")
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip file")
    with pytest.raises(InvalidInputError, match="garbage.npz.*'model_path'"):
        smplx_to_joints({}, model_path=garbage)
    no_regressor = tmp_path / "no_regressor.npz"
    np.savez(no_regressor, v_template=np.zeros((10, 3)), shapedirs=np.zeros((10, 3, 20)),
             kintree_table=np.zeros((2, 55)), hands_meanl=np.zeros(45), hands_meanr=np.zeros(45))
    with pytest.raises(InvalidInputError, match="no_regressor.npz.*'J_regressor'"):
        smplx_to_joints({}, model_path=no_regressor)
    wrong_tree = tmp_path / "wrong_tree.npz"
    np.savez(wrong_tree, v_template=np.zeros((10, 3)), shapedirs=np.zeros((10, 3, 20)),
             J_regressor=np.full((55, 10), 0.1), kintree_table=np.zeros((2, 55)),
             hands_meanl=np.zeros(45), hands_meanr=np.zeros(45))
    with pytest.raises(InvalidInputError, match="wrong_tree.npz.*'kintree_table'"):
        smplx_to_joints({}, model_path=wrong_tree)

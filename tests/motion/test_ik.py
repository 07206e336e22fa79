"""Inverse kinematics 52 joints → SMPL-X rotations, on a random SMPL-X model file built here."""
from __future__ import annotations

import numpy as np
import pytest
import roma
import torch
from lslm.motion.random_smplx import random_params, write_smplx_model

from lslm.errors import InvalidInputError
from lslm.motion import Skeleton, smplx_to_joints
from lslm.motion.ik import joints_to_smplx, model_rest_joints

NAMES = Skeleton.smplx52().names


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    return write_smplx_model(tmp_path_factory.mktemp("smplx") / "SMPLX_NEUTRAL.npz", num_dirs=20, seed=5)


def body_params(frames: int, seed: int = 1) -> dict:
    params = random_params((frames,), seed=seed)
    return {k: params[k] for k in ("global_orient", "body_pose", "left_hand_pose", "right_hand_pose", "transl")}


def test_round_trip_through_the_model_is_exact(model_file):
    params = body_params(8)
    betas = np.random.default_rng(2).normal(size=10).astype(np.float32)
    joints = smplx_to_joints({**params, "betas": betas}, model_path=model_file, flat_hand_mean=True)
    found = joints_to_smplx(joints, model_rest_joints(model_file, betas))
    assert {k: v.shape for k, v in found.items()} == {"global_orient": (8, 3), "body_pose": (8, 63),
                                                       "left_hand_pose": (8, 45), "right_hand_pose": (8, 45),
                                                       "transl": (8, 3)}
    again = smplx_to_joints({**found, "betas": betas}, model_path=model_file, flat_hand_mean=True)
    np.testing.assert_allclose(again, joints, atol=2e-5)
    # the root rotation is fully determined (three bones leave the pelvis): it is the one we posed with
    np.testing.assert_allclose(roma.rotvec_to_rotmat(torch.tensor(found["global_orient"])),
                               roma.rotvec_to_rotmat(torch.tensor(params["global_orient"])), atol=1e-4)


def test_twist_about_the_forearm_is_put_at_the_elbow(model_file):
    """A wrist twisted about the forearm and an elbow twisted as much give the same joints: the IK returns
    one answer for both, with the twist at the elbow and none left in the wrist."""
    rest = model_rest_joints(model_file)
    elbow, wrist = NAMES.index("right_elbow"), NAMES.index("right_wrist")
    axis = (rest[wrist] - rest[elbow]) / np.linalg.norm(rest[wrist] - rest[elbow])
    params = body_params(1, seed=3)
    for name in ("right_collar", "right_shoulder", "right_elbow"):  # an arm hanging in its rest direction...
        j = NAMES.index(name)
        params["body_pose"][:, 3 * (j - 1):3 * j] = 0.0
    at_wrist, at_elbow = ({k: v.copy() for k, v in params.items()} for _ in range(2))
    at_wrist["body_pose"][:, 3 * (wrist - 1):3 * wrist] = 0.8 * axis  # ...its hand turned about the forearm
    at_elbow["body_pose"][:, 3 * (wrist - 1):3 * wrist] = 0.0
    at_elbow["body_pose"][:, 3 * (elbow - 1):3 * elbow] = 0.8 * axis
    joints = [smplx_to_joints(p, model_path=model_file, flat_hand_mean=True) for p in (at_wrist, at_elbow)]
    np.testing.assert_allclose(joints[0], joints[1], atol=1e-5)  # invisible in positions
    found = [joints_to_smplx(j, rest) for j in joints]
    np.testing.assert_allclose(found[0]["body_pose"], found[1]["body_pose"], atol=1e-4)
    np.testing.assert_allclose(found[0]["body_pose"][0, 3 * (elbow - 1):3 * elbow], 0.8 * axis, atol=1e-4)
    np.testing.assert_allclose(found[0]["body_pose"][0, 3 * (wrist - 1):3 * wrist], 0.0, atol=1e-4)


def test_leaves_take_no_rotation_and_fingertips_bend_like_the_middle_segment(model_file):
    rest = model_rest_joints(model_file)
    params = body_params(2, seed=4)
    head = NAMES.index("head")
    turned = {k: v.copy() for k, v in params.items()}
    turned["body_pose"][:, 3 * (head - 1):3 * head] = [0.3, -0.5, 0.2]  # moves no joint of the 52
    np.testing.assert_allclose(smplx_to_joints(turned, model_path=model_file, flat_hand_mean=True),
                               smplx_to_joints(params, model_path=model_file, flat_hand_mean=True), atol=1e-6)
    found = joints_to_smplx(smplx_to_joints(turned, model_path=model_file, flat_hand_mean=True), rest)
    np.testing.assert_allclose(found["body_pose"][:, 3 * (head - 1):3 * head], 0.0, atol=1e-6)
    index2, index3 = NAMES.index("left_index2") - 22, NAMES.index("left_index3") - 22
    hand = found["left_hand_pose"].reshape(2, 15, 3)
    np.testing.assert_allclose(hand[:, index3], hand[:, index2], atol=1e-6)


def test_another_body_keeps_the_bone_directions(model_file):
    """Motion of a body whose bones are 0.8-1.2 times the model's: the model's bones point the same way."""
    rest = model_rest_joints(model_file)
    parents = np.array(Skeleton.smplx52().parents)
    scale = np.random.default_rng(7).uniform(0.8, 1.2, (52, 1))
    other = Skeleton.smplx52().with_offsets_from(rest)
    other = Skeleton(other.names, other.parents, other.chains, other.lr_pairs, offsets=other.offsets * scale)
    joints = smplx_to_joints(body_params(3, seed=6), rest_skeleton=other)
    found = joints_to_smplx(joints, rest)
    posed = smplx_to_joints(found, model_path=model_file, flat_hand_mean=True)
    assert np.abs(posed - joints).max() > 0.01  # the bodies differ

    def directions(j):
        bones = j[:, 1:] - j[:, parents[1:]]
        return bones / np.linalg.norm(bones, axis=-1, keepdims=True)

    np.testing.assert_allclose(directions(posed), directions(joints), atol=1e-4)
    np.testing.assert_allclose(posed[:, 0], joints[:, 0], atol=1e-5)  # the pelvis is placed by transl


def test_bad_input_is_a_typed_error(model_file):
    rest = model_rest_joints(model_file)
    with pytest.raises(InvalidInputError, match="joints"):
        joints_to_smplx(np.zeros((4, 22, 3)), rest)
    with pytest.raises(InvalidInputError, match="rest_joints"):
        joints_to_smplx(np.zeros((4, 52, 3)), rest[:22])
    with pytest.raises(InvalidInputError, match="apart from its parent"):
        joints_to_smplx(np.zeros((1, 52, 3)), rest)
    with pytest.raises(InvalidInputError, match="betas"):
        model_rest_joints(model_file, np.zeros(11))

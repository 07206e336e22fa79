"""Joints ⇄ features against HumanML3D's published clip, the reference code, round trips and hand cases."""
import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest
import roma
import torch
import torch.nn.functional as F

from lslm.errors import InvalidInputError
from lslm.motion import Skeleton, feature_layout, features, features_to_joints, joints_to_features
from lslm.motion.features import preprocess_joints
from shared_data import PEER_DATA

HUMANML3D = PEER_DATA / "humanml3d"
ROOT = Path(__file__).resolve().parents[2]


def fk_motion(skeleton: Skeleton, clips: int, frames: int, seed: int = 0, turn: float = 1.0) -> np.ndarray:
    """(clips, frames, J, 3) FK of random smooth local rotations on our own bone lengths, with a root
    that wanders and turns (`turn` radians of yaw amplitude)."""
    rng = np.random.default_rng(seed)
    j = skeleton.num_joints
    lengths = np.where(np.arange(j) < 22, rng.uniform(0.08, 0.4, j), rng.uniform(0.02, 0.04, j))
    lengths[[1, 2, 13, 14]] = 0.1, 0.1, 0.17, 0.17  # shoulders wider than hips, as in people
    offsets = skeleton.ik_directions * lengths[:, None] + rng.normal(0, 0.02, (j, 3))  # not axis-aligned
    t = np.linspace(0, 1, frames)[None, :, None]

    def smooth(k: int, scale: float) -> np.ndarray:  # (clips, frames, k)
        freq, phase = rng.uniform(0.3, 2, (clips, 1, k)), rng.uniform(0, 2 * np.pi, (clips, 1, k))
        return rng.normal(0, scale, (clips, 1, k)) * np.sin(2 * np.pi * freq * t + phase)

    local = roma.rotvec_to_rotmat(torch.from_numpy(smooth(3 * j, 0.25)).view(clips, frames, j, 3))
    yaw = roma.rotvec_to_rotmat(torch.from_numpy(smooth(1, turn) * np.array([0.0, 1.0, 0.0])))
    local[:, :, 0] = yaw @ local[:, :, 0]
    glob = [local[:, :, 0]]
    pos = [torch.from_numpy(smooth(3, 0.5) + np.array([0.0, 1.0, 0.0]))]
    for k in range(1, j):
        parent = skeleton.parents[k]
        glob.append(glob[parent] @ local[:, :, k])
        pos.append(pos[parent] + glob[parent] @ torch.from_numpy(offsets[k]))
    return torch.stack(pos, dim=2).numpy()


@pytest.fixture(scope="module")
def clip012314():
    joints_path = HUMANML3D / "HumanML3D_new_joints_012314.npy"
    if not joints_path.exists():
        pytest.skip("HumanML3D reference clip absent")
    return np.load(joints_path), np.load(HUMANML3D / "HumanML3D_new_joint_vecs_012314.npy")


def test_layout_sizes():
    for j, d in ((52, 623), (22, 263)):
        layout = feature_layout(j)
        assert list(layout) == ["root", "positions", "rotations", "velocities", "contacts"]
        assert layout["root"] == slice(0, 4) and layout["contacts"].stop == d
        sizes = [s.stop - s.start for s in layout.values()]
        assert sizes == [4, 3 * (j - 1), 6 * (j - 1), 3 * j, 4]
        assert all(a.stop == b.start for a, b in zip(layout.values(), list(layout.values())[1:]))


def test_matches_humanml3d_features(clip012314):
    # new_joints is the processed output, so processing it again is nearly the identity; the last
    # ~80 rows differ a little because the facing is smoothed over 170 frames instead of 171.
    joints, vecs = clip012314
    target = Skeleton.body22().with_offsets_from(joints[0])
    feats = joints_to_features(joints, target, fps=20.0, compat=True)
    assert feats.shape == (169, 263) and feats.dtype == np.float32
    layout = feature_layout(22)
    tolerance = {"root": 1e-3, "positions": 1e-2, "rotations": 2e-2, "velocities": 1e-3}
    for group, atol in tolerance.items():
        np.testing.assert_allclose(feats[:, layout[group]], vecs[:169, layout[group]], atol=atol, err_msg=group)
        np.testing.assert_allclose(feats[:80, layout[group]], vecs[:80, layout[group]], atol=2e-5, err_msg=group)
    np.testing.assert_array_equal(feats[:, layout["contacts"]], vecs[:169, layout["contacts"]])

    fixed = joints_to_features(joints, target, fps=20.0, compat=False)
    assert np.abs(fixed[:, 0] - vecs[:169, 0]).max() > 1e-2  # the hip swap changes the root frame
    np.testing.assert_array_equal(fixed[:, 3], feats[:, 3])  # but not the preprocessing


def test_recovers_humanml3d_joints(clip012314):
    joints, vecs = clip012314
    np.testing.assert_allclose(features_to_joints(vecs), joints, atol=1e-5)


def test_round_trip_52_batched_with_lengths():
    skeleton = Skeleton.smplx52()
    joints = fk_motion(skeleton, clips=3, frames=40, seed=1, turn=0.5)
    target = skeleton.with_offsets_from(fk_motion(skeleton, 1, 2, seed=7)[0, 0])
    lengths = np.array([40, 23, 2])
    for compat in (True, False):
        feats = joints_to_features(joints, target, fps=30.0, compat=compat, lengths=lengths)
        assert feats.shape == (3, 39, 623)
        back = features_to_joints(feats, lengths=lengths - 1)
        ready = preprocess_joints(joints, target, lengths=lengths)
        for b, n in enumerate(lengths):
            np.testing.assert_allclose(back[b, : n - 1], ready[b, : n - 1], atol=1e-5)
            assert not feats[b, n - 1:].any() and not back[b, n - 1:].any() and not ready[b, n:].any()


def test_component_first_algebra_matches_roma():
    """The per-component quaternion helpers against roma on random rotations and directions."""
    g = torch.Generator().manual_seed(0)
    a, b = roma.random_unitquat(500), roma.random_unitquat(500)  # (N, 4) XYZW
    relative = features._conj_product(a.T, b.T).T
    torch.testing.assert_close(relative, roma.quat_product(roma.quat_conjugation(a), b), atol=1e-6, rtol=0)
    columns = features._rotation_6d(b.T).T.reshape(-1, 2, 3).transpose(1, 2)  # (N, 3, 2)
    torch.testing.assert_close(columns, roma.unitquat_to_rotmat(b)[..., :2], atol=1e-6, rtol=0)
    u, v = (F.normalize(torch.randn(500, 3, generator=g), dim=-1) for _ in range(2))
    turned = roma.quat_action(features._quat_between(u.T, v.T).T, u, is_normalized=True)
    torch.testing.assert_close(turned, v, atol=1e-5, rtol=0)
    theta = torch.rand(500, generator=g) * 6.0
    yaw = roma.rotvec_to_rotmat(theta[:, None] * torch.tensor([0.0, 1.0, 0.0]))  # (N, 3, 3) about +Y
    torch.testing.assert_close(features._turn(u.T, theta).T, (yaw @ u[..., None])[..., 0],
                               atol=1e-6, rtol=0)


def test_preprocessing_retargets_floors_centres_and_faces_z():
    skeleton = Skeleton.smplx52()
    joints = fk_motion(skeleton, clips=1, frames=12, seed=2)[0]
    target = skeleton.with_offsets_from(fk_motion(skeleton, 1, 2, seed=3)[0, 0])
    ready = preprocess_joints(joints, target)
    bones = np.linalg.norm(ready[:, 1:] - ready[:, list(skeleton.parents[1:])], axis=-1)  # (T, J−1)
    np.testing.assert_allclose(bones, np.broadcast_to(np.linalg.norm(target.offsets[1:], axis=-1), bones.shape),
                               rtol=1e-5)
    assert abs(ready[..., 1].min()) < 1e-6
    np.testing.assert_allclose(ready[0, 0, [0, 2]], 0.0, atol=1e-6)
    r_hip, l_hip, r_sdr, l_sdr = skeleton.face_joints
    across = ready[0, r_hip] - ready[0, l_hip] + ready[0, r_sdr] - ready[0, l_sdr]
    forward = np.cross([0.0, 1.0, 0.0], across)
    np.testing.assert_allclose(forward / np.linalg.norm(forward), [0, 0, 1], atol=1e-6)
    # the root trajectory is scaled by the ratio of leg lengths
    leg = list(skeleton.leg_joints)
    ratio = (np.linalg.norm(target.offsets[leg], axis=-1).sum()
             / np.linalg.norm(joints[0, leg] - joints[0, [skeleton.parents[k] for k in leg]], axis=-1).sum())
    step = np.linalg.norm(np.diff(joints[:, 0, [0, 2]], axis=0), axis=-1)
    np.testing.assert_allclose(np.linalg.norm(np.diff(ready[:, 0, [0, 2]], axis=0), axis=-1), step * ratio, rtol=1e-4)


def test_batched_equals_per_clip_and_torch_equals_numpy():
    skeleton = Skeleton.body22()
    joints = fk_motion(skeleton, clips=3, frames=30, seed=4)
    joints[2, 17:] = np.nan  # padding may hold anything
    target = skeleton.with_offsets_from(joints[0, 0])
    lengths = [30, 25, 17]
    batched = joints_to_features(joints, target, fps=24.0, lengths=lengths)
    for b, n in enumerate(lengths):
        np.testing.assert_allclose(batched[b, : n - 1], joints_to_features(joints[b, :n], target, fps=24.0),
                                   atol=1e-5)
    as_torch = joints_to_features(torch.from_numpy(joints), target, fps=24.0, lengths=torch.tensor(lengths))
    assert isinstance(as_torch, torch.Tensor) and as_torch.dtype == torch.float32
    np.testing.assert_array_equal(as_torch.numpy(), batched)
    back = features_to_joints(as_torch, lengths=torch.tensor(lengths) - 1)
    assert isinstance(back, torch.Tensor) and back.shape == (3, 29, 22, 3)


def test_full_turn_compat_false_inverts_compat_true_does_not():
    # Spinning in place through ±180°: the reference's arcsin(sin(Δ/2)) turns back at the crossing.
    skeleton = Skeleton.body22()
    rest = fk_motion(skeleton, clips=1, frames=1, seed=5, turn=0.0)[0, 0]
    rest = rest - rest[0] * [1, 0, 1]
    frames = 60  # 6° per frame: the wrong way round costs 12° of yaw from the crossing on
    angles = np.linspace(0, 2 * np.pi, frames)
    spin = roma.rotvec_to_rotmat(torch.from_numpy(angles[:, None] * [0.0, 1.0, 0.0])).numpy()
    joints = np.einsum("tij,kj->tki", spin, rest)
    target = skeleton.with_offsets_from(rest)
    ready = preprocess_joints(joints, target)[:-1]
    fixed = features_to_joints(joints_to_features(joints, target, fps=30.0, compat=False))
    np.testing.assert_allclose(fixed, ready, atol=1e-5)
    compat = features_to_joints(joints_to_features(joints, target, fps=30.0, compat=True))
    assert np.abs(compat - ready).max() > 0.05


def test_contact_threshold_scales_with_fps():
    # The whole body glides at constant speed v: contact iff v² < 0.002 · 20² = 0.8 at any frame rate.
    skeleton = Skeleton.body22()
    rest = fk_motion(skeleton, clips=1, frames=1, seed=6, turn=0.0)[0, 0]
    target = skeleton.with_offsets_from(rest)
    for fps in (20.0, 60.0):
        for speed, contact in ((0.85, 1.0), (0.95, 0.0)):
            t = np.arange(10)[:, None, None] / fps
            joints = rest + t * np.array([speed, 0.0, 0.0])
            feats = joints_to_features(joints, target, fps=fps)
            np.testing.assert_array_equal(feats[:, feature_layout(22)["contacts"]], contact)


@pytest.mark.parametrize("change, field", [
    (lambda j, t: (np.where(np.arange(5)[:, None, None] == 3, np.nan, j), t, {}), "joints"),
    (lambda j, t: (j[..., :2], t, {}), "joints"),
    (lambda j, t: (j[:1], t, {}), "joints"),
    (lambda j, t: (j[:, :20], t, {}), "joints"),
    (lambda j, t: (j, Skeleton.body22(), {}), "target"),
    (lambda j, t: (j, t, {"fps": 0.0}), "fps"),
    (lambda j, t: (j, t, {"lengths": [5]}), "lengths"),
    (lambda j, t: (j[None], t, {"lengths": [9]}), "lengths"),
    (lambda j, t: (np.repeat(j[:, :1], 22, axis=1), t, {}), "joints"),  # every joint on the root
])
def test_bad_input_to_joints_to_features(change, field):
    skeleton = Skeleton.body22()
    joints = fk_motion(skeleton, clips=1, frames=5, seed=8)[0]
    args = change(joints, skeleton.with_offsets_from(joints[0]))
    with pytest.raises(InvalidInputError) as err:
        joints_to_features(args[0], args[1], **args[2])
    assert err.value.field == field


def test_bad_input_to_features_to_joints():
    with pytest.raises(InvalidInputError, match="features"):
        features_to_joints(np.zeros((4, 100)))
    with pytest.raises(InvalidInputError, match="features"):
        features_to_joints(np.full((4, 263), np.inf))
    with pytest.raises(InvalidInputError, match="lengths"):
        features_to_joints(np.zeros((2, 4, 263)), lengths=[5, 1])


def _reference_checkout() -> str | None:
    return os.environ.get("LSLM_MOTIONX_DIR") or os.environ.get("LSLM_HUMANML3D_DIR")


@pytest.mark.skipif(_reference_checkout() is None,
                    reason="set LSLM_MOTIONX_DIR or LSLM_HUMANML3D_DIR to a reference checkout")
@pytest.mark.parametrize("num_joints", [22, 52])
def test_matches_reference_code(num_joints):
    spec = importlib.util.spec_from_file_location("bench_features", ROOT / "benchmarks" / "bench_features.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    if num_joints == 52 and not os.environ.get("LSLM_MOTIONX_DIR"):
        pytest.skip("52 joints need Motion-X's rest directions (LSLM_MOTIONX_DIR)")
    reference = bench.load_reference(os.environ.get("LSLM_MOTIONX_DIR") or _reference_checkout(), num_joints)
    skeleton = Skeleton.smplx52() if num_joints == 52 else Skeleton.body22()
    joints = fk_motion(skeleton, clips=3, frames=60, seed=9)
    target_pose = fk_motion(skeleton, 1, 1, seed=10)[0, 0]
    lengths = [60, 45, 31]
    ours = joints_to_features(joints, skeleton.with_offsets_from(target_pose), fps=30.0, lengths=lengths)
    contacts = feature_layout(num_joints)["contacts"]
    for b, n in enumerate(lengths):
        ref = reference(joints[b, :n].astype(np.float64), target_pose, 30.0)
        np.testing.assert_allclose(ours[b, : n - 1], ref, atol=1e-4)
        np.testing.assert_array_equal(ours[b, : n - 1, contacts], ref[:, contacts])

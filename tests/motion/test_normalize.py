"""Normalizer: hand-computed statistics, the floor, padding, safetensors round trip, HumanML3D's groups."""

import numpy as np
import pytest
import torch

from lslm.errors import InvalidInputError
from lslm.motion import Normalizer, feature_layout
from shared_data import PEER_DATA

HUMANML3D_STD = PEER_DATA / "humanml3d" / "HumanML3D_Std.npy"
D22 = 263


def two_rows() -> np.ndarray:
    """Rows a and b with hand-checkable statistics: per-dim std is |a − b| / 2."""
    a = np.zeros(D22)
    b = np.zeros(D22)
    b[0] = 2.0  # root angular velocity: std 1
    b[1:3] = [2.0, 6.0]  # root linear velocity: stds 1, 3 → group std 2
    b[3] = 0.0  # root height: constant → floor
    b[4:67] = 4.0  # positions: std 2
    b[67:193] = np.where(np.arange(126) % 2, 0.0, 2.0)  # rotations: stds 1, 0, 1, 0, … → 0.5
    b[193:259] = 0.2  # velocities: std 0.1
    b[259:263] = [1, 1, 0, 0]  # contacts: stds .5 .5 0 0 → 0.25
    return np.stack([a, b])


def test_hand_computed_stats_and_floor():
    norm = Normalizer.fit(two_rows(), num_joints=22, floor=0.05)
    assert norm.mean.dtype == torch.float32 and norm.mean.shape == (D22,)
    np.testing.assert_allclose(norm.mean.numpy(), two_rows().mean(0), rtol=1e-6)
    expected = {0: 1.0, 1: 2.0, 2: 2.0, 3: 0.05, 4: 2.0, 66: 2.0, 67: 0.5, 192: 0.5, 193: 0.1, 258: 0.1,
                259: 0.25, 262: 0.25}
    for dim, std in expected.items():
        assert norm.std[dim].item() == pytest.approx(std, rel=1e-6), dim
    assert Normalizer.fit(two_rows(), num_joints=22, floor=0.3).std[193].item() == pytest.approx(0.3)


def test_normalize_round_trip_numpy_and_torch():
    norm = Normalizer.fit(two_rows(), num_joints=22)
    x = np.random.default_rng(0).normal(size=(2, 5, D22)).astype(np.float32)
    y = norm.normalize(x)
    assert isinstance(y, np.ndarray) and y.dtype == np.float32
    np.testing.assert_allclose(y, (x - norm.mean.numpy()) / norm.std.numpy(), rtol=1e-6)
    np.testing.assert_allclose(norm.denormalize(y), x, atol=1e-5)
    t = norm.normalize(torch.from_numpy(x).double())
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float64
    np.testing.assert_allclose(t.numpy(), y, atol=1e-5)


def test_padding_is_ignored():
    rng = np.random.default_rng(1)
    clips = [rng.normal(size=(n, 623)) for n in (7, 3, 5)]
    padded = np.full((3, 7, 623), 1e6)
    for b, clip in enumerate(clips):
        padded[b, : len(clip)] = clip
    batched = Normalizer.fit(padded, lengths=[7, 3, 5])
    flat = Normalizer.fit(np.concatenate(clips))
    torch.testing.assert_close(batched.mean, flat.mean)
    torch.testing.assert_close(batched.std, flat.std)


def test_save_load_round_trip(tmp_path):
    norm = Normalizer.fit(np.random.default_rng(2).normal(size=(10, 623)))
    norm.save(tmp_path / "stats.safetensors")
    back = Normalizer.load(tmp_path / "stats.safetensors")
    assert torch.equal(back.mean, norm.mean) and torch.equal(back.std, norm.std)
    state = norm.state_dict()
    assert set(state) == {"mean", "std"}
    assert torch.equal(Normalizer.from_state_dict(state).std, norm.std)

    (tmp_path / "bad.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(InvalidInputError) as err:
        Normalizer.load(tmp_path / "bad.safetensors")
    assert "bad.safetensors" in str(err.value)
    with pytest.raises(InvalidInputError, match="std"):
        Normalizer.from_state_dict({"mean": state["mean"]})


@pytest.mark.parametrize("kwargs, field", [
    ({"features": np.full((4, 623), np.nan)}, "features"),
    ({"features": np.zeros((4, 622))}, "features"),
    ({"features": np.zeros((4, 263))}, "features"),  # 22-joint features with the 52-joint default
    ({"features": np.zeros((2, 3, 623)), "lengths": [3, 4]}, "lengths"),
    ({"features": np.zeros((2, 3, 623)), "lengths": [0, 0]}, "features"),
    ({"features": np.zeros((4, 623)), "floor": 0.0}, "floor"),
])
def test_invalid_input(kwargs, field):
    with pytest.raises(InvalidInputError) as err:
        Normalizer.fit(**kwargs)
    assert err.value.field == field


def test_normalize_rejects_wrong_dim():
    norm = Normalizer.fit(np.random.default_rng(3).normal(size=(4, 623)))
    with pytest.raises(InvalidInputError, match="features"):
        norm.normalize(np.zeros((2, 263)))


def test_groups_reproduce_humanml3d_std_pattern():
    # HumanML3D's Std.npy (whole dataset) is constant within each of its groups and differs between
    # neighbouring groups: our group boundaries must split it at exactly the same places.
    if not HUMANML3D_STD.exists():
        pytest.skip("HumanML3D_Std.npy absent")
    reference = np.load(HUMANML3D_STD)
    from lslm.motion.normalize import normalization_groups
    groups = normalization_groups(22)
    assert groups[-1].stop == len(reference) and groups[3] == feature_layout(22)["positions"]
    for group in groups:
        assert np.ptp(reference[group]) == 0
    changes = {i for i in range(1, len(reference)) if reference[i] != reference[i - 1]}
    assert changes == {g.start for g in groups[1:]}

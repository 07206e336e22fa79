"""Input adapters, the restricted unpickler and resampling."""
import os
import pickle

import numpy as np
import pytest
import roma
import torch

from lslm.data.adapters import load_joints, load_lslm, load_motionx, load_signavatars, load_smplerx
from lslm.data.convert import clip_to_joints
from lslm.motion.resample import resample_linear, resample_params, resample_rotvec, resample_times
from lslm.data.safe_pickle import safe_load
from lslm.errors import InvalidInputError, UnsafePickleError
from lslm.motion import smplx_to_joints

RNG = np.random.default_rng(0)


def smplx182(frames=4):
    return RNG.normal(scale=0.2, size=(frames, 182))


def write_pickle(path, obj):
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=4)
    return path


class Hostile:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


# ---- safe pickle --------------------------------------------------------------------------------------

def test_safe_load_numpy_and_torch(tmp_path):
    data = {"smplx": smplx182(), "scalar": np.float32(2.5), "t": torch.arange(6.0).reshape(2, 3)}
    out = safe_load(write_pickle(tmp_path / "a.pkl", data))
    np.testing.assert_array_equal(out["smplx"], data["smplx"])
    assert out["scalar"] == np.float32(2.5)
    assert isinstance(out["t"], torch.Tensor) and torch.equal(out["t"], data["t"])


def test_safe_load_numpy1_protocol2_pickle(tmp_path):
    """Files written by numpy 1.x name numpy.core.multiarray; protocol 2 stores bytes via _codecs.encode."""
    arr = smplx182(3)
    data = pickle.dumps({"smplx": arr}, protocol=2)
    assert b"_codecs" in data
    (tmp_path / "old.pkl").write_bytes(data.replace(b"numpy._core.multiarray", b"numpy.core.multiarray"))
    np.testing.assert_array_equal(safe_load(tmp_path / "old.pkl")["smplx"], arr)


def test_hostile_pickle_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = write_pickle(tmp_path / "evil.pkl", {"smplx": Hostile(marker)})
    with pytest.raises(UnsafePickleError) as err:
        safe_load(path)
    assert not marker.exists()
    assert "posix.system" in str(err.value) or "os.system" in str(err.value)
    assert str(path) in str(err.value)
    with pytest.raises(UnsafePickleError):  # and through the adapter
        load_signavatars(path)
    assert not marker.exists()


def test_hostile_code_inside_torch_storage_is_refused(tmp_path):
    """A tensor's storage is a nested torch.save archive: it is opened with weights_only=True."""
    import io

    marker = tmp_path / "pwned"
    archive = io.BytesIO()
    torch.save({"x": Hostile(marker)}, archive)

    class FakeStorage:
        def __reduce__(self):
            return torch.storage._load_from_bytes, (archive.getvalue(),)
    path = write_pickle(tmp_path / "s.pkl", {"smplx": FakeStorage()})
    with pytest.raises(UnsafePickleError, match="torch storage"):
        safe_load(path)
    assert not marker.exists()


def test_hostile_builtin_is_refused(tmp_path):
    class Eval:
        def __reduce__(self):
            return eval, ("1 + 1",)
    with pytest.raises(UnsafePickleError, match="builtins.eval"):
        safe_load(write_pickle(tmp_path / "e.pkl", [Eval()]))


def test_truncated_pickle(tmp_path):
    path = write_pickle(tmp_path / "t.pkl", {"smplx": smplx182()})
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(InvalidInputError, match="field 'file'"):
        load_signavatars(path)


# ---- SignAvatars ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("as_torch", [False, True])
def test_signavatars_layout(tmp_path, as_torch):
    raw = smplx182(5)
    value = torch.from_numpy(raw).float() if as_torch else raw
    clip = load_signavatars(write_pickle(tmp_path / "c.pkl", {"smplx": value}))
    raw = np.asarray(value, dtype=np.float64)
    p = clip.params
    np.testing.assert_array_equal(p["global_orient"], raw[:, 0:3])
    np.testing.assert_array_equal(p["body_pose"], raw[:, 3:66])
    np.testing.assert_array_equal(p["left_hand_pose"], raw[:, 66:111])
    np.testing.assert_array_equal(p["right_hand_pose"], raw[:, 111:156])
    np.testing.assert_array_equal(p["jaw_pose"], raw[:, 156:159])
    np.testing.assert_allclose(p["betas"], raw[:, 159:169].mean(0))
    np.testing.assert_array_equal(p["expression"], raw[:, 169:179])
    np.testing.assert_array_equal(p["transl"], raw[:, 179:182])
    assert clip.fps == 24.0 and clip.y_down and clip.num_frames == 5


def test_camera_frame_flip_matches_rotating_root(tmp_path):
    """On lslm's rest skeleton the pelvis rests at the origin, so R_x(π) applied to global_orient and
    transl is exact there: it must equal rotating the output joints."""
    clip = load_signavatars(write_pickle(tmp_path / "c.pkl", {"smplx": smplx182(3)}))
    ours = clip_to_joints(clip)
    rx = roma.rotvec_to_rotmat(torch.tensor([np.pi, 0.0, 0.0], dtype=torch.float64))
    root = roma.rotvec_to_rotmat(torch.from_numpy(clip.params["global_orient"]))
    rotated = dict(clip.params, global_orient=roma.rotmat_to_rotvec(rx @ root).numpy(),
                   transl=clip.params["transl"] @ rx.numpy().T)
    np.testing.assert_allclose(ours, smplx_to_joints(rotated), atol=1e-5)
    assert ours.shape == (3, 52, 3)


@pytest.mark.parametrize("data, field", [
    ({"smplx": np.zeros((4, 181))}, "smplx"),
    ({"smplx": np.full((4, 182), np.nan)}, "smplx"),
    ({"smplx": np.full((4, 182), np.inf)}, "smplx"),
    ({"smplx": np.zeros((1, 182))}, "smplx"),
    ({"smplx": np.zeros((4, 182), dtype=np.int64)}, "smplx"),
    ({"smplx": np.array([["a"] * 182] * 4)}, "smplx"),
    ({"poses": np.zeros((4, 182))}, "smplx"),
    ([1, 2, 3], "smplx"),
])
def test_signavatars_bad_input(tmp_path, data, field):
    path = write_pickle(tmp_path / "bad.pkl", data)
    with pytest.raises(InvalidInputError) as err:
        load_signavatars(path)
    assert err.value.field == field and err.value.path == str(path)


# ---- SMPLer-X ------------------------------------------------------------------------------------------

def write_smplerx_frame(path, index, drop=None):
    arrays = {"global_orient": np.full((1, 3), 0.01 * index), "body_pose": np.zeros((21, 3)),
              "left_hand_pose": np.zeros((15, 3)), "right_hand_pose": np.zeros((15, 3)),
              "jaw_pose": np.zeros(3), "betas": np.full(10, index, dtype=np.float32),
              "expression": np.zeros(10), "transl": np.array([0.0, 0.0, float(index)])}
    arrays.pop(drop, None)
    np.savez(path, **arrays)


def test_smplerx_orders_frames_by_number_and_fills_the_gap(tmp_path):
    for i in (10, 2, 1):  # a string sort would put 10 before 2
        write_smplerx_frame(tmp_path / f"frame_{i}.npz", i)
    clip = load_smplerx(tmp_path)
    # frames 1..10: 3..9 had no detection, a gap of 7 ≤ 8 frames: slerped (same axis: the angle is linear)
    np.testing.assert_allclose(clip.params["global_orient"][:, 0], 0.01 * np.arange(1, 11), atol=1e-12)
    np.testing.assert_array_equal(clip.meta["detected"], [True, True] + [False] * 7 + [True])
    assert clip.meta["gaps"] == [{"start": 2, "frames": 7}]
    assert clip.params["body_pose"].shape == (10, 63) and clip.params["left_hand_pose"].shape == (10, 45)
    np.testing.assert_allclose(clip.params["betas"], np.full(10, 13 / 3))  # over the detected frames
    # no meta/*.json: the per-crop translation cannot be made consistent, so it is dropped (and said)
    np.testing.assert_array_equal(clip.params["transl"], 0.0)
    assert clip.meta["transl"].startswith("dropped")
    assert clip.y_down and clip.fps == 24.0


def test_smplerx_bad_frames(tmp_path):
    write_smplerx_frame(tmp_path / "00001.npz", 1)
    write_smplerx_frame(tmp_path / "00002.npz", 2, drop="body_pose")
    with pytest.raises(InvalidInputError) as err:
        load_smplerx(tmp_path)
    assert err.value.field == "body_pose" and err.value.path.endswith("00002.npz")
    write_smplerx_frame(tmp_path / "00002.npz", 2)
    (tmp_path / "cover.npz").write_bytes(b"")
    with pytest.raises(InvalidInputError, match="frame number"):
        load_smplerx(tmp_path)


# ---- Motion-X, joints, lslm ----------------------------------------------------------------------------

def test_motionx_layout(tmp_path):
    motion = RNG.normal(size=(4, 322))
    np.save(tmp_path / "m.npy", motion)
    p = load_motionx(tmp_path / "m.npy").params
    np.testing.assert_array_equal(p["global_orient"], motion[:, :3])
    np.testing.assert_array_equal(p["body_pose"], motion[:, 3:66])
    np.testing.assert_array_equal(p["left_hand_pose"], motion[:, 66:111])
    np.testing.assert_array_equal(p["right_hand_pose"], motion[:, 111:156])
    np.testing.assert_array_equal(p["jaw_pose"], motion[:, 156:159])
    np.testing.assert_array_equal(p["transl"], motion[:, 309:312])
    np.testing.assert_allclose(p["betas"], motion[:, 312:322].mean(0))
    np.save(tmp_path / "w.npy", motion[:, :320])
    with pytest.raises(InvalidInputError, match="smplx_322"):
        load_motionx(tmp_path / "w.npy")


def test_joints_validation(tmp_path):
    np.save(tmp_path / "ok.npy", np.zeros((3, 52, 3), dtype=np.float32))
    assert load_joints(tmp_path / "ok.npy").joints.shape == (3, 52, 3)
    np.save(tmp_path / "body.npy", np.zeros((3, 22, 3)))
    with pytest.raises(InvalidInputError, match=r"\(T, 52, 3\)"):
        load_joints(tmp_path / "body.npy")
    np.save(tmp_path / "obj.npy", np.array([None, 1], dtype=object), allow_pickle=True)
    with pytest.raises(InvalidInputError, match="'file'"):
        load_joints(tmp_path / "obj.npy")
    full = (tmp_path / "ok.npy").read_bytes()
    (tmp_path / "cut.npy").write_bytes(full[: len(full) // 2])
    with pytest.raises(InvalidInputError, match="'file'"):
        load_joints(tmp_path / "cut.npy")


def lslm_arrays(frames=4):
    return {"global_orient": np.zeros((frames, 3)), "body_pose": RNG.normal(scale=0.1, size=(frames, 63)),
            "left_hand_pose": np.zeros((frames, 45)), "right_hand_pose": np.zeros((frames, 45)),
            "transl": np.zeros((frames, 3)), "fps": np.float64(30)}


def test_lslm_npz(tmp_path):
    offsets = RNG.normal(scale=0.1, size=(52, 3))
    np.savez(tmp_path / "a.npz", rest_offsets=offsets, **lslm_arrays())
    clip = load_lslm(tmp_path / "a.npz")
    assert clip.fps == 30 and clip.params["body_pose"].shape == (4, 63) and "jaw_pose" not in clip.params
    np.testing.assert_array_equal(clip.rest_offsets, offsets)
    # FK runs on the clip's own rest skeleton: frame 0 of a zero pose is its rest pose
    np.savez(tmp_path / "z.npz", rest_offsets=offsets, **{**lslm_arrays(), "body_pose": np.zeros((4, 63))})
    joints = clip_to_joints(load_lslm(tmp_path / "z.npz"))
    parents = np.array(__import__("lslm.motion", fromlist=["Skeleton"]).Skeleton.smplx52().parents)
    np.testing.assert_allclose(joints[0, 1:] - joints[0, parents[1:]], offsets[1:], atol=1e-6)


@pytest.mark.parametrize("change, field", [
    ({"fps": None}, "fps"),
    ({"fps": np.float64(-1)}, "fps"),
    ({"transl": None}, "transl"),
    ({"transl": np.zeros((5, 3))}, "transl"),
    ({"body_pose": np.zeros((4, 60))}, "body_pose"),
    ({"rest_offsets": np.zeros((22, 3))}, "rest_offsets"),
    ({"joints": np.zeros((1, 52, 3))}, "joints"),
])
def test_lslm_bad_input(tmp_path, change, field):
    arrays = {**lslm_arrays(), **change}
    np.savez(tmp_path / "b.npz", **{k: v for k, v in arrays.items() if v is not None})
    with pytest.raises(InvalidInputError) as err:
        load_lslm(tmp_path / "b.npz")
    assert err.value.field == field and err.value.path.endswith("b.npz")


def test_truncated_npz(tmp_path):
    np.savez(tmp_path / "a.npz", **lslm_arrays())
    data = (tmp_path / "a.npz").read_bytes()
    (tmp_path / "a.npz").write_bytes(data[: len(data) - 40])
    with pytest.raises(InvalidInputError, match="'file'"):
        load_lslm(tmp_path / "a.npz")


# ---- resampling ----------------------------------------------------------------------------------------

def test_frame_count():
    assert len(resample_times(25, 24, 30)) == 31  # 1 s at 24 fps → 1 s at 30 fps
    assert len(resample_times(5, 24, 30)) == 6
    assert len(resample_times(31, 30, 24)) == 25
    np.testing.assert_allclose(resample_times(5, 24, 30), [0, 0.8, 1.6, 2.4, 3.2, 4.0])


def test_constant_speed_rotation_stays_on_great_circle():
    axis = np.array([1.0, 2.0, 3.0]) / np.sqrt(14)
    omega = 2.0  # rad/s
    at_24 = (omega * np.arange(25) / 24)[:, None] * axis  # (25, 3), 1 s
    out = resample_rotvec(at_24, 24, 30)
    expected = (omega * np.arange(31) / 30)[:, None] * axis
    np.testing.assert_allclose(out, expected, atol=1e-12)


def test_slerp_takes_the_shortest_arc():
    z = np.array([0.0, 0.0, 1.0])
    out = resample_rotvec(np.stack([3.0 * z, -3.0 * z]), 1, 2)  # 3 rad and −3 rad: 0.28 rad apart via π
    assert out.shape == (3, 3)
    rotmat = roma.rotvec_to_rotmat(torch.from_numpy(out[1]))
    expected = roma.rotvec_to_rotmat(torch.tensor([0.0, 0.0, np.pi], dtype=torch.float64))
    torch.testing.assert_close(rotmat, expected)


def test_linear_and_params():
    ramp = np.arange(5.0)[:, None, None] * np.ones((1, 52, 3))
    np.testing.assert_allclose(resample_linear(ramp, 24, 30)[:, 0, 0], [0, 0.8, 1.6, 2.4, 3.2, 4.0])
    params = {"global_orient": np.zeros((5, 3)), "body_pose": np.zeros((5, 63)), "betas": np.ones(10),
              "transl": np.arange(15.0).reshape(5, 3)}
    params["body_pose"][:, 5] = np.arange(5) * 0.1  # joint 1 about z
    out = resample_params(params, 24, 30)
    np.testing.assert_allclose(out["body_pose"][:, 5], np.arange(6) * 0.08, atol=1e-12)
    np.testing.assert_allclose(out["transl"][:, 0], np.arange(6) * 0.8 * 3)
    np.testing.assert_array_equal(out["betas"], np.ones(10))

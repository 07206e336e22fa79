"""The raw-clip conversion path (lslm.data.convert): format detection, the camera translation policy,
SignAvatars' hand flags, tables and frame index, and GPU-saved tensors."""
import pickle

import numpy as np
import pytest
import roma
import torch
from signavatars_pickles import cuda_tagged_dumps

from lslm.data.adapters import load_signavatars
from lslm.data.convert import (
    ConvertOptions,
    apply_translation_policy,
    camera_translation,
    clip_features,
    detect_format,
    file_features,
    read_clip,
)
from lslm.data.prepare import prepare
from lslm.motion.resample import fill_invalid
from lslm.data.safe_pickle import safe_load
from lslm.errors import ConfigError, InvalidInputError
from lslm.motion import smplx_to_joints

RNG = np.random.default_rng(3)


def smplx182(frames):
    table = RNG.normal(scale=0.2, size=(frames, 182))
    table[:, 0:3] = [-np.pi, 0, 0]  # camera frame, as in the real fits
    table[:, 179:182] = [0.0, 0.78, 20.0] + RNG.normal(scale=[0.01, 0.01, 1.0], size=(frames, 3))
    return table


def write(path, data):
    path.write_bytes(pickle.dumps(data, protocol=2))
    return path


# ---- GPU-saved tensors -----------------------------------------------------------------------------

def test_cuda_serialized_tensors_load_on_cpu(tmp_path):
    flags = torch.tensor([True, False, True, True])
    path = tmp_path / "gpu.pkl"
    path.write_bytes(cuda_tagged_dumps({"smplx": smplx182(4), "left_valid": flags}))
    if not torch.cuda.is_available():  # the bytes really are CUDA-tagged: plain pickle cannot restore them here
        with pytest.raises(RuntimeError, match="CUDA device"):
            pickle.loads(path.read_bytes())
    loaded = safe_load(path)["left_valid"]
    assert loaded.device.type == "cpu" and torch.equal(loaded, flags)
    assert load_signavatars(path).meta["repairs"]["hand_frames_interpolated"] == 1


# ---- SignAvatars tables, hand flags, frame index -----------------------------------------------------

def test_invalid_hand_frames_are_slerped_from_valid_neighbours(tmp_path):
    table = smplx182(6)
    valid = np.array([False, True, False, False, True, False])
    path = write(tmp_path / "h.pkl", {"smplx": table, "left_valid": torch.from_numpy(valid),
                                      "right_valid": np.zeros(6, np.int64)})
    clip = load_signavatars(path)
    left, raw = clip.params["left_hand_pose"].reshape(6, 15, 3), table[:, 66:111].reshape(6, 15, 3)
    np.testing.assert_array_equal(left[[0, 1, 5]], raw[[1, 1, 4]])  # ends hold the nearest valid frame
    r1, r4 = (roma.rotvec_to_rotmat(torch.from_numpy(raw[i])) for i in (1, 4))
    for frame, w in ((2, 1 / 3), (3, 2 / 3)):  # R1 · exp(w · log(R1ᵀ R4)), by rotation matrices
        expected = r1 @ roma.rotvec_to_rotmat(w * roma.rotmat_to_rotvec(r1.transpose(-1, -2) @ r4))
        torch.testing.assert_close(roma.rotvec_to_rotmat(torch.from_numpy(left[frame])), expected)
    np.testing.assert_array_equal(clip.params["right_hand_pose"], table[:, 111:156])  # never valid: as fitted
    assert clip.meta["repairs"] == {"hand_frames_interpolated": 4, "hands_never_valid": 1, "frames_filled": 0}
    kept = load_signavatars(path, invalid_hands="keep")
    np.testing.assert_array_equal(kept.params["left_hand_pose"], table[:, 66:111])
    with pytest.raises(InvalidInputError) as err:
        load_signavatars(write(tmp_path / "b.pkl", {"smplx": table, "left_valid": np.full(6, 0.5)}))
    assert err.value.field == "left_valid"


def test_unsmooth_table_and_frame_gaps(tmp_path):
    table = smplx182(5)
    unsmooth = np.concatenate([table[:, :156], table[:, 159:169], table[:, 179:182]], 1)  # (T, 169)
    path = write(tmp_path / "u.pkl", {"smplx": table, "unsmooth_smplx": unsmooth + 0.01,
                                      "total_valid_index": np.array([3, 4, 6, 7, 8])})
    clip = load_signavatars(path, params="unsmooth_smplx")
    assert clip.num_frames == 6 and "jaw_pose" not in clip.params  # video frames 3..8, frame 5 filled
    np.testing.assert_allclose(clip.params["transl"][[0, 1, 3]], table[[0, 1, 2], 179:182] + 0.01)
    np.testing.assert_allclose(clip.params["transl"][2], (table[1, 179:182] + table[2, 179:182]) / 2 + 0.01)
    np.testing.assert_allclose(clip.params["betas"], table[:, 159:169].mean(0) + 0.01)
    assert clip.meta["repairs"]["frames_filled"] == 1 and clip.meta["params"] == "unsmooth_smplx"
    with pytest.raises(InvalidInputError, match="unsmooth_smplx"):
        load_signavatars(write(tmp_path / "s.pkl", {"smplx": table}), params="unsmooth_smplx")
    with pytest.raises(InvalidInputError, match="total_valid_index"):
        load_signavatars(write(tmp_path / "d.pkl", {"smplx": table, "total_valid_index": [0, 2, 2, 3, 4]}))


def test_fill_invalid_linear():
    x = np.array([[0.0], [9.0], [9.0], [3.0], [9.0]])
    np.testing.assert_allclose(fill_invalid(x, [True, False, False, True, False])[:, 0], [0, 1, 2, 3, 3])


# ---- the camera translation policy ------------------------------------------------------------------

def test_translation_policies():
    T, fps = 48, 24.0
    t = np.arange(T) / fps
    track = np.stack([0.05 * t, 0.78 + 0 * t, 20 + np.sin(7 * t)], 1)  # slow drift in x, jittering depth
    track[20, 0] += 0.5  # a one-frame jump
    np.testing.assert_array_equal(camera_translation(track, "keep", fps), track)
    np.testing.assert_array_equal(camera_translation(track, "drop", fps), np.zeros((T, 3)))
    smooth = camera_translation(track, "smooth", fps)
    np.testing.assert_allclose(smooth[:, 2], np.median(track[:, 2]))  # depth held
    assert np.abs(smooth[:, 0] - 0.05 * t).max() < 0.02  # the drift stays, the jump is gone
    np.testing.assert_allclose(smooth[:, 1], 0.78)
    with pytest.raises(ConfigError, match="--translation"):
        ConvertOptions(translation="zero")


def test_policy_applies_to_camera_frame_clips_only(tmp_path):
    clip = load_signavatars(write(tmp_path / "c.pkl", {"smplx": smplx182(5)}))
    dropped = apply_translation_policy(clip, "drop")
    np.testing.assert_array_equal(dropped.params["transl"], 0)
    np.testing.assert_array_equal(dropped.params["body_pose"], clip.params["body_pose"])
    upright = type(clip)(clip.path, clip.fps, params=clip.params, y_down=False)
    assert apply_translation_policy(upright, "drop") is upright
    # a camera-frame joints clip moves with its root: drop leaves the pelvis at the origin
    joints = np.asarray(smplx_to_joints(clip.params))
    moved = apply_translation_policy(type(clip)("j", 24.0, joints=joints, y_down=True), "drop").joints
    np.testing.assert_allclose(moved[:, 0], 0, atol=1e-12)
    np.testing.assert_allclose(moved - moved[:, :1], joints - joints[:, :1])


# ---- detection and the shared path -------------------------------------------------------------------

def test_detect_format_and_file_features(tmp_path):
    write(tmp_path / "a.pkl", {"smplx": smplx182(6)})
    np.save(tmp_path / "m.npy", RNG.normal(scale=0.1, size=(6, 322)))
    np.save(tmp_path / "j.npy", RNG.normal(scale=0.1, size=(6, 52, 3)))
    np.save(tmp_path / "f.npy", RNG.normal(size=(6, 623)).astype(np.float32))
    np.savez(tmp_path / "l.npz", joints=RNG.normal(scale=0.1, size=(6, 52, 3)), fps=30.0)
    (tmp_path / "frames").mkdir()
    for i in range(3):
        np.savez(tmp_path / "frames" / f"{i}.npz", global_orient=np.zeros(3), body_pose=np.zeros((21, 3)),
                 left_hand_pose=np.zeros((15, 3)), right_hand_pose=np.zeros((15, 3)), transl=np.zeros(3))
    np.save(tmp_path / "x.npy", np.zeros((6, 22, 3)))
    found = {n: detect_format(tmp_path / n) for n in ("a.pkl", "m.npy", "j.npy", "l.npz", "frames")}
    assert found == {"a.pkl": "signavatars", "m.npy": "motionx", "j.npy": "joints", "l.npz": "lslm",
                     "frames": "smplerx"}
    with pytest.raises(InvalidInputError, match=r"shape \(6, 22, 3\)"):
        detect_format(tmp_path / "x.npy")
    with pytest.raises(InvalidInputError, match="no such path"):
        detect_format(tmp_path / "gone.pkl")
    opts = ConvertOptions()
    np.testing.assert_array_equal(file_features(tmp_path / "f.npy", opts), np.load(tmp_path / "f.npy"))
    for name in ("a.pkl", "m.npy", "j.npy", "l.npz", "frames"):
        expected = clip_features(read_clip(tmp_path / name, options=opts), opts)
        np.testing.assert_array_equal(file_features(tmp_path / name, opts), expected)
        assert expected.dtype == np.float32 and expected.shape[1] == 623


def test_prepare_writes_what_file_features_gives(tmp_path):
    """prepare_dataset and a raw file read directly share one path: the same features, for each policy."""
    (tmp_path / "in").mkdir()
    write(tmp_path / "in" / "c.pkl", {"smplx": smplx182(9), "left_valid": torch.tensor([0, 1, 1, 1, 0, 1, 1, 1, 1])})
    for policy in ("drop", "smooth", "keep"):
        report = prepare("signavatars", tmp_path / "in", tmp_path / policy, translation=policy, progress=False)
        assert report["repairs"] == {"totals": {"hand_frames_interpolated": 2},
                                     "clips": {"c": {"hand_frames_interpolated": 2}}}
        np.testing.assert_array_equal(np.load(tmp_path / policy / "features" / "c.npy"),
                                      file_features(tmp_path / "in" / "c.pkl", ConvertOptions(translation=policy)))
    root_speed = {policy: np.abs(np.load(tmp_path / policy / "features" / "c.npy")[:, 1:3]).max()
                  for policy in ("drop", "keep")}  # root linear velocity x, z
    assert root_speed["drop"] < 1e-6 < 0.01 < root_speed["keep"]  # the policy reaches the features
    # a resumed run keeps the repairs of the clips it did not redo
    assert prepare("signavatars", tmp_path / "in", tmp_path / "drop", progress=False)["repairs"]["totals"] == \
        {"hand_frames_interpolated": 2}

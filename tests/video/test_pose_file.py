"""`.pose` files: the real files of shared/realdata read, round-trip, and give plausible metric bodies."""
import numpy as np
import pytest
from video_fixtures import realdata

from lslm.errors import InvalidInputError
from lslm.video import read_pose, retarget, write_pose

pytest.importorskip("pose_format")

# (folder, file, version, frames, fps, width, height, has world landmarks); sizes from shared/realdata/README.md
REAL = [("pose_format", "mediapipe.pose", 0.1, 170, 24.0, 1250, 1250, False),
        ("pose_format", "hand_estimation_7731febd6afbbe90f806a4434c282016.pose", 0.2, 18, 25.0, 640, 360, True),
        ("dsgs_lexicon", "essen.pose", 0.1, 73, 24.0, 640, 480, False),
        ("dsgs_lexicon", "kleine.pose", 0.1, 68, 25.0, 640, 480, False)]


@pytest.mark.parametrize("folder,name,version,frames,fps,width,height,world", REAL)
def test_real_pose_files_read_and_retarget_upright(folder, name, version, frames, fps, width, height, world):
    lm = read_pose(realdata(folder, name))
    assert (lm.meta["version"], lm.num_frames, lm.fps, lm.width, lm.height) == (version, frames, fps, width, height)
    assert (lm.body_world is not None) == world
    assert lm.found_fractions()["body"] == 1.0
    # image points in pixels inside the frame; z scaled like x (pose-format keeps MediaPipe's normalised z)
    shoulders = lm.body[:, 11:13]
    assert (shoulders[..., 0] > 0).all() and (shoulders[..., 0] < width).all()
    out = retarget(lm).joints
    assert np.isfinite(out).all() and (out[:, 15, 1] - out[:, 0, 1]).min() > 0.3  # head above the pelvis
    facing = np.cross(out[:, 16] - out[:, 17], [0, 1, 0])
    yaw = np.degrees(np.arctan2(facing[:, 0], facing[:, 2]))  # 0: towards the camera
    assert np.abs(np.median(yaw)) < 10 and np.abs(yaw).max() < 45


def test_world_landmarks_are_metres_again():
    lm = read_pose(realdata("pose_format", REAL[1][1]))
    width = np.linalg.norm(lm.body_world[:, 11] - lm.body_world[:, 12], axis=-1)
    assert 0.25 < width.mean() < 0.45  # shoulder width of an adult (the README: 0.31 m)
    hips = (lm.body_world[:, 23] + lm.body_world[:, 24]) / 2
    assert np.abs(hips).max() < 0.05  # MediaPipe's world origin is between the hips


@pytest.mark.parametrize("name", [REAL[0][1], REAL[1][1]])
def test_write_then_read_gives_the_same_landmarks(tmp_path, name):
    from pose_format import Pose

    lm = read_pose(realdata("pose_format", name))
    path = write_pose(lm, tmp_path / "copy.pose")
    back = read_pose(path)
    for field in ("body", "body_conf", "left_hand", "left_conf", "right_hand", "right_conf"):
        np.testing.assert_allclose(getattr(back, field), getattr(lm, field), rtol=1e-6, atol=1e-3)
    assert (back.body_world is None) == (lm.body_world is None) and back.fps == lm.fps
    pose = Pose.read(path.read_bytes())  # pose-format's own reader: the holistic component names
    assert [c.name for c in pose.header.components] == ["POSE_LANDMARKS", "LEFT_HAND_LANDMARKS",
                                                        "RIGHT_HAND_LANDMARKS", "POSE_WORLD_LANDMARKS"]


def test_joints_written_as_pose_come_back(tmp_path, synthetic_clips):
    joints, skeleton, fps = synthetic_clips[0]
    path = write_pose(joints, tmp_path / "joints.pose", fps=fps)
    lm = read_pose(path)
    assert lm.fps == fps and lm.num_frames == len(joints) and lm.body_world is not None
    out = retarget(lm, skeleton).joints
    err = 1000 * np.linalg.norm((out - out[:, :1]) - (joints - joints[:, :1]), axis=-1)
    assert err[:, 16:22].mean() < 10 and err.mean() < 20  # float32 in the file, perspective on the hands
    with pytest.raises(InvalidInputError, match="fps"):
        write_pose(joints, tmp_path / "x.pose")


def test_openpose_files_are_refused_with_a_clear_message(tmp_path):
    with pytest.raises(InvalidInputError, match="OpenPose"):
        read_pose(realdata("pose_format", "openpose.pose"))
    (tmp_path / "bad.pose").write_bytes(b"not a pose file")
    with pytest.raises(InvalidInputError, match="readable .pose"):
        read_pose(tmp_path / "bad.pose")

"""The mediapipe backend on the real signing clip (shared/realdata/pose_format/test_video.mp4): one
Holistic pass per session (the real_video_landmarks fixture), checked like a user would."""
import sys

import numpy as np
import pytest
import torch
from tiny_models import make_motion_tokenizer
from video_fixtures import realdata

from lslm.errors import ConfigError, MissingExtraError
from lslm.motion import default_rest_skeleton, joints_to_features
from lslm.video import estimate_video, iter_frames, read_video, retarget, video_info

pytest.importorskip("mediapipe")
pytest.importorskip("imageio_ffmpeg")


def test_video_reader_gives_the_containers_rate_and_exact_frames():
    path = realdata("pose_format", "test_video.mp4")
    info = video_info(path)
    assert (info.fps, info.width, info.height, info.rotation, info.num_frames) == (29.92, 540, 720, 0, 58)
    frames, _ = read_video(path)
    assert frames.shape == (58, 720, 540, 3) and frames.dtype == np.uint8
    _, later = iter_frames(path, start=40, stop=43)  # a seek lands on frame 40 exactly
    np.testing.assert_array_equal(np.stack(list(later)), frames[40:43])


def test_real_clip_an_upright_signer_raising_the_right_hand(real_video_landmarks):
    lm = real_video_landmarks
    assert lm.num_frames == 58 and lm.fps == 29.92 and lm.body_world is not None
    found = lm.found_fractions()
    assert found["body"] >= 0.95 and found["right_hand"] > 0.2
    shoulders = np.linalg.norm(lm.body_world[:, 11] - lm.body_world[:, 12], axis=-1)
    assert 0.25 < np.median(shoulders) < 0.45  # metres
    rest = default_rest_skeleton()
    result = retarget(lm, rest)
    j = result.joints
    assert j.shape == (58, 52, 3) and np.isfinite(j).all()
    assert (j[:, 15, 1] - j[:, 0, 1]).min() > 0.5  # head above the pelvis: upright
    facing = np.cross(j[:, 16] - j[:, 17], [0, 1, 0])
    assert (facing[:, 2] > 3 * np.abs(facing[:, 0])).all()  # towards the camera (+z)
    assert j[:, 21, 1].max() > j[:, 20, 1].max() + 0.2  # the raised hand is the signer's right
    parents = np.array(rest.parents[1:])
    np.testing.assert_allclose(np.linalg.norm(j[:, 1:] - j[:, parents], axis=-1),
                               np.broadcast_to(np.linalg.norm(rest.offsets[1:], axis=-1), (58, 51)), atol=1e-5)
    features = np.asarray(joints_to_features(j, target=rest, fps=lm.fps))
    assert features.shape == (57, 623) and np.isfinite(features).all()
    codes = make_motion_tokenizer().encode(torch.as_tensor(features))
    assert codes.shape == (57 // 4,) and ((codes >= 0) & (codes < 16)).all()


def test_a_clip_split_over_two_processes_matches_up_to_the_cut(real_video_landmarks):
    split = estimate_video(realdata("pose_format", "test_video.mp4"), workers=2)
    one = real_video_landmarks
    assert split.num_frames == one.num_frames
    # the first run starts like the single pass: identical; the second starts with a fresh detection
    np.testing.assert_array_equal(split.body[:29], one.body[:29])
    upper = slice(0, 25)  # the legs are out of the picture: MediaPipe guesses them afresh
    np.testing.assert_allclose(split.body_world[29:, upper], one.body_world[29:, upper], atol=0.05)


def test_unshipped_model_complexity_and_missing_extra_are_clear(monkeypatch):
    with pytest.raises(ConfigError, match="pose_landmark_heavy.tflite is not in the installed mediapipe"):
        estimate_video(realdata("pose_format", "test_video.mp4"), model_complexity=2)
    monkeypatch.setitem(sys.modules, "mediapipe", None)
    with pytest.raises(MissingExtraError, match=r'pip install "lslm\[video\]"'):
        estimate_video(realdata("pose_format", "test_video.mp4"))

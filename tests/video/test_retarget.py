"""Retargeting Holistic landmarks onto the 52 joints, measured on synthetic clips seen by a simulated camera."""
import numpy as np
import pytest
from scipy.signal import lfilter

from lslm.errors import InvalidInputError
from lslm.motion import default_rest_skeleton
from lslm.video import RetargetOptions, joints_to_landmarks, one_euro, retarget, simulate_landmarks
from lslm.video.smoothing import HELD, INTERPOLATED, OBSERVED, fill_gaps

BODY, HANDS = slice(0, 22), slice(22, 52)
UPPER = [0, 3, 6, 9, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21]  # legs are held in rest pose, not estimated


def errors_mm(estimate, truth):
    """Per-joint position error (T, 52) in mm with both pelvises at the origin."""
    return 1000 * np.linalg.norm((estimate - estimate[:, :1]) - (truth - truth[:, :1]), axis=-1)


def bone_lengths(joints, skeleton):
    parents = np.array(skeleton.parents[1:])
    return np.linalg.norm(joints[:, 1:] - joints[:, parents], axis=-1)


def test_perfect_landmarks_give_back_the_true_pose(synthetic_clips):
    for joints, skeleton, fps in synthetic_clips:
        result = retarget(joints_to_landmarks(joints, fps), skeleton, RetargetOptions(smooth=False))
        err = errors_mm(result.joints, joints)
        assert result.joints.shape == joints.shape and result.valid[:, UPPER].all()
        # arm directions are exact; spine, collars and head come from the skeleton (the signer's sway bends
        # the spine joints unevenly), which moves the shoulders a few mm
        assert err[:, UPPER].mean() < 8 and err[:, BODY].max() < 30
        assert err[:, HANDS].mean() < 20  # image-space hands: perspective bends the finger directions a little
        np.testing.assert_allclose(bone_lengths(result.joints, skeleton),
                                   np.broadcast_to(np.linalg.norm(skeleton.offsets[1:], axis=-1), (len(joints), 51)),
                                   atol=1e-5)


def test_bone_lengths_are_the_target_skeletons(synthetic_clips):
    joints, _, fps = synthetic_clips[0]
    rest = default_rest_skeleton()
    out = retarget(simulate_landmarks(joints, fps, rng=1), rest).joints  # another body onto the rest skeleton
    np.testing.assert_allclose(bone_lengths(out, rest), np.broadcast_to(np.linalg.norm(rest.offsets[1:], axis=-1),
                                                                        (len(out), 51)), atol=1e-5)
    assert out[..., 1].min() == pytest.approx(0, abs=1e-6)  # feet on the floor
    # upright, facing +z, signer's left at +x: the camera's axes were turned 180° about x
    assert (out[:, 15, 1] - out[:, 0, 1]).min() > 0.5
    shoulders = out[:, 16] - out[:, 17]
    assert (shoulders[:, 0] > 0.25).all()
    assert (np.cross(shoulders, [0, 1, 0])[:, 2] > 0).all()


def test_noise_and_lost_hands_are_filled_smoothed_and_reported(synthetic_clips):
    for k, (joints, skeleton, fps) in enumerate(synthetic_clips):
        lm = simulate_landmarks(joints, fps, rng=k, hand_dropout=0.15)
        lm.left_conf[10:13] = lm.right_conf[40:70] = 0  # for sure one short and one long gap
        raw = retarget(lm, skeleton, RetargetOptions(smooth=False))
        smooth = retarget(lm, skeleton)
        assert len(smooth.joints) == len(joints)  # never a shorter clip
        assert errors_mm(smooth.joints, joints).mean() < 25
        # jitter: acceleration error of the smoothed clip at most half of the raw one
        accel = [np.linalg.norm(np.diff(r.joints, 2, axis=0) - np.diff(joints, 2, axis=0), axis=-1).mean()
                 for r in (raw, smooth)]
        assert accel[1] < 0.5 * accel[0]
        for side, first, conf in (("left", 22, lm.left_conf), ("right", 37, lm.right_conf)):
            lost = conf[:, 0] == 0
            np.testing.assert_array_equal(smooth.valid[:, first], ~lost)
            report = smooth.report[f"{side}_hand"]
            assert sum(g["frames"] for g in report["gaps"]) == lost.sum() > 0
            assert report["interpolated_frames"] + report["held_frames"] == lost.sum()
            for gap in report["gaps"]:
                long_or_edge = gap["frames"] > 8 or gap["start"] == 0 or gap["start"] + gap["frames"] == len(lost)
                assert gap["filled"] == ("held" if long_or_edge else "interpolated")


def test_sides_come_from_the_body_wrists_not_the_labels(synthetic_clips):
    joints, skeleton, fps = synthetic_clips[1]
    lm = simulate_landmarks(joints, fps, rng=3)
    expected = retarget(lm, skeleton)
    lm.left_hand, lm.right_hand = lm.right_hand.copy(), lm.left_hand.copy()
    lm.left_conf, lm.right_conf = lm.right_conf.copy(), lm.left_conf.copy()
    swapped = retarget(lm, skeleton)
    np.testing.assert_array_equal(swapped.joints, expected.joints)
    assert swapped.report["hands_swapped_frames"] == len(joints) and expected.report["hands_swapped_frames"] == 0


def test_a_hand_never_seen_rests_along_its_forearm(synthetic_clips):
    joints, skeleton, fps = synthetic_clips[2]
    lm = joints_to_landmarks(joints, fps)
    lm.right_conf[:] = 0
    out = retarget(lm, skeleton, RetargetOptions(smooth=False))
    assert out.report["right_hand"]["gaps"] == [{"start": 0, "frames": len(joints), "filled": "rest"}]
    assert not out.valid[:, 37:].any() and out.valid[:, 22:37].all()
    forearm = out.joints[:, 21] - out.joints[:, 19]
    knuckle = out.joints[:, 37] - out.joints[:, 21]  # wrist → right index1, in rest along the forearm's line
    rest_angle = np.arccos(np.dot(skeleton.offsets[37], skeleton.offsets[21])
                           / np.linalg.norm(skeleton.offsets[37]) / np.linalg.norm(skeleton.offsets[21]))
    angle = np.arccos(np.sum(forearm * knuckle, -1) / np.linalg.norm(forearm, axis=-1) / np.linalg.norm(knuckle, axis=-1))
    np.testing.assert_allclose(angle, rest_angle, atol=1e-5)


def test_no_body_in_any_frame_is_an_error(synthetic_clips):
    joints, _, fps = synthetic_clips[0]
    lm = joints_to_landmarks(joints[:5], fps, path="clip.mp4")
    lm.body_conf[:] = 0
    with pytest.raises(InvalidInputError, match="body"):
        retarget(lm)


def test_fill_gaps_interpolates_short_gaps_and_holds_long_ones():
    x = np.arange(12, dtype=float)[:, None]
    seen = np.array([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0], dtype=bool)
    filled, status, gaps = fill_gaps(x * seen[:, None], seen, max_gap=2)
    np.testing.assert_allclose(filled[:, 0], [1, 1, 2, 3, 4, 5, 5, 5, 5, 5, 10, 10])
    assert list(status) == [HELD, OBSERVED, OBSERVED, INTERPOLATED, INTERPOLATED, OBSERVED, HELD, HELD, HELD, HELD,
                            OBSERVED, HELD]
    assert gaps == [{"start": 0, "frames": 1, "filled": "held"}, {"start": 3, "frames": 2, "filled": "interpolated"},
                    {"start": 6, "frames": 4, "filled": "held"}, {"start": 11, "frames": 1, "filled": "held"}]


def test_one_euro_is_a_first_order_low_pass_whose_cutoff_rises_with_speed():
    rng = np.random.default_rng(0)
    x = np.cumsum(rng.normal(size=(200, 4, 3)), axis=0)
    fps, cutoff = 30.0, 2.0
    a = 1 / (1 + fps / (2 * np.pi * cutoff))
    by_hand = lfilter([a], [1, a - 1], x, axis=0, zi=np.broadcast_to((1 - a) * x[0], (1, 4, 3)))[0]
    np.testing.assert_allclose(one_euro(x, fps, min_cutoff=cutoff, beta=0.0), by_hand, atol=1e-9)
    np.testing.assert_allclose(one_euro(np.ones((50, 2, 3)), fps), 1.0)
    # with beta > 0 fast motion lags less
    ramp = np.linspace(0, 10, 60)[:, None, None] * np.ones((1, 1, 3))
    lag = [np.abs(one_euro(ramp, fps, 1.0, beta) - ramp).max() for beta in (0.0, 1.0)]
    assert lag[1] < 0.5 * lag[0]

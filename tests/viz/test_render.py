"""Rendering: gif/mp4 frame counts, compare mode, strips, the CLI's inputs, and bad input errors."""

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from lslm.errors import InvalidInputError
from lslm.motion import default_rest_skeleton, smplx_to_joints
from lslm.viz import face_front, render_motion, render_strip
from lslm.recipes.render import main
from lslm.viz.clips import load_joints
from shared_data import PEER_DATA


def _wave(frames: int = 7) -> np.ndarray:
    """Rest skeleton waving its right arm: joints (T, 52, 3)."""
    body = np.zeros((frames, 21, 3))
    body[:, 16, 2] = np.linspace(0.0, 1.2, frames)  # right shoulder (joint 17) about Z
    return smplx_to_joints({"body_pose": body.reshape(frames, 63)})


def _gif_frames(path) -> int:
    with Image.open(path) as im:
        return im.n_frames


def test_gif_has_one_frame_per_drawn_frame(tmp_path):
    joints = _wave(7)
    assert _gif_frames(render_motion(joints, tmp_path / "a.gif", captions="wave", dpi=30)) == 7
    assert _gif_frames(render_motion(joints, tmp_path / "b.gif", stride=3, dpi=30)) == 3  # frames 0, 3, 6


def test_mp4_frame_count(tmp_path):
    out = render_motion(_wave(8), tmp_path / "a.mp4", fps=20, dpi=40, views=("front", "side"))
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(out))
    assert frames == 8 and seconds == pytest.approx(0.4, abs=0.06)


def test_compare_side_by_side_holds_the_shorter_clip(tmp_path):
    one = render_motion(_wave(5), tmp_path / "one.gif", dpi=30)
    two = render_motion([_wave(5), _wave(3)], tmp_path / "two.gif", captions=["original", "recon"], dpi=30)
    assert _gif_frames(two) == 5
    with Image.open(one) as a, Image.open(two) as b:
        assert b.size[0] == pytest.approx(2 * a.size[0], abs=2)


def test_body22_and_strip(tmp_path):
    body = _wave(4)[:, :22]
    assert _gif_frames(render_motion(body, tmp_path / "b.gif", dpi=30)) == 4
    strip = render_strip(_wave(10), tmp_path / "s.png", num_frames=5, caption="wave", dpi=60)
    with Image.open(strip) as im:
        assert im.size[0] > 3 * im.size[1]  # five panels in a row
    assert strip.stat().st_size < 300_000


def test_face_front_turns_the_body_to_plus_z():
    joints = _wave(2)
    turned = joints.copy()
    turned[..., [0, 2]] = joints[..., [2, 0]] * np.array([1.0, -1.0])  # facing +X now (90° about Y)
    turned += np.array([2.0, 0.3, -1.0])
    np.testing.assert_allclose(face_front(turned), face_front(joints), atol=1e-5)
    assert face_front(joints)[..., 1].min() == pytest.approx(0.0)


@pytest.mark.parametrize("bad, field", [
    (np.zeros((5, 10, 3)), "joints"), (np.zeros((5, 52)), "joints"), (np.zeros((0, 52, 3)), "joints"),
    (np.full((3, 52, 3), np.nan), "joints"),
])
def test_bad_joints(tmp_path, bad, field):
    with pytest.raises(InvalidInputError) as err:
        render_motion(bad, tmp_path / "x.gif")
    assert err.value.field == field


def test_bad_options(tmp_path):
    with pytest.raises(InvalidInputError, match="out_path"):
        render_motion(_wave(2), tmp_path / "x.avi")
    with pytest.raises(InvalidInputError, match="captions"):
        render_motion([_wave(2), _wave(2)], tmp_path / "x.gif", captions=["only one"])
    with pytest.raises(InvalidInputError, match="views"):
        render_motion(_wave(2), tmp_path / "x.gif", views=("top",))
    with pytest.raises(InvalidInputError, match="frames"):
        render_strip(_wave(3), tmp_path / "x.png", frames=[0, 5])


def test_cli_inputs(tmp_path):
    joints = _wave(6)
    np.save(tmp_path / "joints.npy", joints)
    rest = default_rest_skeleton()
    body = np.zeros((6, 63), np.float32)
    np.savez(tmp_path / "clip.npz", body_pose=body, transl=np.zeros((6, 3), np.float32), fps=np.float32(25),
             rest_offsets=(rest.offsets * 1.1).astype(np.float32))
    from_npz, fps = load_joints(tmp_path / "clip.npz")
    assert fps == 25.0 and from_npz.shape == (6, 52, 3)
    rest_joints = smplx_to_joints({"body_pose": body[:1]})[0]
    np.testing.assert_allclose(from_npz[0], rest_joints * 1.1, atol=1e-5)  # the clip's own (scaled) skeleton
    assert main([str(tmp_path / "joints.npy"), "--out", str(tmp_path / "c.gif"), "--compare",
                 str(tmp_path / "clip.npz"), "--caption", "hello", "--dpi", "30"]) == 0
    assert _gif_frames(tmp_path / "c.gif") == 6
    np.save(tmp_path / "bad.npy", np.zeros((6, 100)))
    with pytest.raises(InvalidInputError, match="bad.npy"):
        load_joints(tmp_path / "bad.npy")
    with pytest.raises(InvalidInputError, match="missing.npy"):
        load_joints(tmp_path / "missing.npy")


HUMANML3D = PEER_DATA / "humanml3d"


@pytest.mark.skipif(not (HUMANML3D / "HumanML3D_new_joint_vecs_012314.npy").exists(), reason="no peer data")
def test_cli_reads_features_like_the_reference():
    joints, fps = load_joints(HUMANML3D / "HumanML3D_new_joint_vecs_012314.npy")
    reference = np.load(HUMANML3D / "HumanML3D_new_joints_012314.npy")  # recover_from_ric of those features
    assert fps is None and joints.shape == reference.shape == (170, 22, 3)
    np.testing.assert_allclose(joints, reference, atol=1e-4)


def test_video_frames_beside_the_skeleton(tmp_path):
    from lslm.viz.render import blurred, render_beside_video

    joints = _wave(5)
    frames = np.zeros((5, 40, 30, 3), dtype=np.uint8)
    frames[:, 10:20, 10:20] = 255  # a white square: blurring spreads it
    assert _gif_frames(render_beside_video(joints, frames, tmp_path / "v.gif", fps=5, dpi=30)) == 5
    points = np.full((5, 2, 2), np.nan)
    points[:, :, :] = [[5.0, 5.0], [25.0, 35.0]]
    still = render_beside_video(joints, frames, tmp_path / "v.png", picks=[1, 3], blur=3, dpi=40,
                                overlay=(points, [(0, 1)]))
    with Image.open(still) as im:
        assert im.size[0] > 3 * im.size[1]  # four panels in a row: frame, skeleton, frame, skeleton
    soft = blurred(frames[0], 3)
    assert soft.shape == frames[0].shape and 0 < soft[15, 9, 0] < 255 and soft[15, 15, 0] > soft[15, 9, 0]
    np.testing.assert_array_equal(blurred(frames[0], 0), frames[0])
    with pytest.raises(InvalidInputError, match="one video frame per joint frame"):
        render_beside_video(joints, frames[:4], tmp_path / "x.gif")

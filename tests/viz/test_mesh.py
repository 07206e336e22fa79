"""SMPL-X mesh sequences (lslm.viz.mesh) on a random SMPL-X model file built here: the mesh's joints are
the motion's, the files hold the mesh, renders are written."""
from __future__ import annotations

import numpy as np
import pytest
from lslm.motion.random_smplx import random_params, write_smplx_model

from lslm.errors import InvalidInputError
from lslm.motion import smplx_to_joints

smplx = pytest.importorskip("smplx")
trimesh = pytest.importorskip("trimesh")

from lslm.viz.mesh import joints_to_mesh, params_to_mesh, render_mesh, write_mesh_sequence  # noqa: E402

FIELDS = ("global_orient", "body_pose", "left_hand_pose", "right_hand_pose", "transl")


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    return write_smplx_model(tmp_path_factory.mktemp("smplx") / "SMPLX_NEUTRAL.npz", num_dirs=20, seed=8)


@pytest.fixture(scope="module")
def motion(model_file):
    """(params, joints (6, 52, 3)) of a random motion of the model's own body."""
    params = {k: v for k, v in random_params((6,), seed=9).items() if k in FIELDS}
    return params, smplx_to_joints(params, model_path=model_file, flat_hand_mean=True)


@pytest.fixture(scope="module")
def mesh(model_file, motion):
    return joints_to_mesh(motion[1], model_file, batch_size=4)  # two smplx batches


def test_the_mesh_of_joints_goes_through_the_joints(mesh, motion):
    assert mesh.vertices.shape == (6, 10475, 3) and mesh.faces.shape[1] == 3
    np.testing.assert_allclose(mesh.joints, motion[1], atol=1e-4)


def test_parameters_give_the_smplx_mesh(model_file, motion):
    import torch

    params, _ = motion
    ours = params_to_mesh(params, model_file)
    model = smplx.SMPLX(model_path=str(model_file), use_pca=False, flat_hand_mean=True, batch_size=6)
    with torch.no_grad():
        out = model(**{k: torch.as_tensor(v) for k, v in params.items()})
    np.testing.assert_allclose(ours.vertices, out.vertices.numpy(), atol=1e-5)
    with_mean = params_to_mesh(params, model_file, flat_hand_mean=False)  # smplx's default: the mean hand added
    assert np.abs(with_mean.joints[:, 22:] - ours.joints[:, 22:]).max() > 1e-3
    np.testing.assert_allclose(with_mean.joints[:, :22], ours.joints[:, :22], atol=1e-5)


@pytest.mark.parametrize("fmt", ["obj", "glb"])
def test_mesh_files_hold_the_frames(mesh, tmp_path, fmt):
    paths = write_mesh_sequence(mesh.vertices, mesh.faces, tmp_path / fmt, fmt, stride=2)
    assert [p.name for p in paths] == [f"frame_{t:05d}.{fmt}" for t in (0, 2, 4)]
    loaded = trimesh.load(paths[1], force="mesh", process=False)
    # the triangles' corners (a reader may drop vertices no triangle uses, as the random model has)
    np.testing.assert_allclose(loaded.vertices[loaded.faces], mesh.vertices[2][mesh.faces], atol=1e-5)


def test_render_writes_an_animation_and_a_still(mesh, tmp_path):
    from PIL import Image

    gif = render_mesh(mesh, tmp_path / "mesh.gif", caption="a caption", stride=2)
    with Image.open(gif) as image:
        assert image.n_frames == 3
    png = render_mesh(mesh, tmp_path / "mesh.png")
    assert np.asarray(Image.open(png)).std() > 0  # something was drawn


def test_bad_input_is_a_typed_error(model_file, mesh, tmp_path):
    with pytest.raises(InvalidInputError, match="body_pose"):
        params_to_mesh({"body_pose": np.zeros((2, 60))}, model_file)
    with pytest.raises(InvalidInputError, match="one of the SMPL-X fields"):
        params_to_mesh({"pose": np.zeros((2, 63))}, model_file)
    with pytest.raises(InvalidInputError, match="model_path"):
        params_to_mesh({"body_pose": np.zeros((2, 63))}, tmp_path / "missing.npz")
    with pytest.raises(InvalidInputError, match="format"):
        write_mesh_sequence(mesh.vertices, mesh.faces, tmp_path / "x", "fbx")
    with pytest.raises(InvalidInputError, match="out_path"):
        render_mesh(mesh, tmp_path / "mesh.avi")


def test_mesh_recipe_takes_parameter_clips_and_joint_files(model_file, motion, tmp_path):
    from lslm.atomic import atomic_save_npz
    from lslm.recipes.mesh import MeshConfig, main, run

    params, joints = motion
    atomic_save_npz(tmp_path / "clip.npz", {**params, "fps": np.float32(30)})  # a raw lslm clip: SMPL-X poses
    atomic_save_npz(tmp_path / "made.npz", {"joints": joints, "fps": np.float32(30), "text": np.array("hi")})
    np.save(tmp_path / "joints.npy", joints)
    out = tmp_path / "out"
    result = run(MeshConfig(tuple(str(tmp_path / n) for n in ("clip.npz", "made.npz", "joints.npy", "none.npz")),
                            str(model_file), str(out), stride=3, render="gif"))
    assert [r.get("source") for r in result.rows] == ["params", "joints", "joints", None] and result.failed == 1
    assert "no such file" in result.rows[3]["error"]
    assert sorted(p.name for p in (out / "made").iterdir()) == ["frame_00000.obj", "frame_00003.obj"]
    # a parameter clip is meshed with its own poses (lslm's convention: no mean hand), joints through the IK
    for name, expected in (("clip", params_to_mesh(params, model_file)), ("made", joints_to_mesh(joints, model_file))):
        loaded = trimesh.load(out / name / "frame_00003.obj", force="mesh", process=False)
        np.testing.assert_allclose(loaded.vertices[loaded.faces], expected.vertices[3][expected.faces], atol=1e-5)
    assert (out / "made.gif").is_file()
    assert main([str(tmp_path / "clip.npz"), "--smplx-model", str(tmp_path / "missing.npz"), "--out", str(out)]) == 2

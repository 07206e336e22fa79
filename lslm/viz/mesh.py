"""SMPL-X mesh sequences of any motion: from SMPL-X parameters, or from joints through inverse kinematics.

    mesh = params_to_mesh(clip.params, "models/SMPLX_NEUTRAL.npz")        # clips that carry SMPL-X poses
    mesh = joints_to_mesh(joints, "models/SMPLX_NEUTRAL.npz")              # produced motion, estimates (T, 52, 3)
    write_mesh_sequence(mesh.vertices, mesh.faces, "out/clip_mesh", "glb")  # frame_00000.glb, … (trimesh)
    render_mesh(mesh, "out/clip_mesh.mp4", caption="My friend likes the red car.")

The SMPL-X model is the user's own file (never shipped; https://smpl-x.is.tue.mpg.de): an .npz, or a folder
holding SMPLX_{GENDER}.npz. The mesh is made by the `smplx` library, which reads the model file with
numpy's pickle support (the official files carry pickled entries): give it model files you trust.
Joints go through `lslm.motion.ik.joints_to_smplx` first (what it cannot recover is written there:
twist about single-child bones, head and foot orientation, the face); the body keeps the model's shape
(`betas`), so its joints follow the motion's bone directions with the model's bone lengths.
Renders are drawn with matplotlib (no OpenGL needed): triangles facing the viewer, far to near, shaded
by their angle to a light at the viewer, front view, the body turned to face the viewer at frame 0.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from lslm.atomic import atomic_write_bytes
from lslm.errors import InvalidInputError

__all__ = ["MeshSequence", "joints_to_mesh", "params_to_mesh", "render_mesh", "write_mesh_sequence"]

MESH_FORMATS = (".obj", ".glb", ".ply", ".stl")
POSE_SIZES = {"global_orient": 3, "body_pose": 63, "left_hand_pose": 45, "right_hand_pose": 45, "jaw_pose": 3,
              "leye_pose": 3, "reye_pose": 3, "transl": 3}


@dataclass
class MeshSequence:
    """vertices (T, V, 3) float32 metres, y up; faces (F, 3) int64; joints (T, 52, 3): the posed body's
    own joints (SMPL-X's forward kinematics, lslm's 52-joint order)."""

    vertices: np.ndarray
    faces: np.ndarray
    joints: np.ndarray


@functools.lru_cache(maxsize=2)
def _smplx_model(path: str, mtime_ns: int, gender: str, flat_hand_mean: bool, num_betas: int, num_expression: int):
    """An smplx.SMPLX body model, built once per file and settings (a batch of clips reuses it; the file's
    modification time is in the key so that a rewritten file is read again)."""
    import smplx

    return smplx.SMPLX(model_path=path, gender=gender, use_pca=False, flat_hand_mean=flat_hand_mean,
                       num_betas=num_betas, num_expression_coeffs=num_expression, batch_size=1,
                       use_face_contour=False)


def params_to_mesh(params: dict, model_path: str | os.PathLike, gender: str = "neutral",
                   flat_hand_mean: bool = True, batch_size: int = 64) -> MeshSequence:
    """The SMPL-X mesh of per-frame parameters (smplx keyword names, axis-angle, 45-dim hands): every
    field of POSE_SIZES as (T, n) (absent ones are zero), `betas` (n,) or (T, n), `expression` (T, n).
    flat_hand_mean: the hand poses are the hands' own rotations (lslm's and the IK's convention); False
    adds the model's mean hand, as smplx does by default. Frames go through smplx `batch_size` at a time."""
    from lslm.motion.kinematics import SMPLX_TO_52, _model_file

    path = _model_file(model_path, gender)
    unknown = sorted(set(params) - set(POSE_SIZES) - {"betas", "expression"})
    if unknown:
        raise InvalidInputError(None, unknown[0], f"one of the SMPL-X fields {sorted(POSE_SIZES)}, betas, expression")
    arrays = {k: np.asarray(v, dtype=np.float32) for k, v in params.items() if v is not None}
    frames = {len(v) for k, v in arrays.items() if k in POSE_SIZES}
    if len(frames) != 1 or 0 in frames:
        raise InvalidInputError(None, "params", "per-frame fields with the same number of frames T >= 1",
                                got={k: v.shape for k, v in arrays.items()})
    (T,) = frames
    for key, size in POSE_SIZES.items():
        value = arrays.get(key, np.zeros((T, size), np.float32)).reshape(T, -1)
        if value.shape[1] != size or not np.isfinite(value).all():
            raise InvalidInputError(None, key, f"finite values of shape (T, {size})", got=value.shape)
        arrays[key] = value
    betas = np.atleast_2d(arrays.pop("betas", np.zeros((1, 10), np.float32)))
    if len(betas) not in (1, T):
        raise InvalidInputError(None, "betas", f"shape (n,) or ({T}, n)", got=betas.shape)
    expression = arrays.pop("expression", np.zeros((T, 10), np.float32)).reshape(T, -1)
    stat = path.resolve().stat()
    model = _smplx_model(str(path.resolve()), stat.st_mtime_ns, gender, flat_hand_mean, betas.shape[1],
                         expression.shape[1])
    vertices, joints = [], []
    with torch.no_grad():
        for start in range(0, T, batch_size):
            rows = slice(start, min(start + batch_size, T))
            n = rows.stop - rows.start
            chunk = {k: torch.from_numpy(v[rows]) for k, v in arrays.items()}
            shape = torch.from_numpy(betas[rows] if len(betas) > 1 else np.repeat(betas, n, axis=0))
            out = model(betas=shape, expression=torch.from_numpy(expression[rows]), **chunk)
            vertices.append(out.vertices.numpy())
            joints.append(out.joints[:, list(SMPLX_TO_52)].numpy())
    return MeshSequence(np.concatenate(vertices).astype(np.float32), model.faces.astype(np.int64),
                        np.concatenate(joints).astype(np.float32))


def joints_to_mesh(joints: np.ndarray, model_path: str | os.PathLike, betas: np.ndarray | None = None,
                   gender: str = "neutral", batch_size: int = 64) -> MeshSequence:
    """The SMPL-X mesh through joints (T, 52, 3): inverse kinematics on the model's rest joints (shape
    `betas`, default zeros), then `params_to_mesh`."""
    from lslm.motion.ik import joints_to_smplx, model_rest_joints

    params = joints_to_smplx(joints, model_rest_joints(model_path, betas, gender))
    if betas is not None:
        params["betas"] = np.asarray(betas, dtype=np.float32).reshape(-1)
    return params_to_mesh(params, model_path, gender, flat_hand_mean=True, batch_size=batch_size)


def write_mesh_sequence(vertices: np.ndarray, faces: np.ndarray, out_dir: str | os.PathLike, fmt: str = "obj",
                        stride: int = 1) -> list[Path]:
    """One mesh file per frame, `out_dir/frame_00000.<fmt>` (obj, glb, ply or stl through trimesh), every
    `stride`-th frame. Returns the paths written."""
    import trimesh

    suffix = "." + fmt.lstrip(".").lower()
    if suffix not in MESH_FORMATS:
        raise InvalidInputError(out_dir, "format", f"one of {MESH_FORMATS}", got=fmt)
    v, f = np.asarray(vertices), np.asarray(faces)
    if v.ndim != 3 or v.shape[-1] != 3 or f.ndim != 2 or f.shape[1] != 3 or stride < 1:
        raise InvalidInputError(out_dir, "mesh", "vertices (T, V, 3), faces (F, 3), stride >= 1",
                                got=f"{v.shape}, {f.shape}, stride {stride}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for t in range(0, len(v), stride):
        path = out / f"frame_{t:05d}{suffix}"
        data = trimesh.Trimesh(v[t], f, process=False).export(file_type=suffix[1:])
        atomic_write_bytes(path, data.encode() if isinstance(data, str) else data)
        paths.append(path)
    return paths


def _facing_vertices(mesh: MeshSequence) -> np.ndarray:
    """Vertices turned (with the joints) so that frame 0 faces +Z, root at the origin, on the floor."""
    from lslm.motion import face_front

    both = face_front(np.concatenate([mesh.joints, mesh.vertices], axis=1))  # the 52 joints first: their indices hold
    return both[:, mesh.joints.shape[1]:]


def render_mesh(mesh: MeshSequence, out_path: str | os.PathLike, caption: str | None = None, fps: float = 30,
                stride: int = 1, dpi: int = 80, inches: float = 3.2,
                color: tuple[float, float, float] = (0.55, 0.7, 0.9)) -> Path:
    """Animate a mesh sequence to .gif / .mp4 (or a .png of frame 0), front view (module docstring)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import animation
    from matplotlib.collections import PolyCollection

    out_path = Path(out_path)
    suffix = out_path.suffix.lower()
    if suffix not in (".gif", ".mp4", ".png"):
        raise InvalidInputError(out_path, "out_path", "a .gif, .mp4 or .png file name", got=suffix)
    if stride < 1 or fps <= 0:
        raise InvalidInputError(out_path, "stride/fps", "stride >= 1 and fps > 0", got=(stride, fps))
    vertices, faces = _facing_vertices(mesh), np.asarray(mesh.faces)
    base = np.asarray(color, dtype=np.float64)
    # even pixel sizes: H.264 with yuv420p needs them
    width, height = (2 * round(x * dpi / 2) / dpi for x in (inches, inches + (0.3 if caption else 0)))
    fig, ax = plt.subplots(figsize=(width, height), dpi=dpi)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.9 if caption else 0.99)
    if caption:
        ax.set_title(caption, fontsize=8)
    lo, hi = vertices[..., :2].reshape(-1, 2).min(0), vertices[..., :2].reshape(-1, 2).max(0)
    half, mid = (hi - lo).max() / 2 + 0.02, (hi + lo) / 2
    ax.set_xlim(mid[0] - half, mid[0] + half)
    ax.set_ylim(mid[1] - half, mid[1] + half)
    ax.set_aspect("equal")
    ax.axis("off")
    polys = PolyCollection([], edgecolors="none", antialiaseds=False)
    ax.add_collection(polys)

    def draw(t: int) -> None:
        tri = vertices[t][faces]  # (F, 3, 3)
        normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        normal /= np.linalg.norm(normal, axis=1, keepdims=True).clip(1e-12)
        front = normal[:, 2] > 0  # facing the viewer (who looks along −Z)
        order = np.argsort(tri[front, :, 2].mean(1))  # far to near
        shade = 0.35 + 0.65 * normal[front, 2][order]
        polys.set_verts(tri[front][order][:, :, :2])
        polys.set_facecolor(np.clip(shade[:, None] * base, 0, 1))

    out_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if suffix == ".png":
            draw(0)
            fig.savefig(out_path, dpi=dpi)
            return out_path
        if suffix == ".gif":
            writer = animation.PillowWriter(fps=fps / stride)
        else:
            import imageio_ffmpeg

            matplotlib.rcParams["animation.ffmpeg_path"] = imageio_ffmpeg.get_ffmpeg_exe()
            writer = animation.FFMpegWriter(fps=fps / stride, codec="libx264", extra_args=["-pix_fmt", "yuv420p"])
        with writer.saving(fig, str(out_path), dpi=dpi):
            for t in range(0, len(vertices), stride):
                draw(t)
                writer.grab_frame()
    finally:
        plt.close(fig)
    return out_path

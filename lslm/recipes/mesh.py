"""SMPL-X mesh sequences of motion files, for people who read signing better on a body (docs/production.md).

    python tools/mesh.py produced/motion/s0000.npz --smplx-model models/SMPLX_NEUTRAL.npz --out meshes --render mp4
    python tools/mesh.py clip.pkl --format signavatars --smplx-model models/smplx --out meshes --mesh-format glb
    result = run(MeshConfig(inputs=("clip.npz",), smplx_model="models/SMPLX_NEUTRAL.npz", out="meshes"))

Inputs (`format`, default "lslm"): an lslm `.npz` (the synthetic corpus' SMPL-X parameters, or joints as
tools/produce.py writes them), a joints `.npy` (T, 52, 3) or features `.npy` (T, 623); or a clip of another
format lslm reads (signavatars `.pkl`, smplerx folder, motionx `.npy`, through lslm.data.adapters).
Clips that carry SMPL-X parameters are meshed with them; joints go through inverse kinematics first
(lslm.motion.ik: what it cannot recover is listed there). Writes OUT/<name>/frame_00000.<mesh_format>, … and,
with `render`, OUT/<name>.gif|mp4 (the clip's text, when it has one, as caption). A file that cannot be read
is skipped, counted and reported.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lslm.errors import ConfigError, InvalidInputError, LslmError

FORMATS = ("lslm", "signavatars", "smplerx", "motionx")
CAMERA_FRAME = np.diag([1.0, -1.0, -1.0])  # R_x(π): camera-frame (y down) clips are turned upright after meshing


@dataclass(frozen=True)
class MeshConfig:
    """inputs: motion files; smplx_model: an SMPL-X .npz or a folder with SMPLX_{GENDER}.npz (the user's own);
    format: how to read the inputs (FORMATS); mesh_format: obj, glb, ply or stl; stride: every N-th frame;
    render: None, "gif" or "mp4"; flat_hand_mean: whether parameter clips' hand poses exclude the mean
    hand (default: True for lslm files, whose poses have none, False for the others, smplx's default)."""

    inputs: tuple[str, ...]
    smplx_model: str
    out: str
    format: str = "lslm"
    mesh_format: str = "obj"
    stride: int = 1
    render: str | None = None
    gender: str = "neutral"
    flat_hand_mean: bool | None = None
    fps: float = 30.0

    def __post_init__(self) -> None:
        if not self.inputs:
            raise ConfigError("MeshConfig.inputs: at least one motion file")
        if self.format not in FORMATS:
            raise ConfigError(f"MeshConfig.format: expected one of {FORMATS}, got {self.format!r}")
        if self.render not in (None, "gif", "mp4"):
            raise ConfigError(f"MeshConfig.render: expected gif, mp4 or None, got {self.render!r}")
        if self.stride < 1:
            raise ConfigError(f"MeshConfig.stride: expected >= 1, got {self.stride}")


@dataclass
class MeshResult:
    """One row per input: {"input", "frames", "mesh" (folder), "render"?, "source" (params | joints)} or
    {"input", "error"}."""

    rows: list[dict]

    @property
    def failed(self) -> int:
        """Inputs that gave no mesh (rows with an error)."""
        return sum("error" in r for r in self.rows)


def load_motion(path: str | Path, fmt: str = "lslm") -> tuple[dict | None, np.ndarray | None, bool, float | None, str | None]:
    """(SMPL-X parameters or None, joints (T, 52, 3) or None, camera frame, fps, text) of one motion file."""
    from lslm.data.adapters import load_lslm
    from lslm.data.convert import DEFAULT_TRANSLATION, apply_translation_policy, read_clip

    path = Path(path)
    if fmt != "lslm":  # read and treated as preparation does (camera translation policy: its default)
        clip = apply_translation_policy(read_clip(path, fmt), DEFAULT_TRANSLATION)
        return clip.params, clip.joints, clip.y_down, clip.fps, None
    if path.suffix == ".npy":
        from lslm.viz.clips import load_joints

        return None, load_joints(path)[0], False, None, None
    clip = load_lslm(path, fps=30.0)
    with np.load(path, allow_pickle=False) as data:
        text = str(data["text"]) if "text" in data.files and data["text"].dtype.kind == "U" else None
    return clip.params, clip.joints, False, clip.fps, text


def run(config: MeshConfig) -> MeshResult:
    """Mesh (and render) every input; see the module docstring."""
    from lslm.motion.kinematics import _model_file
    from lslm.viz.mesh import joints_to_mesh, params_to_mesh, render_mesh, write_mesh_sequence

    _model_file(config.smplx_model, config.gender)  # a missing model is the caller's error, not each input's
    out = Path(config.out)
    rows = []
    for source in config.inputs:
        name = Path(source).stem if Path(source).suffix else Path(source).name
        try:
            params, joints, camera, fps, text = load_motion(source, config.format)
            if params is not None:
                flat = config.format == "lslm" if config.flat_hand_mean is None else config.flat_hand_mean
                mesh = params_to_mesh(params, config.smplx_model, config.gender, flat_hand_mean=flat)
            else:
                mesh = joints_to_mesh(joints, config.smplx_model, gender=config.gender)
            if camera:
                mesh.vertices, mesh.joints = mesh.vertices @ CAMERA_FRAME.T, mesh.joints @ CAMERA_FRAME.T
        except LslmError as err:
            rows.append({"input": str(source), "error": str(err)})
            continue
        folder = out / name
        write_mesh_sequence(mesh.vertices, mesh.faces, folder, config.mesh_format, config.stride)
        row = {"input": str(source), "frames": len(mesh.vertices), "mesh": str(folder),
               "source": "params" if params is not None else "joints"}
        if config.render:
            row["render"] = str(render_mesh(mesh, out / f"{name}.{config.render}", caption=text or name,
                                            fps=fps or config.fps, stride=config.stride))
        rows.append(row)
    return MeshResult(rows)


def build_parser() -> argparse.ArgumentParser:
    """The command line of `tools/mesh.py` / `lslm mesh`."""
    p = argparse.ArgumentParser(description="Write SMPL-X mesh sequences (and renders) of motion files.")
    p.add_argument("inputs", nargs="+", help="lslm .npz, joints/features .npy, or clips of --format")
    p.add_argument("--smplx-model", required=True, help="SMPL-X .npz or a folder with SMPLX_{GENDER}.npz")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--format", choices=FORMATS, default="lslm")
    p.add_argument("--mesh-format", choices=("obj", "glb", "ply", "stl"), default="obj")
    p.add_argument("--stride", type=int, default=1, help="every N-th frame")
    p.add_argument("--render", choices=("gif", "mp4"))
    p.add_argument("--gender", default="neutral")
    p.add_argument("--flat-hand-mean", choices=("true", "false"), help="default: true for lslm files, else false")
    return p


def main(argv: list[str] | None = None) -> int:
    """0 when every input was meshed, 1 when some were skipped, 2 for unusable arguments."""
    args = build_parser().parse_args(argv)
    try:
        flat = None if args.flat_hand_mean is None else args.flat_hand_mean == "true"
        result = run(MeshConfig(tuple(args.inputs), args.smplx_model, args.out, args.format, args.mesh_format,
                                args.stride, args.render, args.gender, flat))
    except (ConfigError, InvalidInputError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for row in result.rows:
        print(f"skipped {row['input']}: {row['error']}" if "error" in row else
              f"{row['input']}: {row['frames']} frames from {row['source']} → {row['mesh']}", file=sys.stderr if "error" in row else sys.stdout)
    return 1 if result.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

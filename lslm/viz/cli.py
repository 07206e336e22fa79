"""`python tools/render.py CLIP_OR_FEATURES --out clip.mp4|gif|png [--compare OTHER | --video VIDEO] [--caption TEXT]`.

Inputs: joints `.npy` (T, 52, 3) or (T, 22, 3); features `.npy` (T, 623) or (T, 263), turned into
joints with `lslm.motion.features_to_joints`; a raw lslm clip `.npz` (SMPL-X-style parameters and
rest_offsets, as the synthetic corpus writes them). A `.png` output is a strip of still frames.
"""
from __future__ import annotations

import argparse
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from lslm.errors import InvalidInputError
from lslm.viz.render import render_motion, render_strip

PARAM_FIELDS = ("global_orient", "body_pose", "left_hand_pose", "right_hand_pose", "transl")
FEATURE_DIMS = (623, 263)


def load_joints(path: str | Path) -> tuple[np.ndarray, float | None]:
    """Joints (T, J, 3) of a joints/features `.npy` or a raw lslm `.npz`, and the fps stored with it."""
    from lslm.motion import default_rest_skeleton, features_to_joints, smplx_to_joints

    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(path, "path", "an existing .npy or .npz file", got="no such file")
    try:
        data = np.load(path, allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile) as err:
        raise InvalidInputError(path, "file", "a readable .npy/.npz (no pickles)", got=repr(err)) from err
    if isinstance(data, np.ndarray):
        if data.ndim == 3 and data.shape[1:] in ((52, 3), (22, 3)):
            return data.astype(np.float32), None
        if data.ndim == 2 and data.shape[1] in FEATURE_DIMS:
            if not np.isfinite(data).all():
                raise InvalidInputError(path, "features", "finite values", got="NaN or inf")
            return np.asarray(features_to_joints(data.astype(np.float32))), None
        raise InvalidInputError(path, "array", "joints (T, 52|22, 3) or features (T, 623|263)", got=data.shape)
    with data:
        if "joints" in data:
            return np.asarray(data["joints"], dtype=np.float32), _fps(data, path)
        missing = [k for k in ("body_pose",) if k not in data]
        if missing:
            raise InvalidInputError(path, missing[0], "present (raw lslm clip: SMPL-X-style parameters)")
        params = {k: np.asarray(data[k], dtype=np.float32) for k in PARAM_FIELDS if k in data}
        rest = default_rest_skeleton()
        if "rest_offsets" in data:
            offsets = np.asarray(data["rest_offsets"], dtype=np.float64)
            if offsets.shape != (52, 3):
                raise InvalidInputError(path, "rest_offsets", "shape (52, 3)", got=offsets.shape)
            rest = replace(rest, offsets=offsets)
        try:
            joints = smplx_to_joints(params, rest_skeleton=rest)
        except InvalidInputError as err:
            raise InvalidInputError(path, err.field, err.expected, err.got) from err
        return joints, _fps(data, path)


def _fps(data, path) -> float | None:
    if "fps" not in data:
        return None
    fps = float(np.asarray(data["fps"]))
    if not fps > 0:
        raise InvalidInputError(path, "fps", "a positive scalar", got=fps)
    return fps


def landmark_overlay(path: str | Path) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Body and hand image landmarks of a `.pose` file as (points (T, 75, 2) pixels, NaN where missing; limbs)."""
    from lslm.video.pose_file import BODY_LIMBS, HAND_LIMBS, read_pose

    lm = read_pose(path)
    parts = [(lm.body, lm.body_conf), (lm.left_hand, lm.left_conf), (lm.right_hand, lm.right_conf)]
    points = np.concatenate([np.where(conf[..., None] > 0, xyz[..., :2], np.nan) for xyz, conf in parts], axis=1)
    body = [(a, b) for a, b in BODY_LIMBS if 11 <= a <= 24 and 11 <= b <= 24]  # arms and torso
    return points, [*body, *[(a + 33, b + 33) for a, b in HAND_LIMBS], *[(a + 54, b + 54) for a, b in HAND_LIMBS]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render a motion clip as a stick-figure animation or frame strip.")
    parser.add_argument("input", help="joints/features .npy or raw lslm clip .npz")
    parser.add_argument("--out", required=True, help="output .gif, .mp4, or .png (strip of still frames)")
    parser.add_argument("--compare", help="a second clip drawn side by side (e.g. a reconstruction)")
    parser.add_argument("--caption", help="text over the figure")
    parser.add_argument("--fps", type=float, default=None, help="frame rate (default: the file's, else 30)")
    parser.add_argument("--stride", type=int, default=1, help="draw every N-th frame")
    parser.add_argument("--views", default="front", help="comma-separated: front, side")
    parser.add_argument("--frames", type=int, default=6, help="frames in a .png strip")
    parser.add_argument("--video", help="the video the clip was estimated from (tools/estimate.py): its frames "
                        "are drawn beside the skeleton, frame by frame")
    parser.add_argument("--blur", type=float, default=0.0, help="with --video: blur radius in pixels, so the "
                        "signer is not recognisable")
    parser.add_argument("--pick", type=int, nargs="+", help="with --video and a .png: the frames to show")
    parser.add_argument("--landmarks", help="with --video: a .pose file of it (tools/estimate.py --write-pose) "
                        "whose body and hand landmarks are drawn on the frames")
    parser.add_argument("--dpi", type=int, default=80)
    args = parser.parse_args(argv)

    joints, fps = load_joints(args.input)
    fps = args.fps or fps or 30.0
    out = Path(args.out)
    if args.video:
        from lslm.video.reader import read_video
        from lslm.viz.render import render_beside_video

        frames, info = read_video(args.video)
        render_beside_video(joints, frames, out, fps=args.fps or info.fps, blur=args.blur, picks=args.pick,
                            dpi=args.dpi, caption=args.caption,
                            overlay=landmark_overlay(args.landmarks) if args.landmarks else None)
    elif out.suffix.lower() == ".png":
        render_strip(joints, out, num_frames=args.frames, caption=args.caption, dpi=max(args.dpi, 100))
    else:
        motions, captions = [joints], None
        if args.compare:
            motions.append(load_joints(args.compare)[0])
            captions = [Path(args.input).stem, Path(args.compare).stem]
        render_motion(motions, out, captions=captions, fps=fps, stride=args.stride,
                      views=args.views.split(","), title=args.caption, dpi=args.dpi)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

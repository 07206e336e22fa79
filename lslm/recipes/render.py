"""Render a motion clip as a stick-figure animation (.gif, .mp4) or a strip of still frames (.png).

    python tools/render.py CLIP_OR_FEATURES --out clip.mp4|gif|png [--compare OTHER | --video VIDEO] [--caption TEXT]
    run(RenderConfig(input="clip.npz", out="clip.gif", caption="hello"))

Inputs (lslm.viz.clips.load_joints): joints `.npy` (T, 52, 3) or (T, 22, 3); features `.npy` (T, 623) or
(T, 263), turned into joints with `lslm.motion.features_to_joints`; a raw lslm clip `.npz` (SMPL-X-style
parameters and rest_offsets, as the synthetic corpus writes them).
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RenderConfig:
    """input: the clip; out: .gif, .mp4 or .png; compare: a second clip beside it; video (with blur, pick,
    landmarks): the video the clip was estimated from, drawn beside it frame by frame."""

    input: str
    out: str
    compare: str | None = None
    caption: str | None = None
    fps: float | None = None  # default: the file's, else 30
    stride: int = 1
    views: str = "front"  # comma-separated: front, side
    frames: int = 6  # frames in a .png strip
    video: str | None = None
    blur: float = 0.0
    pick: tuple[int, ...] | None = None
    landmarks: str | None = None
    dpi: int = 80


def build_parser() -> argparse.ArgumentParser:
    """The command line of `tools/render.py` / `lslm render`."""
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
    return parser


def run(config: RenderConfig) -> Path:
    """Render `config.input` (beside `compare`, or beside the frames of `video`); returns the file written."""
    from lslm.viz.clips import landmark_overlay, load_joints
    from lslm.viz.render import render_motion, render_strip

    joints, fps = load_joints(config.input)
    fps = config.fps or fps or 30.0
    out = Path(config.out)
    if config.video:
        from lslm.video.reader import read_video
        from lslm.viz.render import render_beside_video

        frames, info = read_video(config.video)
        render_beside_video(joints, frames, out, fps=config.fps or info.fps, blur=config.blur,
                            picks=list(config.pick) if config.pick else None, dpi=config.dpi, caption=config.caption,
                            overlay=landmark_overlay(config.landmarks) if config.landmarks else None)
    elif out.suffix.lower() == ".png":
        render_strip(joints, out, num_frames=config.frames, caption=config.caption, dpi=max(config.dpi, 100))
    else:
        motions, captions = [joints], None
        if config.compare:
            motions.append(load_joints(config.compare)[0])
            captions = [Path(config.input).stem, Path(config.compare).stem]
        render_motion(motions, out, captions=captions, fps=fps, stride=config.stride,
                      views=config.views.split(","), title=config.caption, dpi=config.dpi)
    return out


def main(argv: list[str] | None = None) -> int:
    """Render from the command line; 0 on success."""
    args = build_parser().parse_args(argv)
    args.pick = tuple(args.pick) if args.pick else None
    print(f"wrote {run(RenderConfig(**vars(args)))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

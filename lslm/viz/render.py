"""Stick-figure animations and frame strips of skeleton motion (matplotlib, Agg).

Views are orthographic projections drawn on 2D axes, which is much faster than mplot3d and shows the
hands more clearly: "front" looks at the signer (the signer's left is on the viewer's right), "side"
looks from the signer's right (forward is to the right). Every motion is first turned to face +Z at
its first frame, moved to the origin and put on the floor, so clips with different global facing look
the same. Frames are written by updating the line artists in place, never by redrawing the figure.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display needed, and the fastest backend for files
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import animation
from numpy.typing import ArrayLike

from lslm.errors import InvalidInputError
from lslm.motion import Skeleton, face_front

VIEWS = {"front": (0, 1), "side": (2, 1)}  # (horizontal, vertical) world axes of each view
COLORS = {"left": "#1f77b4", "right": "#d62728", "center": "#444444"}
WRITERS = {".gif", ".mp4"}
LEG_JOINTS = (1, 2, 4, 5, 7, 8, 10, 11)  # left out of the view limits when framing the upper body


def default_skeleton(num_joints: int, path: str | Path | None = None) -> Skeleton:
    """The joint set of an array with 52 (SMPL-X body + hands) or 22 (body) joints."""
    if num_joints == 52:
        return Skeleton.smplx52()
    if num_joints == 22:
        return Skeleton.body22()
    raise InvalidInputError(path, "joints", "(T, 52, 3) or (T, 22, 3)", got=f"{num_joints} joints")


def check_joints(joints: ArrayLike, path: str | Path | None = None,
                 skeleton: Skeleton | None = None) -> np.ndarray:
    """Validate a joint array (T, J, 3): shape, at least one frame, finite values."""
    joints = np.asarray(joints, dtype=np.float64)
    if joints.ndim != 3 or joints.shape[-1] != 3 or joints.shape[0] < 1:
        raise InvalidInputError(path, "joints", "an array (T, J, 3) with T >= 1", got=joints.shape)
    expected = skeleton.num_joints if skeleton is not None else joints.shape[1]
    if skeleton is None:
        default_skeleton(joints.shape[1], path)
    if joints.shape[1] != expected:
        raise InvalidInputError(path, "joints", f"{expected} joints (the skeleton's)", got=joints.shape[1])
    if not np.isfinite(joints).all():
        raise InvalidInputError(path, "joints", "finite values", got="NaN or inf")
    return joints


def _chain_color(skeleton: Skeleton, chain: Sequence[int]) -> str:
    name = skeleton.names[chain[-1]]
    return COLORS["left"] if name.startswith("left") else COLORS["right"] if name.startswith("right") \
        else COLORS["center"]


def _limits(motions: list[np.ndarray], view: str, upper_body: bool, margin: float = 0.08) -> tuple[tuple, tuple]:
    h, v = VIEWS[view]
    keep = [j for j in range(motions[0].shape[1]) if not upper_body or j not in LEG_JOINTS]
    lo = np.min([m[:, keep][..., [h, v]].reshape(-1, 2).min(0) for m in motions], axis=0) - margin
    hi = np.max([m[:, keep][..., [h, v]].reshape(-1, 2).max(0) for m in motions], axis=0) + margin
    half = (hi - lo).max() / 2  # same scale on both axes
    mid = (hi + lo) / 2
    return (mid[0] - half, mid[0] + half), (mid[1] - half, mid[1] + half)


class _Figure:
    """One row of panels (motion × view) whose line artists are updated frame by frame."""

    def __init__(self, motions, skeleton, views, captions, title, panel_inches, dpi, upper_body, images: int = 0):
        self.motions, self.skeleton, self.views = motions, skeleton, views
        n = len(motions) * len(views) + images  # `images` panels show video frames, each before its motion
        width, height = n * panel_inches, panel_inches + (0.35 if title else 0.0)
        # Even pixel sizes: H.264 with yuv420p needs them.
        width, height = (2 * round(width * dpi / 2) / dpi, 2 * round(height * dpi / 2) / dpi)
        self.fig, axes = plt.subplots(1, n, figsize=(width, height), dpi=dpi, squeeze=False)
        self.fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.86 if title else 0.9, wspace=0.02)
        if title:
            self.fig.suptitle(title, fontsize=9)
        self.lines = []  # (motion index, view, [Line2D per chain])
        per = len(views) + (images // len(motions) if images else 0)  # panels per motion
        image_axes = [ax for k, ax in enumerate(axes[0]) if images and k % per == 0]
        self.images = []
        for ax in image_axes:
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title("video", fontsize=8)
            self.images.append(ax)
        for k, ax in enumerate([ax for ax in axes[0] if all(ax is not a for a in image_axes)]):
            m, view = divmod(k, len(views))
            xlim, ylim = _limits(motions, views[view], upper_body)
            ax.set_xlim(*xlim)
            ax.set_ylim(*ylim)
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
            label = f"{captions[m]} · {views[view]}" if captions and captions[m] else views[view]
            ax.set_title(label, fontsize=8)
            ax.axhline(0.0, color="#bbbbbb", lw=0.8)
            chain_lines = [ax.plot([], [], color=_chain_color(skeleton, chain), lw=2.0 if len(chain) > 4 else 1.0,
                                   marker="o", ms=1.5)[0] for chain in skeleton.chains]
            self.lines.append((m, views[view], chain_lines))
        self.counter = self.fig.text(0.99, 0.01, "", ha="right", va="bottom", fontsize=7, color="#888888")

    def draw(self, frame: int) -> None:
        for m, view, chain_lines in self.lines:
            joints = self.motions[m][min(frame, len(self.motions[m]) - 1)]
            h, v = VIEWS[view]
            for line, chain in zip(chain_lines, self.skeleton.chains):
                line.set_data(joints[list(chain), h], joints[list(chain), v])
        self.counter.set_text(str(frame))


def _prepare(joints, skeleton: Skeleton | None) -> tuple[list[np.ndarray], Skeleton]:
    motions = joints if isinstance(joints, (list, tuple)) else [joints]
    if not motions:
        raise InvalidInputError(None, "joints", "at least one motion")
    motions = [check_joints(m, skeleton=skeleton) for m in motions]
    if len({m.shape[1] for m in motions}) != 1:
        raise InvalidInputError(None, "joints", "motions with the same joint count",
                                got=[m.shape[1] for m in motions])
    skeleton = skeleton or default_skeleton(motions[0].shape[1])
    return [face_front(m) for m in motions], skeleton


def _captions(captions, n: int) -> tuple[list[str] | None, str | None]:
    """A string is a title over the whole figure; a list names the panels, one per motion."""
    if captions is None or isinstance(captions, str):
        return None, captions
    captions = list(captions)
    if len(captions) != n:
        raise InvalidInputError(None, "captions", f"{n} captions (one per motion)", got=len(captions))
    return captions, None


def render_motion(joints: ArrayLike | Sequence[ArrayLike], out_path: str | Path,
                  captions: str | Sequence[str] | None = None, fps: float = 30,
                  skeleton: Skeleton | None = None, stride: int = 1, views: Sequence[str] = ("front",),
                  title: str | None = None, dpi: int = 80, panel_inches: float = 3.2,
                  upper_body: bool | None = None) -> Path:
    """Animate one motion (T, J, 3) or several side by side (a list; shorter ones hold their last frame)
    to a .gif (pillow) or .mp4 (ffmpeg from imageio-ffmpeg). Every `stride`-th frame is drawn and played
    at fps / stride, so the animation keeps real time. `upper_body` (default: for 52 joints) frames the
    view on the torso, arms and hands. Returns the output path."""
    out_path = Path(out_path)
    if out_path.suffix.lower() not in WRITERS:
        raise InvalidInputError(out_path, "out_path", "a .gif or .mp4 file name", got=out_path.suffix)
    if stride < 1 or fps <= 0:
        raise InvalidInputError(out_path, "stride/fps", "stride >= 1 and fps > 0", got=(stride, fps))
    unknown = [v for v in views if v not in VIEWS]
    if unknown or not views:
        raise InvalidInputError(out_path, "views", f"some of {tuple(VIEWS)}", got=list(views))
    motions, skeleton = _prepare(joints, skeleton)
    panel_captions, suptitle = _captions(captions, len(motions))
    upper_body = skeleton.num_joints == 52 if upper_body is None else upper_body
    figure = _Figure(motions, skeleton, list(views), panel_captions, title or suptitle, panel_inches, dpi,
                     upper_body)
    frames = range(0, max(len(m) for m in motions), stride)
    if out_path.suffix.lower() == ".gif":
        writer = animation.PillowWriter(fps=fps / stride)
    else:
        import imageio_ffmpeg

        matplotlib.rcParams["animation.ffmpeg_path"] = imageio_ffmpeg.get_ffmpeg_exe()
        writer = animation.FFMpegWriter(fps=fps / stride, codec="libx264", extra_args=["-pix_fmt", "yuv420p"])
    out_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with writer.saving(figure.fig, str(out_path), dpi=dpi):
            for frame in frames:
                figure.draw(frame)
                writer.grab_frame()
    finally:
        plt.close(figure.fig)
    return out_path


def render_strip(joints: ArrayLike, out_path: str | Path, num_frames: int = 6, caption: str | None = None,
                 skeleton: Skeleton | None = None, view: str = "front", dpi: int = 100,
                 panel_inches: float = 1.6, frames: Sequence[int] | None = None,
                 upper_body: bool | None = None) -> Path:
    """Save `num_frames` evenly spaced frames of one motion side by side as a still image (.png).
    `frames` picks the frame indices instead. Returns the output path."""
    out_path = Path(out_path)
    if out_path.suffix.lower() not in (".png", ".jpg", ".jpeg", ".svg", ".pdf"):
        raise InvalidInputError(out_path, "out_path", "an image file name (.png, .jpg, .svg, .pdf)")
    if view not in VIEWS:
        raise InvalidInputError(out_path, "view", f"one of {tuple(VIEWS)}", got=view)
    (motion,), skeleton = _prepare([joints], skeleton)
    if frames is None:
        frames = np.linspace(0, len(motion) - 1, num_frames).round().astype(int)
    frames = list(frames)
    if not frames or min(frames) < 0 or max(frames) >= len(motion):
        raise InvalidInputError(out_path, "frames", f"indices in [0, {len(motion)})", got=frames)
    selected = [motion[f:f + 1] for f in frames]
    upper_body = skeleton.num_joints == 52 if upper_body is None else upper_body
    figure = _Figure(selected, skeleton, [view], [f"frame {f}" for f in frames], caption, panel_inches, dpi,
                     upper_body)
    figure.draw(0)
    figure.counter.set_text("")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    figure.fig.savefig(out_path, dpi=dpi)
    plt.close(figure.fig)
    return out_path


def blurred(frame: np.ndarray, radius: float) -> np.ndarray:
    """A video frame (H, W, 3) uint8 under a Gaussian blur of `radius` pixels (0: as it is); for showing a
    signer's pose without showing who it is."""
    if radius <= 0:
        return frame
    from PIL import Image, ImageFilter

    return np.asarray(Image.fromarray(frame).filter(ImageFilter.GaussianBlur(radius)))


def _overlay(ax, points: np.ndarray, limbs: Sequence[tuple[int, int]]) -> list:
    """2-D landmark lines (x, y pixels; points with NaN are not drawn) on an image axis, kept to the image."""
    xlim, ylim = ax.get_xlim(), ax.get_ylim()
    lines = [ax.plot(points[[a, b], 0], points[[a, b], 1], color="#00e5ff", lw=1.0)[0] for a, b in limbs]
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    return lines


def render_beside_video(joints: ArrayLike, frames: Sequence[np.ndarray], out_path: str | Path,
                        fps: float = 30, blur: float = 0.0, picks: Sequence[int] | None = None, dpi: int = 80,
                        panel_inches: float = 3.2, caption: str | None = None,
                        overlay: tuple[np.ndarray, Sequence[tuple[int, int]]] | None = None) -> Path:
    """The video's frames (T, H, W, 3) beside the skeleton estimated from them (T, 52, 3), frame by frame:
    a .gif/.mp4 animation, or a still (.png) of the frames `picks` (default: the middle one), each frame
    with its skeleton. `blur` blurs the video (radius in pixels) so the signer is not recognisable;
    `overlay` = (points (T, N, 2) in pixels, NaN where missing; limbs) draws the 2-D landmarks on it."""
    out_path = Path(out_path)
    (motion,), skeleton = _prepare([joints], None)
    if len(frames) != len(motion):
        raise InvalidInputError(out_path, "frames", f"one video frame per joint frame ({len(motion)})",
                                got=len(frames))
    still = out_path.suffix.lower() in (".png", ".jpg", ".jpeg")
    if not still and out_path.suffix.lower() not in WRITERS:
        raise InvalidInputError(out_path, "out_path", "a .png, .gif or .mp4 file name", got=out_path.suffix)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    if still:
        picks = [len(motion) // 2] if picks is None else list(picks)
        if not picks or min(picks) < 0 or max(picks) >= len(motion):
            raise InvalidInputError(out_path, "picks", f"frame indices in [0, {len(motion)})", got=picks)
        selected = [motion[f:f + 1] for f in picks]
        figure = _Figure(selected, skeleton, ["front"], ["estimated"] * len(picks), caption, panel_inches, dpi,
                         True, images=len(picks))
        for ax, f in zip(figure.images, picks):
            ax.imshow(blurred(np.asarray(frames[f]), blur))
            ax.set_title(f"video frame {f}", fontsize=8)
            if overlay is not None:
                _overlay(ax, overlay[0][f], overlay[1])
        figure.draw(0)
        figure.counter.set_text("")
        figure.fig.savefig(out_path, dpi=dpi)
        plt.close(figure.fig)
        return out_path
    figure = _Figure([motion], skeleton, ["front"], ["estimated"], caption, panel_inches, dpi, True, images=1)
    image = figure.images[0].imshow(blurred(np.asarray(frames[0]), blur))
    lines = _overlay(figure.images[0], overlay[0][0], overlay[1]) if overlay is not None else []
    if out_path.suffix.lower() == ".gif":
        writer = animation.PillowWriter(fps=fps)
    else:
        import imageio_ffmpeg

        matplotlib.rcParams["animation.ffmpeg_path"] = imageio_ffmpeg.get_ffmpeg_exe()
        writer = animation.FFMpegWriter(fps=fps, codec="libx264", extra_args=["-pix_fmt", "yuv420p"])
    try:
        with writer.saving(figure.fig, str(out_path), dpi=dpi):
            for k, frame in enumerate(frames):
                image.set_data(blurred(np.asarray(frame), blur))
                for line, (a, b) in zip(lines, overlay[1] if overlay is not None else ()):
                    line.set_data(overlay[0][k][[a, b], 0], overlay[0][k][[a, b], 1])
                figure.draw(k)
                writer.grab_frame()
    finally:
        plt.close(figure.fig)
    return out_path

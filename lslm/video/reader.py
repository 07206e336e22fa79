"""Video frames through imageio-ffmpeg (the ffmpeg binary its wheel ships): RGB uint8, upright.

ffmpeg applies the container's rotation while decoding, so frames come upright and `VideoInfo.width`
/ `height` are those of the frames produced; `rotation` is what the container declared.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lslm.errors import InvalidInputError, MissingExtraError

VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")


@dataclass(frozen=True)
class VideoInfo:
    """What the container says: frame rate, size of the decoded (upright) frames, rotation, duration."""

    path: str
    fps: float
    width: int
    height: int
    rotation: int
    duration: float  # seconds (0 when unknown)

    @property
    def num_frames(self) -> int:
        """Frames expected from fps × duration (the decoder's count can differ by one)."""
        return int(round(self.fps * self.duration))


def _ffmpeg():
    try:
        import imageio_ffmpeg
    except ImportError as e:
        raise MissingExtraError("imageio-ffmpeg", "video", "reading video files") from e
    return imageio_ffmpeg


def _frames(path: Path, start: float | None) -> tuple[dict, Iterator[bytes]]:
    if not path.is_file():
        raise InvalidInputError(path, "file", "an existing video file", got="no such file")
    params = ["-ss", f"{start:.6f}"] if start else None
    gen = _ffmpeg().read_frames(str(path), pix_fmt="rgb24", input_params=params)
    try:
        meta = next(gen)
    except (OSError, RuntimeError, StopIteration) as e:
        raise InvalidInputError(path, "file", "a video ffmpeg can decode", got=str(e).strip()[-200:]) from e
    return meta, gen


def _info(path: Path, meta: dict) -> VideoInfo:
    fps, size = meta.get("fps"), meta.get("size")
    if not fps or not size or not (fps > 0):
        raise InvalidInputError(path, "video stream", "a video stream with a frame rate and size", got=meta)
    return VideoInfo(str(path), float(fps), int(size[0]), int(size[1]), int(meta.get("rotate", 0) or 0),
                     float(meta.get("duration") or 0.0))


def video_info(path: str | Path) -> VideoInfo:
    """Frame rate, upright frame size, rotation and duration of a video file."""
    path = Path(path)
    meta, gen = _frames(path, None)
    gen.close()
    return _info(path, meta)


def iter_frames(path: str | Path, start: int = 0, stop: int | None = None) -> tuple[VideoInfo, Iterator[np.ndarray]]:
    """(info, frames) with frames (H, W, 3) uint8 RGB numbers start ≤ i < stop, decoded lazily.

    A start > 0 seeks (ffmpeg's accurate input seeking) to start / fps seconds.
    """
    path = Path(path)
    meta, gen = _frames(path, None)
    info = _info(path, meta)
    if start:  # half a frame early: the first frame at or after that time is frame `start`
        gen.close()
        _, gen = _frames(path, (start - 0.5) / info.fps)

    def frames() -> Iterator[np.ndarray]:
        try:
            for i, raw in enumerate(gen, start=start):
                if stop is not None and i >= stop:
                    break
                yield np.frombuffer(raw, dtype=np.uint8).reshape(info.height, info.width, 3)
        finally:
            gen.close()

    return info, frames()


def read_video(path: str | Path, max_frames: int | None = None) -> tuple[np.ndarray, VideoInfo]:
    """All frames (T, H, W, 3) uint8 RGB (at most `max_frames`) and the video's info."""
    info, frames = iter_frames(path, 0, max_frames)
    frames = list(frames)
    if not frames:
        raise InvalidInputError(path, "frames", "at least one decodable frame", got=0)
    return np.stack(frames), info

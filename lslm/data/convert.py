"""One clip from a raw file to 623-dim features: the single path shared by `prepare_dataset`, `translate`
and `encode_dataset`, so a raw file and the same clip after preparation give the same features.

    clip = read_clip("deaf.pkl")                          # format detected (lslm.data.adapters.ADAPTERS)
    features = clip_features(clip, ConvertOptions())      # (T − 1, 623) float32
    features = file_features("deaf.pkl", ConvertOptions(fps=tokenizer.fps))   # both steps

Per clip: read and validate → camera translation policy (camera-frame clips only) → resample to
`options.fps` → joints (SMPL-X FK, camera frame rotated to y up) → features on the target skeleton.

Camera-frame clips (`MotionClip.y_down`: SignAvatars, SMPLer-X) carry the translation a monocular fit
found, whose depth is a weak-perspective guess that jumps from frame to frame. `translation` decides what
reaches the features (docs/data.md has the measurements behind the default):

    drop    no translation: the body stays where its root joint is (default; what SignAvatars itself
            sets for its subsets, "no root position change in the video")
    smooth  depth held at the clip's median, the image-plane shift low-passed over SMOOTH_SECONDS
            (a running median, then a Gaussian): keeps a slow drift of the signer
    keep    the estimated translation as it is
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from lslm.data.adapters import ADAPTERS, INVALID_HANDS, SIGNAVATARS_LAYOUTS, check_array, load_npy, npy_shape
from lslm.motion.clip import MotionClip
from lslm.errors import ConfigError, InvalidInputError

if TYPE_CHECKING:
    from lslm.motion import Skeleton

TRANSLATION_POLICIES = ("drop", "smooth", "keep")
DEFAULT_TRANSLATION = "drop"
SMOOTH_SECONDS = 1.0
FEATURES = "features"  # pseudo-format of `file_features`: a (T, 623) .npy used as it is


@dataclass(frozen=True)
class ConvertOptions:
    """How a clip becomes features; `prepare_dataset` records them in dataset.json, and translating a
    raw file must use the ones the training data was prepared with (the defaults match prepare's)."""

    fps: float = 30.0
    compat: bool = True
    model_path: str | None = None  # SMPL-X model file or folder; None: lslm's rest skeleton
    flat_hand_mean: bool = False
    target_offsets: tuple[tuple[float, float, float], ...] | None = None  # (52, 3); None: lslm's rest skeleton
    translation: str = DEFAULT_TRANSLATION  # camera-frame clips: drop | smooth | keep
    signavatars_params: str = "smplx"  # SignAvatars table: smplx (smoothed fit) | unsmooth_smplx
    invalid_hands: str = "interpolate"  # SignAvatars hand frames flagged invalid: interpolate | keep

    def __post_init__(self):
        for flag, value, allowed in (("--translation", self.translation, TRANSLATION_POLICIES),
                                     ("--signavatars-params", self.signavatars_params, tuple(SIGNAVATARS_LAYOUTS)),
                                     ("--invalid-hands", self.invalid_hands, INVALID_HANDS)):
            if value not in allowed:
                raise ConfigError(f"{flag}: expected one of {list(allowed)}, got {value!r}")


# ---- reading -----------------------------------------------------------------------------------------

def detect_format(path: str | Path) -> str:
    """The first format of `ADAPTERS` whose `detect` accepts `path` (a file, or a folder of frames)."""
    path = Path(path)
    for name, adapter in ADAPTERS.items():
        if adapter.detect is not None and adapter.detect(path):
            return name
    if not path.exists():
        raise InvalidInputError(path, "file", "an existing file or folder", got="no such path")
    got = f"shape {npy_shape(path)}" if path.suffix == ".npy" else \
        path.suffix or ("a folder" if path.is_dir() else "a file without a suffix")
    raise InvalidInputError(path, "format", f"one of {', '.join(ADAPTERS)} (docs/data.md; or name it with --format)",
                            got=got)


def read_clip(path: str | Path, fmt: str | None = None, fps: float | None = None,
              options: ConvertOptions = ConvertOptions()) -> MotionClip:
    """Read one clip of format `fmt` (detected when None); `fps` is its frame rate (None: the file's,
    else the format's default). Bad input raises InvalidInputError naming the file and field."""
    fmt = fmt or detect_format(path)
    if fmt not in ADAPTERS:
        raise InvalidInputError(path, "format", f"one of {sorted(ADAPTERS)}", got=fmt)
    adapter = ADAPTERS[fmt]
    return adapter.load(path, fps=adapter.default_fps if fps is None else fps, **adapter.options(options))


# ---- converting -------------------------------------------------------------------------------------

def camera_translation(translation: np.ndarray, policy: str, fps: float) -> np.ndarray:
    """A camera-frame translation track (T, 3) (x, y in the image plane, z the depth) under `policy`."""
    from scipy.ndimage import gaussian_filter1d, median_filter

    translation = np.asarray(translation, dtype=np.float64)
    if policy == "keep":
        return translation
    if policy == "drop":
        return np.zeros_like(translation)
    if policy != "smooth":
        raise InvalidInputError(None, "translation", f"one of {TRANSLATION_POLICIES}", got=policy)
    window = max(1, int(round(SMOOTH_SECONDS * fps))) | 1  # odd, in frames
    shift = median_filter(translation[:, :2], size=(window, 1), mode="nearest")  # drops single-frame jumps
    shift = gaussian_filter1d(shift, sigma=window / 4, axis=0, mode="nearest")
    depth = np.full((len(translation), 1), np.median(translation[:, 2]))
    return np.concatenate([shift, depth], axis=1)


def apply_translation_policy(clip: MotionClip, policy: str) -> MotionClip:
    """The clip with its translation under `policy` when it is in a camera frame (`y_down`); other clips
    are returned as they are. Parameter clips change `transl`; joint clips move every joint with the root."""
    if not clip.y_down or policy == "keep":
        return clip
    if clip.params is not None:
        if "transl" not in clip.params:
            return clip
        return replace(clip, params={**clip.params,
                                     "transl": camera_translation(clip.params["transl"], policy, clip.fps)})
    root = clip.joints[:, :1]  # (T, 1, 3)
    moved = camera_translation(root[:, 0], policy, clip.fps)[:, None]
    return replace(clip, joints=clip.joints - root + moved)


def clip_to_joints(clip: MotionClip, model_path: str | None = None, flat_hand_mean: bool = False) -> np.ndarray:
    """Joints (T, 52, 3), y up. Without a model file, FK runs on the clip's rest offsets when it has
    them, else on lslm's default rest skeleton. Camera-frame clips are rotated 180° about X after FK
    (exact, unlike rotating global_orient and transl about the origin, which the pelvis is not at)."""
    from lslm.motion import Skeleton, smplx_to_joints

    if clip.joints is not None:
        joints = clip.joints
    else:
        rest = None
        if model_path is None and clip.rest_offsets is not None:
            rest = replace(Skeleton.smplx52(), offsets=clip.rest_offsets)
        joints = smplx_to_joints(clip.params, model_path=model_path, flat_hand_mean=flat_hand_mean,
                                 rest_skeleton=rest)
    if clip.y_down:
        joints = joints * np.array([1.0, -1.0, -1.0])  # R_x(π): (x, y, z) → (x, −y, −z)
    return np.asarray(joints, dtype=np.float64)


def target_skeleton(options: ConvertOptions) -> Skeleton:
    """The skeleton the features are computed on (Skeleton.smplx52 with the options' offsets)."""
    from lslm.motion import Skeleton, default_rest_skeleton

    if options.target_offsets is None:
        return default_rest_skeleton()
    return replace(Skeleton.smplx52(), offsets=np.array(options.target_offsets))


def clip_joints(clip: MotionClip, options: ConvertOptions) -> np.ndarray:
    """Joints (T, 52, 3) at `options.fps`, y up, after the camera translation policy."""
    clip = apply_translation_policy(clip, options.translation).resampled(options.fps)
    return clip_to_joints(clip, options.model_path, options.flat_hand_mean)


def clip_features(clip: MotionClip, options: ConvertOptions) -> np.ndarray:
    """Features (T − 1, 623) float32 of one clip: what `prepare_dataset` writes to features/<id>.npy."""
    from lslm.motion import joints_to_features

    features = joints_to_features(clip_joints(clip, options), target=target_skeleton(options), fps=options.fps,
                                  compat=options.compat)
    features = np.asarray(features, dtype=np.float32)  # (T − 1, 623)
    if not np.isfinite(features).all():
        raise InvalidInputError(clip.path, "features", "finite values after conversion", got="NaN or inf")
    return features


def file_features(path: str | Path, options: ConvertOptions = ConvertOptions(), fmt: str | None = None,
                  fps: float | None = None, feature_dim: int = 623) -> np.ndarray:
    """Features (T − 1, 623) float32 of a raw file of any format (`read_clip`, then `clip_features`),
    or a features `.npy` (T, feature_dim) as it is (`fmt="features"`, or detected by its shape)."""
    path = Path(path)
    shape = npy_shape(path) if fmt in (None, FEATURES) and path.suffix == ".npy" else None
    if fmt == FEATURES or (fmt is None and shape is not None and len(shape) == 2 and shape[1] == feature_dim):
        return check_array(path, "features", load_npy(path), (None, feature_dim)).astype(np.float32)
    return clip_features(read_clip(path, fmt, fps, options), options)


def input_formats() -> list[str]:
    """What `file_features` reads: every adapter format and `features`."""
    return [*ADAPTERS, FEATURES]

"""Data: input adapters, the raw-clip conversion path, resampling, manifests, dataset preparation and the
torch Dataset (docs/data.md).

`import lslm.data` stays light: torch (MotionDataset, collate_motion) and the preparation tool load on
first use.
"""
from __future__ import annotations

from lslm.data.adapters import ADAPTERS, load_joints, load_lslm, load_motionx, load_signavatars, load_smplerx
from lslm.motion.clip import MotionClip
from lslm.data.convert import (
    ConvertOptions,
    apply_translation_policy,
    clip_features,
    detect_format,
    file_features,
    read_clip,
)
from lslm.data.manifest import read_manifest, read_split_csv
from lslm.motion.resample import resample_linear, resample_params, resample_rotvec
from lslm.data.safe_pickle import safe_load
from lslm.lazy import lazy_exports

__all__ = [
    "ADAPTERS",
    "ConvertOptions",
    "MotionClip",
    "MotionDataset",
    "apply_translation_policy",
    "clip_features",
    "collate_motion",
    "detect_format",
    "file_features",
    "load_joints",
    "load_lslm",
    "load_motionx",
    "load_signavatars",
    "load_smplerx",
    "prepare",
    "read_clip",
    "read_manifest",
    "read_split_csv",
    "resample_linear",
    "resample_params",
    "resample_rotvec",
    "safe_load",
]


__getattr__, __dir__ = lazy_exports(__name__, {"MotionDataset": "lslm.data.dataset", "collate_motion": "lslm.data.dataset",
                                                 "prepare": "lslm.data.prepare"})

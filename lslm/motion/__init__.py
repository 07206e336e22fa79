"""Motion representation: skeletons, SMPL-X → joints, joints ⇄ 623-dim features, normalisation, resampling
and `MotionClip`, the record an input adapter returns.

`import lslm.motion` stays light: each name loads its submodule (torch for kinematics and features) on
first use.
"""
from __future__ import annotations

from lslm.lazy import lazy_exports

_EXPORTS = {
    "MotionClip": "lslm.motion.clip",
    "feature_layout": "lslm.motion.features",
    "features_to_joints": "lslm.motion.features",
    "joints_to_features": "lslm.motion.features",
    "default_rest_skeleton": "lslm.motion.kinematics",
    "rest_positions": "lslm.motion.kinematics",
    "smplx_to_joints": "lslm.motion.kinematics",
    "Normalizer": "lslm.motion.normalize",
    "Skeleton": "lslm.motion.skeleton",
    "face_front": "lslm.motion.skeleton",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

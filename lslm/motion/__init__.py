"""Motion representation: skeletons, SMPL-X → joints, joints ⇄ 623-dim features, normalisation."""
from lslm.motion.features import feature_layout, features_to_joints, joints_to_features
from lslm.motion.kinematics import default_rest_skeleton, smplx_to_joints
from lslm.motion.normalize import Normalizer
from lslm.motion.skeleton import Skeleton, face_front

__all__ = [
           "Normalizer",
           "Skeleton",
           "default_rest_skeleton",
           "face_front",
           "feature_layout",
           "features_to_joints",
           "joints_to_features",
           "smplx_to_joints",
]

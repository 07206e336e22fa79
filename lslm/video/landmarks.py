"""MediaPipe Holistic landmarks of one signer per frame: the common currency of the video backends.

Every landmark source (MediaPipe on a video, a `.pose` file, a simulated camera) produces a
`Landmarks`; `lslm.video.retargeting` turns one into lslm's 52 joints. The conventions are MediaPipe's:

- `body` (T, 33, 3) and `left_hand`/`right_hand` (T, 21, 3) are image landmarks in **pixels**:
  x to the right, y down, and MediaPipe's relative depth z (hips, resp. the wrist, at 0; smaller is
  nearer the camera) multiplied by the image width like x, so the three axes share one unit.
- `body_world` (T, 33, 3), when the source has it, is MediaPipe's metric body: metres, origin between
  the hips, axes of the camera (x right, y down, z away from the camera).
- `body_conf` (T, 33) is MediaPipe's visibility per point, 0 where the body (or the point) is missing;
  `left_conf`/`right_conf` (T, 21) are 1 where the hand was found, 0 where not. Missing points hold 0.
- Left and right are the signer's as the source labelled them; retargeting re-decides the hands' sides
  from the body's wrists.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lslm.errors import InvalidInputError

# MediaPipe PoseLandmark order (33 points) and HandLandmark order (21 points).
BODY_POINTS = (
    "NOSE", "LEFT_EYE_INNER", "LEFT_EYE", "LEFT_EYE_OUTER", "RIGHT_EYE_INNER", "RIGHT_EYE", "RIGHT_EYE_OUTER",
    "LEFT_EAR", "RIGHT_EAR", "MOUTH_LEFT", "MOUTH_RIGHT", "LEFT_SHOULDER", "RIGHT_SHOULDER", "LEFT_ELBOW",
    "RIGHT_ELBOW", "LEFT_WRIST", "RIGHT_WRIST", "LEFT_PINKY", "RIGHT_PINKY", "LEFT_INDEX", "RIGHT_INDEX",
    "LEFT_THUMB", "RIGHT_THUMB", "LEFT_HIP", "RIGHT_HIP", "LEFT_KNEE", "RIGHT_KNEE", "LEFT_ANKLE", "RIGHT_ANKLE",
    "LEFT_HEEL", "RIGHT_HEEL", "LEFT_FOOT_INDEX", "RIGHT_FOOT_INDEX",
)
HAND_POINTS = (
    "WRIST", "THUMB_CMC", "THUMB_MCP", "THUMB_IP", "THUMB_TIP", "INDEX_FINGER_MCP", "INDEX_FINGER_PIP",
    "INDEX_FINGER_DIP", "INDEX_FINGER_TIP", "MIDDLE_FINGER_MCP", "MIDDLE_FINGER_PIP", "MIDDLE_FINGER_DIP",
    "MIDDLE_FINGER_TIP", "RING_FINGER_MCP", "RING_FINGER_PIP", "RING_FINGER_DIP", "RING_FINGER_TIP",
    "PINKY_MCP", "PINKY_PIP", "PINKY_DIP", "PINKY_TIP",
)
BODY = {name: i for i, name in enumerate(BODY_POINTS)}
NUM_BODY, NUM_HAND = len(BODY_POINTS), len(HAND_POINTS)
# MediaPipe camera axes (x right, y down, z away from the camera) ↔ lslm axes (x the left of a signer
# facing the camera, y up, z towards the camera): a 180° turn about x, its own inverse.
FLIP = np.array([1.0, -1.0, -1.0])
# Hand landmarks of lslm's finger joints 1-3 (SMPL-X order index, middle, pinky, ring, thumb) and tips.
FINGER_POINTS = {"index": (5, 6, 7, 8), "middle": (9, 10, 11, 12), "pinky": (17, 18, 19, 20),
                 "ring": (13, 14, 15, 16), "thumb": (1, 2, 3, 4)}


@dataclass
class Landmarks:
    """Holistic landmarks of one signer, T frames (see the module docstring for units and axes)."""

    fps: float
    width: int
    height: int
    body: np.ndarray  # (T, 33, 3) pixels
    body_conf: np.ndarray  # (T, 33)
    left_hand: np.ndarray  # (T, 21, 3) pixels
    left_conf: np.ndarray  # (T, 21)
    right_hand: np.ndarray  # (T, 21, 3) pixels
    right_conf: np.ndarray  # (T, 21)
    body_world: np.ndarray | None = None  # (T, 33, 3) metres
    path: str | None = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        self.validate()

    @property
    def num_frames(self) -> int:
        """T, the clip's frames."""
        return len(self.body)

    @property
    def body_found(self) -> np.ndarray:
        """(T,) bool: frames where the body was found (any point with confidence > 0)."""
        return (self.body_conf > 0).any(-1)

    @property
    def hands_found(self) -> tuple[np.ndarray, np.ndarray]:
        """(T,) bool each: frames where the left / right hand was found (its wrist has confidence > 0)."""
        return self.left_conf[:, 0] > 0, self.right_conf[:, 0] > 0

    def validate(self) -> None:
        """Shapes and finite values; raises InvalidInputError naming the source and the field."""
        t = len(self.body) if isinstance(self.body, np.ndarray) else None
        shapes = {"body": (t, NUM_BODY, 3), "body_conf": (t, NUM_BODY), "left_hand": (t, NUM_HAND, 3),
                  "left_conf": (t, NUM_HAND), "right_hand": (t, NUM_HAND, 3), "right_conf": (t, NUM_HAND)}
        if self.body_world is not None:
            shapes["body_world"] = (t, NUM_BODY, 3)
        for name, shape in shapes.items():
            value = getattr(self, name)
            if not isinstance(value, np.ndarray) or value.shape != shape:
                got = value.shape if isinstance(value, np.ndarray) else type(value).__name__
                raise InvalidInputError(self.path, name, f"an array of shape {shape}", got=got)
            if not np.isfinite(value).all():
                raise InvalidInputError(self.path, name, "finite values", got="NaN or inf")
        if not (np.isfinite(self.fps) and self.fps > 0):
            raise InvalidInputError(self.path, "fps", "a positive frame rate", got=self.fps)
        if not (self.width > 0 and self.height > 0):
            raise InvalidInputError(self.path, "width/height", "a positive image size",
                                    got=(self.width, self.height))

    def found_fractions(self) -> dict[str, float]:
        """Fraction of frames with the body, the left and the right hand found (as labelled)."""
        left, right = self.hands_found
        t = max(self.num_frames, 1)
        return {"body": float(self.body_found.sum() / t), "left_hand": float(left.sum() / t),
                "right_hand": float(right.sum() / t)}

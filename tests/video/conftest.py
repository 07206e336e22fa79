"""Fixtures of the video tests: synthetic clips with their true joints, and one MediaPipe run on the real
signing clip of shared/realdata per session."""
from __future__ import annotations

import numpy as np
import pytest
from video_fixtures import realdata


@pytest.fixture(scope="session")
def synthetic_clips():
    """Three test-split clips of the synthetic corpus: [(joints (T, 52, 3), signer's Skeleton, fps)]."""
    from lslm.data.synthetic.generate import plan_corpus
    from lslm.data.synthetic.motion import FPS, signer_skeleton, synthesize
    from lslm.motion import Skeleton, smplx_to_joints

    plan = plan_corpus("tiny", seed=0)
    clips = []
    for index, clip in enumerate([c for c in plan["clips"] if c["split"] == "test"][:3]):
        signer = clip["signer"]
        params = synthesize([plan["lexicon"][g] for g in clip["sentence"].gloss], signer,
                            np.random.default_rng([0, 4, index]))
        skeleton = signer_skeleton(Skeleton.smplx52(), signer)
        joints = np.asarray(smplx_to_joints(params, rest_skeleton=skeleton), dtype=np.float64)
        clips.append((joints, skeleton, float(FPS)))
    return clips


@pytest.fixture(scope="session")
def real_video_landmarks():
    """MediaPipe Holistic on the real signing clip, once per session (about 4 s on 2 cores)."""
    pytest.importorskip("mediapipe")
    from lslm.video import estimate_video

    return estimate_video(realdata("pose_format", "test_video.mp4"))

"""A tiny prepared dataset (the folder format of lslm.data.prepare) with smooth random features."""
from __future__ import annotations

import numpy as np
import pytest

FEATURE_DIM, NUM_JOINTS, FPS = 623, 52, 30.0
# (id, split, frames): the 10-frame clip is shorter than the tiny window (16) and must be skipped.
CLIPS = [(f"tr{i}", "train", 20 + 3 * i) for i in range(9)] + [("short", "train", 10)] + \
        [(f"va{i}", "val", 18 + 5 * i) for i in range(3)]


def _smooth_features(rng: np.random.Generator, frames: int) -> np.ndarray:
    """(frames, 623) float32: a few random sinusoids per dimension, so windows have structure to learn."""
    t = np.arange(frames)[:, None] / FPS
    freq, phase, amp = rng.uniform(0.2, 2.0, (3, FEATURE_DIM)), rng.uniform(0, 6.3, FEATURE_DIM), \
        rng.uniform(0.01, 0.3, FEATURE_DIM)
    x = sum(amp * np.sin(2 * np.pi * f * t + phase) for f in freq) + rng.normal(0, 0.01, (frames, FEATURE_DIM))
    return x.astype(np.float32)


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory, write_dataset):
    from lslm.motion import Normalizer

    rng = np.random.default_rng(0)
    clips = [({"id": clip_id, "text": f"clip {clip_id}", "gloss": None, "split": split, "signer": "s0"},
              _smooth_features(rng, frames)) for clip_id, split, frames in CLIPS]
    root = write_dataset(tmp_path_factory.mktemp("tiny_dataset"), clips, compat=True)
    train = [features for row, features in clips if row["split"] == "train"]
    Normalizer.fit(np.concatenate(train), num_joints=NUM_JOINTS).save(root / "stats.safetensors")
    return root

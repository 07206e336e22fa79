"""A tiny prepared dataset (the folder format of lslm.data.prepare) with smooth random features."""
from __future__ import annotations

import json

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
def tiny_dataset(tmp_path_factory):
    from lslm.data.prepare import load_target_offsets
    from lslm.motion import Normalizer

    root = tmp_path_factory.mktemp("tiny_dataset")
    (root / "features").mkdir()
    rng = np.random.default_rng(0)
    rows, train = [], []
    for clip_id, split, frames in CLIPS:
        features = _smooth_features(rng, frames)
        np.save(root / "features" / f"{clip_id}.npy", features)
        if split == "train":
            train.append(features)
        rows.append({"id": clip_id, "features": f"features/{clip_id}.npy", "text": f"clip {clip_id}",
                     "gloss": None, "split": split, "fps": FPS, "frames": frames, "signer": "s0"})
    (root / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    Normalizer.fit(np.concatenate(train), num_joints=NUM_JOINTS).save(root / "stats.safetensors")
    info = {"fps": FPS, "num_joints": NUM_JOINTS, "feature_dim": FEATURE_DIM, "compat": True,
            "target_skeleton": {"offsets": load_target_offsets(None).tolist()}}
    (root / "dataset.json").write_text(json.dumps(info))
    return root

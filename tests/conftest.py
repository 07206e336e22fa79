"""Fixtures shared by every test package."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def write_dataset():
    """write(root, clips, **info) → root: a prepared dataset written by hand in the folder format of
    lslm.data.prepare (features/<id>.npy, manifest.jsonl, dataset.json on lslm's default rest skeleton, at
    30 fps). clips: (manifest row without its feature fields, features (frames, 623)) pairs; info: extra
    dataset.json fields."""
    from lslm.motion import default_rest_skeleton

    def write(root: Path, clips: list[tuple[dict, np.ndarray]], **info) -> Path:
        (root / "features").mkdir(parents=True)
        rows = []
        for row, features in clips:
            np.save(root / "features" / f"{row['id']}.npy", features)
            rows.append({**row, "features": f"features/{row['id']}.npy", "fps": 30.0, "frames": len(features)})
        (root / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        skeleton = {"offsets": default_rest_skeleton().offsets.tolist()}
        (root / "dataset.json").write_text(json.dumps({"fps": 30.0, "feature_dim": 623, "num_joints": 52,
                                                       "target_skeleton": skeleton, **info}))
        return root

    return write

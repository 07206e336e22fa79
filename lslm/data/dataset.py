"""A prepared dataset folder as a torch Dataset, and the collate function that pads a batch."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from lslm.checks import check_fps, check_int, read_json
from lslm.data.adapters import load_npy
from lslm.data.manifest import read_manifest
from lslm.errors import InvalidInputError
from lslm.motion import Normalizer, Skeleton


class MotionDataset(Dataset):
    """Clips of one split of a folder made by `lslm.data.prepare`.

    Item: {"id", "features" (T, D) float32 tensor (normalised with the folder's train statistics when
    `normalize`), "length" T, "text", "gloss", "signer"}. `records`: the split's manifest rows, when the
    caller has read them already (the manifest is then not read again).
    """

    def __init__(self, root: str | Path, split: str | None = "train", normalize: bool = True,
                 records: list[dict] | None = None):
        self.root = Path(root)
        info_path = self.root / "dataset.json"
        info = read_json(info_path, "the dataset.json of a prepared dataset folder")
        self.info = info
        self.fps = check_fps(info.get("fps"), info_path, "fps")
        self.num_joints = check_int(info.get("num_joints"), info_path, "num_joints", minimum=2)
        self.feature_dim = check_int(info.get("feature_dim"), info_path, "feature_dim", minimum=1)
        if self.feature_dim != 12 * self.num_joints - 1:
            raise InvalidInputError(info_path, "feature_dim", f"12 * num_joints - 1 = {12 * self.num_joints - 1}",
                                    got=self.feature_dim)
        skeleton = info.get("target_skeleton")
        offsets = skeleton.get("offsets") if isinstance(skeleton, dict) else None
        self.target_skeleton = Skeleton.from_dict(Skeleton.smplx52().to_dict(), _offsets(offsets, info_path),
                                                  info_path, "target_skeleton")
        if records is None:  # the manifest rows of `split`, unless the caller has read them
            records = [r for r in read_manifest(self.root / "manifest.jsonl") if split is None or r["split"] == split]
        self.records = records
        stats = self.root / "stats.safetensors"
        self.normalizer = Normalizer.load(stats) if stats.exists() else None
        if normalize and self.normalizer is None:
            raise InvalidInputError(stats, "stats.safetensors", "present (it is fitted on the train split)",
                                    got="missing")
        self.normalize = normalize

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> dict:
        row = self.records[index]
        path = self.root / row["features"]
        features = load_npy(path)
        if features.ndim != 2 or features.shape[1] != self.feature_dim or features.dtype != np.float32:
            raise InvalidInputError(path, "features", f"float32 (T, {self.feature_dim})",
                                    got=f"{features.dtype} {features.shape}")
        if len(features) != row["frames"]:
            raise InvalidInputError(path, "features", f"{row['frames']} rows (the manifest's frames)", got=len(features))
        if not np.isfinite(features).all():
            raise InvalidInputError(path, "features", "finite values", got="NaN/inf")
        x = torch.from_numpy(features)
        if self.normalize:
            x = self.normalizer.normalize(x)
        return {"id": row["id"], "features": x, "length": len(x), "text": row.get("text", ""),
                "gloss": row.get("gloss"), "signer": row.get("signer")}


def _offsets(value, path) -> np.ndarray:
    """target_skeleton.offsets of dataset.json as a float array (52, 3); the skeleton check does the rest."""
    try:
        offsets = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise InvalidInputError(path, "target_skeleton.offsets", "52 rows [x, y, z] of numbers",
                                got=repr(value)[:80]) from e
    return offsets


def collate_motion(batch: list[dict]) -> dict:
    """Zero-pad features to the longest clip: features (B, Tmax, D), lengths (B,) long, ids, texts, glosses."""
    lengths = torch.tensor([item["length"] for item in batch], dtype=torch.long)
    features = torch.nn.utils.rnn.pad_sequence([item["features"] for item in batch], batch_first=True)
    return {"features": features, "lengths": lengths, "ids": [item["id"] for item in batch],
            "texts": [item["text"] for item in batch], "glosses": [item["gloss"] for item in batch],
            "signers": [item["signer"] for item in batch]}

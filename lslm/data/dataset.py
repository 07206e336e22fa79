"""A prepared dataset folder as a torch Dataset, and the collate function that pads a batch."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from lslm.data.manifest import read_manifest
from lslm.errors import InvalidInputError
from lslm.motion import Normalizer, Skeleton


class MotionDataset(Dataset):
    """Clips of one split of a folder made by `lslm.data.prepare`.

    Item: {"id", "features" (T, D) float32 tensor (normalised with the folder's train statistics when
    `normalize`), "length" T, "text", "gloss", "signer"}.
    """

    def __init__(self, root: str | Path, split: str | None = "train", normalize: bool = True):
        self.root = Path(root)
        info_path = self.root / "dataset.json"
        try:
            info = json.loads(info_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise InvalidInputError(info_path, "dataset.json", "a prepared dataset folder", got=repr(e)) from e
        self.info = info
        self.fps = float(info["fps"])
        self.feature_dim = int(info["feature_dim"])
        self.num_joints = int(info["num_joints"])
        self.target_skeleton = replace(Skeleton.smplx52(),
                                       offsets=np.asarray(info["target_skeleton"]["offsets"], dtype=np.float64))
        rows = read_manifest(self.root / "manifest.jsonl")
        self.records = [r for r in rows if split is None or r["split"] == split]
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
        features = np.load(path, allow_pickle=False)
        if features.ndim != 2 or features.shape[1] != self.feature_dim or features.dtype != np.float32:
            raise InvalidInputError(path, "features", f"float32 (T, {self.feature_dim})",
                                    got=f"{features.dtype} {features.shape}")
        x = torch.from_numpy(features)
        if self.normalize:
            x = self.normalizer.normalize(x)
        return {"id": row["id"], "features": x, "length": len(x), "text": row.get("text", ""),
                "gloss": row.get("gloss"), "signer": row.get("signer")}


def collate_motion(batch: list[dict]) -> dict:
    """Zero-pad features to the longest clip: features (B, Tmax, D), lengths (B,) long, ids, texts, glosses."""
    lengths = torch.tensor([item["length"] for item in batch], dtype=torch.long)
    features = torch.nn.utils.rnn.pad_sequence([item["features"] for item in batch], batch_first=True)
    return {"features": features, "lengths": lengths, "ids": [item["id"] for item in batch],
            "texts": [item["text"] for item in batch], "glosses": [item["gloss"] for item in batch],
            "signers": [item["signer"] for item in batch]}

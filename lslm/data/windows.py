"""Training samples cut from a prepared dataset's clips: fixed-length windows of a resumable stream (the
tokenizer recipe) and random crops (the evaluator recipe).

    windows = TrainWindows(MotionDataset(root, "train", normalize=True), window=64, seed=0)
    crop = windows[position]               # (64, D) normalised features; position p of the endless stream
"""
from __future__ import annotations

import torch
from torch.utils.data import Dataset

from lslm.errors import InvalidInputError


class TrainWindows(Dataset):
    """Stream position p → a (window, D) crop. Epoch e = p // N uses a generator seeded with (seed, e)."""

    def __init__(self, dataset, window: int, seed: int):
        self.dataset = dataset
        self.window = window
        self.seed = seed
        lengths = [int(row["frames"]) for row in dataset.records]  # feature rows, from the manifest
        self.clips = [i for i, n in enumerate(lengths) if n >= window]
        self.lengths = torch.tensor([lengths[i] for i in self.clips])
        self.skipped = len(lengths) - len(self.clips)
        self._plan: tuple[int, torch.Tensor, torch.Tensor] | None = None  # (epoch, order, starts)
        if not self.clips:
            raise InvalidInputError(getattr(dataset, "root", None), "frames",
                                    f"at least one training clip of >= data.window={window} frames",
                                    got=f"{len(lengths)} clips, the longest {max(lengths, default=0)} frames")

    def epoch_plan(self, epoch: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(clip order (N,), crop starts (N,)) of one epoch; a pure function of (seed, epoch)."""
        if self._plan is None or self._plan[0] != epoch:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            order = torch.randperm(len(self.clips), generator=g)
            starts = (torch.rand(len(self.clips), generator=g) * (self.lengths[order] - self.window + 1)).long()
            self._plan = (epoch, order, starts)
        return self._plan[1], self._plan[2]

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, position: int) -> torch.Tensor:
        epoch, slot = divmod(position, len(self.clips))
        order, starts = self.epoch_plan(epoch)
        start = int(starts[slot])
        clip = self.clips[int(order[slot])]
        crop = self.dataset[clip]["features"][start:start + self.window]
        if len(crop) != self.window:
            raise InvalidInputError(self.dataset.root / self.dataset.records[clip]["features"], "frames",
                                    f"{int(self.lengths[int(order[slot])])} rows as the manifest says",
                                    got=f"{start + len(crop)} or fewer")
        return crop


class TrainCrops(Dataset):
    """Clip i → (random crop of at most max_frames normalised rows (n, D), its text)."""

    def __init__(self, dataset, max_frames: int, min_frames: int):
        self.dataset, self.max_frames = dataset, max_frames
        self.clips = [i for i, row in enumerate(dataset.records) if int(row["frames"]) >= min_frames]
        self.skipped = len(dataset.records) - len(self.clips)
        if not self.clips:
            raise InvalidInputError(dataset.root, "frames", f"training clips of at least {min_frames} frames",
                                    got=f"{len(dataset.records)} shorter clips")

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, index: int) -> dict:
        item = self.dataset[self.clips[index]]
        x = item["features"]
        start = int(torch.randint(0, max(1, len(x) - self.max_frames + 1), ()))
        return {**item, "features": x[start:start + self.max_frames], "length": min(len(x), self.max_frames)}

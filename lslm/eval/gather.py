"""Collect predictions from every rank before scoring.

Scoring each rank's shard and averaging the per-rank numbers is wrong for every corpus-level metric
(BLEU, chrF, CIDEr's idf, corpus WER) and counts DistributedSampler's padding samples twice (the bug of
MotionGPT issue #59). Here every rank sends its rows to all ranks, duplicates are removed by id, and the
rows come back in id order, so rank 0 scores exactly what a single process would.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch.distributed as dist

from lslm.errors import InvalidInputError


def gather_objects(objects: list) -> list:
    """All ranks' lists concatenated in rank order (the list itself when not distributed)."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return list(objects)
    parts: list[list | None] = [None] * dist.get_world_size()
    dist.all_gather_object(parts, list(objects))
    return [o for part in parts for o in part]


@dataclass
class Gathered:
    """Rows from every rank, one per id, sorted by id, and how many duplicates were dropped."""

    rows: list[dict]
    duplicates: int


def gather_predictions(rows: list[dict], key: str = "id") -> Gathered:
    """Gather `{"id", "prediction", ...}` rows from every rank; keep one row per id, sorted by id.

    A duplicate id is expected (DistributedSampler repeats samples to make shards equal) and is counted;
    duplicates whose predictions differ are an error, since either one could be "the" prediction.
    """
    kept: dict[str, dict] = {}
    duplicates = 0
    for row in gather_objects(rows):
        if key not in row:
            raise InvalidInputError(None, key, "a key of every gathered row", got=sorted(row))
        k = str(row[key])
        if k in kept:
            duplicates += 1
            if kept[k].get("prediction") != row.get("prediction"):
                raise InvalidInputError(None, f"prediction of id {k}", "the same prediction on every rank",
                                        got=[kept[k].get("prediction"), row.get("prediction")])
            continue
        kept[k] = row
    return Gathered([kept[k] for k in sorted(kept, key=_id_order)], duplicates)


def _id_order(k: str) -> tuple:
    """Numeric ids in numeric order ("2" before "10"), then the others as text."""
    return (0, int(k), "") if k.lstrip("-").isdigit() else (1, 0, k)

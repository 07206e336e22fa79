"""Predictions are gathered from every rank before scoring (no per-GPU metrics, MotionGPT issue #59)."""
import json

import pytest
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.utils.data import DistributedSampler

from lslm.errors import InvalidInputError
from lslm.eval.gather import gather_objects, gather_predictions
from lslm.eval.text import score

PREDS = ["the quick brown fox jumped", "a green turtle walks under a bridge", "my red car is broken",
         "we meet next week again", "it rains in the north today"]
REFS = ["the quick brown fox jumps over", "a slow green turtle walks under the bridge",
        "my old red car is broken today", "we will meet again next week", "rain in the south tomorrow"]
METRICS = ["bleu", "chrf", "rouge_l", "cider", "wer", "distinct"]


def test_without_distributed_is_identity_dedupe_and_id_order():
    assert gather_objects([1, 2]) == [1, 2]
    rows = [{"id": "10", "prediction": "b"}, {"id": "2", "prediction": "a"}, {"id": "10", "prediction": "b"}]
    g = gather_predictions(rows)
    assert [r["id"] for r in g.rows] == ["2", "10"] and g.duplicates == 1
    with pytest.raises(InvalidInputError, match="prediction of id 2"):
        gather_predictions([{"id": 2, "prediction": "a"}, {"id": 2, "prediction": "c"}])


def _worker(rank: int, world: int, init_file: str, out_file: str) -> None:
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    # DistributedSampler pads 5 samples to 6: one sample is predicted on both ranks.
    shard = list(DistributedSampler(range(len(PREDS)), num_replicas=world, rank=rank, shuffle=False))
    rows = [{"id": i, "prediction": PREDS[i], "reference": REFS[i]} for i in shard]
    gathered = gather_predictions(rows)
    if rank == 0:
        s = score([r["prediction"] for r in gathered.rows], [r["reference"] for r in gathered.rows],
                  ids=[r["id"] for r in gathered.rows], metrics=METRICS)
        with open(out_file, "w") as f:
            json.dump({"corpus": s.corpus, "ids": [r["id"] for r in gathered.rows],
                       "duplicates": gathered.duplicates}, f)
    dist.barrier()
    dist.destroy_process_group()


def test_two_processes_score_equals_single_process(tmp_path):
    out = tmp_path / "rank0.json"
    mp.spawn(_worker, args=(2, str(tmp_path / "init"), str(out)), nprocs=2, join=True)
    got = json.loads(out.read_text())
    single = score(PREDS, REFS, metrics=METRICS).corpus
    assert got["ids"] == [0, 1, 2, 3, 4] and got["duplicates"] == 1
    for k, v in single.items():
        assert got["corpus"][k] == pytest.approx(v), k
    # The per-rank average that the gather replaces is a different (wrong) number.
    shards = [[0, 2, 4], [1, 3, 0]]
    per_rank = [score([PREDS[i] for i in s], [REFS[i] for i in s], metrics=["bleu"]).corpus["bleu4"] for s in shards]
    assert sum(per_rank) / 2 != pytest.approx(single["bleu4"])

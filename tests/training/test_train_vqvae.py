"""The VQ-VAE recipe end to end on a tiny dataset: run layout, resume bit-exactness, 2 processes = 1."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from lslm.errors import CheckpointMismatchError
from lslm.tokenizer import Tokenizer
from lslm.training.config import load_config
from lslm.training.logging import read_metrics
from lslm.recipes.train_tokenizer import VQVAERunConfig, parse_config
from lslm.recipes.train_tokenizer import run as train_tokenizer

REPO = Path(__file__).resolve().parents[2]
TINY = str(REPO / "configs" / "tokenizer" / "tiny.yaml")


def _train(data, out, *extra, resume=None):
    argv = ["--config", TINY, f"data.root={data}", f"output_dir={out}", *extra]
    return train_tokenizer(*parse_config(argv + (["--resume", resume] if resume else [])))


def _weights(checkpoint: Path) -> dict[str, torch.Tensor]:
    return load_file(str(checkpoint / "model.safetensors"))


def _losses(run: Path, split: str, keys=("loss", "recon", "velocity", "commit", "perplexity")):
    return {r["step"]: [r[k] for k in keys if k in r] for r in read_metrics(run / "metrics.jsonl", split)}


@pytest.fixture(scope="module")
def full_run(tiny_dataset, tmp_path_factory):
    """tiny.yaml trained uninterrupted: 6 steps, a checkpoint every 2, keep_last 2, validation at 3 and 6."""
    return _train(tiny_dataset, tmp_path_factory.mktemp("full"))


def test_run_directory_layout(tiny_dataset, full_run):
    run = full_run
    names = sorted(p.name for p in run.iterdir())
    assert names == ["best", "config.yaml", "final", "metrics.jsonl", "step_4", "step_6"]
    assert (run / "step_6" / "training_state" / "state.pt").is_file()
    final = Tokenizer.from_pretrained(run / "final")
    step6 = Tokenizer.from_pretrained(run / "step_6")
    assert all(torch.equal(a, b) for a, b in zip(final.model.state_dict().values(),
                                                  step6.model.state_dict().values()))
    assert final.config.codebook_size == 16 and final.fps == 30.0
    resolved = load_config(VQVAERunConfig, run / "config.yaml")
    assert (resolved.data.root, resolved.train.max_steps, resolved.model.width) == (str(tiny_dataset), 6, 16)

    data_row = read_metrics(run / "metrics.jsonl", "data")[0]
    assert (data_row["train_clips"], data_row["skipped_short_clips"], data_row["val_clips"]) == (9, 1, 3)
    train_rows = read_metrics(run / "metrics.jsonl", "train")
    assert [r["step"] for r in train_rows] == [1, 2, 3, 4, 5, 6]
    # the rate each step trained with: warm-up of 2 steps (0.5, then 1.0 × lr)
    assert [r["lr"] for r in train_rows[:3]] == pytest.approx([5e-4, 1e-3, 1e-3])
    val_rows = read_metrics(run / "metrics.jsonl", "val")
    assert [r["step"] for r in val_rows] == [3, 6]
    assert all(r["mpjpe"] > 0 and r["pa_mpjpe"] > 0 and 1 <= r["codes_used"] <= 16 for r in val_rows)
    best_step = min(val_rows, key=lambda r: r["recon"])["step"]
    assert _weights(run / "best").keys() == _weights(run / "final").keys()
    if best_step == 6:
        assert all(torch.equal(v, _weights(run / "final")[k]) for k, v in _weights(run / "best").items())


def test_resume_is_bit_exact(tiny_dataset, full_run, tmp_path):
    full = full_run
    # "killed" after step 4: a run that stops there, then a relaunch that resumes from its latest step_N
    part = _train(tiny_dataset, tmp_path / "part", "train.max_steps=4")
    _train(tiny_dataset, part, resume="auto")
    assert _losses(part, "train") == _losses(full, "train")
    full_val = _losses(full, "val", ("recon", "mpjpe"))
    assert {s: v for s, v in _losses(part, "val", ("recon", "mpjpe")).items() if s in full_val} == full_val
    a, b = _weights(full / "final"), _weights(part / "final")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_run_killed_between_logged_rows_logs_the_same_losses(tiny_dataset, tmp_path):
    """Killed after step 3 with a row every 2 steps: step 3's losses go into the resumed run's row of step 4."""
    every = ("train.log_every=2", "train.save_every=1", "train.keep_last=0")
    whole = _train(tiny_dataset, tmp_path / "whole", *every)
    killed = shutil.copytree(whole, tmp_path / "killed")
    for path in killed.iterdir():
        if path.name == "final" or path.name.startswith("step_") and int(path.name[5:]) > 3:
            shutil.rmtree(path)
    _train(tiny_dataset, killed, *every, resume="auto")
    assert _losses(killed, "train") == _losses(whole, "train") and 4 in _losses(whole, "train")


def test_resume_with_another_model_is_refused(tiny_dataset, tmp_path):
    run = _train(tiny_dataset, tmp_path / "run", "train.max_steps=2")
    with pytest.raises(CheckpointMismatchError, match="model config"):
        _train(tiny_dataset, run, "model.width=32", resume="auto")


def _torchrun(nproc: int, data: Path, out: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
           str(REPO / "tools" / "train_vqvae.py"), "--config", TINY, f"data.root={data}", f"output_dir={out}",
           "train.max_steps=4", "train.val_every=0", "train.device=cpu"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180, check=False)


def test_two_processes_match_one(tiny_dataset, tmp_path):
    runs = {}
    for nproc in (1, 2):
        result = _torchrun(nproc, tiny_dataset, tmp_path / f"np{nproc}")
        assert result.returncode == 0, result.stderr[-3000:]
        runs[nproc] = tmp_path / f"np{nproc}"
    # the EMA quantizer (the default): codebook initialised and dead codes reset from the global batch,
    # statistics all-reduced, so codebook, losses and code perplexity all match one process
    keys = ("loss", "recon", "velocity", "commit", "perplexity")
    one, two = _losses(runs[1], "train", keys), _losses(runs[2], "train", keys)
    assert one.keys() == two.keys() == {1, 2, 3, 4}
    for step in one:
        assert one[step] == pytest.approx(two[step], abs=1e-5, rel=1e-5)
    a, b = _weights(runs[1] / "final"), _weights(runs[2] / "final")
    assert all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)
    assert read_metrics(runs[2] / "metrics.jsonl", "data")[0]["world_size"] == 2


def test_windows_cover_each_clip_once_per_epoch_and_shard_contiguously(tiny_dataset):
    from lslm.data import MotionDataset
    from lslm.training.distributed import DistInfo
    from lslm.data.windows import TrainWindows
    from lslm.training.distributed import ShardedBatches

    windows = TrainWindows(MotionDataset(tiny_dataset, split="train"), window=16, seed=3)
    assert (len(windows), windows.skipped) == (9, 1)
    order, starts = windows.epoch_plan(1)
    assert sorted(order.tolist()) == list(range(9))
    assert ((starts >= 0) & (starts + 16 <= windows.lengths[order])).all()
    assert not torch.equal(order, windows.epoch_plan(2)[0])  # a new permutation each epoch
    assert torch.equal(order, TrainWindows(windows.dataset, 16, seed=3).epoch_plan(1)[0])  # seeded
    crop = windows[9 + 4]  # stream position 13 = epoch 1, slot 4
    clip = windows.dataset[windows.clips[int(order[4])]]["features"]
    assert torch.equal(crop, clip[int(starts[4]):int(starts[4]) + 16])

    cpu = torch.device("cpu")
    one = ShardedBatches(8, DistInfo(0, 1, 0, cpu), position=16)
    ranks = [ShardedBatches(8, DistInfo(r, 2, r, cpu), position=16) for r in (0, 1)]
    for _, whole, *parts in zip(range(3), one, *ranks):
        assert whole == parts[0] + parts[1]
    assert next(iter(one)) == list(range(16, 24))

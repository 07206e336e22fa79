"""DeepSpeed: the JSON filled from the lslm config, a 2-process ZeRO-2 run on CPU (gloo) equal to the
1-process plain run at the same global batch, and ZeRO-3 full-weight saving (torchrun subprocesses)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch
from lslm_fixtures import REPO, pretrain, save_tiny_llm, save_tiny_motion_tokenizer, tiny_args

from lslm.errors import ConfigError
from lslm.model import LSLM, TemplateSet
from lslm.training import read_metrics
from lslm.training.deepspeed_config import fill_deepspeed_config
from lslm.recipes.pretrain import LSLMDataConfig, load_clips

ZERO2, ZERO3 = REPO / "configs/deepspeed/zero2.json", REPO / "configs/deepspeed/zero3.json"


@pytest.mark.parametrize("path, stage", [(ZERO2, 2), (ZERO3, 3)])
def test_filled_config_has_no_auto(path, stage):
    cfg = fill_deepspeed_config(path, micro_batch_size=16, gradient_accumulation_steps=2, world_size=8,
                                precision="bf16", grad_clip=1.0)
    assert "auto" not in json.dumps(cfg)
    assert (cfg["train_batch_size"], cfg["train_micro_batch_size_per_gpu"], cfg["gradient_accumulation_steps"]) \
        == (256, 16, 2)
    assert cfg["bf16"]["enabled"] is True and cfg["fp16"]["enabled"] is False
    assert cfg["zero_optimization"]["stage"] == stage and cfg["gradient_clipping"] == 1.0
    fp32 = fill_deepspeed_config(path, micro_batch_size=2, gradient_accumulation_steps=1, world_size=2,
                                 precision="fp32")
    assert fp32["bf16"]["enabled"] is False and fp32["train_batch_size"] == 4


@pytest.mark.parametrize("template, message", [
    ({"train_micro_batch_size_per_gpu": 4}, "contradicts"),
    ({"optimizer": {"type": "Adam"}}, "optimizer"),
    ({"zero_optimization": {"stage": 2, "reduce_bucket_size": "auto"}}, "zero_optimization.reduce_bucket_size"),
])
def test_bad_templates(template, message):
    with pytest.raises(ConfigError, match=message):
        fill_deepspeed_config(template, micro_batch_size=2, gradient_accumulation_steps=1, world_size=1,
                              precision="fp32")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, tiny_dataset):
    root = tmp_path_factory.mktemp("lslm_ds")
    return {"llm": save_tiny_llm(root / "llm"), "tokenizer": save_tiny_motion_tokenizer(root / "tok", tiny_dataset),
            "data": tiny_dataset, "root": root}


def torchrun(args: list[str]) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "DS_ACCELERATOR": "cpu"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(REPO / "tools/pretrain.py"), *args]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]


def test_zero2_two_processes_match_one(tiny):
    """Global batch 4: 2 processes × micro 2 (ZeRO-2) vs 1 process × micro 1 × 4 accumulation (plain). The
    loss is the per-token mean over the global batch however it is split (clips have different lengths)."""
    common = ["--scheme", "joint", "train.max_steps=3", "train.save_every=100"]
    one = pretrain([*common, "train.micro_batch_size=1",
                    *tiny_args(tiny["llm"], tiny["tokenizer"], tiny["data"], tiny["root"] / "one")])
    torchrun([*common, "train.micro_batch_size=0", *tiny_args(tiny["llm"], tiny["tokenizer"], tiny["data"],
                                                                tiny["root"] / "two", f"train.deepspeed={ZERO2}")])
    a, b = (read_metrics(run / "metrics.jsonl", "train") for run in (one, tiny["root"] / "two"))
    assert len(a) == len(b) == 3
    for x, y in zip(a, b):
        assert abs(x["loss"] - y["loss"]) < 1e-4, (x, y)
    assert a[-1]["loss"] < a[0]["loss"] - 0.1  # it trains
    wa, wb = (LSLM.from_pretrained(run / "final") for run in (one, tiny["root"] / "two"))
    # different padding sums in another order: Adam turns that into ~1e-5 (weighting per micro-batch: 7e-3)
    for (name, p), q in zip(wa.named_parameters(), wb.parameters()):
        assert torch.allclose(p, q, atol=1e-4), name


def test_zero3_saves_full_weights_and_resumes(tiny):
    """ZeRO-3 gathers the partitioned weights: final/ reloads with the val loss the run logged; a resumed
    ZeRO-3 run logs the losses of an unbroken one."""
    common = ["--scheme", "joint", "train.micro_batch_size=1", "train.val_every=2", f"train.deepspeed={ZERO3}"]
    whole = tiny["root"] / "z3"
    torchrun([*common, "train.max_steps=4", *tiny_args(tiny["llm"], tiny["tokenizer"], tiny["data"], whole)])
    cut = tiny["root"] / "z3_resumed"
    args = tiny_args(tiny["llm"], tiny["tokenizer"], tiny["data"], cut)
    torchrun([*common, "train.max_steps=2", *args])
    torchrun([*common, "train.max_steps=4", *args, "--resume", "auto"])
    a, b = (read_metrics(run / "metrics.jsonl") for run in (whole, cut))
    assert [r["step"] for r in a] == [r["step"] for r in b]
    assert all(abs(x.get("loss", 0) - y.get("loss", 0)) < 1e-5 for x, y in zip(a, b))

    model = LSLM.from_pretrained(whole / "final")
    template = TemplateSet.load("pretrain").default("m2t")
    clips, _ = load_clips(LSLMDataConfig(root=str(tiny["data"])), "val", whole / "final" / "tokenizer",
                          model.motion_tokenizer)
    total = tokens = 0.0
    for i in range(0, len(clips), 1):  # micro-batches of 1, as the run validated
        batch = model.collator()(clips[i:i + 1], template)
        n = int((batch["labels"][:, 1:] != -100).sum())
        with torch.no_grad():
            total += float(model(**batch).loss) * n
        tokens += n
    logged = read_metrics(whole / "metrics.jsonl", "val")[-1]["loss"]
    assert abs(total / tokens - logged) < 1e-5

"""Pretraining schemes mlp / joint / staged and instruction tuning llm / mlp+llm update exactly their
parameter groups (frozen ones bit-identical), data streams and run records."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
import yaml
from lslm_fixtures import TINY_YAML, instruct, pretrain, save_tiny_llm, save_tiny_motion_tokenizer, tiny_args

from lslm.errors import CheckpointMismatchError, ConfigError
from lslm.model import LSLM, TemplateSet
from lslm.training import read_metrics
from lslm.training.checkpoint import seed_all
from lslm.training.config import load_config
from lslm.training.distributed import DistInfo
from lslm.recipes.pretrain import LSLMRunConfig, PairStream, build_model
from lslm.tokenizer import CodedClip
from lslm.training.engine import micro_batches


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, tiny_dataset):
    root = tmp_path_factory.mktemp("lslm_tiny")
    return {"llm": save_tiny_llm(root / "llm"), "tokenizer": save_tiny_motion_tokenizer(root / "tok", tiny_dataset),
            "data": tiny_dataset, "root": root}


def args(tiny, out, *extra):
    return tiny_args(tiny["llm"], tiny["tokenizer"], tiny["data"], out, *extra)


def groups(model: LSLM) -> dict[str, dict[str, torch.Tensor]]:
    """{"projector": {name: tensor}, "llm": {name: tensor}} of every parameter, detached copies."""
    out = {"projector": {}, "llm": {}}
    for name, p in model.named_parameters():
        out[name.split(".", 1)[0]][name] = p.detach().clone()
    return out


def initial(tiny, out, scheme="mlp", *extra) -> LSLM:
    """The model a pretraining run starts from (the recipe seeds before building it)."""
    cfg = load_config(LSLMRunConfig, TINY_YAML, [*args(tiny, out, *extra)[2:], "stage=pretrain", f"scheme={scheme}"])
    seed_all(cfg.train.seed)
    return build_model(cfg)


def assert_groups(before: LSLM, after: LSLM, trained: set[str]) -> None:
    """Groups in `trained` moved (every projector tensor / most LLM tensors); the others are bit-identical."""
    a, b = groups(before), groups(after)
    for group in ("projector", "llm"):
        changed = [n for n in a[group] if not torch.equal(a[group][n], b[group][n])]
        if group in trained:
            assert len(changed) >= 0.8 * len(a[group]), f"{group}: only {len(changed)}/{len(a[group])} moved"
        else:
            assert changed == [], f"frozen {group} changed: {changed[:3]}"


@pytest.fixture(scope="module")
def mlp_run(tiny):
    return pretrain(["--scheme", "mlp", *args(tiny, tiny["root"] / "mlp", "train.max_steps=2")])


def test_mlp_trains_only_the_projector(tiny, mlp_run):
    assert_groups(initial(tiny, tiny["root"] / "x"), LSLM.from_pretrained(mlp_run / "final"), {"projector"})


def test_alignment_weight_adds_the_contrastive_term_to_the_training_loss(tiny, mlp_run):
    run = pretrain(["--scheme", "mlp", *args(tiny, tiny["root"] / "aligned", "train.max_steps=2",
                                             "optim.alignment_weight=1.0")])
    plain, aligned = (next(r["loss"] for r in read_metrics(d / "metrics.jsonl") if r["split"] == "train")
                      for d in (mlp_run, run))  # step 1: the same batch through the same initial model
    assert aligned > plain + 0.5  # + the InfoNCE of micro-batches of 2 clips (measured: +0.75)
    assert_groups(initial(tiny, tiny["root"] / "x"), LSLM.from_pretrained(run / "final"), {"projector"})


def test_code_noise_changes_what_the_projector_reads(tiny, mlp_run):
    run = pretrain(["--scheme", "mlp", *args(tiny, tiny["root"] / "noisy", "train.max_steps=2", "data.code_noise=0.5")])
    plain, noisy = ([r["loss"] for r in read_metrics(d / "metrics.jsonl") if r["split"] == "train"]
                    for d in (mlp_run, run))  # the same batches through the same initial model
    assert plain[0] != noisy[0]               # step 1 already reads other codes
    # validation reads the clean codes, with another projector after two steps
    assert_groups(initial(tiny, tiny["root"] / "x"), LSLM.from_pretrained(run / "final"), {"projector"})


def test_joint_trains_both(tiny):
    run = pretrain(["--scheme", "joint", *args(tiny, tiny["root"] / "joint", "train.max_steps=2")])
    assert_groups(initial(tiny, tiny["root"] / "x"), LSLM.from_pretrained(run / "final"), {"projector", "llm"})


def test_staged_projector_then_llm(tiny):
    run = pretrain(["--scheme", "staged", *args(tiny, tiny["root"] / "staged")])  # stage1_steps=2 of 4
    start, mid, end = initial(tiny, tiny["root"] / "x"), LSLM.from_pretrained(run / "step_2"), \
        LSLM.from_pretrained(run / "final")
    assert_groups(start, mid, {"projector"})
    assert_groups(mid, end, {"llm"})
    assert_groups(mid, LSLM.from_pretrained(run / "stage1"), set())  # the LLM phase starts from stage1/
    phases = [row["phase"] for row in read_metrics(run / "metrics.jsonl", "train")]
    assert phases == [0, 0, 1, 1]
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert (saved["stage"], saved["scheme"], saved["init"]) == ("pretrain", "staged", None)


@pytest.mark.parametrize("tune, trained", [("llm", {"llm"}), ("mlp+llm", {"projector", "llm"})])
def test_instruct(tiny, mlp_run, tune, trained):
    parent = mlp_run / "final"
    run = instruct(["--init", str(parent), "--tune", tune, *args(tiny, tiny["root"] / f"inst_{tune}",
                                                                  "train.max_steps=2")])
    final = LSLM.from_pretrained(run / "final")
    assert_groups(LSLM.from_pretrained(parent), final, trained)
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert (saved["stage"], saved["scheme"], saved["init"]) == ("instruct", tune, str(parent))
    assert final.config.prompt == TemplateSet.load("instruct").default("m2t").input


def test_instruct_refuses_a_parent_of_another_model(tiny, mlp_run):
    with pytest.raises(CheckpointMismatchError, match="mode"):
        instruct(["--init", str(mlp_run / "final"), "--tune", "llm",
                  *args(tiny, tiny["root"] / "bad", "model.mode=vocab")])


def test_vocab_mode_adds_text_to_motion_pairs(tiny):
    run = pretrain(["--scheme", "joint", *args(tiny, tiny["root"] / "vocab", "model.mode=vocab",
                                               "train.max_steps=1")])
    data = read_metrics(run / "metrics.jsonl", "data")[0]
    assert data["train_items"] == 2 * data["train_clips"]  # m2t and t2m per clip
    with pytest.raises(ConfigError, match="nothing to train"):  # no projector in vocab mode
        pretrain(["--scheme", "mlp", *args(tiny, tiny["root"] / "vocab_mlp", "model.mode=vocab")])


@pytest.mark.parametrize("extra, message", [
    (["train.stage1_steps=5"], "stage1_steps"), (["optim.lr=1"], "lr"), (["data.tokenizer=null"], "tokenizer"),
    (["data.code_noise=1.0"], "code_noise: expected a probability"),
    (["data.code_noise=0.1", "model.mode=vocab"], "code_noise: .* needs model.mode=projector")])
def test_config_errors(tiny, extra, message):
    with pytest.raises(ConfigError, match=message):
        pretrain(["--scheme", "staged", *args(tiny, tiny["root"] / "err", *extra)])


def test_pair_stream_epochs_templates_and_sharding():
    clips = [CodedClip(str(i), tuple(range(1 + i % 5)), f"text {i}") for i in range(23)]
    templates = TemplateSet.load("instruct")
    stream = PairStream(clips, ["m2t"], templates, global_batch=4, seed=3, length_of=lambda t: len(t.split()))
    assert stream.per_epoch == 5  # 23 // 4: the incomplete batch is left out
    epoch = [p for step in range(5) for p in stream.batch(step)]
    assert len({clip.text for clip, _ in epoch}) == 20  # each clip at most once per epoch
    held_out = {t.input for t in templates.templates("m2t", held_out=True)}
    used = {template.input for step in range(40) for _, template in stream.batch(step)}
    assert not used & held_out and len(used) > 10
    again = PairStream(clips, ["m2t"], templates, 4, 3, lambda t: len(t.split()))
    assert again.batch(7) == stream.batch(7)
    # two processes with micro-batch 1 see, together and in order, what one process sees in two micro-batches
    pairs = stream.batch(2)
    one = micro_batches(pairs, DistInfo(0, 1, 0, torch.device("cpu")), 2)
    two = [mb for r in range(2) for mb in micro_batches(pairs, DistInfo(r, 2, r, torch.device("cpu")), 1)]
    assert [p for mb in one for p in mb] == [p for mb in two for p in mb] == pairs
    assert [len(mb) for mb in one] == [2, 2]


def test_codes_come_from_the_cache_when_there_is_one(tiny, tmp_path, monkeypatch):
    """With the dataset's codes cached for the tokenizer, training reads them and encodes nothing; the codes
    are those of encoding each clip."""
    from lslm.tokenizer.codes import encode_dataset
    from lslm.tokenizer import Tokenizer
    from lslm.recipes.pretrain import LSLMDataConfig, load_clips

    data = shutil.copytree(tiny["data"], tmp_path / "data")
    tokenizer = Tokenizer.from_pretrained(tiny["tokenizer"])
    fresh, skipped = load_clips(LSLMDataConfig(root=str(data)), "train", tiny["tokenizer"], tokenizer)
    assert skipped == 0 and len(fresh) == 10
    first = np.load(data / "features" / f"{fresh[0].id}.npy")
    assert list(fresh[0].codes) == tokenizer.encode(torch.from_numpy(first)).tolist()
    encode_dataset(tiny["tokenizer"], data, progress=False)

    def no_encoding(*args, **kwargs):
        raise AssertionError("encoded on the fly despite the cache")
    monkeypatch.setattr("lslm.tokenizer.codes.encode_split", no_encoding)
    cached, _ = load_clips(LSLMDataConfig(root=str(data)), "train", tiny["tokenizer"], tokenizer)
    assert cached == fresh
    run = pretrain(["--scheme", "mlp", *tiny_args(tiny["llm"], tiny["tokenizer"], data, tmp_path / "run",
                                                  "train.max_steps=1")])
    assert read_metrics(run / "metrics.jsonl", "data")[0]["train_clips"] == 10

"""Resume equivalence: N steps in one go, or k < N steps then `--resume auto` to N, give identical losses
and weights (plain PyTorch; the ZeRO-3 variant is in test_lslm_deepspeed.py). Checkpoint layout, keep-last."""
from __future__ import annotations

import shutil

import pytest
import torch
from lslm_fixtures import pretrain, save_tiny_llm, save_tiny_motion_tokenizer, tiny_args

from lslm.errors import ConfigError, InvalidInputError
from lslm.model import LSLM
from lslm.training import read_metrics


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, tiny_dataset):
    root = tmp_path_factory.mktemp("lslm_resume")
    return {"llm": save_tiny_llm(root / "llm"), "tokenizer": save_tiny_motion_tokenizer(root / "tok", tiny_dataset),
            "data": tiny_dataset, "root": root}


@pytest.mark.parametrize("scheme, k", [("joint", 1), ("staged", 2)])  # staged: resume at the phase switch
def test_resume_matches_an_unbroken_run(tiny, scheme, k):
    common = ["--scheme", scheme, "train.save_every=1", "train.val_every=2", "optim.warmup_steps=3"]
    whole = pretrain([*common, *tiny_args(tiny["llm"], tiny["tokenizer"], tiny["data"], tiny["root"] / scheme)])
    cut = tiny["root"] / f"{scheme}_cut"
    pretrain([*common, f"train.max_steps={k}", *tiny_args(tiny["llm"], tiny["tokenizer"], tiny["data"], cut)])
    # the interrupted run stopped at max_steps=k (a constant schedule after warm-up does not depend on it)
    pretrain([*common, *tiny_args(tiny["llm"], tiny["tokenizer"], tiny["data"], cut), "--resume", "auto"])
    a, b = read_metrics(whole / "metrics.jsonl"), read_metrics(cut / "metrics.jsonl")
    strip = lambda rows: [{k: v for k, v in r.items() if k != "s_per_step"} for r in rows]
    # the interrupted run also validated at its last step k: compare training rows and the final validation
    assert strip(r for r in a if r["split"] != "val") == strip(r for r in b if r["split"] != "val")
    assert a[-1] == b[-1] and a[-1]["split"] == "val"
    wa, wb = LSLM.from_pretrained(whole / "final"), LSLM.from_pretrained(cut / "final")
    for (name, p), q in zip(wa.named_parameters(), wb.parameters()):
        assert torch.equal(p, q), name
    assert sorted(p.name for p in whole.glob("step_*")) == ["step_3", "step_4"]  # keep_last=2
    assert not list(whole.glob(".tmp-*"))


@pytest.mark.parametrize("scheme, killed_after, extra", [
    ("joint", 3, ["train.log_every=2", "data.code_noise=0.3"]),  # step 3's loss goes into step 4's row;
    # the corrupted codes of the resumed steps are the unbroken run's
    ("staged", 2, ["model.lora.r=4", "model.lora.dropout=0.5"]),  # killed before the switch; dropout draws
])
def test_killed_run_resumes_as_if_never_stopped(tiny, scheme, killed_after, extra):
    """Train, kill (remove what a run killed after step k has not written), resume: the same metrics.jsonl,
    weights and folders (staged: stage1/ too)."""
    common = ["--scheme", scheme, "train.save_every=1", "train.keep_last=0", *extra]
    whole = pretrain([*common, *tiny_args(tiny["llm"], tiny["tokenizer"], tiny["data"], tiny["root"] / f"{scheme}_w")])
    killed = tiny["root"] / f"{scheme}_killed"
    shutil.copytree(whole, killed)
    for path in killed.iterdir():
        if path.name in ("final", "stage1") or path.name.startswith("step_") and int(path.name[5:]) > killed_after:
            shutil.rmtree(path)
    pretrain([*common, *tiny_args(tiny["llm"], tiny["tokenizer"], tiny["data"], killed), "--resume", "auto"])
    strip = lambda run: [{k: v for k, v in r.items() if k != "s_per_step"} for r in read_metrics(run / "metrics.jsonl")]
    assert strip(whole) == strip(killed)
    assert sorted(p.name for p in whole.iterdir()) == sorted(p.name for p in killed.iterdir())
    wa, wb = LSLM.from_pretrained(whole / "final"), LSLM.from_pretrained(killed / "final")
    for (name, p), q in zip(wa.named_parameters(), wb.parameters()):
        assert torch.equal(p, q), name


def test_resume_refuses_another_scheme_and_later_checkpoints(tiny):
    run = tiny["root"] / "refuse"
    args = tiny_args(tiny["llm"], tiny["tokenizer"], tiny["data"], run, "train.save_every=1", "train.keep_last=0")
    pretrain(["--scheme", "mlp", *args])
    with pytest.raises(ConfigError, match="scheme 'mlp'"):
        pretrain(["--scheme", "joint", *args, "--resume", "auto"])
    with pytest.raises(ConfigError, match="step_3, step_4 are newer"):  # they would shadow the resumed run
        pretrain(["--scheme", "mlp", *args, "--resume", str(run / "step_2")])


def test_resume_from_a_folder_that_is_no_checkpoint(tiny):
    with pytest.raises(InvalidInputError, match="training_state"):
        pretrain(["--scheme", "mlp", *tiny_args(tiny["llm"], tiny["tokenizer"], tiny["data"], tiny["root"] / "x"),
                  "--resume", str(tiny["root"])])

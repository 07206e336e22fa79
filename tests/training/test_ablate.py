"""tools/ablate.py: every run of tables 3/4 and the vocabulary baseline is trained from the right parent, scored
as lslm.eval.text.score scores its predictions, failures are reported (not dropped), and a re-run skips
finished runs."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from lslm_fixtures import TINY_YAML, save_tiny_llm, save_tiny_motion_tokenizer

import lslm.recipes.ablate
import lslm.recipes.pretrain
from lslm.tokenizer.codes import encode_dataset
from lslm.errors import InvalidInputError
from lslm.eval.text import score
from lslm.training import read_metrics
from lslm.recipes.ablate import TABLE_KEYS, ablation_runs, parse_config, run, select

PRETRAIN = ["pretrain_mlp", "pretrain_joint", "pretrain_staged"]
INSTRUCT = [f"instruct_{s}_{t}" for s in ("mlp", "joint", "staged") for t in ("llm", "mlp+llm")]
SCORED = PRETRAIN + INSTRUCT + ["vocab_instruct_llm"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, tiny_dataset):
    """The tiny dataset with a test split (its val clips again), codes cached; a tiny LLM and motion tokenizer."""
    root = tmp_path_factory.mktemp("ablate")
    data = shutil.copytree(tiny_dataset, root / "data")
    rows = [json.loads(line) for line in (data / "manifest.jsonl").read_text().splitlines()]
    rows += [{**r, "id": r["id"].replace("va", "te"), "split": "test"} for r in rows if r["split"] == "val"]
    (data / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    tokenizer = save_tiny_motion_tokenizer(root / "tok", data)
    encode_dataset(tokenizer, data, progress=False)
    return {"llm": save_tiny_llm(root / "llm"), "tokenizer": tokenizer, "data": data, "out": root / "ablate"}


def ablate(tiny):
    # one micro-batch per step, one val clip, 4 generated tokens: seconds per run
    return run(parse_config(["--data", str(tiny["data"]), "--tokenizer", str(tiny["tokenizer"]), "--llm",
                             str(tiny["llm"]), "--out", str(tiny["out"]), "--config", str(TINY_YAML), "--gen",
                             "max_new_tokens=4", "train.max_steps=2", "train.batch_size=2",
                             "train.micro_batch_size=2", "data.val_max_clips=1"]))


@pytest.fixture
def trained(monkeypatch):
    """Names of the runs the recipes train while the test runs."""
    names = []

    def record(cfg, resume=None, original=lslm.recipes.pretrain.run):  # both stages train through it
        names.append(Path(cfg.output_dir).name)
        return original(cfg, resume)
    monkeypatch.setattr(lslm.recipes.pretrain, "run", record)
    return names


def test_only_selects_runs_and_their_parents():
    runs, scored = select(ablation_runs(), "instruct_joint_*,vocab_*")
    assert [r.name for r in runs] == ["pretrain_joint", "instruct_joint_llm", "instruct_joint_mlp+llm",
                                      "vocab_pretrain_joint", "vocab_instruct_llm"]
    assert scored == {"instruct_joint_llm", "instruct_joint_mlp+llm", "vocab_instruct_llm"}
    with pytest.raises(InvalidInputError, match="--only"):
        select(ablation_runs(), "pretrain_nope")


def test_ablation_table_failures_and_resume(tiny, trained, monkeypatch):
    # 1) staged pretraining fails: it and the two runs tuned on it are reported, the others go on; joint
    #    pretraining trains but its scoring fails: the runs tuned on it are trained and scored
    original, original_eval = lslm.recipes.pretrain.run, lslm.recipes.ablate.evaluate_run

    def failing(cfg, resume=None):
        if cfg.stage == "pretrain" and cfg.scheme == "staged":
            raise RuntimeError("boom")
        return original(cfg, resume)

    def failing_eval(run, args):
        if run.name == "pretrain_joint":
            raise RuntimeError("no scores")
        return original_eval(run, args)
    monkeypatch.setattr(lslm.recipes.pretrain, "run", failing)
    monkeypatch.setattr(lslm.recipes.ablate, "evaluate_run", failing_eval)
    doc = ablate(tiny)
    assert [r["name"] for r in doc["runs"]] == SCORED
    status = {r["name"]: (r["status"], r["error"]) for r in doc["runs"]}
    assert status["pretrain_staged"] == ("failed", "training failed: RuntimeError: boom")
    for tune in ("llm", "mlp+llm"):
        assert status[f"instruct_staged_{tune}"] == ("failed", "not trained: its pretraining run pretrain_staged failed")
    assert status["pretrain_joint"] == ("failed", "scoring failed: RuntimeError: no scores")
    assert status["instruct_joint_llm"] == status["instruct_joint_mlp+llm"] == ("ok", None)
    assert doc["failed"] == 4 and sum(s == "ok" for s, _ in status.values()) == 6
    table = (tiny["out"] / "ablation.md").read_text()
    assert "| pretrain_staged (failed) | n/a |" in table and "RuntimeError: boom" in table

    # 2) the re-run trains only what is missing and reuses the finished runs and their scores
    monkeypatch.setattr(lslm.recipes.pretrain, "run", original)
    monkeypatch.setattr(lslm.recipes.ablate, "evaluate_run", original_eval)
    trained.clear()
    kept = tiny["out"] / "pretrain_mlp" / "eval_test" / "metrics.json"
    kept_mtime = kept.stat().st_mtime_ns
    doc = ablate(tiny)
    assert trained == ["pretrain_staged", "instruct_staged_llm", "instruct_staged_mlp+llm"]
    assert kept.stat().st_mtime_ns == kept_mtime
    assert doc["failed"] == 0 and [r["name"] for r in doc["runs"]] == SCORED

    # 3) every number is lslm.eval.text.score's on the run's predictions; every run has its parent and budget
    table = (tiny["out"] / "ablation.md").read_text()
    for row in doc["runs"]:
        lines = (tiny["out"] / row["name"] / "eval_test" / "predictions.jsonl").read_text().splitlines()
        preds = [json.loads(line) for line in lines]
        assert [p["id"] for p in preds] == ["te0", "te1", "te2"]  # the test split
        expected = score([p["prediction"] for p in preds], [p["reference"] for p in preds],
                         metrics=["bleu", "rouge_l", "cider", "wer"]).corpus
        assert row["metrics"] == pytest.approx({k: expected[k] for k in TABLE_KEYS})
        cells = [f"{expected[k] * (100 if k == 'cider' else 1):.1f}" for k in TABLE_KEYS]
        assert f"| {row['name']} | " + " | ".join(cells) + " |" in table
        saved = yaml.safe_load((tiny["out"] / row["name"] / "config.yaml").read_text())
        assert saved["train"]["max_steps"] == 2 and saved["output_dir"] == row["run_dir"]
        parent = {"pretrain_mlp": None, "pretrain_joint": None, "pretrain_staged": None,
                  "vocab_instruct_llm": "vocab_pretrain_joint"}.get(row["name"], f"pretrain_{row['pretraining']}")
        assert saved["init"] == (str(tiny["out"] / parent / "final") if parent else None)
        assert saved["model"]["mode"] == ("vocab" if row["name"].startswith("vocab") else "projector")
    staged = yaml.safe_load((tiny["out"] / "pretrain_staged" / "config.yaml").read_text())
    assert staged["train"]["stage1_steps"] == 1  # tiny.yaml's 2 would leave the LLM phase no step: half the budget
    assert yaml.safe_load((tiny["out"] / "vocab_pretrain_joint" / "config.yaml").read_text())["scheme"] == "joint"

    # 4) a run interrupted before final/ resumes from its step_N/ (and is scored again); the others are reused
    shutil.rmtree(tiny["out"] / "pretrain_mlp" / "final")
    trained.clear()
    assert ablate(tiny) == doc and trained == ["pretrain_mlp"]
    assert kept.stat().st_mtime_ns > kept_mtime
    steps = [r["step"] for r in read_metrics(tiny["out"] / "pretrain_mlp" / "metrics.jsonl", "train")]
    assert steps == [1, 2]  # no step trained twice

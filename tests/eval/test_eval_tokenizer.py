"""tools/eval_tokenizer.py and tools/sweep_codebook.py on a tiny trained tokenizer."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from lslm.eval import tokenizer_eval
from lslm.recipes import eval_tokenizer
from lslm.recipes import sweep_codebook as sweep
from lslm.eval.evaluator import MotionEvaluator
from lslm.tokenizer import Tokenizer

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
METRIC_KEYS = {"mpjpe_mm", "pa_mpjpe_mm", "accel_error_mm", "fid", "diversity_recon", "diversity_real",
               "codebook_usage", "perplexity", "codes_used", "evaluator", "unavailable", "counts", "skipped", "data",
               "tokenizer", "info", "renders"}


@pytest.fixture(scope="module")
def tiny_tokenizer(synthetic_tiny, tmp_path_factory):
    from lslm.recipes.train_tokenizer import parse_config, run as train_tokenizer

    run = train_tokenizer(*parse_config([
        "--config", str(CONFIGS / "tokenizer" / "tiny.yaml"), f"data.root={synthetic_tiny}",
        f"output_dir={tmp_path_factory.mktemp('tok') / 'run'}", "train.max_steps=4", "train.save_every=4",
        "train.val_every=4"]))
    return run / "final"


def test_metrics_json_and_report(tiny_tokenizer, synthetic_tiny, tiny_evaluator, tmp_path):
    doc = eval_tokenizer.run(eval_tokenizer.EvalTokenizerConfig(
        tokenizer=str(tiny_tokenizer.parent), data=str(synthetic_tiny), evaluator=str(tiny_evaluator),
        out=str(tmp_path), renders=1, render_stride=8))
    written = json.loads((tmp_path / "tokenizer_metrics.json").read_text())
    assert written == json.loads(json.dumps(doc)) and set(written) == METRIC_KEYS
    assert written["counts"] == {"clips": 8, "frames": written["counts"]["frames"], "skipped": 0,
                                 "codes": written["counts"]["frames"] // 4}
    assert written["mpjpe_mm"] > 0 and written["pa_mpjpe_mm"] > 0 and written["accel_error_mm"] >= 0
    assert 0 < written["codebook_usage"] <= 1
    assert 1 <= written["perplexity"] <= written["codes_used"] == round(written["codebook_usage"] * 16)
    assert written["fid"] >= 0 and written["diversity_real"] > 0 and written["unavailable"] == {}
    identity = MotionEvaluator.from_pretrained(tiny_evaluator).identity
    assert {k: written["evaluator"][k] for k in identity} == identity and written["evaluator"]["same_dataset"]
    report = (tmp_path / "tokenizer_metrics.md").read_text()
    for text in (identity["name"], f"v{identity['version']}", identity["dataset_fingerprint"], "FID"):
        assert text in report
    assert written["renders"] == ["renders/test_00000.gif"] and (tmp_path / written["renders"][0]).stat().st_size > 0


def test_mpjpe_matches_a_direct_reconstruction(tiny_tokenizer, synthetic_tiny, tmp_path):
    """Independent path: one clip through Tokenizer by hand, MPJPE in numpy."""
    from lslm.data import MotionDataset

    assert eval_tokenizer.main(["--tokenizer", str(tiny_tokenizer), "--data", str(synthetic_tiny), "--out",
                                str(tmp_path), "--renders", "0", "--max-clips", "1"]) == 0
    doc = json.loads((tmp_path / "tokenizer_metrics.json").read_text())
    tok = Tokenizer.from_pretrained(tiny_tokenizer)
    feats = MotionDataset(synthetic_tiny, "test", normalize=False)[0]["features"]
    feats = feats[: len(feats) // 4 * 4]
    truth = tok.features_to_joints(feats).numpy().astype(np.float64)
    guess = tok.features_to_joints(tok.decode(tok.encode(feats))).numpy().astype(np.float64)
    truth, guess = truth - truth[:, :1], guess - guess[:, :1]
    assert doc["mpjpe_mm"] == pytest.approx(1000 * np.linalg.norm(truth - guess, axis=-1).mean(), rel=1e-5)
    assert doc["counts"]["frames"] == len(feats)
    # without an evaluator FID is reported as unavailable, not as a number
    assert doc["fid"] is None and doc["unavailable"]["fid"] == "unavailable: no evaluator"
    assert doc["evaluator"] is None
    assert "unavailable: no evaluator" in (tmp_path / "tokenizer_metrics.md").read_text()


def test_fid_needs_two_clips_but_the_evaluator_is_still_named(tiny_tokenizer, synthetic_tiny, tiny_evaluator):
    evaluator = MotionEvaluator.from_pretrained(tiny_evaluator)
    doc, _ = tokenizer_eval.evaluate_tokenizer(Tokenizer.from_pretrained(tiny_tokenizer), synthetic_tiny, "test",
                                               evaluator, max_clips=1)
    assert doc["fid"] is None and doc["unavailable"]["fid"] == "unavailable: fewer than 2 clips"
    assert {k: doc["evaluator"][k] for k in evaluator.identity} == evaluator.identity
    assert evaluator.identity["weights_sha256"] in tokenizer_eval.markdown_report(doc, [])


def test_bad_clips_are_skipped_and_reported(tiny_tokenizer, synthetic_tiny, tmp_path):
    data = tmp_path / "data"
    (data / "features").mkdir(parents=True)
    for name in ("dataset.json", "stats.safetensors"):
        shutil.copy(synthetic_tiny / name, data / name)
    rows = [json.loads(line) for line in (synthetic_tiny / "manifest.jsonl").read_text().splitlines()]
    rows = [r for r in rows if r["split"] == "test"][:2]
    for row in rows:
        shutil.copy(synthetic_tiny / row["features"], data / row["features"])
    np.save(data / "features" / "short.npy", np.zeros((3, 623), np.float32))
    np.save(data / "features" / "bad.npy", np.zeros((20, 263), np.float32))
    rows += [{**rows[0], "id": "short", "features": "features/short.npy", "frames": 3},
             {**rows[0], "id": "bad", "features": "features/bad.npy", "frames": 20}]
    (data / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    doc, _ = tokenizer_eval.evaluate_tokenizer(Tokenizer.from_pretrained(tiny_tokenizer), data, "test")
    assert doc["counts"]["clips"] == 2 and doc["counts"]["skipped"] == 2
    reasons = {s["id"]: s["reason"] for s in doc["skipped"]}
    assert "fewer than 4" in reasons["short"] and "features" in reasons["bad"]


def test_sweep_writes_table_and_plot(synthetic_tiny, tiny_evaluator, tmp_path):
    out = tmp_path / "sweep"
    result = sweep.run(sweep.parse_config([
        "--data", str(synthetic_tiny), "--out", str(out), "--sizes", "8", "16", "--config",
        str(CONFIGS / "tokenizer" / "tiny.yaml"), "--evaluator", str(tiny_evaluator), "train.max_steps=2",
        "train.save_every=2", "train.val_every=2"]))
    written = json.loads((out / "sweep.json").read_text())
    assert [r["codebook_size"] for r in written["runs"]] == [8, 16] == written["sizes"]
    for run in written["runs"]:
        config = json.loads((out / f"codebook_{run['codebook_size']}" / "final" / "config.json").read_text())
        assert config["tokenizer"]["codebook_size"] == run["codebook_size"]
        assert run["metrics"]["fid"] >= 0 and run["metrics"]["mpjpe_mm"] > 0
    assert written["evaluator"] == result["evaluator"] and written["evaluator"]["name"] == "lslm-sign-evaluator-tiny"
    table = (out / "sweep.md").read_text()
    assert "| 8 |" in table and "| 16 |" in table and written["evaluator"]["dataset_fingerprint"] in table
    assert (out / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

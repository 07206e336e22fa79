"""The main job end to end at its smoke-check size: every stage runs and leaves its figures in
results.json; a second run reuses every finished stage."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from lslm import Tokenizer
from lslm.recipes.demo import TOKENIZER_KEYS, TRANSLATION_KEYS, parse_config, run

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture()
def in_repo(monkeypatch):
    monkeypatch.chdir(REPO)  # the demo names configs/ relative to the checkout, as `make demo` runs it


def test_tiny_demo_runs_every_stage(tmp_path, in_repo):
    out = tmp_path / "demo"
    results = run(parse_config(["--size", "tiny", "--out", str(out)]))
    assert list(results) == ["corpus", "data", "render", "tokenizer", "translation", "diagnose", "production"]
    assert results["data"]["skipped"] == 0 and results["data"]["splits"]["test"] == 8
    assert set(TOKENIZER_KEYS) <= set(results["tokenizer"]) and results["tokenizer"]["evaluator"]["name"]
    assert all(results["tokenizer"][k] is not None for k in TOKENIZER_KEYS)
    assert 0 < results["tokenizer"]["usage"] <= 1 and results["tokenizer"]["mpjpe"] > 0
    translation = results["translation"]
    assert all(isinstance(translation[k], float) for k in TRANSLATION_KEYS)
    predictions = [json.loads(line) for line in (out / translation["predictions"]).read_text().splitlines()]
    assert len(predictions) == 8 and all(p["reference"] for p in predictions)
    diagnose = results["diagnose"]
    assert diagnose["m2g"] == {} and set(diagnose["m2t"]) == {"train", "test"}  # the demo trains m2t only
    assert diagnose["m2t"]["test"]["bleu4"] == pytest.approx(translation["bleu4"])  # the same model, the same split
    assert "per_signer" not in diagnose and "ceiling" not in diagnose
    assert json.loads((out / "results.json").read_text()) == results
    production = results["production"]
    for name in ("reference", "produced", "reconstruction", "other_sentence"):
        assert set(production[name]) >= {"bleu1", "bleu4", "rouge_l", "wer"}
    assert production["counts"]["sentences"] == 8 and set(production["goal"]) == {"bleu4_ratio", "target", "met"}
    assert production["reconstruction"]["r_precision_top1"] is not None  # the evaluator scored the bounds
    # the producer writes codes of its own tokenizer, one per 4 frames; the translator reads one per 2
    assert production["tokenizer"] == "production_tokenizer/final"
    rates = [Tokenizer.from_pretrained(out / d / "final").config.down_t for d in ("tokenizer", "production_tokenizer")]
    assert rates == [1, 2]
    for path in ("tokenizer/final/model.safetensors", "lslm/final/lslm_config.json", "production_model/final/lslm_config.json",
                 "production/production_metrics.json", *production["renders"],
                 "tokenizer_eval/loss_curve.png", "tokenizer_eval/codebook_usage.png", *results["render"]["videos"]):
        assert (out / path).is_file(), path

    stamp = os.stat(out / "lslm" / "final" / "lslm_config.json").st_mtime_ns
    assert run(parse_config(["--size", "tiny", "--out", str(out)]))["translation"] == translation  # stages reused
    assert os.stat(out / "lslm" / "final" / "lslm_config.json").st_mtime_ns == stamp


def test_large_demo_is_the_default_demo_on_the_large_corpus():
    from lslm.data.synthetic import SIZES as CORPUS_SIZES
    from lslm.recipes.demo import PRODUCTION, SIZES

    assert parse_config(["--size", "large"]).size == "large"
    assert SIZES["large"]["corpus"] == "large" and "large" in CORPUS_SIZES
    assert {k: v for k, v in SIZES["large"].items() if k != "corpus"} == \
        {k: v for k, v in SIZES["default"].items() if k != "corpus"}
    assert PRODUCTION["large"] == PRODUCTION["default"]
    assert CORPUS_SIZES["large"]["train"] == 3 * CORPUS_SIZES["default"]["train"]

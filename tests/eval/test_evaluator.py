"""The sign motion evaluator: training, versioned save/load, batch invariance, FID behaviour, R-precision."""
from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import pytest
import torch

from lslm.errors import ConfigError, InvalidInputError
from lslm.eval.evaluator import (
    CONFIG_NAME,
    MotionEvaluator,
    contrastive_loss,
    r_precision,
    words,
)
from lslm.eval.motion import fid
from lslm.training.logging import read_metrics


def _clips(root, split):
    from lslm.data import MotionDataset

    data = MotionDataset(root, split=split, normalize=False)
    items = [data[i] for i in range(len(data))]
    feats = torch.nn.utils.rnn.pad_sequence([it["features"] for it in items], batch_first=True)
    return feats, torch.tensor([it["length"] for it in items]), [it["text"] for it in items]


def test_training_writes_a_versioned_evaluator(tiny_evaluator, synthetic_tiny):
    config = json.loads((tiny_evaluator / CONFIG_NAME).read_text())
    manifest = (synthetic_tiny / "manifest.jsonl").read_bytes()
    assert config["name"] == "lslm-sign-evaluator-tiny" and config["version"] == "0.1"
    recipe = json.loads((synthetic_tiny / "dataset.json").read_text())
    recipe.pop("counts")
    expected = hashlib.sha256(manifest + json.dumps(recipe, sort_keys=True, separators=(",", ":")).encode())
    assert config["dataset"]["fingerprint"] == "sha256:" + expected.hexdigest()
    assert config["training"]["steps"] == 10 and config["dataset"]["train_clips"] == 44
    train_words = {w for line in manifest.decode().splitlines() if '"split": "train"' in line
                   for w in words(json.loads(line)["text"])}
    assert set(config["vocab"][2:]) == train_words and config["vocab"][:2] == ["<pad>", "<unk>"]
    for split in ("val", "test"):
        assert config["sanity"][split]["n"] == 8 and 0 <= config["sanity"][split]["top1"] <= 1
    rows = read_metrics(tiny_evaluator / "metrics.jsonl", "train")
    assert rows[-1]["loss"] < rows[0]["loss"]  # it learns something in 10 steps

    model = MotionEvaluator.from_pretrained(tiny_evaluator)
    identity = model.identity
    assert identity["weights_sha256"] == hashlib.sha256((tiny_evaluator / "model.safetensors").read_bytes()).hexdigest()
    assert (identity["name"], identity["version"], identity["steps"]) == ("lslm-sign-evaluator-tiny", "0.1", 10)


def test_save_load_gives_identical_embeddings(tiny_evaluator, synthetic_tiny, tmp_path):
    feats, lengths, texts = _clips(synthetic_tiny, "test")
    original = hashlib.sha256((tiny_evaluator / "model.safetensors").read_bytes()).hexdigest()
    first = MotionEvaluator.from_pretrained(tiny_evaluator)
    second = MotionEvaluator.from_pretrained(first.save_pretrained(tmp_path / "copy"))
    np.testing.assert_array_equal(first.embed_motion(feats, lengths), second.embed_motion(feats, lengths))
    np.testing.assert_array_equal(first.embed_text(texts), second.embed_text(texts))
    # the same weights saved again are the same bytes: weights_sha256 names the weights, not the save
    assert second.identity == first.identity and second.identity["weights_sha256"] == original
    # the embedding is what FID uses: unit length
    np.testing.assert_allclose(np.linalg.norm(first.embed_motion(feats, lengths), axis=1), 1.0, atol=1e-6)


def test_embedding_does_not_depend_on_the_batch(tiny_evaluator, synthetic_tiny):
    feats, lengths, _ = _clips(synthetic_tiny, "test")
    model = MotionEvaluator.from_pretrained(tiny_evaluator)
    batched = model.embed_motion(feats, lengths)
    alone = np.concatenate([model.embed_motion(feats[i:i + 1, : lengths[i]]) for i in range(len(feats))])
    np.testing.assert_allclose(batched, alone, atol=1e-5)


def test_fid_is_zero_on_itself_and_grows_with_noise(tiny_evaluator, synthetic_tiny):
    feats, lengths, _ = _clips(synthetic_tiny, "train")                       # 44 clips, embed_dim 32
    model = MotionEvaluator.from_pretrained(tiny_evaluator)
    real = model.embed_motion(feats, lengths)
    assert abs(fid(real, real)) < 1e-6
    g = torch.Generator().manual_seed(0)
    noise = torch.randn(feats.shape, generator=g) * model.std                # in units of the feature scale
    scores = [fid(real, model.embed_motion(feats + level * noise, lengths)) for level in (0.05, 0.5, 5.0)]
    assert 0 < scores[0] < scores[1] < scores[2], scores


def test_r_precision_hand_computed():
    texts = ["one", "two", "three", "four"]
    text_emb = np.eye(4)
    assert r_precision(text_emb, text_emb, texts, pool=4)["top1"] == 1.0
    # motion i sits closest to text i+1, then to its own text: never first, always second
    motion = 0.9 * np.roll(np.eye(4), 1, axis=1) + 0.1 * np.eye(4)
    got = r_precision(motion, text_emb, texts, pool=4)
    assert (got["top1"], got["top2"], got["top3"], got["n"]) == (0.0, 1.0, 1.0, 4)
    # an identical sentence ranked first counts as a hit
    got = r_precision(motion, text_emb, ["a", "a", "b", "b"], pool=4)
    assert got["top1"] == 0.5
    with pytest.raises(InvalidInputError):
        r_precision(motion[:3], text_emb[:3], texts[:3], pool=4)


def test_contrastive_loss_treats_same_sentence_as_positive():
    emb = torch.eye(2)
    # distinct sentences, perfectly matched: CE of logits [1, 0] against the diagonal
    expected = math.log(math.e + 1) - 1
    assert contrastive_loss(emb, emb, ["a b", "c"], temperature=1.0).item() == pytest.approx(expected, rel=1e-6)
    # the same sentence twice: each row's target is half/half
    expected = math.log(math.e + 1) - 0.5
    assert contrastive_loss(emb, emb, ["A b!", "a B"], temperature=1.0).item() == pytest.approx(expected, rel=1e-6)


def test_bad_inputs_are_typed_errors(tiny_evaluator, synthetic_tiny, tmp_path):
    from lslm.recipes.train_evaluator import main

    with pytest.raises(InvalidInputError, match="evaluator_config.json"):
        MotionEvaluator.from_pretrained(tmp_path)
    (tmp_path / "evaluator_config.json").write_text(json.dumps({"format": "lslm-tokenizer", "format_version": 1}))
    (tmp_path / "model.safetensors").write_bytes((tiny_evaluator / "model.safetensors").read_bytes())
    with pytest.raises(InvalidInputError, match="format"):
        MotionEvaluator.from_pretrained(tmp_path)
    model = MotionEvaluator.from_pretrained(tiny_evaluator)
    with pytest.raises(InvalidInputError, match="lengths"):
        model.embed_motion(torch.zeros(1, 3, 623))                            # shorter than 4 frames
    with pytest.raises(InvalidInputError, match="features"):
        model.embed_motion(torch.zeros(1, 8, 263))
    with pytest.raises(ConfigError, match="nonexistent"):
        main(["--data", str(synthetic_tiny), "--out", str(tmp_path / "x"), "model.nonexistent=1"])

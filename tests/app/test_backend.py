"""The app's pieces without the web: the About tab's model card, the refusal of a producer that cannot write
motion, examples from a prepared dataset, and the command line's errors."""
from __future__ import annotations

import json

import numpy as np
import pytest

from lslm.app import AppModels, find_examples, model_card
from lslm.errors import ConfigError, InvalidInputError
from lslm.recipes.app import AppConfig, main


def test_model_card_describes_both_models_and_their_scores(app, tmp_path):
    scores = tmp_path / "metrics.json"
    scores.write_text(json.dumps({"bleu4": 0.1234, "wer": 0.87, "label": "lslm", "missing": {}}))
    card = model_card(app.models, str(scores))
    translator, producer = card.split("### Producer")
    assert "llama, 2 layers, hidden 32" in translator and "2-layer MLP projector" in translator
    assert "16 codes of dimension 16, one code per 4 frames at 30 fps" in translator
    assert "| bleu4 | 0.1234 |" in translator and "| wer | 0.87 |" in translator and "label" not in card
    assert "vocabulary tokens" in producer and "bleu4" not in producer


def test_a_producer_must_be_a_vocabulary_mode_model(app_models):
    with pytest.raises(ConfigError, match="vocabulary-mode"):
        AppModels.load(app_models["translator"], producer=app_models["translator"])


def test_examples_come_from_the_test_split_of_a_prepared_dataset(write_dataset, tmp_path):
    clips = [({"id": f"{split}_{i}", "text": f"{split} {i}", "split": split}, np.zeros((8, 623), np.float32))
             for split in ("train", "test") for i in range(3)]
    root = write_dataset(tmp_path / "data", clips)
    examples = find_examples(root, count=2)
    assert [(e.id, e.text) for e in examples] == [("test_0", "test 0"), ("test_1", "test 1")]
    assert examples[0].path == str(root / "features" / "test_0.npy")
    with pytest.raises(InvalidInputError, match="manifest.jsonl"):
        find_examples(tmp_path)


def test_command_line_refuses_missing_models_and_bad_limits(tmp_path, capsys):
    assert main(["--model", str(tmp_path / "missing")]) == 2
    assert "missing" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="max-upload-mb"):
        AppConfig(model="m", max_upload_mb=0)

"""Shared fixtures of the motion-evaluation tests: the tiny synthetic corpus, prepared, and a tiny evaluator."""
from __future__ import annotations

from pathlib import Path

import pytest

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.fixture(scope="session")
def synthetic_tiny(tmp_path_factory) -> Path:
    """The tiny synthetic corpus (44 train / 8 val / 8 test clips) as a prepared dataset folder."""
    from lslm.data.prepare import prepare
    from lslm.data.synthetic.generate import generate_corpus

    base = tmp_path_factory.mktemp("synthetic_tiny")
    generate_corpus(base / "raw", "tiny", seed=0, workers=1)
    prepare("lslm", base / "raw", base / "prepared", progress=False)
    return base / "prepared"


@pytest.fixture(scope="session")
def tiny_evaluator(synthetic_tiny, tmp_path_factory) -> Path:
    """An evaluator trained for 10 steps with configs/eval/evaluator_tiny.yaml."""
    from lslm.recipes.train_evaluator import parse_config, run

    out = tmp_path_factory.mktemp("evaluator") / "tiny"
    return run(parse_config(["--data", str(synthetic_tiny), "--out", str(out), "--config",
                             str(CONFIGS / "eval" / "evaluator_tiny.yaml")]))

"""Train the small stand-in base LM on a corpus' English (a BPE tokenizer and a Llama-architecture model).

    python -m lslm.recipes.train_base_lm --data DATA_DIR --out runs/base_lm [--steps 600]
    python -m lslm.recipes.train_base_lm --data DATA_DIR --out runs/base_lm --grammar-sentences 20000 --gloss-task
    metrics = run(TrainBaseLMConfig(data="DATA_DIR", out="runs/base_lm", lm=BaseLMConfig(steps=600)))

The model is `lslm.model.base_lm` (docs/training_lslm.md). It reads the training split's sentences; with
`--grammar-sentences N` (synthetic corpora) also N sentences drawn from the corpus' grammar, none of them a
sentence of another split of DATA (val and test stay unseen), so its English is compositional rather than
the training sentences by heart. `--gloss-task` also teaches it GLOSS_PROMPT (gloss → English) on those
sentences and the training split's.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from lslm.model.base_lm import BaseLMConfig


@dataclass(frozen=True)
class TrainBaseLMConfig:
    """data: a prepared dataset folder (manifest.jsonl) whose `split` sentences are the corpus; out: the
    Hugging Face folder written; lm: the model, its training and its extra sentences."""

    data: str
    out: str
    split: str = "train"
    lm: BaseLMConfig = field(default_factory=BaseLMConfig)


def corpus(config: TrainBaseLMConfig) -> tuple[list[str], list[tuple[str, str]]]:
    """The sentences and (gloss, English) pairs the LM trains on: the split's, then the grammar's."""
    from lslm.data import read_manifest

    cfg = config.lm
    rows = read_manifest(Path(config.data) / "manifest.jsonl")
    train = [r for r in rows if r["split"] == config.split]
    texts = [r["text"] for r in train]
    pairs = [(r["gloss"], r["text"]) for r in train if r.get("gloss")] if cfg.gloss_task else []
    if cfg.grammar_sentences:
        from lslm.data.synthetic.generate import grammar_sentences_for

        extra = grammar_sentences_for(rows, config.split, cfg.grammar_sentences, cfg.seed)
        texts += [s.text for s in extra]
        pairs += [(" ".join(s.gloss), s.text) for s in extra] if cfg.gloss_task else []
    return texts, pairs


def run(config: TrainBaseLMConfig) -> dict:
    """Train and save the base LM; returns its metrics ({"final_loss", "perplexity", "steps", ...})."""
    from lslm.model import base_lm

    texts, pairs = corpus(config)
    return base_lm.train_base_lm(texts, config.out, config.lm, gloss_pairs=pairs)


def build_parser() -> argparse.ArgumentParser:
    """The command line of `lslm train-base-lm`: --data, --out, --split and one flag per BaseLMConfig field."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="prepared dataset folder (manifest.jsonl)")
    p.add_argument("--out", required=True)
    p.add_argument("--split", default="train")
    for name, value in asdict(BaseLMConfig()).items():
        flag = f"--{name.replace('_', '-')}"
        if isinstance(value, bool):
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=value)
        else:
            p.add_argument(flag, type=type(value), default=value)
    return p


def parse_config(argv: list[str] | None = None) -> TrainBaseLMConfig:
    """The `TrainBaseLMConfig` of a command line."""
    args = build_parser().parse_args(argv)
    lm = BaseLMConfig(**{k: getattr(args, k) for k in asdict(BaseLMConfig())})
    return TrainBaseLMConfig(data=args.data, out=args.out, split=args.split, lm=lm)


def main(argv: list[str] | None = None) -> int:
    """Train from the command line and print the metrics as JSON; 0 on success."""
    print(json.dumps(run(parse_config(argv))))
    return 0


if __name__ == "__main__":
    sys.exit(main())

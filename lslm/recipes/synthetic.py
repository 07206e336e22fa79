"""Write the synthetic signed corpus (a raw lslm dataset: manifest.jsonl, motion/, corpus.json).

    python data_prep/make_synthetic.py --out DIR [--size tiny|small|default|large] [--seed 0]
    summary = run(SyntheticConfig(out="DIR", size="tiny"))

The corpus is `lslm.data.synthetic` (docs/data.md): sentences of a small grammar, signed by several
synthetic signers, with held-out sentences and sign pairs in the test split.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass

SIZES = ("tiny", "small", "default", "large")  # lslm.data.synthetic.generate.SIZES (a test checks they agree)


@dataclass(frozen=True)
class SyntheticConfig:
    """out: the folder written; size: one of SIZES; workers: processes (None: up to 4 CPUs)."""

    out: str
    size: str = "default"
    seed: int = 0
    workers: int | None = None


def run(config: SyntheticConfig) -> dict:
    """Write the corpus; returns its summary (corpus.json's content)."""
    from lslm.data.synthetic.generate import generate_corpus

    return generate_corpus(config.out, config.size, config.seed, config.workers)


def build_parser() -> argparse.ArgumentParser:
    """The command line of `data_prep/make_synthetic.py` / `lslm synthetic`."""
    parser = argparse.ArgumentParser(description="Write the synthetic signed corpus (a raw lslm dataset).")
    parser.add_argument("--out", required=True, help="output folder (manifest.jsonl, motion/, corpus.json)")
    parser.add_argument("--size", default="default", choices=list(SIZES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=None, help="processes (default: up to 4 CPUs)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Write the corpus from the command line and print what it holds; 0 on success."""
    config = SyntheticConfig(**vars(build_parser().parse_args(argv)))
    start = time.perf_counter()
    summary = run(config)
    splits = ", ".join(f"{k} {v['clips']} clips / {v['sentences']} sentences / {len(v['signers'])} signers"
                       for k, v in summary["splits"].items())
    test = summary["held_out"]["test"]
    print(f"wrote {summary['clips']} clips to {config.out} in {time.perf_counter() - start:.1f} s: {splits}")
    print(f"test: {test['unseen_sentences']} unseen sentences, {test['with_unseen_sign_pair']} with a sign pair "
          f"never seen in train, {test['all_signs_in_train']} using only train signs; "
          f"lexicon {len(summary['lexicon'])} words")
    return 0


if __name__ == "__main__":
    sys.exit(main())

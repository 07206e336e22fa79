"""`python data_prep/make_synthetic.py --out DIR [--size tiny|small|default] [--seed 0]`."""
from __future__ import annotations

import argparse
import time

from lslm.data.synthetic.generate import SIZES, generate_corpus


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the synthetic signed corpus (a raw lslm dataset).")
    parser.add_argument("--out", required=True, help="output folder (manifest.jsonl, motion/, corpus.json)")
    parser.add_argument("--size", default="default", choices=list(SIZES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=None, help="processes (default: up to 4 CPUs)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    summary = generate_corpus(args.out, args.size, args.seed, args.workers)
    splits = ", ".join(f"{k} {v['clips']} clips / {v['sentences']} sentences / {len(v['signers'])} signers"
                       for k, v in summary["splits"].items())
    test = summary["held_out"]["test"]
    print(f"wrote {summary['clips']} clips to {args.out} in {time.perf_counter() - start:.1f} s: {splits}")
    print(f"test: {test['unseen_sentences']} unseen sentences, {test['with_unseen_sign_pair']} with a sign pair "
          f"never seen in train, {test['all_signs_in_train']} using only train signs; "
          f"lexicon {len(summary['lexicon'])} words")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python
"""Score translations: python tools/evaluate.py --predictions preds.jsonl --references refs.jsonl --out DIR.

Thin wrapper over lslm.recipes.evaluate.main; `--help` lists every option, docs/metrics.md defines every number.
"""
import sys

from lslm.recipes.evaluate import main

if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
"""Translate sign motion to English with a trained LSLM: a thin wrapper over `lslm.recipes.translate.main`.

    python tools/translate.py --model runs/lslm/final clips/*.pkl clips/*.npz --out preds.jsonl
    python tools/translate.py --model runs/lslm/final --data data/synthetic --split test --out preds.jsonl
"""
import sys

from lslm.recipes.translate import main

if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
"""Reconstruction metrics (MPJPE, PA-MPJPE, accel. error, FID, diversity, codebook usage) of a motion tokenizer:
a thin wrapper over `lslm.recipes.eval_tokenizer.main` (see docs/evaluation.md).

    python tools/eval_tokenizer.py --tokenizer runs/tok/final --data DIR --split test [--evaluator DIR] [--out DIR]
"""
import sys

from lslm.recipes.eval_tokenizer import main

if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
"""Train the sign motion evaluator that FID/diversity use: a thin wrapper over `lslm.recipes.train_evaluator.main`
(see docs/evaluation.md).

    python tools/train_evaluator.py --data DIR --out DIR [--config configs/eval/evaluator.yaml] [key=value …]
"""
import sys

from lslm.recipes.train_evaluator import main

if __name__ == "__main__":
    sys.exit(main())

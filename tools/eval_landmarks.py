#!/usr/bin/env python
"""The video front-end on simulated landmarks of the synthetic corpus (MPJPE, translation scores): a thin
wrapper over `lslm.recipes.eval_landmarks.main` (docs/results.md).

    python tools/eval_landmarks.py --corpus runs/demo/corpus --out runs/landmarks --model runs/demo/lslm/final
"""
import sys

from lslm.recipes.eval_landmarks import main

if __name__ == "__main__":
    sys.exit(main())

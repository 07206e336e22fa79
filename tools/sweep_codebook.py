#!/usr/bin/env python
"""Codebook-size sweep (the paper's figure 2): train and evaluate one tokenizer per size, then tabulate and plot;
a thin wrapper over `lslm.recipes.sweep_codebook.main` (see docs/evaluation.md).

    python tools/sweep_codebook.py --data DIR --out DIR [--sizes 512 1024 1528] [--config …] [key=value …]
"""
import sys

from lslm.recipes.sweep_codebook import main

if __name__ == "__main__":
    sys.exit(main())

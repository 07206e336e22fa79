#!/usr/bin/env python
"""LSLM ablations (paper tables 3 and 4, vocabulary baseline): a thin wrapper over `lslm.recipes.ablate.main`
(see docs/training_lslm.md).

    python tools/ablate.py --data DATA --tokenizer VQ/final --llm BASE_LM --out runs/ablate \\
        [--config configs/lslm/synthetic.yaml] [--only 'pretrain_*,vocab_*'] [--split test] [key=value …]
"""
import sys

from lslm.recipes.ablate import main

if __name__ == "__main__":
    sys.exit(main())

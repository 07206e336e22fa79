#!/usr/bin/env python
"""LSLM pretraining: a thin wrapper over `lslm.recipes.pretrain.main` (see docs/training_lslm.md).

    python tools/pretrain.py --config configs/lslm/synthetic.yaml --scheme mlp|joint|staged [key=value …]
    torchrun --nproc_per_node 8 tools/pretrain.py --config configs/lslm/llama3.2-3b.yaml --scheme joint … --resume auto
"""
import sys

from lslm.recipes.pretrain import main

if __name__ == "__main__":
    sys.exit(main())

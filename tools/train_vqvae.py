#!/usr/bin/env python
"""Train the motion VQ-VAE tokenizer: a thin wrapper over `lslm.recipes.train_tokenizer.main` (see docs/training.md).

    python tools/train_vqvae.py --config configs/tokenizer/synthetic.yaml data.root=DIR output_dir=DIR
    torchrun --nproc_per_node 2 tools/train_vqvae.py --config configs/tokenizer/synthetic.yaml … --resume auto
"""
import sys

from lslm.recipes.train_tokenizer import main

if __name__ == "__main__":
    sys.exit(main())

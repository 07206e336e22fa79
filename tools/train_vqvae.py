#!/usr/bin/env python
"""Train the motion VQ-VAE tokenizer: a thin wrapper over `lslm.training.vqvae.main` (see docs/training.md).

    python tools/train_vqvae.py --config configs/tokenizer/synthetic.yaml data.root=DIR output_dir=DIR
    torchrun --nproc_per_node 2 tools/train_vqvae.py --config configs/tokenizer/synthetic.yaml … --resume auto
"""
from lslm.training.vqvae import main

if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""LSLM instruction tuning: a thin wrapper over `lslm.recipes.instruct.main` (see docs/training_lslm.md).

    python tools/instruct.py --config configs/lslm/synthetic.yaml --init RUN/final --tune llm|mlp+llm [key=value …]
    torchrun --nproc_per_node 8 tools/instruct.py --config configs/lslm/llama3.2-3b.yaml --init RUN/final --tune llm …
"""
import sys

from lslm.recipes.instruct import main

if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
"""Cache a prepared dataset's motion codes for one tokenizer, or write the codes of raw motion files:
a thin wrapper over `lslm.recipes.encode.main`.

    python tools/encode_dataset.py --tokenizer runs/vq/final --data data/synthetic [--splits train val test]
    python tools/encode_dataset.py --tokenizer runs/vq/final --inputs clips/*.pkl --out codes.jsonl
"""
import sys

from lslm.recipes.encode import main

if __name__ == "__main__":
    sys.exit(main())

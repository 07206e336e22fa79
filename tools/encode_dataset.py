#!/usr/bin/env python
"""Cache a prepared dataset's motion codes for one tokenizer: a thin wrapper over `lslm.data.codes.main`.

    python tools/encode_dataset.py --tokenizer runs/vq/final --data data/synthetic [--splits train val test]
"""
import sys

from lslm.data.codes import main

if __name__ == "__main__":
    sys.exit(main())

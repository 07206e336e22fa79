#!/usr/bin/env python
"""Where a trained pipeline loses the signs: probes, ceiling, the LSLM's readings (`lslm.recipes.diagnose`).

    python tools/diagnose.py data=DATA out=OUT corpus=CORPUS/corpus.json tokenizer=VQ/final llm=BASE_LM model=RUN/final
"""
import sys

from lslm.recipes.diagnose import main

if __name__ == "__main__":
    sys.exit(main())

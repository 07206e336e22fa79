"""Prepare a dataset folder (features, manifest, stats, report): a thin wrapper over
`lslm.recipes.prepare.main` (docs/data.md).

    python data_prep/prepare_dataset.py --format signavatars --input PKLS --output data/how2sign \
        --split-csv how2sign_realigned_{train,val,test}.csv --smplx-model models/smplx
"""
import sys

from lslm.recipes.prepare import main

if __name__ == "__main__":
    sys.exit(main())

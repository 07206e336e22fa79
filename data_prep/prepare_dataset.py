"""Prepare a dataset folder (features, manifest, stats, report): see docs/data.md.

    python data_prep/prepare_dataset.py --format signavatars --input PKLS --output data/how2sign \
        --split-csv how2sign_realigned_{train,val,test}.csv --smplx-model models/smplx
"""
import sys

from lslm.data.prepare import main

if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
"""Estimate joints from sign videos or .pose files into a raw lslm dataset: a thin wrapper over
`lslm.recipes.estimate.main` (docs/video.md).

    python tools/estimate.py videos/ --backend mediapipe --out data/raw --workers 2 --write-pose
"""
import sys

from lslm.recipes.estimate import main

if __name__ == "__main__":
    sys.exit(main())

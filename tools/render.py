#!/usr/bin/env python
"""Render a motion clip: python tools/render.py CLIP --out clip.mp4|gif|png [--compare OTHER] [--caption TEXT]."""
import sys

from lslm.recipes.render import main

if __name__ == "__main__":
    sys.exit(main())

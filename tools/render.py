#!/usr/bin/env python
"""Render a motion clip: python tools/render.py CLIP --out clip.mp4|gif|png [--compare OTHER] [--caption TEXT]."""
from lslm.viz.cli import main

if __name__ == "__main__":
    raise SystemExit(main())

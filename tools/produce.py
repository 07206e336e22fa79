#!/usr/bin/env python
"""Produce 3D sign motion from English: a thin wrapper over `lslm.recipes.produce.main` (docs/production.md)."""
import sys

from lslm.recipes.produce import main

if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
"""SMPL-X mesh sequences of motion files: a thin wrapper over `lslm.recipes.mesh.main` (docs/production.md)."""
import sys

from lslm.recipes.mesh import main

if __name__ == "__main__":
    sys.exit(main())

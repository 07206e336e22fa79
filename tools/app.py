#!/usr/bin/env python
"""The web app: python tools/app.py --model RUN/final [--producer RUN/final] [--host 127.0.0.1 --port 7860]."""
from lslm.recipes.app import main

if __name__ == "__main__":
    raise SystemExit(main())

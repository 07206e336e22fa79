"""Where the files of the repository's `assets/` folder are: next to the package in a checkout or an
editable install, under `<prefix>/share/lslm/assets` in a regular install (setup.py's data_files)."""
from __future__ import annotations

import sys
from pathlib import Path

ROOTS = (Path(__file__).resolve().parents[1] / "assets", Path(sys.prefix) / "share" / "lslm" / "assets")


def asset_path(*parts: str) -> Path:
    """Path of an asset, e.g. `asset_path("templates", "instruct.json")`."""
    for root in ROOTS:
        path = root.joinpath(*parts)
        if path.exists():
            return path
    raise FileNotFoundError(f"lslm asset {'/'.join(parts)} not found under {', '.join(map(str, ROOTS))}")

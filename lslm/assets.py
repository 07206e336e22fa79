"""Where the repository's `assets/` and `configs/` folders are: next to the package in a checkout or an
editable install, under `<prefix>/share/lslm/` in a regular install (setup.py's data_files)."""
from __future__ import annotations

import sys
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]
SHARE = Path(sys.prefix) / "share" / "lslm"


def _find(folder: str, parts: tuple[str, ...]) -> Path:
    roots = (CHECKOUT / folder, SHARE / folder)
    for root in roots:
        path = root.joinpath(*parts)
        if path.exists():
            return path
    raise FileNotFoundError(f"lslm {folder[:-1]} {'/'.join(parts)} not found under {', '.join(map(str, roots))}")


def asset_path(*parts: str) -> Path:
    """Path of an asset, e.g. `asset_path("templates", "instruct.json")`."""
    return _find("assets", parts)


def config_path(path: str | Path) -> Path:
    """`path` when it exists; else, for `configs/…`, lslm's own copy of that config: the documented
    `--config configs/lslm/synthetic.yaml` works from any directory. Otherwise `path` unchanged."""
    path = Path(path)
    if path.exists() or path.parts[:1] != ("configs",):
        return path
    try:
        return _find("configs", path.parts[1:])
    except FileNotFoundError:
        return path

"""Paths of the real files under <repo>/../shared/realdata that the video tests read (skipped when absent)."""
from __future__ import annotations

from pathlib import Path

import pytest

REALDATA = Path(__file__).resolve().parents[2].parent / "shared" / "realdata"


def realdata(*parts: str) -> Path:
    path = REALDATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not here (shared/realdata)")
    return path

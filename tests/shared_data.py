"""Where the shared peer and real data live, for every test package: `<repo>/../shared` (the
LSLM_SHARED_DIR environment variable overrides it). Never copied into the repository; tests that read
it skip cleanly when it is absent (`needs`)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(os.environ.get("LSLM_SHARED_DIR") or Path(__file__).resolve().parents[1].parent / "shared")
PEER_DATA = SHARED / "peer-data"  # humanml3d/, amass/
REALDATA = SHARED / "realdata"  # signavatars_wlasl/, how2sign/, pose_format/, dsgs_lexicon/ (see its README)


def needs(*paths: Path) -> pytest.MarkDecorator:
    """Skip the test (or module, as `pytestmark`) unless every path exists."""
    missing = [str(p) for p in paths if not Path(p).exists()]
    return pytest.mark.skipif(bool(missing), reason=f"shared data absent: {', '.join(missing)}")

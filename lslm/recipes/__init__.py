"""Runnable recipes: each is a typed config dataclass, `run(config) -> result` and a thin `main(argv)`.

`main` only parses the command line into the config and calls `run`; `tools/<name>.py` wraps `main`.
"""
from __future__ import annotations

import sys
from collections.abc import Callable


def exit_status(call: Callable[[], object]) -> int:
    """Run `call()` for a command line: 0, or 2 with an 'error: …' line on stderr when it raises an
    LslmError (unusable arguments or input, reported without a traceback)."""
    from lslm.errors import LslmError

    try:
        call()
    except LslmError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0

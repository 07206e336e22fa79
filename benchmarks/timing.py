"""Timing helper shared by the benchmarks (run as scripts: this folder is on sys.path)."""
from __future__ import annotations

import time


def best_time(fn, repeats: int) -> float:
    """The fastest of `repeats` calls of fn(), in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)

"""DTW joint error of production scoring: lslm's row-scan DTW against the plain double loop.

    python benchmarks/bench_dtw.py [--frames 150] [--pairs 20]

Both fill the same accumulated-cost matrix of random (n, m) frame costs (the cost of each pair of frames
is computed once, as `frame_distances` does); the plain loop visits cell by cell as textbooks write it.
Prints the seconds per DTW of each, their ratio, and that both give the same cost and path length.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from lslm.eval.production import dtw


def dtw_loop(cost: np.ndarray) -> tuple[float, int]:
    """The textbook double loop, the same tie rule (diagonal, then (1, 0), then (0, 1))."""
    n, m = cost.shape
    total = np.full((n + 1, m + 1), np.inf)
    total[0, 0] = 0.0
    cells = np.zeros((n + 1, m + 1), dtype=np.int64)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            before = (total[i - 1, j - 1], total[i - 1, j], total[i, j - 1])
            k = int(np.argmin(before))
            total[i, j] = cost[i - 1, j - 1] + before[k]
            cells[i, j] = (cells[i - 1, j - 1], cells[i - 1, j], cells[i, j - 1])[k] + 1
    return float(total[n, m]), int(cells[n, m])


def timed(fn, costs) -> tuple[float, list]:
    start = time.perf_counter()
    out = [fn(c) for c in costs]
    return (time.perf_counter() - start) / len(costs), out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=150, help="frames of each motion (the demo's clips: ~140)")
    p.add_argument("--pairs", type=int, default=20)
    args = p.parse_args()
    rng = np.random.default_rng(0)
    costs = [rng.random((args.frames, args.frames + k % 7)) for k in range(args.pairs)]
    ours, a = timed(dtw, costs)
    loop, b = timed(dtw_loop, costs[: max(2, args.pairs // 5)])
    assert all(x[1] == y[1] and abs(x[0] - y[0]) < 1e-9 for x, y in zip(a, b)), "the two DTWs disagree"
    print(f"DTW of {args.frames}x~{args.frames} frames: row scan {1000 * ours:.2f} ms, "
          f"double loop {1000 * loop:.1f} ms, {loop / ours:.1f}x faster (same cost and path length)")


if __name__ == "__main__":
    main()

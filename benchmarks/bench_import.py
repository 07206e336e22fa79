"""Start-up cost of the `lslm` command and of lslm's heaviest stage import, each in a fresh interpreter.

    python benchmarks/bench_import.py [--repeats 5] [--verbs]

Rows, run in turn `repeats` times (best wall time of each, so the machine's load hits all alike):
`import torch` (the floor of anything that computes), `import lslm.motion` as it is (roma imported where it
is used), `import lslm.motion, roma` (what the import cost while roma was imported at module level: roma
imports torch._dynamo), `lslm --help`, and with --verbs `lslm VERB --help` for every verb.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lslm.cli import VERBS  # this checkout's verbs (lslm.cli imports no recipe)

HELP = "import sys; from lslm.cli import main; sys.stdout = open('/dev/null', 'w'); main({args!r})"


def wall(code: str) -> float:
    """Seconds `python -c code` takes in a fresh interpreter that imports this checkout's lslm."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--verbs", action="store_true", help="also `lslm VERB --help` for every verb")
    args = parser.parse_args()
    rows = {"import torch": "import torch",
            "import lslm.motion": "import lslm.motion",
            "import lslm.motion, roma (roma at module level)": "import lslm.motion, roma",
            "lslm --help": HELP.format(args=["--help"])}
    if args.verbs:
        rows.update({f"lslm {verb} --help": HELP.format(args=[verb, "--help"]) for verb in VERBS})
    best = {name: float("inf") for name in rows}
    for _ in range(args.repeats):
        for name, code in rows.items():
            best[name] = min(best[name], wall(code))
    print(f"best of {args.repeats}, fresh interpreters, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    for name, seconds in best.items():
        print(f"{name:<50} {seconds:6.2f} s")
    motion, eager = best["import lslm.motion"], best["import lslm.motion, roma (roma at module level)"]
    print(f"import lslm.motion: {eager:.2f} s → {motion:.2f} s ({eager / motion:.2f}× faster; torch alone "
          f"{best['import torch']:.2f} s)")


if __name__ == "__main__":
    main()

"""The fuzz harness: malformed inputs must end in a typed lslm error that names its field (and its file).

A `Case` is one malformed input: a call, the field its error must name and, for inputs read from a file,
the file. Randomly corrupted files (`may_pass`: a changed byte may leave a valid file, e.g. one digit of
a float) must raise a typed error or load; systematically broken inputs must raise. `check` runs every
case and collects what went wrong: another exception type (a crash inside lslm or a library), an error
that does not say where the problem is, or no error at all (a silent acceptance). `COUNTS` tallies the
cases of each surface; the fuzz conftest prints the total at the end of a run.
"""
from __future__ import annotations

import io
import struct
import warnings
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lslm.errors import LslmError

COUNTS: Counter = Counter()  # surface → malformed inputs run (test_fuzz_count asserts the total)


@dataclass
class Case:
    """One malformed input: `call()` must raise an LslmError whose message names `field` (and `path`)."""

    name: str
    call: Callable[[], object]
    field: str | None = None
    path: str | Path | None = None
    may_pass: bool = False  # a random corruption that may have left a valid input


def check(surface: str, cases: list[Case]) -> None:
    """Run the cases; fail listing every crash, every error that names neither field nor file, and every
    silent acceptance."""
    problems = []
    for case in cases:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                case.call()
        except LslmError as err:
            message = str(err)
            if case.field is not None and case.field not in message:
                problems.append(f"{case.name}: the error does not name {case.field!r}: {message[:300]}")
            if case.path is not None and str(case.path) not in message:
                problems.append(f"{case.name}: the error does not name the file {case.path}: {message[:300]}")
        except Exception as err:  # noqa: BLE001 — what the suite is looking for
            problems.append(f"{case.name}: {type(err).__name__} instead of an lslm error: {str(err)[:300]}")
        else:
            if not case.may_pass:
                problems.append(f"{case.name}: accepted silently")
    COUNTS[surface] += len(cases)
    assert not problems, f"{len(problems)} of {len(cases)} malformed inputs of {surface}:\n" + "\n".join(problems[:40])


def npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def npz_bytes(arrays: dict, compressed: bool = True) -> bytes:
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, **arrays)
    return buf.getvalue()


def zip_bytes(members: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def lying_header(array: np.ndarray, shape: str, descr: str | None = None) -> bytes:
    """An .npy of `array` whose header claims another shape (and dtype)."""
    data = npy_bytes(array)
    header_len = struct.unpack("<H", data[8:10])[0]
    header = data[10:10 + header_len].decode("latin1")
    header = header.replace(repr(array.shape), shape)
    if descr is not None:
        header = header.replace(repr(array.dtype.str), repr(descr))
    header = header.rstrip().ljust(header_len - 1) + "\n"
    return data[:10] + header.encode("latin1") + data[10 + header_len:]


def lslm_arrays(clip) -> dict[str, np.ndarray]:
    params = {k: np.asarray(v, dtype=np.float64) for k, v in clip["params"].items()}
    return {**params, "betas": np.zeros(10), "fps": np.array(30.0), "rest_offsets": clip["target"].offsets}


def flips(data: bytes, count: int, seed: int, start: int = 0) -> list[tuple[str, bytes]]:
    """`count` copies of `data` with 1-4 random bytes changed at or after `start` (seeded)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        mutated = bytearray(data)
        for _ in range(int(rng.integers(1, 5))):
            mutated[int(rng.integers(start, len(data)))] = int(rng.integers(256))
        if bytes(mutated) != data:
            out.append((f"flip{i}", bytes(mutated)))
    return out


def truncations(data: bytes, count: int) -> list[tuple[str, bytes]]:
    """`count` prefixes of `data`, evenly spread, the empty file included."""
    cuts = np.unique(np.linspace(0, len(data) - 1, count).astype(int))
    return [(f"cut{c}", data[:c]) for c in cuts]

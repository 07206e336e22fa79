"""Atomic writes: a reader never sees half a file or half a folder.

Files go through a temporary name next to them and `os.replace`; folders are written whole in a temporary
folder and renamed into place (`write_dir_atomic`).
"""
from __future__ import annotations

import io
import json
import os
import shutil
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np


def _tmp(path: Path) -> Path:
    """A temporary name next to `path`, within the file-system's name limit however long `path`'s name is."""
    return path.with_name(f".{path.name[:200]}.{os.getpid()}.tmp")


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write through a temporary file and os.replace, so readers never see half a file."""
    path = Path(path)
    tmp = _tmp(path)
    tmp.write_bytes(data)
    os.replace(tmp, path)


def atomic_write_text(path: str | Path, text: str) -> None:
    """`atomic_write_bytes` of the text in UTF-8."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_save_npy(path: str | Path, array: np.ndarray) -> None:
    """np.save, atomically (temporary file + rename): a reader never sees a partial file."""
    path = Path(path)
    tmp = _tmp(path)
    with open(tmp, "wb") as f:
        np.save(f, array)
    os.replace(tmp, path)


_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed member timestamps: byte-identical archives


def atomic_save_npz(path: str | Path, arrays: dict[str, np.ndarray]) -> None:
    """np.savez_compressed, but deterministic (fixed timestamps) and atomic (temporary file + rename)."""
    path = Path(path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, array in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, member.getvalue(), compresslevel=1)
    tmp = _tmp(path)
    tmp.write_bytes(buffer.getvalue())
    os.replace(tmp, path)


def write_jsonl(path: str | Path, rows: Iterable[dict]) -> None:
    """Write one JSON object per line (UTF-8, not ASCII-escaped), atomically."""
    atomic_write_text(path, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))


def write_dir_atomic(target: str | Path, write: Callable[[Path], None]) -> Path:
    """Call `write(tmp_dir)`, then move `tmp_dir` to `target` in one rename, so a `target` that exists is
    complete; a `write` that raises leaves nothing behind. An old `target` is first renamed to
    `.old-<name>` and removed after; a process killed between the two renames leaves it there. The folder
    gets the umask's permissions, like any `mkdir`."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".tmp-{target.name}"
    shutil.rmtree(tmp, ignore_errors=True)  # left over by a run killed while saving
    tmp.mkdir()
    try:
        write(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if target.exists():  # rename cannot replace a non-empty directory: move the old one aside first
        old = target.parent / f".old-{target.name}"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old)
    else:
        os.replace(tmp, target)
    return target

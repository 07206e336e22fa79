"""Manifests (JSONL), How2Sign/SignAvatars split CSVs, and atomic writes.

A prepared dataset's `manifest.jsonl` has one JSON object per line:
{"id", "features": "features/<id>.npy", "text", "gloss", "split", "fps", "frames", "signer"}.
A raw lslm folder's manifest has "motion" (path of the clip's .npz) in place of "features"/"frames".
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from lslm.errors import InvalidInputError

PREPARED_FIELDS = {"id": str, "features": str, "text": str, "split": str, "fps": (int, float),
                   "frames": int}
RAW_FIELDS = {"id": str, "motion": str, "split": str}
OPTIONAL_FIELDS = {"text": str, "gloss": (str, type(None)), "signer": (str, int, type(None)),
                   "fps": (int, float)}
# Called with (clip id or None, error) for a bad row that is skipped instead of raised.
OnError = Callable[[str | None, InvalidInputError], None]


def _lines(path: Path, on_error: OnError | None):
    """Yield (line number, decoded line) for non-blank lines; non-UTF-8 lines are errors."""
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                error = InvalidInputError(f"{path}:{number}", "text", "UTF-8", got=f"byte {raw[e.start]:#04x}")
                if on_error is None:
                    raise error from e
                on_error(None, error)
                continue
            if line.strip():
                yield number, line.rstrip("\r\n")


def read_manifest(path: str | Path, fields: dict | None = None, on_error: OnError | None = None) -> list[dict]:
    """Read and validate a JSONL manifest; errors name the file and line.

    `fields` maps required keys to types (default: a prepared dataset's); with `on_error`, bad rows
    are passed to it and skipped, otherwise the first one raises InvalidInputError.
    """
    path = Path(path)
    fields = PREPARED_FIELDS if fields is None else fields
    rows, seen = [], set()
    for number, line in _lines(path, on_error):
        where, row = f"{path}:{number}", None
        try:
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise InvalidInputError(where, "line", "a JSON object", got=e.msg) from e
            if not isinstance(row, dict):
                raise InvalidInputError(where, "line", "a JSON object", got=type(row).__name__)
            for key, kind in {**OPTIONAL_FIELDS, **fields}.items():
                if key not in row:
                    if key in fields:
                        raise InvalidInputError(where, key, "present", got="missing")
                elif not isinstance(row[key], kind) or isinstance(row[key], bool):
                    raise InvalidInputError(where, key, f"type {kind}", got=repr(row[key])[:80])
            if not row["id"] or row["id"] in seen:
                raise InvalidInputError(where, "id", "a unique non-empty id", got=row["id"])
        except InvalidInputError as error:
            if on_error is None:
                raise
            on_error(row.get("id") if isinstance(row, dict) else None, error)
            continue
        seen.add(row["id"])
        rows.append(row)
    return rows


SPLIT_NAMES = ("train", "val", "test", "dev")


def split_from_filename(path: str | Path) -> str:
    """how2sign_realigned_train.csv → train (last of train/val/dev/test in the name)."""
    found = re.findall("|".join(SPLIT_NAMES), Path(path).stem.lower())
    if not found:
        raise InvalidInputError(path, "file name", f"one of {SPLIT_NAMES} (or pass SPLIT=FILE)")
    return found[-1]


def read_split_csv(path: str | Path, split: str | None = None,
                   on_error: OnError | None = None) -> dict[str, dict]:
    """How2Sign/SignAvatars split file as published: tab-separated, header row, SENTENCE_NAME (id) and
    SENTENCE (text) columns. Returns {id: {"text", "split"}}; the split comes from the file name
    unless given. Quotes are kept as they are (the published files do not quote fields)."""
    path = Path(path)
    split = split or split_from_filename(path)
    with open(path, "rb") as f:
        raw_lines = f.read().split(b"\n")
    try:
        header = raw_lines[0].rstrip(b"\r").decode("utf-8-sig").split("\t")
    except UnicodeDecodeError as e:
        raise InvalidInputError(path, "header", "a UTF-8 tab-separated header row") from e
    for column in ("SENTENCE_NAME", "SENTENCE"):
        if column not in header:
            raise InvalidInputError(path, column, "a column of the tab-separated header", got=header)
    id_col, text_col = header.index("SENTENCE_NAME"), header.index("SENTENCE")
    rows = {}
    for number, raw in enumerate(raw_lines[1:], start=2):
        if not raw.strip():
            continue
        cells = raw.rstrip(b"\r").split(b"\t")
        clip_id = cells[id_col].decode("utf-8", "replace") if len(cells) > id_col else None
        try:
            if len(cells) != len(header):
                raise InvalidInputError(f"{path}:{number}", "row", f"{len(header)} tab-separated cells",
                                        got=len(cells))
            try:
                text = cells[text_col].decode("utf-8")
            except UnicodeDecodeError as e:
                raise InvalidInputError(f"{path}:{number}", "SENTENCE", "UTF-8",
                                        got=f"byte {cells[text_col][e.start]:#04x}") from e
        except InvalidInputError as error:
            if on_error is None:
                raise
            on_error(clip_id, error)
            continue
        rows[clip_id] = {"text": text, "split": split}
    return rows


# ---- atomic writes -------------------------------------------------------------------------------

def _tmp(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write through a temporary file and os.replace, so readers never see half a file."""
    path = Path(path)
    tmp = _tmp(path)
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def atomic_save_npy(path: str | Path, array: np.ndarray) -> None:
    path = Path(path)
    tmp = _tmp(path)
    with open(tmp, "wb") as f:
        np.save(f, array)
    os.replace(tmp, path)


def write_jsonl(path: str | Path, rows: Iterable[dict]) -> None:
    atomic_write_text(path, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))


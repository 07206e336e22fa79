"""Manifests (JSONL) and How2Sign/SignAvatars split CSVs (atomic writes: lslm.atomic).

A prepared dataset's `manifest.jsonl` has one JSON object per line:
{"id", "features": "features/<id>.npy", "text", "gloss", "split", "fps", "frames", "signer"}.
A raw lslm folder's manifest has "motion" (path of the clip's .npz) in place of "features"/"frames".
"""
from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from lslm.checks import check_fps, check_int, check_str
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
            for key, value in row.items():
                if isinstance(value, str):
                    check_str(value, where, key, empty=True)  # no lone surrogate escapes
            if "fps" in row:
                check_fps(row["fps"], where, "fps")
            if "frames" in row:
                check_int(row["frames"], where, "frames", minimum=1)
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


FPS_COLUMNS = ("FPS", "FRAME_RATE")  # optional per-clip frame rate column of a split file (any case)


def read_split_csv(path: str | Path, split: str | None = None,
                   on_error: OnError | None = None) -> dict[str, dict]:
    """How2Sign/SignAvatars split file as published: tab-separated with a header row, SENTENCE_NAME (id)
    and SENTENCE (text) columns, an optional FPS column. Returns {id: {"text", "split", "fps",
    "repaired"}} in file order; the split comes from the file name unless given.

    Fields are parsed as CSV (Python's csv module): a field wrapped in double quotes is unquoted and its
    doubled inner quotes become one, as in the published files; quotes inside an unquoted field stay.
    Ids are kept exactly. Text holding doubly encoded UTF-8 (`horseâ\x80\x99s`) is repaired with
    `ftfy.fix_encoding` ("repaired": True). `fps` is the row's FPS value, or None without that column.
    Bad rows (wrong number of cells, bytes that are not UTF-8, a bad FPS, an id already listed) are
    passed to `on_error` and left out; without `on_error` the first one raises InvalidInputError.
    """
    import csv

    import ftfy

    path = Path(path)
    split = split or split_from_filename(path)
    # surrogateescape: a byte that is not UTF-8 survives parsing as a lone surrogate, caught per row below
    text = path.read_bytes().decode("utf-8", "surrogateescape").removeprefix("\ufeff")
    # newline="": lines end at \n, \r or \r\n only (str.splitlines would also split at U+0085, which mojibake holds)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t", quotechar='"', doublequote=True,
                        strict=False)
    header = next(reader, [])
    for column in ("SENTENCE_NAME", "SENTENCE"):
        if column not in header:
            raise InvalidInputError(path, column, "a column of the tab-separated header", got=header)
    id_col, text_col = header.index("SENTENCE_NAME"), header.index("SENTENCE")
    fps_col = next((i for i, name in enumerate(header) if name.upper() in FPS_COLUMNS), None)
    rows: dict[str, dict] = {}
    first_line: dict[str, int] = {}
    line = reader.line_num
    for cells in reader:
        number, line = line + 1, reader.line_num  # a quoted field may span lines: report its first
        if not any(cell.strip() for cell in cells):
            continue
        where = f"{path}:{number}"
        clip_id = cells[id_col] if len(cells) > id_col else None
        try:
            if len(cells) != len(header):
                raise InvalidInputError(where, "row", f"{len(header)} tab-separated cells", got=len(cells))
            for name, cell in zip(header, cells):
                bad = next((ch for ch in cell if "\udc80" <= ch <= "\udcff"), None)
                if bad is not None:
                    raise InvalidInputError(where, name, "UTF-8", got=f"byte {ord(bad) - 0xDC00:#04x}")
            fps = None if fps_col is None else _positive_fps(where, header[fps_col], cells[fps_col])
            if clip_id in first_line:
                raise InvalidInputError(where, "SENTENCE_NAME", "an id listed once",
                                        got=f"{clip_id!r} again (first on line {first_line[clip_id]}, which is used)")
        except InvalidInputError as error:
            if on_error is None:
                raise
            on_error(clip_id, error)
            continue
        sentence = cells[text_col]
        fixed = ftfy.fix_encoding(sentence)
        first_line[clip_id] = number
        rows[clip_id] = {"text": fixed, "split": split, "fps": fps, "repaired": fixed != sentence}
    return rows


def _positive_fps(where: str, column: str, cell: str) -> float:
    try:
        fps = float(cell)
    except ValueError:
        fps = float("nan")
    if not np.isfinite(fps) or fps <= 0:
        raise InvalidInputError(where, column, "a positive frame rate", got=repr(cell))
    return fps

"""Read prediction and reference files and match them by id, counting every row that does not match.

Files are JSON Lines: `{"id", "prediction"}` rows and `{"id", "reference"}` rows (a reference may be a
list of strings), or one file whose rows carry both. Ids are compared as strings.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from lslm.checks import check_str
from lslm.errors import InvalidInputError

MAX_LISTED = 20  # ids listed per problem in metrics.json


def read_jsonl(path: str | Path) -> list[dict]:
    """Rows of a JSON Lines file; blank lines are skipped; any other bad line is an error naming it."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InvalidInputError(path, "file", "a readable JSON Lines file", got=e.strerror) from e
    rows = []
    for n, raw in enumerate(data.splitlines(), start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise InvalidInputError(path, f"line {n}", "UTF-8 text", got=f"byte {raw[e.start]:#04x} at column "
                                    f"{e.start + 1}") from e
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise InvalidInputError(path, f"line {n}", "one JSON object per line", got=e.msg) from e
        if not isinstance(row, dict) or "id" not in row:
            raise InvalidInputError(path, f"line {n}", 'a JSON object with an "id"', got=line[:80])
        rows.append(row)
    return rows


def _text_column(path: Path, rows: list[dict], column: str, allow_list: bool) -> dict[str, object]:
    """id -> value of `column`, checked; a repeated id with the same value is dropped, another is an error."""
    out: dict[str, object] = {}
    for row in rows:
        raw_id, v = row["id"], row.get(column)
        if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)) or raw_id == "":
            raise InvalidInputError(path, "id", "a non-empty string or an integer", got=repr(raw_id)[:80])
        k = check_str(str(raw_id), path, "id")
        ok = isinstance(v, str) or (allow_list and isinstance(v, list) and v and all(isinstance(s, str) for s in v))
        if not ok:
            expected = "a string or a non-empty list of strings" if allow_list else "a string"
            raise InvalidInputError(path, f"{column} of id {k}", expected, got=v)
        for text in [v] if isinstance(v, str) else v:
            check_str(text, path, f"{column} of id {k}", empty=True)  # no lone surrogate escapes
        if k in out and out[k] != v:
            raise InvalidInputError(path, f"id {k}", "one row per id (or repeated rows that agree)", got=[out[k], v])
        out[k] = v
    return out


@dataclass
class Pairs:
    """Matched samples in reference order, with counts and ids of everything that did not match."""

    ids: list[str]
    predictions: list[str]
    references: list[str | list[str]]
    counts: dict[str, int] = field(default_factory=dict)
    problems: dict[str, list[str]] = field(default_factory=dict)


def load_pairs(predictions: str | Path, references: str | Path | None = None,
               allow_mismatch: bool = False) -> Pairs:
    """Match predictions to references by id.

    Mismatched ids are an error unless allow_mismatch: then a reference without a prediction is scored as
    an empty prediction (a model is not rewarded for skipping samples) and a prediction without a reference
    is left out; both are counted and listed.
    """
    predictions = Path(predictions)
    pred_rows = read_jsonl(predictions)
    ref_path = predictions if references is None else Path(references)
    ref_rows = pred_rows if references is None else read_jsonl(ref_path)
    preds = _text_column(predictions, pred_rows, "prediction", allow_list=False)
    refs = _text_column(ref_path, ref_rows, "reference", allow_list=True)
    if not refs:
        raise InvalidInputError(ref_path, "rows", "at least one reference", got=0)

    missing_pred = [k for k in refs if k not in preds]
    missing_ref = [k for k in preds if k not in refs]
    if (missing_pred or missing_ref) and not allow_mismatch:
        raise InvalidInputError(predictions, "id", f"the same ids as {ref_path} (or --allow-mismatch)",
                                got=f"{len(missing_pred)} references without prediction "
                                    f"{missing_pred[:5]}, {len(missing_ref)} predictions without reference "
                                    f"{missing_ref[:5]}")
    ids = list(refs)
    pairs = Pairs(ids, [str(preds.get(k, "")) for k in ids], [refs[k] for k in ids])
    pairs.counts = {"samples": len(ids), "prediction_rows": len(pred_rows), "reference_rows": len(ref_rows),
                    "duplicate_prediction_rows": len(pred_rows) - len(preds),
                    "duplicate_reference_rows": len(ref_rows) - len(refs) if references is not None else 0,
                    "missing_predictions": len(missing_pred), "missing_references": len(missing_ref)}
    pairs.problems = {"missing_predictions": missing_pred[:MAX_LISTED],
                      "missing_references": missing_ref[:MAX_LISTED]}
    return pairs

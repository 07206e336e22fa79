"""Scoring prediction files: metrics.json, per_sample.jsonl and report.md (docs/metrics.md).

    document, scores, pairs = evaluate_files("preds.jsonl", "refs.jsonl", "runs/eval", metrics=["bleu", "wer"])

The command line (several runs, translation first with --model) is `lslm.recipes.evaluate`.
"""
from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path

from lslm.checks import check_str
from lslm.atomic import atomic_write_text, write_jsonl
from lslm.errors import InvalidInputError
from lslm.eval import report
from lslm.eval.pairs import Pairs, load_pairs, read_jsonl
from lslm.eval.text import Embedder, EntityExtractor, TextScores, normalize, score

NORMALISATION = ("NFKC, lower case, in-word apostrophes deleted, other Unicode punctuation -> space, "
                 "whitespace collapsed; tokens = whitespace split (lslm.eval.text.normalize)")


def _versions() -> dict[str, str]:
    out = {}
    for pkg in ("lslm", "sacrebleu", "rouge-score", "pycocoevalcap", "jiwer", "sentence-transformers", "spacy"):
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def metrics_document(scores: TextScores, pairs: Pairs | None = None) -> dict:
    """The content of metrics.json: corpus metrics at the top level, then what was missing and how."""
    empty = [r["id"] for r in scores.per_sample if not normalize(r["prediction"])]
    counts = dict(pairs.counts if pairs else {"samples": len(scores.per_sample)})
    counts["empty_predictions"] = scores.info["empty_predictions"]
    problems = dict(pairs.problems if pairs else {})
    problems["empty_predictions"] = empty[:20]
    info = {k: v for k, v in scores.info.items() if k not in ("n", "empty_predictions")}
    return {**scores.corpus, "unavailable": scores.unavailable, "counts": counts, "problems": problems,
            "info": {"normalisation": NORMALISATION, **info, "versions": _versions()}}


def write_json(path: Path, obj: object) -> None:
    """`obj` as indented UTF-8 JSON, written atomically."""
    atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def write_run(out_dir: str | Path, document: dict, per_sample: list[dict]) -> None:
    """metrics.json and per_sample.jsonl (input order) in out_dir."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / "metrics.json", document)
    write_jsonl(out_dir / "per_sample.jsonl", per_sample)


def evaluate_files(predictions: str | Path, references: str | Path | None = None, out_dir: str | Path | None = None,
                   *, allow_mismatch: bool = False, metrics: list[str] | None = None, tsr_model: str | Path | Embedder | None = None,
                   pos_tagger: str | EntityExtractor | None = None) -> tuple[dict, TextScores, Pairs]:
    """Score a predictions file against a references file (or one file with both); write metrics.json and
    per_sample.jsonl into out_dir when given. Returns (metrics.json content, scores, matched pairs)."""
    pairs = load_pairs(predictions, references, allow_mismatch=allow_mismatch)
    scores = score(pairs.predictions, pairs.references, ids=pairs.ids, metrics=metrics, tsr_model=tsr_model,
                   pos_tagger=pos_tagger)
    document = metrics_document(scores, pairs)
    if out_dir is not None:
        write_run(out_dir, document, scores.per_sample)
    return document, scores, pairs


def train_texts(path: str | Path) -> list[str]:
    """Training references for the vocabulary report: rows with "reference" (first one if a list) or "text"."""
    out = []
    for row in read_jsonl(path):
        text = row.get("reference", row.get("text"))
        text = text[0] if isinstance(text, list) and text else text
        if not isinstance(text, str):
            raise InvalidInputError(path, f"reference of id {row['id']}", 'a "reference" or "text" string', got=text)
        out.append(check_str(text, path, f"reference of id {row['id']}", empty=True))
    return out


def report_markdown(runs: list[report.RunResult], documents: dict, bias: dict, motion: dict | None) -> str:
    """report.md: the paper's table, every text metric, then per run its counts, worst samples and vocabulary."""
    parts = ["# Evaluation\n", "## Translation (LSLM paper layout, tables 3/4/8)\n", report.paper_table(runs),
             "\n## All text metrics\n", report.full_table(runs)]
    for r in runs:
        doc = documents[r.label]
        parts.append(f"\n## {r.label}\n")
        parts.append("Counts: " + ", ".join(f"{k} {v}" for k, v in doc["counts"].items()))
        for name, reason in r.unavailable.items():
            parts.append(f"\n- {name}: {reason}")
        parts.append("\n### Worst translations (lowest sentence chrF)\n")
        parts.append(report.worst_samples(r.per_sample))
        parts.append("\n### Vocabulary bias (002 §4.4.2)\n")
        parts.append(report.vocabulary_markdown(bias[r.label]))
    if motion is not None:
        parts += ["\n## Motion\n", report.motion_table(motion)]
    return "\n".join(parts) + "\n"

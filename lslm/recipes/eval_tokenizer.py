"""Reconstruction metrics of a motion tokenizer on a dataset split (MPJPE, PA-MPJPE, accel. error, FID, ...).

    python tools/eval_tokenizer.py --tokenizer runs/tok/final --data DIR --split test \\
        [--evaluator runs/evaluator] [--out DIR] [--renders 3]
    doc = run(EvalTokenizerConfig(tokenizer="runs/tok/final", data="DIR", evaluator="runs/evaluator"))

The metrics are `lslm.eval.tokenizer_eval.evaluate_tokenizer` (docs/evaluation.md). Writes
OUT/tokenizer_metrics.json, OUT/tokenizer_metrics.md and OUT/renders/<id>.gif (original | reconstruction
side by side); OUT defaults to TOKENIZER/eval_SPLIT.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class EvalTokenizerConfig:
    """tokenizer: a tokenizer folder (or a training run with final/); data: a prepared dataset;
    evaluator: a motion evaluator folder (without it FID and diversity are unavailable)."""

    tokenizer: str
    data: str
    split: str = "test"
    evaluator: str | None = None
    out: str | None = None
    renders: int = 3  # original-vs-reconstruction GIFs of the first N clips
    render_stride: int = 2
    batch_size: int = 16
    max_clips: int = 0  # 0 = all
    diversity_pairs: int = 300
    device: str = "cpu"


def run(config: EvalTokenizerConfig) -> dict:
    """Evaluate, write the report files; returns the metrics document (tokenizer_metrics.json)."""
    from lslm.eval.evaluator import MotionEvaluator
    from lslm.eval.tokenizer_eval import evaluate_tokenizer, format_value, markdown_report, resolve_tokenizer_dir
    from lslm.tokenizer import Tokenizer

    # setup: the tokenizer and the evaluator
    tok_dir = resolve_tokenizer_dir(config.tokenizer)
    tokenizer = Tokenizer.from_pretrained(tok_dir, device=config.device)
    evaluator = None if config.evaluator is None else MotionEvaluator.from_pretrained(config.evaluator, config.device)

    # the metrics
    doc, kept = evaluate_tokenizer(tokenizer, config.data, config.split, evaluator, config.batch_size,
                                   config.max_clips, config.diversity_pairs, keep_joints=max(config.renders, 0))
    doc["tokenizer"]["path"] = str(tok_dir.resolve())
    if doc["evaluator"] is not None:
        doc["evaluator"]["path"] = str(Path(config.evaluator).resolve())

    # the report
    out = Path(config.out) if config.out else tok_dir / f"eval_{config.split}"
    out.mkdir(parents=True, exist_ok=True)
    renders = []
    if kept:
        from lslm.viz import render_motion

        for clip in kept:
            name = f"renders/{clip['id']}.gif"
            render_motion([clip["original"], clip["reconstruction"]], out / name,
                          captions=["original", "reconstruction"], fps=tokenizer.fps, stride=config.render_stride,
                          title=clip["text"] or clip["id"])
            renders.append(name)
    doc["renders"] = renders
    (out / "tokenizer_metrics.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "tokenizer_metrics.md").write_text(markdown_report(doc, renders), encoding="utf-8")
    print(f"wrote {out / 'tokenizer_metrics.json'}: MPJPE {format_value(doc['mpjpe_mm'])} mm, PA-MPJPE "
          f"{format_value(doc['pa_mpjpe_mm'])} mm, FID {doc['unavailable'].get('fid', format_value(doc['fid'], 3))}, "
          f"{doc['counts']['clips']} clips ({doc['counts']['skipped']} skipped)")
    return doc


def build_parser() -> argparse.ArgumentParser:
    """The command line of `tools/eval_tokenizer.py` / `lslm eval-tokenizer`."""
    parser = argparse.ArgumentParser(description="Reconstruction metrics of a motion tokenizer on a dataset split.")
    parser.add_argument("--tokenizer", required=True, help="tokenizer folder (or a training run with final/)")
    parser.add_argument("--data", required=True, help="prepared dataset folder")
    parser.add_argument("--split", default="test")
    parser.add_argument("--evaluator", default=None, help="evaluator folder (tools/train_evaluator.py); "
                        "without it FID and diversity are unavailable")
    parser.add_argument("--out", default=None, help="output folder (default: TOKENIZER/eval_SPLIT)")
    parser.add_argument("--renders", type=int, default=3, help="original-vs-reconstruction GIFs of the first N clips")
    parser.add_argument("--render-stride", type=int, default=2, help="draw every N-th frame in renders")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-clips", type=int, default=0, help="only the first N clips of the split (0 = all)")
    parser.add_argument("--diversity-pairs", type=int, default=300)
    parser.add_argument("--device", default="cpu")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the command line into an `EvalTokenizerConfig` and evaluate; 0 on success."""
    args = vars(build_parser().parse_args(argv))
    run(EvalTokenizerConfig(**args))
    return 0


if __name__ == "__main__":
    sys.exit(main())

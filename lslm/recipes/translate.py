"""Translate sign motion to English with a trained LSLM: motion files or a dataset split → JSONL.

    python tools/translate.py --model runs/lslm/final clips/*.pkl clips/*.npz --out preds.jsonl
    python tools/translate.py --model runs/lslm/final --data data/synthetic --split test --out preds.jsonl
    rows = run(TranslateConfig(model="runs/lslm/final", data="data/synthetic", out="preds.jsonl"))

The translation is `lslm.model.translate` (translate_files, translate_split; docs/translation.md): every
input gets one row, an unreadable one an empty prediction and its "error". Without --out the translations
are printed as 'id<TAB>prediction' lines.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lslm.model.generation import DEFAULT_BATCH_SIZE, DEFAULT_GENERATION, HELD_OUT


@dataclass(frozen=True)
class TranslateConfig:
    """Exactly one of `inputs` (motion files, of `format` or detected per file, read at `source_fps` with
    `convert` (ConvertOptions fields)) or `data` (a prepared dataset's `split`). `generation`: overrides of
    lslm.model.translate.DEFAULT_GENERATION; `prompt`: one with <Motion_Placeholder>, or "held-out"."""

    model: str
    inputs: tuple[str, ...] = ()
    data: str | None = None
    split: str = "test"
    out: str | None = None
    prompt: str | None = None
    generation: dict[str, Any] = field(default_factory=dict)
    batch_size: int = DEFAULT_BATCH_SIZE
    format: str | None = None
    source_fps: float | None = None
    convert: dict[str, Any] = field(default_factory=dict)
    device: str | None = None
    progress: bool = True


def run(config: TranslateConfig) -> list[dict]:
    """Translate; writes the rows to `out` (JSONL) when given, and returns them."""
    from lslm.cpu_memory import keep_freed_memory
    from lslm.atomic import write_jsonl
    from lslm.errors import ConfigError, InvalidInputError
    from lslm.model.generation import generation_kwargs
    from lslm.model.translate import translate_files, translate_split

    if bool(config.inputs) == bool(config.data):
        raise ConfigError("give motion files or a dataset (data, split), not both")
    out = Path(config.out) if config.out else None
    if out is not None and out.is_dir():
        raise InvalidInputError(out, "--out", "a JSONL file", got="a folder")
    gen = generation_kwargs(**config.generation)
    keep_freed_memory()  # batched generation on CPU page-faults less (lslm.cpu_memory)
    common = {"batch_size": config.batch_size, "prompt": config.prompt, "device": config.device,
              "progress": config.progress}
    if config.data:
        rows = translate_split(config.model, config.data, config.split, **common, **gen)
    else:
        rows = translate_files(config.model, list(config.inputs), fps=config.source_fps, fmt=config.format,
                               convert=dict(config.convert), **common, **gen)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_jsonl(out, rows)
    return rows


def build_parser() -> argparse.ArgumentParser:
    """The command line of `tools/translate.py` / `lslm translate`."""
    from lslm.data.convert import input_formats
    from lslm.recipes._flags import add_convert_arguments

    p = argparse.ArgumentParser(description="Translate sign motion to English with a trained LSLM.")
    p.add_argument("--model", required=True, help="LSLM folder (LSLM.save_pretrained), e.g. RUN/final")
    p.add_argument("inputs", nargs="*", help="raw clips of any format (SignAvatars .pkl, SMPLer-X folder, Motion-X "
                   ".npy, joints .npy (T, 52, 3), lslm .npz, MediaPipe .pose, video: the `video` extra) or "
                   "features .npy (T, 623)")
    p.add_argument("--data", help="prepared dataset folder (instead of inputs)")
    p.add_argument("--split", default="test", help="split of --data (default test)")
    p.add_argument("--out", help="JSONL output: id, prediction, reference when known (default: print "
                   "'id<TAB>prediction' lines)")
    p.add_argument("--prompt", help="prompt with one <Motion_Placeholder> (default: the model's), or "
                   f"'{HELD_OUT}': the instruction phrasings held out of training, in turn")
    d = DEFAULT_GENERATION
    p.add_argument("--num-beams", type=int, default=d["num_beams"], help="1 = greedy (default)")
    p.add_argument("--length-penalty", type=float, default=d["length_penalty"], help="beam search only")
    p.add_argument("--no-repeat-ngram-size", type=int, default=d["no_repeat_ngram_size"], help="0 = off")
    p.add_argument("--repetition-penalty", type=float, default=d["repetition_penalty"], help="1.0 = off")
    p.add_argument("--max-new-tokens", type=int, default=d["max_new_tokens"])
    p.add_argument("--do-sample", action="store_true", help="sample instead of greedy / beam search")
    p.add_argument("--temperature", type=float, help="with --do-sample")
    p.add_argument("--top-p", type=float, help="with --do-sample")
    p.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE,
                   help=f"clips per batch (default {DEFAULT_BATCH_SIZE}); beam search makes num_beams rows of each")
    p.add_argument("--format", choices=input_formats(), help="format of the inputs (default: detected per file)")
    add_convert_arguments(p)
    p.add_argument("--fps", dest="source_fps", type=float, help=argparse.SUPPRESS)  # the old name of --source-fps
    p.add_argument("--device", help="default: cuda when available, else cpu")
    p.add_argument("--no-progress", action="store_true")
    return p


def config_from_args(args: argparse.Namespace) -> TranslateConfig:
    """The `TranslateConfig` of parsed command-line arguments."""
    from lslm.recipes._flags import convert_overrides

    gen = {"num_beams": args.num_beams, "length_penalty": args.length_penalty,
           "no_repeat_ngram_size": args.no_repeat_ngram_size, "repetition_penalty": args.repetition_penalty,
           "max_new_tokens": args.max_new_tokens, "do_sample": args.do_sample, "temperature": args.temperature,
           "top_p": args.top_p}
    return TranslateConfig(model=args.model, inputs=tuple(args.inputs), data=args.data, split=args.split,
                           out=args.out, prompt=args.prompt, generation=gen, batch_size=args.batch_size,
                           format=args.format, source_fps=args.source_fps,
                           convert=convert_overrides(args) if args.inputs else {}, device=args.device,
                           progress=not args.no_progress)


def main(argv: list[str] | None = None) -> int:
    """0 when at least one clip was translated, 1 when none was, 2 for unusable arguments or model."""
    from lslm.errors import LslmError

    parser = build_parser()
    args = parser.parse_args(argv)
    if bool(args.inputs) == bool(args.data):
        parser.error("give motion files or --data DIR (with --split), not both")
    config = config_from_args(args)
    try:
        rows = run(config)
    except LslmError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    failed = [r for r in rows if "error" in r]
    if config.out is None:
        for r in rows:
            if "error" not in r:
                print(f"{r['id']}\t{r['prediction']}")
    for r in failed:
        print(f"skipped {r['id']}: {r['error']}", file=sys.stderr)
    summary = f"translated {len(rows) - len(failed)} clips, skipped {len(failed)}"
    print(f"{summary}; wrote {config.out}" if config.out else summary, file=sys.stdout if config.out else sys.stderr)
    return 0 if len(failed) < len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())

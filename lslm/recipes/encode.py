"""Cache a prepared dataset's motion codes for one tokenizer, or write the codes of raw motion files.

    python tools/encode_dataset.py --tokenizer runs/vq/final --data data/synthetic [--splits train val test]
    python tools/encode_dataset.py --tokenizer runs/vq/final --inputs clips/*.pkl --out codes.jsonl
    summary = run(EncodeConfig(tokenizer="runs/vq/final", data="data/synthetic"))

The cache and the JSONL rows are `lslm.tokenizer.codes` (encode_dataset, encode_files); this is their command line.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class EncodeConfig:
    """Exactly one of `data` (a prepared dataset: cache the codes of `splits`) or `inputs` (raw motion files
    of `format`, default detected per file, converted with `convert` (ConvertOptions fields) at `source_fps`;
    their codes go to the JSONL `out`)."""

    tokenizer: str
    data: str | None = None
    splits: tuple[str, ...] = ("train", "val", "test")
    inputs: tuple[str, ...] = ()
    out: str | None = None
    format: str | None = None
    source_fps: float | None = None
    convert: dict[str, Any] = field(default_factory=dict)
    batch_size: int = 64
    device: str | None = None
    progress: bool = True


def run(config: EncodeConfig) -> dict:
    """Encode; returns encode_files' result ({"clips", "skipped", "out"}) for `inputs`, else encode_dataset's
    summary ({"cache", "splits": {split: {"status", "clips", "skipped"}}})."""
    from lslm.cpu_memory import keep_freed_memory
    from lslm.tokenizer.codes import encode_dataset, encode_files
    from lslm.errors import ConfigError

    if bool(config.data) == bool(config.inputs):
        raise ConfigError("give data (a prepared dataset) or inputs (raw motion files), not both")
    if config.inputs and not config.out:
        raise ConfigError("inputs need out (a .jsonl file)")
    keep_freed_memory()  # batched encoding on CPU page-faults less (lslm.cpu_memory)
    if config.inputs:
        return encode_files(config.tokenizer, list(config.inputs), config.out, fps=config.source_fps,
                            fmt=config.format, convert=dict(config.convert), device=config.device,
                            progress=config.progress)
    return encode_dataset(config.tokenizer, config.data, list(config.splits), config.batch_size, config.device,
                          progress=config.progress)


def build_parser() -> argparse.ArgumentParser:
    """The command line of `tools/encode_dataset.py` / `lslm encode`."""
    from lslm.data.convert import input_formats
    from lslm.recipes._flags import add_convert_arguments

    parser = argparse.ArgumentParser(description="Cache a prepared dataset's motion codes for one tokenizer, "
                                     "or write the codes of raw motion files.")
    parser.add_argument("--tokenizer", required=True, help="tokenizer folder (Tokenizer.save_pretrained)")
    parser.add_argument("--data", help="prepared dataset folder")
    parser.add_argument("--splits", nargs="+", default=["train", "val", "test"])
    parser.add_argument("--inputs", nargs="+", help="raw motion files of any format (instead of --data)")
    parser.add_argument("--out", help="with --inputs: JSONL output, one {id, codes} row per file")
    parser.add_argument("--format", choices=input_formats(), help="format of --inputs (default: detected per file)")
    add_convert_arguments(parser)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default=None, help="default: cuda when available, else cpu")
    parser.add_argument("--no-progress", action="store_true")
    return parser


def main(argv: list[str] | None = None) -> int:
    """`python tools/encode_dataset.py`: 0 when codes are cached (or files encoded), 1 when no split (file) has
    any clip, 2 on bad input."""
    parser = build_parser()
    args = parser.parse_args(argv)  # before any heavy import: --help answers at once
    from lslm.tokenizer.codes import INDEX_NAME
    from lslm.recipes._flags import convert_overrides
    from lslm.errors import LslmError

    if bool(args.data) == bool(args.inputs):
        parser.error("give --data DIR or --inputs FILE ..., not both")
    if args.inputs and not args.out:
        parser.error("--inputs needs --out FILE.jsonl")
    config = EncodeConfig(tokenizer=args.tokenizer, data=args.data, splits=tuple(args.splits),
                          inputs=tuple(args.inputs or ()), out=args.out, format=args.format,
                          source_fps=args.source_fps, convert=convert_overrides(args),
                          batch_size=args.batch_size, device=args.device, progress=not args.no_progress)
    try:
        result = run(config)
    except LslmError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if config.inputs:
        for row in result["skipped"]:
            print(f"skipped {row['id']}: {row['error']}", file=sys.stderr)
        print(f"encoded {result['clips']} files, skipped {len(result['skipped'])}; wrote {result['out']}")
        return 0 if result["clips"] else 1
    print(f"codes cache: {result['cache']}")
    for split, s in result["splits"].items():
        print(f"  {split}: {s['status']}, {s['clips']} clips, {s['skipped']} skipped")
    if any(s["skipped"] for s in result["splits"].values()):
        print(f"  skipped clips and reasons: {Path(result['cache']) / INDEX_NAME}")
    return 0 if any(s["clips"] for s in result["splits"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())

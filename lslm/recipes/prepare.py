"""Prepare a dataset folder from a published format: features, manifest, normalizer stats, report.

    python data_prep/prepare_dataset.py --format signavatars --input PKL_DIR --output data/how2sign \\
        --split-csv how2sign_realigned_train.csv how2sign_realigned_val.csv how2sign_realigned_test.csv
    report = run(PrepareConfig(format="lslm", input="RAW", output="data/prepared"))

The conversion itself is `lslm.data.prepare.prepare` (docs/data.md); this recipe is its command line:
it prints a summary of what was prepared, resumed and skipped (all of it in OUTPUT/report.json).
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TextIO


@dataclass(frozen=True)
class PrepareConfig:
    """The arguments of `lslm.data.prepare.prepare`, with its defaults (`split_csvs`: [SPLIT=]FILE items)."""

    format: str
    input: str
    output: str
    split_csvs: tuple[str, ...] = ()
    fps: float = 30.0
    source_fps: float | None = None
    model_path: str | None = None
    flat_hand_mean: bool = False
    compat: bool = True
    target_skeleton: str | None = None
    workers: int = 1
    stats_max_frames: int = 2_000_000
    progress: bool = True
    translation: str = "drop"  # lslm.data.convert.DEFAULT_TRANSLATION
    signavatars_params: str = "smplx"
    invalid_hands: str = "interpolate"
    exclude: str | None = None


def run(config: PrepareConfig) -> dict:
    """Prepare the dataset `config` describes; returns the report (report.json's content)."""
    from lslm.data.prepare import prepare

    fields = asdict(config)
    fmt, input_dir, output, split_csvs = (fields.pop(k) for k in ("format", "input", "output", "split_csvs"))
    return prepare(fmt, input_dir, output, list(split_csvs), **fields)


def print_summary(report: dict, output: Path, file: TextIO | None = None) -> None:
    """What was prepared, resumed and skipped (the first 10 skipped clips), repaired, and the warnings."""
    file = file or sys.stdout
    counts = report["counts"]
    print(f"prepared {counts['converted']} clips ({counts['frames']} frames) in {output}; "
          f"splits {counts['splits']}; resumed {counts['resumed']}; skipped {counts['skipped']}", file=file)
    for error, n in report["skipped_by_error"].items():
        print(f"  skipped {n} × {error}", file=file)
    for item in report["skipped"][:10]:
        print(f"    {item['id']}: {item['error']}: {item['message']}", file=file)
    if counts["skipped"] > 10:
        print(f"    … all in {output / 'report.json'}", file=file)
    for csv_path, c in report.get("split_files", {}).items():
        print(f"  split file {csv_path} ({c['split']}): {c['rows']} rows, {c['repaired']} with mojibake repaired",
              file=file)
    totals = report.get("repairs", {}).get("totals", {})
    if totals:
        print("  repaired: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in totals.items())
              + f" ({len(report['repairs']['clips'])} clips)", file=file)
    for warning in report["warnings"]:
        print(f"  warning: {warning}", file=file)


def build_parser() -> argparse.ArgumentParser:
    """The command line of `data_prep/prepare_dataset.py` / `lslm prepare`."""
    from lslm.data.adapters import ADAPTERS
    from lslm.recipes._flags import add_convert_arguments

    p = argparse.ArgumentParser(prog="prepare_dataset", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--format", required=True, choices=sorted(ADAPTERS))
    p.add_argument("--input", required=True, help="folder with the clips (lslm: the folder with manifest.jsonl)")
    p.add_argument("--output", required=True, help="prepared dataset folder (created; re-run to resume)")
    p.add_argument("--split-csv", nargs="+", default=[], metavar="[SPLIT=]FILE",
                   help="How2Sign/SignAvatars split files (tab-separated, SENTENCE_NAME, SENTENCE); the split "
                        "comes from the file name (…_train.csv) unless given as SPLIT=FILE")
    p.add_argument("--exclude", metavar="FILE", help="clip ids to leave out, one per line (# comments)")
    p.add_argument("--fps", type=float, default=30.0, help="output frame rate (default 30)")
    add_convert_arguments(p)
    p.add_argument("--target-skeleton", help="JSON with target offsets (default: lslm's rest skeleton)")
    p.add_argument("--compat", action=argparse.BooleanOptionalAction, default=True,
                   help="reproduce the reference facing-direction hip swap (default on; see docs/data.md)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--stats-max-frames", type=int, default=2_000_000,
                   help="fit the normalizer on at most this many (evenly strided) train frames")
    p.add_argument("--no-progress", action="store_true")
    return p


def config_from_args(args: argparse.Namespace) -> PrepareConfig:
    """The `PrepareConfig` of parsed command-line arguments."""
    return PrepareConfig(format=args.format, input=args.input, output=args.output, split_csvs=tuple(args.split_csv),
                         fps=args.fps, source_fps=args.source_fps, model_path=args.smplx_model,
                         flat_hand_mean=args.flat_hand_mean, compat=args.compat,
                         target_skeleton=args.target_skeleton, workers=args.workers,
                         stats_max_frames=args.stats_max_frames, progress=not args.no_progress,
                         translation=args.translation, signavatars_params=args.signavatars_params,
                         invalid_hands=args.invalid_hands, exclude=args.exclude)


def main(argv: list[str] | None = None) -> int:
    """Prepare from the command line: 0 when clips were converted, 1 when none, 2 for unusable arguments."""
    from lslm.errors import LslmError

    config = config_from_args(build_parser().parse_args(argv))
    try:
        report = run(config)
    except LslmError as e:  # unusable arguments or inputs as a whole (clips are skipped, not raised)
        print(f"error: {e}", file=sys.stderr)
        return 2
    print_summary(report, Path(config.output))
    return 0 if report["counts"]["converted"] else 1


if __name__ == "__main__":
    sys.exit(main())

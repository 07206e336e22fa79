"""LSLM instruction tuning (paper §4.4), continuing a pretraining run.

    python tools/instruct.py --config configs/lslm/synthetic.yaml --init RUN/final --tune llm|mlp+llm [key=value …]
    torchrun --nproc_per_node 8 tools/instruct.py --config configs/lslm/llama3.2-3b.yaml --init RUN/final \\
        --tune llm data.root=DIR [--resume auto|PATH]
    run_dir = run(*parse_config(["--config", "configs/lslm/synthetic.yaml", "--init", "RUN/final", "--tune", "llm"]))

Samples are drawn from the training phrasings of assets/templates/instruct.json (the held-out ones are
kept for evaluation). Tuning: llm (projector frozen) or mlp+llm. The model, its motion tokenizer and its
text tokenizer come from --init; model.* must describe that model (a mismatch is an error). The saved
model's default prompt is the first instruct phrasing (or model.prompt).
"""
from __future__ import annotations

import argparse
import sys

from lslm.recipes.pretrain import SCHEMES, LSLMRunConfig, run, stage_parser
from lslm.training.config import load_config

__all__ = ["build_parser", "main", "parse_config", "run"]


def build_parser() -> argparse.ArgumentParser:
    """The command line of `tools/instruct.py` / `lslm instruct`."""
    def stage_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--init", required=True, help="the pretraining run's final/ (an LSLM folder)")
        parser.add_argument("--tune", required=True, choices=sorted(SCHEMES["instruct"]))

    return stage_parser("Instruction-tune a pretrained LSLM.", stage_arguments)


def parse_config(argv: list[str] | None = None) -> tuple[LSLMRunConfig, str | None]:
    """(the run's config: the YAML file, the overrides, stage=instruct, --tune and --init; --resume) of a
    command line. `run` is the pretraining recipe's loop, which both stages share."""
    args = build_parser().parse_intermixed_args(argv)
    cfg = load_config(LSLMRunConfig, args.config,
                      [*args.overrides, "stage=instruct", f"scheme={args.tune}", f"init={args.init}"])
    return cfg, args.resume


def main(argv: list[str] | None = None) -> int:
    """Instruction-tune from the command line; 0 on success (the run directory is the config's output_dir)."""
    run(*parse_config(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())

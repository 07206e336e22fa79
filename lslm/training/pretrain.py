"""Recipe: LSLM pretraining, aligning motion codes to the LLM (paper §3.3, §4.3).

    python tools/pretrain.py --config configs/lslm/synthetic.yaml --scheme mlp|joint|staged [key=value …]
    torchrun --nproc_per_node 8 tools/pretrain.py --config configs/lslm/llama3.2-3b.yaml --scheme joint \\
        data.root=DIR data.tokenizer=RUN/final [--resume auto|PATH]

Pairs (codes, English) with the pretraining template `<Motion_Placeholder>` → caption. Schemes:
mlp (LLM frozen), joint (projector + LLM), staged (projector for train.stage1_steps, then the LLM).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from lslm.training.config import load_config
from lslm.training.lslm_recipe import SCHEMES, LSLMRunConfig, train


def main(argv: list[str] | None = None) -> Path:
    """CLI entry point; returns the run directory."""
    parser = argparse.ArgumentParser(description="Pretrain an LSLM (motion–text alignment).")
    parser.add_argument("--config", required=True, help="YAML under configs/lslm/")
    parser.add_argument("--scheme", required=True, choices=sorted(SCHEMES["pretrain"]))
    parser.add_argument("--resume", default=None, help="'auto' (latest step_N/ in output_dir) or a checkpoint dir")
    parser.add_argument("overrides", nargs="*", help="dotted key=value overrides, e.g. train.max_steps=100")
    args = parser.parse_intermixed_args(argv)
    cfg = load_config(LSLMRunConfig, args.config, [*args.overrides, "stage=pretrain", f"scheme={args.scheme}"])
    return train(cfg, resume=args.resume)


if __name__ == "__main__":
    main()

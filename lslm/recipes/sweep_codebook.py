"""Codebook-size sweep, the paper's figure 2: FID / MPJPE / PA-MPJPE against codebook size.

    python tools/sweep_codebook.py --data DIR --out DIR [--sizes 512 1024 1528] \\
        [--config configs/tokenizer/synthetic.yaml] [--evaluator DIR] [key=value …]
    sweep = run(SweepConfig(data="DIR", out="OUT", sizes=(512, 1024)))

For each size K it trains a tokenizer with `lslm.recipes.train_tokenizer` (the config plus `model.codebook_size=K
output_dir=OUT/codebook_K` and the key=value overrides), evaluates its `final/` checkpoint on the split
with `lslm.recipes.eval_tokenizer`, and gathers the results in OUT/sweep.json, OUT/sweep.md and
OUT/sweep.png. FID needs an evaluator: pass --evaluator DIR, or the sweep trains one into OUT/evaluator
first (`--evaluator-config`, `--evaluator-steps`), so every size is scored by the same evaluator.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

@dataclass(frozen=True)
class SweepConfig:
    """data: a prepared dataset; out: one tokenizer run per size (OUT/codebook_K), the tables and plot;
    config: the tokenizer training YAML with `overrides` (dotted key=value) for every size; evaluator: the
    folder FID uses (None: one is trained into OUT/evaluator from `evaluator_config`, `evaluator_steps`);
    split, renders, max_clips, device: the evaluation of each size's final/ (lslm.recipes.eval_tokenizer)."""

    data: str
    out: str
    sizes: tuple[int, ...] = (512, 1024, 1528)
    config: str = "configs/tokenizer/synthetic.yaml"
    split: str = "test"
    evaluator: str | None = None
    evaluator_config: str | None = None
    evaluator_steps: int | None = None
    renders: int = 0
    max_clips: int = 0
    device: str = "cpu"  # of the evaluation (training follows train.device)
    overrides: tuple[str, ...] = ()


PLOTTED = (("fid", "FID"), ("mpjpe_mm", "MPJPE (mm)"), ("pa_mpjpe_mm", "PA-MPJPE (mm)"))
COLUMNS = (("mpjpe_mm", "MPJPE (mm)", 2), ("pa_mpjpe_mm", "PA-MPJPE (mm)", 2), ("accel_error_mm", "Accel.", 3),
           ("fid", "FID", 3), ("diversity_recon", "Div. (recon)", 3), ("codebook_usage", "Usage", 3),
           ("perplexity", "Perplexity", 1))


def markdown_table(sweep: dict) -> str:
    """sweep.md: one row per codebook size, the evaluator named under the table."""
    from lslm.eval.tokenizer_eval import evaluator_line

    header = ["Codebook size"] + [name for _, name, _ in COLUMNS]
    lines = ["# Codebook size sweep", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for run in sweep["runs"]:
        m = run["metrics"]
        cells = [str(run["codebook_size"])] + [
            m["unavailable"].get(key, "—") if m.get(key) is None else f"{m[key]:.{digits}f}"
            for key, _, digits in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", (f"Split `{sweep['split']}` of `{sweep['data']}`; tokenizer config `{sweep['config']}` "
                   f"with overrides {sweep['overrides'] or 'none'}; accel. error in mm/frame²."),
              f"Evaluator: {evaluator_line(sweep['evaluator'])}.", "", "![sweep](sweep.png)", ""]
    return "\n".join(lines)


def plot(sweep: dict, path: Path) -> Path:
    """sweep.png: FID, MPJPE and PA-MPJPE against codebook size, one panel each (paper fig. 2)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [run["codebook_size"] for run in sweep["runs"]]
    fig, axes = plt.subplots(1, len(PLOTTED), figsize=(4 * len(PLOTTED), 3.2), dpi=100)
    for ax, (key, label) in zip(axes, PLOTTED):
        values = [run["metrics"].get(key) for run in sweep["runs"]]
        points = [(s, v) for s, v in zip(sizes, values) if v is not None]
        if points:
            ax.plot(*zip(*points), marker="o")
            best = min(points, key=lambda p: p[1])
            ax.annotate(f"{best[1]:.3g}", best, textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
        else:
            ax.text(0.5, 0.5, "unavailable", ha="center", va="center", transform=ax.transAxes)
        ax.set_xscale("log", base=2)
        ax.set_xticks(sizes, [str(s) for s in sizes])
        ax.minorticks_off()
        ax.ticklabel_format(axis="y", useOffset=False)
        ax.set_xlabel("codebook size")
        ax.set_title(label)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def run(config: SweepConfig) -> dict:
    """Train (an evaluator when none is given, then) one tokenizer per size, evaluate each, write sweep.json,
    sweep.md and sweep.png; returns the content of sweep.json."""
    from lslm.atomic import atomic_write_text
    from lslm.recipes import eval_tokenizer, train_evaluator, train_tokenizer
    from lslm.training.config import load_config

    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    evaluator_dir = config.evaluator
    if evaluator_dir is None:  # every size is scored by the same evaluator
        extra = [] if config.evaluator_steps is None else [f"train.max_steps={config.evaluator_steps}"]
        evaluator_cfg = load_config(train_evaluator.EvaluatorRunConfig, config.evaluator_config,
                                    [*extra, f"data.root={config.data}", f"output_dir={out / 'evaluator'}"])
        evaluator_dir = str(train_evaluator.run(evaluator_cfg))

    runs = []
    for size in config.sizes:
        run_dir = out / f"codebook_{size}"
        train_tokenizer.run(load_config(train_tokenizer.VQVAERunConfig, config.config,
                                        [*config.overrides, f"model.codebook_size={size}", f"data.root={config.data}",
                                         f"output_dir={run_dir}"]))
        metrics = eval_tokenizer.run(eval_tokenizer.EvalTokenizerConfig(
            tokenizer=str(run_dir / "final"), data=config.data, split=config.split, evaluator=evaluator_dir,
            out=str(run_dir / "eval"), renders=config.renders, max_clips=config.max_clips, device=config.device))
        runs.append({"codebook_size": size, "run_dir": str(run_dir), "metrics": metrics})
    sweep = {"data": str(Path(config.data).resolve()), "split": config.split, "config": config.config,
             "overrides": list(config.overrides), "sizes": list(config.sizes),
             "evaluator": runs[0]["metrics"]["evaluator"], "runs": runs}
    atomic_write_text(out / "sweep.json", json.dumps(sweep, indent=2, ensure_ascii=False) + "\n")
    atomic_write_text(out / "sweep.md", markdown_table(sweep))
    plot(sweep, out / "sweep.png")
    print(f"wrote {out / 'sweep.json'}, sweep.md and sweep.png ({len(runs)} codebook sizes)")
    return sweep


def build_parser() -> argparse.ArgumentParser:
    """The command line of `tools/sweep_codebook.py` / `lslm sweep-codebook`."""
    parser = argparse.ArgumentParser(description="Train and evaluate one tokenizer per codebook size (paper fig. 2).")
    parser.add_argument("--data", required=True, help="prepared dataset folder")
    parser.add_argument("--out", required=True)
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 1024, 1528])
    parser.add_argument("--config", default="configs/tokenizer/synthetic.yaml", help="tokenizer training config")
    parser.add_argument("--split", default="test")
    parser.add_argument("--evaluator", default=None, help="evaluator folder; default: train one into OUT/evaluator")
    parser.add_argument("--evaluator-config", default=None, help="YAML for the evaluator trained when --evaluator "
                        "is not given (default: built-in defaults)")
    parser.add_argument("--evaluator-steps", type=int, default=None, help="train.max_steps of that evaluator")
    parser.add_argument("--renders", type=int, default=0, help="renders per size (eval_tokenizer --renders)")
    parser.add_argument("--max-clips", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="device of the evaluation (training follows train.device)")
    parser.add_argument("overrides", nargs="*", help="key=value overrides for every tokenizer run")
    return parser


def parse_config(argv: list[str] | None = None) -> SweepConfig:
    """The `SweepConfig` of a command line."""
    args = vars(build_parser().parse_args(argv))
    return SweepConfig(**{**args, "sizes": tuple(args["sizes"]), "overrides": tuple(args["overrides"])})


def main(argv: list[str] | None = None) -> int:
    """Run the sweep from the command line; 0 on success."""
    run(parse_config(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`python tools/sweep_codebook.py`: the paper's figure 2, FID / MPJPE / PA-MPJPE against codebook size.

    python tools/sweep_codebook.py --data DIR --out DIR [--sizes 512 1024 1528] \\
        [--config configs/tokenizer/synthetic.yaml] [--evaluator DIR] [key=value …]

For each size K it trains a tokenizer with `lslm.training.vqvae` (the config plus `model.codebook_size=K
output_dir=OUT/codebook_K` and the key=value overrides), evaluates its `final/` checkpoint on the split
with `lslm.eval.tokenizer_eval`, and gathers the results in OUT/sweep.json, OUT/sweep.md and
OUT/sweep.png. FID needs an evaluator: pass --evaluator DIR, or the sweep trains one into OUT/evaluator
first (`--evaluator-config`, `--evaluator-steps`), so every size is scored by the same evaluator.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from lslm.eval import tokenizer_eval
from lslm.eval.tokenizer_eval import evaluator_line

PLOTTED = (("fid", "FID"), ("mpjpe_mm", "MPJPE (mm)"), ("pa_mpjpe_mm", "PA-MPJPE (mm)"))
COLUMNS = (("mpjpe_mm", "MPJPE (mm)", 2), ("pa_mpjpe_mm", "PA-MPJPE (mm)", 2), ("accel_error_mm", "Accel.", 3),
           ("fid", "FID", 3), ("diversity_recon", "Div. (recon)", 3), ("codebook_usage", "Usage", 3),
           ("perplexity", "Perplexity", 1))


def markdown_table(sweep: dict) -> str:
    """sweep.md: one row per codebook size, the evaluator named under the table."""
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


def main(argv: list[str] | None = None) -> dict:
    """CLI entry point; returns the content of sweep.json."""
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
    args = parser.parse_args(argv)

    from lslm.training import evaluator as evaluator_recipe
    from lslm.training import vqvae

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    evaluator_dir = args.evaluator
    if evaluator_dir is None:
        extra = [] if args.evaluator_steps is None else [f"train.max_steps={args.evaluator_steps}"]
        evaluator_args = ["--data", args.data, "--out", str(out / "evaluator"), *extra]
        if args.evaluator_config:
            evaluator_args += ["--config", args.evaluator_config]
        evaluator_dir = str(evaluator_recipe.main(evaluator_args))

    runs = []
    for size in args.sizes:
        run_dir = out / f"codebook_{size}"
        vqvae.main(["--config", args.config, *args.overrides, f"model.codebook_size={size}", f"data.root={args.data}",
                    f"output_dir={run_dir}"])
        metrics = tokenizer_eval.main(["--tokenizer", str(run_dir / "final"), "--data", args.data, "--split",
                                       args.split, "--evaluator", evaluator_dir, "--out", str(run_dir / "eval"),
                                       "--renders", str(args.renders), "--max-clips", str(args.max_clips),
                                       "--device", args.device])
        runs.append({"codebook_size": size, "run_dir": str(run_dir), "metrics": metrics})
    sweep = {"data": str(Path(args.data).resolve()), "split": args.split, "config": args.config,
             "overrides": args.overrides, "sizes": args.sizes, "evaluator": runs[0]["metrics"]["evaluator"],
             "runs": runs}
    (out / "sweep.json").write_text(json.dumps(sweep, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "sweep.md").write_text(markdown_table(sweep), encoding="utf-8")
    plot(sweep, out / "sweep.png")
    print(f"wrote {out / 'sweep.json'}, sweep.md and sweep.png ({len(runs)} codebook sizes)")
    return sweep


__all__ = ["main", "markdown_table", "plot"]

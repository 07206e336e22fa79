"""The LSLM paper's ablations (tables 3 and 4, the vocabulary baseline), trained and scored at one budget.

Pretraining schemes (table 3), instruction tuning on top of each (table 4) and the MotionGPT-style vocabulary
baseline; every final model translates a held-out split and is scored with the paper's columns.

    python tools/ablate.py --data DATA --tokenizer VQ/final --llm BASE_LM --out runs/ablate \\
        [--config configs/lslm/synthetic.yaml] [--only 'pretrain_*,vocab_*'] [--split test] \\
        [--gen num_beams=5 …] [key=value …]
    document = run(AblateConfig(data="DATA", tokenizer="VQ/final", llm="BASE_LM", out="runs/ablate"))

Runs, each in OUT/<name>/, trained by the LSLM recipe's own `run` (lslm.recipes.pretrain, both stages):

    pretrain_<s>            s = mlp | joint | staged                               table 3
    instruct_<s>_<t>        t = llm | mlp+llm, --init OUT/pretrain_<s>/final       table 4
    vocab_pretrain_joint    model.mode=vocab, pretraining joint                    (not scored)
    vocab_instruct_llm      model.mode=vocab, tuning llm from vocab_pretrain_joint the baseline row

key=value overrides apply to every run (e.g. train.max_steps=100); the tool sets output_dir, model.llm,
data.root, data.tokenizer and model.mode itself. A staged run whose config's train.stage1_steps leaves no
step to the LLM phase (and which was not given on the command line) gets half of train.max_steps for its
projector phase.

A run whose final/ exists is reused as it is; an unfinished one resumes from its latest step_N/. A failed
run (and the runs that start from it) is reported in the table, and the others go on. Each scored run is
translated and scored by `lslm.recipes.evaluate` into OUT/<name>/eval_<split>/ (redone only when final/ is newer);
the table goes to OUT/ablation.md and OUT/ablation.json and is printed.
"""
from __future__ import annotations

import argparse
import fnmatch
import json
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lslm.errors import InvalidInputError
from lslm.recipes.pretrain import SCHEMES, LSLMRunConfig
from lslm.training.config import load_config


METRICS = ("bleu", "rouge_l", "cider", "wer")
TABLE_KEYS = ("bleu1", "bleu4", "rouge_l", "cider", "wer", "ins", "del")  # the paper's columns


@dataclass(frozen=True)
class AblateConfig:
    """data, tokenizer, llm: the prepared dataset, the motion tokenizer folder and the base LM of every run;
    out: one sub-folder per run and the tables; config: the LSLM YAML every run starts from, `overrides`
    (dotted key=value) applying to all; split: the held-out split scored, translated with `gen`; only:
    comma-separated run names or patterns to score (None: all)."""

    data: str
    tokenizer: str
    llm: str
    out: str
    config: str = "configs/lslm/synthetic.yaml"
    split: str = "test"
    gen: dict[str, Any] = field(default_factory=dict)
    only: str | None = None
    overrides: tuple[str, ...] = ()


@dataclass(frozen=True)
class Run:
    """One training run of the ablation; `table` is the paper table its score belongs to (None: not scored)."""

    name: str
    stage: str  # pretrain | instruct
    scheme: str  # --scheme (pretrain) or --tune (instruct)
    parent: str | None = None  # instruction tuning: the run whose final/ it starts from
    mode: str = "projector"  # model.mode
    table: str | None = None  # "3", "4", "baseline"


def ablation_runs() -> list[Run]:
    """Every run, parents before children: 3 pretraining schemes, 3 × 2 tunings, the vocabulary baseline."""
    runs = [Run(f"pretrain_{s}", "pretrain", s, table="3") for s in SCHEMES["pretrain"]]
    runs += [Run(f"instruct_{s}_{t}", "instruct", t, parent=f"pretrain_{s}", table="4")
             for s in SCHEMES["pretrain"] for t in SCHEMES["instruct"]]
    runs += [Run("vocab_pretrain_joint", "pretrain", "joint", mode="vocab"),
             Run("vocab_instruct_llm", "instruct", "llm", parent="vocab_pretrain_joint", mode="vocab",
                 table="baseline")]
    return runs


def select(runs: list[Run], only: str | None) -> tuple[list[Run], set[str]]:
    """(runs to train in order, names of the runs to score): the scored runs matching `only` (comma-separated
    names or shell patterns; None: all) and the pretraining runs they start from."""
    scored = [r for r in runs if r.table]
    if only:
        patterns = [p.strip() for p in only.split(",") if p.strip()]
        for p in patterns:
            if not any(fnmatch.fnmatchcase(r.name, p) for r in scored):
                raise InvalidInputError(None, "--only", f"names or patterns of {[r.name for r in scored]}", got=p)
        scored = [r for r in scored if any(fnmatch.fnmatchcase(r.name, p) for p in patterns)]
    by_name, needed = {r.name: r for r in runs}, set()
    for r in scored:
        while r is not None:
            needed.add(r.name)
            r = by_name.get(r.parent)
    return [r for r in runs if r.name in needed], {r.name for r in scored}


def run_config(run: Run, config: AblateConfig) -> LSLMRunConfig:
    """The LSLM recipe's config of one run: the YAML, the overrides, then what the ablation fixes."""
    out = Path(config.out)
    fixed = [f"output_dir={out / run.name}", f"model.llm={config.llm}", f"data.root={config.data}",
             f"data.tokenizer={config.tokenizer}", f"model.mode={run.mode}", f"stage={run.stage}",
             f"scheme={run.scheme}"]
    keys = [*config.overrides, *fixed]
    if run.stage == "instruct":
        return load_config(LSLMRunConfig, config.config, [*keys, f"init={out / run.parent / 'final'}"])
    cfg = load_config(LSLMRunConfig, config.config, keys)
    if run.scheme == "staged" and not any(o.startswith("train.stage1_steps=") for o in config.overrides):
        if not 0 < cfg.train.stage1_steps < cfg.train.max_steps:  # both phases must train
            cfg.train.stage1_steps = max(1, cfg.train.max_steps // 2)
    return cfg


def is_finished(run_dir: Path) -> bool:
    """Whether the run in `run_dir` has its final model."""
    from lslm.model.modeling import CONFIG_NAME

    return (run_dir / "final" / CONFIG_NAME).is_file()


def train_run(run: Run, config: AblateConfig) -> None:
    """Train (or resume) one run unless its final/ exists."""
    from lslm.recipes import pretrain

    if is_finished(Path(config.out) / run.name):
        print(f"== {run.name}: final/ exists, reused", flush=True)
        return
    cfg = run_config(run, config)
    print(f"== {run.name}: {run.stage} {run.scheme} → {cfg.output_dir}", flush=True)
    pretrain.run(cfg, resume="auto")


def evaluate_run(run: Run, config: AblateConfig) -> dict:
    """Translate `config.split` with the run's final/ and score it (lslm.recipes.evaluate); reuse a score newer
    than final/. Returns the run's metrics.json."""
    from lslm.model.modeling import CONFIG_NAME
    from lslm.recipes import evaluate

    final, eval_dir = Path(config.out) / run.name / "final", Path(config.out) / run.name / f"eval_{config.split}"
    metrics = eval_dir / "metrics.json"
    if not (metrics.is_file() and metrics.stat().st_mtime >= (final / CONFIG_NAME).stat().st_mtime):
        print(f"== {run.name}: translate and score the {config.split} split", flush=True)
        evaluate.run(evaluate.EvaluateConfig(out=str(eval_dir), models=(str(final),), data=str(config.data),
                                             split=config.split, labels=(run.name,), metrics=METRICS,
                                             gen=dict(config.gen)))
    return json.loads(metrics.read_text(encoding="utf-8"))


def pretraining_of(run: Run, by_name: dict[str, Run]) -> str:
    """The pretraining scheme a run is (or starts from)."""
    return run.scheme if run.stage == "pretrain" else by_name[run.parent].scheme


def run_record(run: Run, by_name: dict[str, Run], config: AblateConfig) -> dict:
    """The JSON row of a run, before its status and scores."""
    run_dir = Path(config.out) / run.name
    saved = run_dir / "config.yaml"
    train = yaml.safe_load(saved.read_text(encoding="utf-8"))["train"] if saved.is_file() else {}
    return {"name": run.name, "table": run.table, "mode": run.mode, "pretraining": pretraining_of(run, by_name),
            "tuning": run.scheme if run.stage == "instruct" else None,
            "init": str(Path(config.out) / run.parent / "final") if run.parent else None,
            "run_dir": str(run_dir), "max_steps": train.get("max_steps"), "batch_size": train.get("batch_size")}


def markdown(rows: list[dict], header: dict) -> str:
    """The paper-layout table of every scored run (failed ones marked, n/a scores), then the failures."""
    from lslm.eval import report

    results = [report.RunResult(r["name"] + ("" if r["status"] == "ok" else f" ({r['status']})"),
                                r.get("metrics") or {}) for r in rows]
    failed = [f"- {r['name']}: {r['error']}" for r in rows if r["status"] != "ok"]
    overrides = " ".join(f"`{o}`" for o in header["overrides"]) or "none"
    setup = (f"Data `{header['data']}`, split `{header['split']}`; LLM `{header['llm']}`; motion tokenizer "
             f"`{header['tokenizer']}`; config `{header['config']}`; overrides: {overrides}.")
    legend = ("Runs: `pretrain_<scheme>` (table 3), `instruct_<pretraining>_<tuning>` (table 4), "
              "`vocab_instruct_llm` (MotionGPT-style vocabulary baseline: model.mode=vocab, pretraining joint, "
              "tuning llm).")
    lines = ["# LSLM ablations (paper tables 3 and 4)", "", setup, "", legend, "", report.paper_table(results)]
    if failed:
        lines += ["", "## Failed runs", "", *failed]
    return "\n".join(lines) + "\n"


def build_parser() -> argparse.ArgumentParser:
    """The command line of `tools/ablate.py` / `lslm ablate`."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="prepared dataset folder (data.root)")
    p.add_argument("--tokenizer", required=True, help="motion tokenizer folder (a train_vqvae run's final/)")
    p.add_argument("--llm", required=True, help="base LM: a Hugging Face name or folder (model.llm)")
    p.add_argument("--out", required=True, help="output folder: one sub-folder per run, ablation.md/.json")
    p.add_argument("--config", default="configs/lslm/synthetic.yaml", help="YAML under configs/lslm/")
    p.add_argument("--split", default="test", help="held-out split to translate and score (default test)")
    p.add_argument("--gen", action="append", default=[], metavar="KEY=VALUE",
                   help="a generation option of every translation (lslm.model.translate), e.g. --gen num_beams=5; "
                        "repeat for several")
    p.add_argument("--only", help="comma-separated run names or patterns to score, e.g. 'pretrain_*,vocab_*' "
                                  "(the pretraining runs they start from are trained too)")
    p.add_argument("overrides", nargs="*", help="key=value overrides for every run, e.g. train.max_steps=100")
    return p


def parse_config(argv: list[str] | None = None) -> AblateConfig:
    """The `AblateConfig` of a command line."""
    from lslm.recipes.evaluate import parse_gen

    args = build_parser().parse_intermixed_args(argv)
    return AblateConfig(data=args.data, tokenizer=args.tokenizer, llm=args.llm, out=args.out, config=args.config,
                        split=args.split, gen=parse_gen(args.gen), only=args.only, overrides=tuple(args.overrides))


def main(argv: list[str] | None = None) -> int:
    """Run the ablations from the command line; 0 when every run was trained and scored, 1 otherwise."""
    return 1 if run(parse_config(argv))["failed"] else 0


def run(config: AblateConfig) -> dict:
    """Train and score every selected run (failures reported, the others go on); write the tables.
    Returns the content of OUT/ablation.json."""
    from lslm.atomic import atomic_write_text

    runs, scored = select(ablation_runs(), config.only)
    by_name = {r.name: r for r in runs}
    out = Path(config.out)
    errors: dict[str, str] = {}
    rows = []
    for run in runs:
        row = run_record(run, by_name, config)
        if run.parent in errors and not is_finished(out / run.parent):  # scoring failures do not block children
            errors[run.name] = f"not trained: its pretraining run {run.parent} failed"
        else:
            try:
                train_run(run, config)
                row = run_record(run, by_name, config)  # config.yaml now exists
                if run.name in scored:
                    scores = evaluate_run(run, config)
                    row["metrics"] = {k: scores[k] for k in TABLE_KEYS}
                    row["eval_dir"] = str(out / run.name / f"eval_{config.split}")
            except Exception as err:  # noqa: BLE001 — any failure of one run is reported, the others go on
                traceback.print_exc()
                stage = "scoring" if is_finished(out / run.name) else "training"
                errors[run.name] = f"{stage} failed: {type(err).__name__}: {err}"
        if run.name in scored:
            rows.append({**row, "status": "ok" if run.name not in errors else "failed",
                         "error": errors.get(run.name)})

    header = {"data": str(config.data), "split": config.split, "llm": str(config.llm),
              "tokenizer": str(config.tokenizer), "config": str(config.config), "overrides": list(config.overrides)}
    document = {**header, "metrics_scale": "bleu*, rouge_l, wer in percent; cider CIDEr-D 0-10 (x100 in the table);"
                                           " ins, del mean counts per sentence (docs/metrics.md)",
                "runs": rows, "failed": sum(r["status"] != "ok" for r in rows)}
    table = markdown(rows, header)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "ablation.json", json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    atomic_write_text(out / "ablation.md", table)
    print("\n" + table)
    print(f"wrote {out / 'ablation.md'} and {out / 'ablation.json'}"
          + (f"; {document['failed']} run(s) failed" if document["failed"] else ""))
    return document


if __name__ == "__main__":
    sys.exit(main())

"""The main job: every stage of lslm, end to end, on the built-in synthetic signed corpus.

    make demo [SIZE=tiny|default|large] [OUT=runs/demo]      (= python -m lslm.recipes.demo --size ... --out ...)
    results = run(DemoConfig(size="tiny", out="runs/demo"))

Each stage runs the recipe a user would run by hand (its typed config is printed before it starts) and
writes its figures into OUT/results.json under its own key, so a partial run still leaves every finished
stage's numbers behind. Stages whose outputs already exist are not redone.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

# Per size: synthetic corpus size, clips rendered, and each training stage's config file and overrides
# (`lslm.training.config.load_config`: the file, then dotted key=value items). `tiny` is the smoke check (a
# few minutes): small corpus, short runs that prove every stage runs.
LSLM_CONFIG = "configs/lslm/synthetic.yaml"
SIZES = {
    "tiny": {"corpus": "tiny", "renders": 2,
             "tokenizer": ("configs/tokenizer/synthetic.yaml", ["model.codebook_size=256", "train.max_steps=80",
                                                                "train.val_every=40", "train.save_every=80"]),
             "evaluator": ("configs/eval/evaluator.yaml", ["train.max_steps=50"]),
             "base_lm": {"steps": 150},
             "pretrain": (LSLM_CONFIG, ["train.max_steps=40", "train.batch_size=8", "train.val_every=0",
                                        "train.save_every=40", "optim.warmup_steps=5"]),
             "instruct": (LSLM_CONFIG, ["train.max_steps=40", "train.batch_size=8", "train.val_every=0",
                                        "train.save_every=40", "optim.warmup_steps=5"]),
             "diagnose": ["train_clips=8", "probe.steps=50", "ceiling.steps=40", "progress=false"]},
    "default": {"corpus": "default", "renders": 4,
                "tokenizer": ("configs/tokenizer/synthetic.yaml", []),
                "evaluator": ("configs/eval/evaluator.yaml", []),
                "base_lm": {"grammar_sentences": 20000},  # more English than the training sentences (issue 16)
                "pretrain": (LSLM_CONFIG, ["train.max_steps=1000"]),
                "instruct": (LSLM_CONFIG, []),
                "diagnose": ["progress=false"]},
}
# `large`: the default stages on the large corpus, three times the training sentences (issue 16's lever of more
# sign–English pairs: +13 BLEU-4; its test split is another draw of unseen sentences, docs/results.md).
SIZES["large"] = {**SIZES["default"], "corpus": "large"}
# Sign production: a vocabulary-mode model on the same base LM, trained on text → motion only (the instruction
# phrasings of "t2m"), with its own tokenizer at the paper's rate of a code per 4 frames: the translator reads
# best from a code per 2 frames, but a producer writing twice the codes is read back at back-translation
# BLEU-4 4.8 instead of 17.6 at this budget (docs/results.md, "A code per 2 frames"); and the ProduceConfig
# options of producing the test sentences with it.
PRODUCTION = {
    "tiny": {"tokenizer": ("configs/tokenizer/synthetic.yaml", [*SIZES["tiny"]["tokenizer"][1], "model.down_t=2"]),
             "train": (LSLM_CONFIG, ["model.mode=vocab", "data.tasks=[t2m]", "data.templates=instruct",
                                     "train.max_steps=60", "train.batch_size=8", "train.val_every=0",
                                     "train.save_every=60", "data.val_max_clips=8", "optim.warmup_steps=5",
                                     "optim.lr_llm=5e-3"]),
             "produce": {"max_new_tokens": 48}},
    "default": {"tokenizer": ("configs/tokenizer/synthetic.yaml", ["model.down_t=2"]),
                "train": (LSLM_CONFIG, ["model.mode=vocab", "data.tasks=[t2m]", "data.templates=instruct",
                                        "train.max_steps=2000", "train.val_every=0", "train.save_every=2000",
                                        "data.val_max_clips=16"]),
                "produce": {"num_beams": 4}},  # beam search: +60 % back-translation BLEU-4 over greedy
}
PRODUCTION["large"] = PRODUCTION["default"]
TRANSLATION_KEYS = ("bleu1", "bleu4", "rouge_l", "cider", "wer", "ins", "del")
GLOSS_KEYS = ("wer", "sentence_accuracy", "substitutions", "insertions", "deletions")
TOKENIZER_KEYS = {"mpjpe": "mpjpe_mm", "pa_mpjpe": "pa_mpjpe_mm", "accel": "accel_error_mm", "fid": "fid",
                  "diversity": "diversity_recon", "usage": "codebook_usage", "perplexity": "perplexity"}


@dataclass(frozen=True)
class DemoConfig:
    """size: one of SIZES; out: every stage's folder and results.json; diagnose: also the ceiling and the
    tokenizer probes of lslm.recipes.diagnose (default size: minutes more)."""

    size: str = "default"
    out: str = "runs/demo"
    diagnose: bool = False


class Demo:
    """The stages, in order, sharing the output folder and the figures recorded so far."""

    def __init__(self, out: Path, size: str, full_diagnose: bool = False):
        self.out, self.size, self.plan = out, size, SIZES[size]
        self.full_diagnose = full_diagnose
        self.results_path = out / "results.json"
        self.results = json.loads(self.results_path.read_text()) if self.results_path.exists() else {}

    def record(self, stage: str, figures: dict) -> None:
        """Keep a stage's figures in OUT/results.json (rewritten atomically)."""
        from lslm.atomic import atomic_write_text

        self.results[stage] = figures
        self.out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.results_path, json.dumps(self.results, indent=2))

    def run(self, title: str, entry: Callable[..., Any], *args: Any) -> Any:
        """Run one recipe's `run` with its typed config, timed, and print what ran."""
        shown = ", ".join(repr(a) for a in args)
        print(f"\n== {title}: {entry.__module__}.run({shown})", flush=True)
        start = time.time()
        result = entry(*args)
        print(f"== {title}: done in {time.time() - start:.0f} s", flush=True)
        return result

    # -- stages ---------------------------------------------------------------------------------
    def corpus(self) -> None:
        """Stage 1: the synthetic corpus (generated unless its manifest exists)."""
        from lslm.recipes import synthetic

        raw = self.out / "corpus"
        if not (raw / "manifest.jsonl").exists():
            self.run("synthetic corpus", synthetic.run, synthetic.SyntheticConfig(out=str(raw), size=self.plan["corpus"]))
        info = json.loads((raw / "corpus.json").read_text())
        self.record("corpus", {k: info[k] for k in ("size", "seed", "clips", "splits") if k in info})

    def prepare(self) -> None:
        """Stage 2: the corpus prepared into features, statistics and splits."""
        from lslm.recipes import prepare

        data = self.out / "data"
        report = self.run("prepare dataset", prepare.run, prepare.PrepareConfig(
            format="lslm", input=str(self.out / "corpus"), output=str(data), fps=30.0, workers=2))
        prepare.print_summary(report, data)
        report = json.loads((data / "report.json").read_text())
        self.record("data", {**report["counts"], "skipped_by_error": report["skipped_by_error"]})

    def render(self) -> None:
        """Stage 3: a few test clips rendered as videos."""
        from lslm.data import MotionDataset
        from lslm.motion import features_to_joints
        from lslm.viz import render_motion

        ds = MotionDataset(self.out / "data", split="test", normalize=False)
        videos = []
        for i in range(min(self.plan["renders"], len(ds))):
            item = ds[i]
            path = self.out / "renders" / f"{item['id']}.gif"
            render_motion(features_to_joints(item["features"]).numpy(), path, captions=[item["text"]])
            videos.append(str(path.relative_to(self.out)))
        print(f"rendered {len(videos)} clips into {self.out / 'renders'}")
        self.record("render", {"videos": videos})

    def tokenizer(self) -> None:
        """Stage 4: the motion tokenizer and the sign motion evaluator trained, the tokenizer evaluated."""
        import numpy as np

        from lslm.tokenizer.codes import encode_dataset, load_codes
        from lslm.recipes import eval_tokenizer, train_evaluator
        from lslm.tokenizer import Tokenizer
        from lslm.training.config import load_config
        from lslm.training.logging import read_metrics
        from lslm.viz.plots import plot_code_usage, plot_curves

        data, run, evaluator = self.out / "data", self.out / "tokenizer", self.out / "evaluator"
        self.train_tokenizer("train tokenizer", run, *self.plan["tokenizer"])
        if not (evaluator / "model.safetensors").exists():
            config, overrides = self.plan["evaluator"]
            cfg = load_config(train_evaluator.EvaluatorRunConfig, config, [*overrides, f"data.root={data}",
                                                                            f"output_dir={evaluator}"])
            self.run("train motion evaluator", train_evaluator.run, cfg)
        doc = self.run("evaluate tokenizer", eval_tokenizer.run, eval_tokenizer.EvalTokenizerConfig(
            tokenizer=str(run / "final"), data=str(data), split="test", evaluator=str(evaluator),
            out=str(self.out / "tokenizer_eval"), renders=self.plan["renders"] // 2))
        encode_dataset(run / "final", data)
        test_codes = [code for clip in load_codes(data, run / "final", "test") for code in clip.codes]
        rows = read_metrics(run / "metrics.jsonl")
        plot_curves(rows, ["loss", "recon"], self.out / "tokenizer_eval" / "loss_curve.png",
                    title="tokenizer training")
        size = Tokenizer.from_pretrained(run / "final").config.codebook_size
        plot_code_usage(np.array(test_codes, dtype=np.int64), size, self.out / "tokenizer_eval" / "codebook_usage.png",
                        title="codebook usage, test split")
        figures = {key: doc.get(src) for key, src in TOKENIZER_KEYS.items()}
        figures["evaluator"] = doc.get("evaluator")
        self.record("tokenizer", figures)

    def train_tokenizer(self, title: str, run: Path, config: str, overrides: list[str]) -> None:
        """Train a tokenizer on the prepared data into `run` unless `run/final` holds one."""
        from lslm.recipes import train_tokenizer
        from lslm.training.config import load_config

        if not (run / "final" / "model.safetensors").exists():
            cfg = load_config(train_tokenizer.VQVAERunConfig, config, [*overrides, f"data.root={self.out / 'data'}",
                                                                        f"output_dir={run}"])
            self.run(title, train_tokenizer.run, cfg, "auto")

    def lslm(self) -> None:
        """The paper's chosen path on a small LM that knows the corpus' English: pretraining `mlp`,
        instruction tuning `llm`, then translation of the test split and its scores."""
        from lslm.errors import LslmError
        from lslm.model.base_lm import BaseLMConfig
        from lslm.model.modeling import CONFIG_NAME
        from lslm.recipes import evaluate, pretrain, train_base_lm
        from lslm.training.config import load_config

        data, base, pre, run = self.out / "data", self.out / "base_lm", self.out / "lslm_pretrain", self.out / "lslm"
        if not (base / "base_lm.json").exists():
            metrics = self.run("train base language model", train_base_lm.run, train_base_lm.TrainBaseLMConfig(
                data=str(data), out=str(base), lm=BaseLMConfig(**self.plan["base_lm"])))
            print(json.dumps(metrics))
        common = [f"data.root={data}", f"model.llm={base}"]
        if not (pre / "final" / CONFIG_NAME).exists():
            config, overrides = self.plan["pretrain"]
            cfg = load_config(pretrain.LSLMRunConfig, config, [
                *overrides, *common, f"data.tokenizer={self.out / 'tokenizer' / 'final'}", f"output_dir={pre}",
                "stage=pretrain", "scheme=mlp"])
            self.run("pretrain (scheme mlp)", pretrain.run, cfg, "auto")
        if not (run / "final" / CONFIG_NAME).exists():
            config, overrides = self.plan["instruct"]
            cfg = load_config(pretrain.LSLMRunConfig, config, [
                *overrides, *common, f"output_dir={run}", "stage=instruct", "scheme=llm", f"init={pre / 'final'}"])
            self.run("instruction tuning (llm)", pretrain.run, cfg, "auto")
        scores = self.out / "translation"
        try:
            self.run("translate and score the test split", evaluate.run, evaluate.EvaluateConfig(
                out=str(scores), models=(str(run / "final"),), data=str(data), split="test",
                metrics=("bleu", "rouge_l", "cider", "wer"), labels=("lslm",)))
        except LslmError as e:
            raise SystemExit(f"translation scoring failed: {e}") from e
        doc = json.loads((scores / "metrics.json").read_text())
        self.record("translation", {**{k: doc[k] for k in TRANSLATION_KEYS},
                                    "predictions": str((scores / "predictions.jsonl").relative_to(self.out))})

    def diagnose(self) -> None:
        """Where the signs are lost (docs/diagnose.md): the model's readings of the train and test splits,
        English (m2t) and glosses (m2g), with the phonological parameters of the misread signs; with
        --diagnose also the ceiling (the base LM reading the true glosses) and the tokenizer's probes."""
        from lslm.errors import LslmError
        from lslm.recipes import diagnose
        from lslm.training.config import load_config

        out = self.out / "diagnose"
        overrides = [f"data={self.out / 'data'}", f"out={out}", f"corpus={self.out / 'corpus' / 'corpus.json'}",
                     f"model={self.out / 'lslm' / 'final'}", *self.plan["diagnose"]]
        if self.full_diagnose:
            overrides += [f"tokenizer={self.out / 'tokenizer' / 'final'}", f"llm={self.out / 'base_lm'}"]
        try:
            self.run("where the signs are lost", diagnose.run, load_config(diagnose.DiagnoseConfig, None, overrides))
        except LslmError as e:
            raise SystemExit(f"diagnose failed: {e}") from e
        doc = json.loads((out / "results.json").read_text())
        figures = {"m2g": {split: {k: g[k] for k in GLOSS_KEYS} for split, g in doc["model"]["m2g"].items()},
                   "m2t": {split: {k: t[k] for k in ("bleu4", "wer")} for split, t in doc["model"]["m2t"].items()}}
        test = doc["model"]["m2g"].get("test")
        if test and "misread" in test:
            figures["misread_parameters"] = {p: v["share"] for p, v in test["misread"]["parameters"].items()}
            figures["per_signer"] = {s: v["wer"] for s, v in test["per_signer"].items()}
        if "ceiling" in doc:
            figures["ceiling"] = {split: {k: c[k] for k in ("bleu4", "wer")} for split, c in doc["ceiling"].items()}
        if "probe" in doc:
            figures["probe"] = {source: {split: r[split]["wer"] for split in r if split != "seconds"}
                                for source, r in doc["probe"].items()}
        self.record("diagnose", figures)

    def production(self) -> None:
        """Sign production: a vocabulary-mode model trained on text → motion from the same base LM and
        tokenizer writes the test sentences; the translation stage's model reads them back, and every score
        stands beside its bounds (the tokenizer's reconstruction of the clip, another sentence's clip)."""
        from lslm.errors import LslmError
        from lslm.model.modeling import CONFIG_NAME
        from lslm.recipes import pretrain, produce
        from lslm.training.config import load_config

        data, run, out = self.out / "data", self.out / "production_model", self.out / "production"
        tokenizer = self.out / "production_tokenizer"
        self.train_tokenizer("train the producer's tokenizer (a code per 4 frames)", tokenizer,
                             *PRODUCTION[self.size]["tokenizer"])
        if not (run / "final" / CONFIG_NAME).exists():
            config, overrides = PRODUCTION[self.size]["train"]
            cfg = load_config(pretrain.LSLMRunConfig, config, [
                *overrides, f"data.root={data}", f"model.llm={self.out / 'base_lm'}",
                f"data.tokenizer={tokenizer / 'final'}", f"output_dir={run}", "stage=pretrain",
                "scheme=joint"])
            self.run("train the producer (vocabulary mode, text → motion)", pretrain.run, cfg, "auto")
        if not (out / "production_metrics.json").exists():
            try:
                result = self.run("produce and score the test sentences", produce.run, produce.ProduceConfig(
                    model=str(run / "final"), out=str(out), data=str(data), split="test",
                    raw_data=str(self.out / "corpus"), translator=str(self.out / "lslm" / "final"),
                    evaluator=str(self.out / "evaluator"), render="gif", max_renders=self.plan["renders"],
                    progress=False, **PRODUCTION[self.size]["produce"]))
            except LslmError as e:
                raise SystemExit(f"sign production failed: {e}") from e
            if not result.produced:  # scored all the same: every sentence counts as no motion
                print("note: the producer wrote no motion for any test sentence")
        doc = json.loads((out / "production_metrics.json").read_text())
        figures = {name: {**doc[name]["back_translation"], **{k: v for k, v in doc[name].items() if k != "back_translation"}}
                   for name in ("reference", "produced", "reconstruction", "other_sentence")}
        renders = [r["files"]["render"] for r in map(json.loads, (out / "produced.jsonl").read_text().splitlines())
                   if "render" in r.get("files", {})]
        self.record("production", {**figures, "goal": doc["goal"], "counts": doc["counts"],
                                   "tokenizer": str((tokenizer / "final").relative_to(self.out)),
                                   "renders": [str((out / r).relative_to(self.out)) for r in renders]})


def run(config: DemoConfig) -> dict:
    """Run every stage (reusing finished ones); returns the figures (OUT/results.json)."""
    demo = Demo(Path(config.out), config.size, config.diagnose)
    start = time.time()
    for stage in (demo.corpus, demo.prepare, demo.render, demo.tokenizer, demo.lslm, demo.diagnose,
                  demo.production):
        stage()
    print(f"\nall stages done in {time.time() - start:.0f} s; figures in {demo.results_path}")
    print(json.dumps(demo.results, indent=2))
    producer = demo.out / "production_model" / "final"
    print(f"\ntry the models in a browser: python tools/app.py --model {demo.out / 'lslm' / 'final'} "
          f"--examples {demo.out / 'corpus'} --scores {demo.out / 'translation' / 'metrics.json'}"
          + (f" --producer {producer}" if producer.is_dir() else ""))
    return demo.results


def build_parser() -> argparse.ArgumentParser:
    """The command line of `make demo` / `lslm demo`."""
    p = argparse.ArgumentParser(description="Run every lslm stage on the synthetic corpus.")
    p.add_argument("--size", choices=sorted(SIZES), default="default")
    p.add_argument("--out", default="runs/demo")
    p.add_argument("--diagnose", action="store_true",
                   help="also the ceiling and the tokenizer probes of tools/diagnose.py (default size: minutes more)")
    return p


def parse_config(argv: list[str] | None = None) -> DemoConfig:
    """The `DemoConfig` of a command line."""
    return DemoConfig(**vars(build_parser().parse_args(argv)))


def main(argv: list[str] | None = None) -> int:
    """Run the demo from the command line; 0 on success."""
    run(parse_config(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())

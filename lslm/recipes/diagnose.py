"""Where a trained pipeline loses the signs (docs/results.md, "Where the information is lost").

    python tools/diagnose.py data=runs/demo/data out=runs/demo/diagnose corpus=runs/demo/corpus/corpus.json \\
        tokenizer=runs/demo/tokenizer/final llm=runs/demo/base_lm model=runs/demo/lslm/final [key=value …]
    results = run(DiagnoseConfig(data="DATA", out="OUT", model="RUN/final"))

Each part runs when its input is given, and writes its figures under its own key of OUT/results.json
(per-clip rows next to it as JSONL):

    probe      (tokenizer)  a CTC sign reader (lslm.eval.probe) trained on the train split from each of
                            `probes`: features (before the tokenizer), latents (before quantization),
                            codes (what the LLM receives); gloss WER on each of `splits`, per signer, and
                            the phonological parameters of the misread signs (corpus: the lexicon)
    ceiling    (llm)        the base LM trained gloss → English for the instruction-tuning budget
                            (lslm.eval.ceiling), translating the true glosses of `splits`
    model      (model)      the trained LSLM read with the m2t prompt (BLEU …) and the m2g prompt (gloss
                            WER …) on `splits`; m2g only for a model trained on it (data.tasks of the
                            run's config.yaml next to RUN/final; read when that file is absent)

The train split is scored on its first `train_clips` clips: the train figure against the test figure is
what is memorised against what generalises to unseen signers and sentences.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from omegaconf import MISSING

from lslm.errors import InvalidInputError
from lslm.eval.reader_configs import SOURCES, CeilingConfig, ProbeConfig

TRANSLATION_KEYS = ("bleu1", "bleu4", "rouge_l", "cider", "wer", "ins", "del")
GLOSS_KEYS = ("wer", "sentence_accuracy", "substitutions", "insertions", "deletions", "ref_signs")


@dataclass(frozen=True)
class DiagnoseConfig:
    data: str = MISSING  # a prepared dataset folder
    out: str = MISSING
    corpus: str | None = None  # corpus.json of a synthetic corpus: the lexicon for the misread parameters
    tokenizer: str | None = None  # motion tokenizer folder: the probes
    llm: str | None = None  # base LM folder: the ceiling
    model: str | None = None  # LSLM folder (RUN/final): its m2t and m2g readings
    splits: tuple[str, ...] = ("train", "test")
    train_clips: int = 300  # clips of the train split scored; 0 = all
    probes: tuple[str, ...] = SOURCES
    probe: ProbeConfig = field(default_factory=ProbeConfig)
    ceiling: CeilingConfig = field(default_factory=CeilingConfig)
    max_new_tokens: int = 64  # greedy decoding of every reader that writes text
    progress: bool = True


def _write_json(path: Path, obj: object) -> None:
    from lslm.atomic import atomic_write_text

    atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    from lslm.atomic import write_jsonl

    write_jsonl(path, rows)


def _limit(cfg: DiagnoseConfig, split: str) -> int:
    """Clips of `split` scored: train_clips for the train split, all (0) otherwise."""
    return cfg.train_clips if split == "train" else 0


def _split_rows(data: str, split: str, limit: int = 0) -> list[dict]:
    """The manifest rows of a split (the first `limit`; 0 = all); an empty split is an error."""
    from lslm.data import read_manifest

    rows = [r for r in read_manifest(Path(data) / "manifest.jsonl") if r["split"] == split]
    if not rows:
        raise InvalidInputError(Path(data) / "manifest.jsonl", "split", f"clips of split {split!r}", got=0)
    return rows[:limit] if limit > 0 else rows


def _gloss_figures(scores: dict) -> dict:
    """The gloss scores without their per-clip rows (those go to a JSONL file)."""
    return {k: v for k, v in scores.items() if k != "per_sample"}


def run_probes(cfg: DiagnoseConfig, out: Path, lexicon: dict | None) -> dict:
    """{source: {split: gloss scores}} of a probe trained on the train split from each source."""
    from lslm.eval.probe import GlossVocab, clip_vectors, kernel_size, read_signs, train_reader
    from lslm.eval.recognition import score_glosses
    from lslm.tokenizer import Tokenizer

    tokenizer = Tokenizer.from_pretrained(cfg.tokenizer)
    results = {}
    for source in cfg.probes:
        start = time.time()
        train = clip_vectors(tokenizer, cfg.data, "train", source)
        vocab = GlossVocab(list(lexicon) if lexicon else [g for gloss in train.glosses for g in gloss.split()])
        reader = train_reader(train.vectors, [vocab.encode(g) for g in train.glosses], len(vocab), cfg.probe,
                              progress=cfg.progress, frames_per_vector=train.frames_per_vector)
        results[source] = {}
        for split in cfg.splits:
            clips = train if split == "train" else clip_vectors(tokenizer, cfg.data, split, source)
            n = _limit(cfg, split) or len(clips.ids)
            readings = [vocab.decode(s) for s in read_signs(reader, clips.vectors[:n])]
            scores = score_glosses(readings, clips.glosses[:n], clips.ids[:n], clips.signers[:n], lexicon)
            _write_jsonl(out / f"probe_{source}_{split}.jsonl", scores["per_sample"])
            results[source][split] = _gloss_figures(scores)
        results[source]["frames_per_code"] = train.frames_per_vector
        results[source]["kernel"] = kernel_size(cfg.probe, train.frames_per_vector)
        results[source]["seconds"] = round(time.time() - start, 1)
        print(f"probe {source}: " + ", ".join(f"{s} gloss WER {results[source][s]['wer']:.1f}" for s in cfg.splits),
              flush=True)
    return results


def run_ceiling(cfg: DiagnoseConfig, out: Path) -> dict:
    """{split: translation scores} of the base LM trained gloss → English, reading the true glosses."""
    from lslm.eval.ceiling import text_only_loss, translate_glosses, train_gloss_translator
    from lslm.eval.text import score

    results = {"text_only_loss": {split: text_only_loss(cfg.llm, [r["text"] for r in _split_rows(cfg.data, split)])
                                  for split in (*cfg.splits, "val") if split != "train"}}
    print(f"text-only loss: {results['text_only_loss']}", flush=True)
    pairs = [(r["gloss"], r["text"]) for r in _split_rows(cfg.data, "train") if r.get("gloss")]
    if cfg.ceiling.grammar_sentences:
        from lslm.data import read_manifest
        from lslm.data.synthetic.generate import grammar_sentences_for

        rows = read_manifest(Path(cfg.data) / "manifest.jsonl")
        pairs += [(" ".join(s.gloss), s.text) for s in grammar_sentences_for(
            rows, "train", cfg.ceiling.grammar_sentences, cfg.ceiling.seed)]
    translator = train_gloss_translator(cfg.llm, pairs, cfg.ceiling, progress=cfg.progress)
    for split in cfg.splits:
        rows = [r for r in _split_rows(cfg.data, split, _limit(cfg, split)) if r.get("gloss")]
        predictions = translate_glosses(translator, [r["gloss"] for r in rows],
                                        max_new_tokens=cfg.max_new_tokens)
        scores = score(predictions, [r["text"] for r in rows], ids=[r["id"] for r in rows],
                       metrics=["bleu", "rouge_l", "cider", "wer"])
        _write_jsonl(out / f"ceiling_{split}.jsonl", [{"id": r["id"], "gloss": r["gloss"], "prediction": p,
                                                       "reference": r["text"]} for r, p in zip(rows, predictions)])
        results[split] = {k: scores.corpus[k] for k in TRANSLATION_KEYS}
        print(f"ceiling {split}: BLEU-4 {results[split]['bleu4']:.1f}, WER {results[split]['wer']:.1f}", flush=True)
    return results


def trained_tasks(model_dir: str | Path) -> list[str] | None:
    """The `data.tasks` a model folder (RUN/final, RUN/step_N) was trained on, from the run's config.yaml
    beside it; None when there is none (a model saved by hand, a copied folder)."""
    import yaml
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    path = Path(model_dir).parent / "config.yaml"
    if not path.is_file():
        return None
    try:
        tasks = OmegaConf.select(OmegaConf.load(path), "data.tasks")
        return None if tasks is None else [str(t) for t in tasks]
    except (OmegaConfBaseException, yaml.YAMLError, ValueError, TypeError) as e:  # unreadable YAML, tasks not a list
        raise InvalidInputError(path, "data.tasks", "a list of task names in a readable run config", got=str(e)) from e


def run_model(cfg: DiagnoseConfig, out: Path, lexicon: dict | None) -> dict:
    """{"m2t": {split: translation scores}, "m2g": {split: gloss scores}} of a trained LSLM; "m2g" stays
    empty, with a "note", for a model whose run never trained on m2g (its gloss reading would be noise)."""
    from lslm.cpu_memory import keep_freed_memory
    from lslm.tokenizer.codes import split_codes
    from lslm.eval.recognition import score_glosses
    from lslm.eval.text import score
    from lslm.model import LSLM, TemplateSet
    from lslm.model.translate import translate_codes

    keep_freed_memory()
    model = LSLM.from_pretrained(cfg.model)
    m2g_prompt = TemplateSet.load("instruct").default("m2g").input
    results: dict = {"m2t": {}, "m2g": {}}
    tasks = trained_tasks(cfg.model)
    read_glosses = model.config.prompt is not None and (tasks is None or "m2g" in tasks)
    if tasks is not None and "m2g" not in tasks:
        results["note"] = f"m2g not read: the model was trained on data.tasks {tasks}"
    for split in cfg.splits:
        rows, clips, _ = split_codes(cfg.data, split, Path(cfg.model) / "tokenizer", model.motion_tokenizer, False)
        if not rows:
            raise InvalidInputError(Path(cfg.data) / "manifest.jsonl", "split", f"clips of split {split!r}", got=0)
        rows = [r for r in rows[:_limit(cfg, split) or None] if r["id"] in clips]
        clip_codes = [clips[r["id"]].codes for r in rows]
        # m2t with the model's own prompt, as tools/evaluate.py --model translates
        english = translate_codes(model, clip_codes, progress=False, max_new_tokens=cfg.max_new_tokens)
        scores = score(english, [r["text"] for r in rows], ids=[r["id"] for r in rows],
                       metrics=["bleu", "rouge_l", "cider", "wer"])
        results["m2t"][split] = {k: scores.corpus[k] for k in TRANSLATION_KEYS}
        _write_jsonl(out / f"model_m2t_{split}.jsonl", [{"id": r["id"], "prediction": p, "reference": r["text"]}
                                                        for r, p in zip(rows, english)])
        gloss_rows = [(r, c) for r, c in zip(rows, clip_codes) if r.get("gloss")]
        if not read_glosses or not gloss_rows:  # a pretraining-format model has no m2g prompt
            continue
        glosses = translate_codes(model, [c for _, c in gloss_rows], prompt=m2g_prompt, progress=False,
                                  max_new_tokens=cfg.max_new_tokens)
        g = score_glosses(glosses, [r["gloss"] for r, _ in gloss_rows], [r["id"] for r, _ in gloss_rows],
                          [r.get("signer") for r, _ in gloss_rows], lexicon)
        _write_jsonl(out / f"model_m2g_{split}.jsonl", g["per_sample"])
        results["m2g"][split] = _gloss_figures(g)
        print(f"model {split}: BLEU-4 {results['m2t'][split]['bleu4']:.1f}, gloss WER {g['wer']:.1f}", flush=True)
    return results


def run(cfg: DiagnoseConfig) -> dict:
    """Run the parts whose inputs are given; returns (and writes to OUT/results.json) their figures."""
    from lslm.eval.recognition import load_lexicon

    if not (cfg.tokenizer or cfg.llm or cfg.model):
        raise InvalidInputError(None, "tokenizer/llm/model", "at least one of them (nothing to diagnose)")
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    lexicon = load_lexicon(cfg.corpus) if cfg.corpus else None
    results: dict = {"config": asdict(cfg)}
    for key, needed, part in (("probe", cfg.tokenizer, lambda: run_probes(cfg, out, lexicon)),
                              ("ceiling", cfg.llm, lambda: run_ceiling(cfg, out)),
                              ("model", cfg.model, lambda: run_model(cfg, out, lexicon))):
        if needed:
            results[key] = part()
            _write_json(out / "results.json", results)
    print(summary_table(results))
    return results


def summary_table(results: dict) -> str:
    """Markdown: one row per reader and split (gloss WER for readers of signs, BLEU-4 for translators)."""
    lines = ["| reader | split | gloss WER | BLEU-4 | WER |", "|---|---|---|---|---|"]
    for source, by_split in results.get("probe", {}).items():
        for split, s in by_split.items():
            if isinstance(s, dict):
                lines.append(f"| probe on {source} | {split} | {s['wer']:.1f} | | |")
    for split, s in results.get("ceiling", {}).items():
        if split == "text_only_loss":
            continue
        lines.append(f"| ceiling (true gloss → English) | {split} | | {s['bleu4']:.1f} | {s['wer']:.1f} |")
    model = results.get("model", {})
    for split, s in model.get("m2t", {}).items():
        g = model.get("m2g", {}).get(split)
        lines.append(f"| LSLM | {split} | {g['wer']:.1f} | {s['bleu4']:.1f} | {s['wer']:.1f} |" if g else
                     f"| LSLM | {split} | | {s['bleu4']:.1f} | {s['wer']:.1f} |")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """The command line of `tools/diagnose.py` / `lslm diagnose`."""
    parser = argparse.ArgumentParser(description="Where a trained lslm pipeline loses the signs.")
    parser.add_argument("--config", help="YAML with DiagnoseConfig keys")
    parser.add_argument("overrides", nargs="*", help="key=value, e.g. data=DIR out=DIR probe.steps=500")
    return parser


def parse_config(argv: list[str] | None = None) -> DiagnoseConfig:
    """The `DiagnoseConfig` of `[--config YAML] key=value …`."""
    from lslm.training.config import load_config

    args = build_parser().parse_args(argv)
    return load_config(DiagnoseConfig, args.config, args.overrides)


def main(argv: list[str] | None = None) -> int:
    """Parse `[--config YAML] key=value …` into a DiagnoseConfig and run it; 2 on bad input."""
    from lslm.recipes import exit_status

    return exit_status(lambda: run(parse_config(argv)))


if __name__ == "__main__":
    sys.exit(main())
